/**
 * Task management (SDM vol. 3, chapter 7): the TSS layouts, the inner-stack pointers that
 * privilege changes read from the current TSS, and the task switch itself, entered from JMP or
 * CALL to a TSS or task gate, from IRET with NT set, and from an interrupt or exception through
 * a task gate.
 *
 * The switch follows SDM 7.3 in two phases:
 * 1. Before the commit point: the new TSS limit, the whole new state read, the old state saved,
 *    the busy bits and the back link written. A fault here is an ordinary fault of the
 *    instruction (or event) that started the switch; registers are unchanged.
 * 2. After it: TR, CR0.TS, CR3, EFLAGS, EIP and the general registers are the new task's; then
 *    LDTR and the segment registers are loaded and checked (SDM table 7-1). A fault here belongs
 *    to the new task: it is thrown as NewTaskFault, with state EIP already the new task's first
 *    instruction, and the delivery code treats it as a fresh exception (no #DF combination).
 *
 * Both 32-bit and 16-bit TSSs are supported. A 16-bit TSS has no FS, GS, CR3 or upper register
 * halves: FS and GS are left as they are, the upper halves of the general registers are kept,
 * and EFLAGS bits 16..31 are cleared. The T (debug trap) bit of a 32-bit TSS raises #DB with
 * DR6.BT after the switch.
 */
import {
  CR, DR, EFLAGS, EIP, EX_GP, EX_NP, EX_SS, EX_TS, F_NT, F_VM, LDTR_BASE, LDTR_FLAGS, LDTR_LIMIT,
  LDTR_SEL, R_ESP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, TR_BASE, TR_FLAGS, TR_LIMIT,
  TR_SEL,
} from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault, GuestFault, NO_ERROR_CODE } from '../fault.ts';
import { writeCr3 } from './control-regs.ts';
import {
  descBase, descDpl, descFlags, descIsCode, descIsConforming, descLimit, descPresent, descSysType,
  fetchDescriptor, fetchGdtDescriptor, isNullSel, markAccessed, selError, setTssBusy, SYS_LDT,
  TSS_BUSY_BIT,
} from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { readEflags, writeEflags } from './eflags.ts';
import { readSys, writeSys } from './paging.ts';
import { checkDataSegment, checkStackSegment, commitSegment, V86_SEG_FLAGS } from './segments.ts';
import { currentStack, pushFrame } from './system-stack.ts';

/** What started a task switch: decides busy bits, NT and the back link (SDM table 7-2). */
export const TS_JMP = 0;
export const TS_CALL = 1;
export const TS_IRET = 2;
/** An interrupt or exception through a task gate. */
export const TS_INT = 3;

/** Smallest legal TSS limits (SDM 7.2.1 and 7.6). */
export const TSS32_MIN_LIMIT = 0x67;
export const TSS16_MIN_LIMIT = 0x2b;

/** CR0.TS, set by every task switch. */
const CR0_TS = 0x8;
/** DR6.BT: the #DB was raised by the T bit of the new TSS. */
const DR6_BT = 0x8000;

/** A fault raised after the commit point of a task switch, in the context of the new task. */
export class NewTaskFault extends GuestFault {}

/** True if the current TSS (TR) is a 32-bit TSS. */
function tr32(cpu: Cpu): boolean {
  return (cpu.s[TR_FLAGS >> 2] & 0x8) !== 0;
}

/**
 * The stack for privilege level `pl` (0..2) from the current TSS: SSn:ESPn (32-bit TSS) or
 * SSn:SPn (16-bit TSS). #TS(TR selector) if the TSS is too short to hold them.
 */
export function readTssStack(cpu: Cpu, pl: number): { ss: number; esp: number } {
  const s = cpu.s;
  const base = s[TR_BASE >> 2];
  const limit = s[TR_LIMIT >> 2] >>> 0;
  if (tr32(cpu)) {
    const off = pl * 8 + 4;
    if (off + 5 > limit) fault(EX_TS, selError(s[TR_SEL >> 2]));
    return { esp: readSys(cpu, (base + off) | 0, 4), ss: readSys(cpu, (base + off + 4) | 0, 2) };
  }
  const off = pl * 4 + 2;
  if (off + 3 > limit) fault(EX_TS, selError(s[TR_SEL >> 2]));
  return { esp: readSys(cpu, (base + off) | 0, 2), ss: readSys(cpu, (base + off + 2) | 0, 2) };
}

/** The previous-task link (back link) of the current TSS. */
export function readBackLink(cpu: Cpu): number {
  return readSys(cpu, cpu.s[TR_BASE >> 2], 2);
}

/** The state a TSS holds for a task, as read before the commit point. */
interface TaskState {
  cr3: number;
  eip: number;
  eflags: number;
  regs: number[];
  /** ES CS SS DS FS GS; -1 for FS/GS of a 16-bit TSS (left unchanged). */
  segs: number[];
  ldt: number;
  trap: boolean;
}

function readTaskState(cpu: Cpu, base: number, is32: boolean): TaskState {
  const at = (off: number, n: 2 | 4): number => readSys(cpu, (base + off) | 0, n);
  if (is32) {
    const regs: number[] = [];
    for (let r = 0; r < 8; r++) regs.push(at(0x28 + 4 * r, 4));
    const segs: number[] = [];
    for (let k = 0; k < 6; k++) segs.push(at(0x48 + 4 * k, 2));
    return {
      cr3: at(0x1c, 4), eip: at(0x20, 4), eflags: at(0x24, 4), regs, segs, ldt: at(0x60, 2),
      trap: (at(0x64, 2) & 1) !== 0,
    };
  }
  const regs: number[] = [];
  for (let r = 0; r < 8; r++) regs.push(at(0x12 + 2 * r, 2));
  const segs = [at(0x22, 2), at(0x24, 2), at(0x26, 2), at(0x28, 2), -1, -1];
  return { cr3: 0, eip: at(0x0e, 2), eflags: at(0x10, 2), regs, segs, ldt: at(0x2a, 2), trap: false };
}

/** Saves the current task's dynamic state into the TSS at `base`. */
function saveTaskState(cpu: Cpu, base: number, is32: boolean, eip: number, eflags: number): void {
  const s = cpu.s;
  const put = (off: number, n: 2 | 4, v: number): void => writeSys(cpu, (base + off) | 0, n, v);
  if (is32) {
    put(0x20, 4, eip);
    put(0x24, 4, eflags);
    for (let r = 0; r < 8; r++) put(0x28 + 4 * r, 4, s[r]);
    for (let k = 0; k < 6; k++) put(0x48 + 4 * k, 2, cpu.segSel(k));
  } else {
    put(0x0e, 2, eip & 0xffff);
    put(0x10, 2, eflags & 0xffff);
    for (let r = 0; r < 8; r++) put(0x12 + 2 * r, 2, s[r] & 0xffff);
    for (let k = 0; k < 4; k++) put(0x22 + 2 * k, 2, cpu.segSel(k));
  }
}

/**
 * Switches to the task whose TSS descriptor `d` selector `sel` names. The caller has made the
 * source-specific checks (privilege, present, busy state). `returnEip` is the EIP saved for the
 * old task; `errorCode` (or NO_ERROR_CODE) is pushed on the new task's stack for an exception
 * through a task gate. Leaves state EIP and cpu.next at the new task's EIP.
 */
export function switchTask(cpu: Cpu, sel: number, d: Descriptor, source: number, returnEip: number, errorCode: number): void {
  const s = cpu.s;
  const new32 = (descSysType(d) & 0x8) !== 0;
  const limit = descLimit(d);
  if (limit < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT)) fault(EX_TS, selError(sel));
  const base = descBase(d);
  const next = readTaskState(cpu, base, new32);

  // The old task: its TSS must be able to hold the state saved into it.
  const oldSel = s[TR_SEL >> 2];
  const old32 = tr32(cpu);
  if ((s[TR_LIMIT >> 2] >>> 0) < (old32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT)) fault(EX_TS, selError(oldSel));
  let flags = readEflags(cpu);
  if (source === TS_IRET) flags &= ~F_NT;
  saveTaskState(cpu, s[TR_BASE >> 2], old32, returnEip, flags);
  if ((source === TS_JMP || source === TS_IRET) && !isNullSel(oldSel)) {
    const od = fetchGdtDescriptor(cpu, oldSel, EX_TS);
    setTssBusy(cpu, od, false);
  }
  let eflags = new32 ? next.eflags : next.eflags & 0xffff;
  if (source === TS_CALL || source === TS_INT) {
    writeSys(cpu, base, 2, oldSel);
    eflags |= F_NT;
  }
  if (source !== TS_IRET) setTssBusy(cpu, d, true);

  // ---- commit point: from here on the state is the new task's.
  s[TR_SEL >> 2] = sel & 0xffff;
  s[TR_BASE >> 2] = base;
  s[TR_LIMIT >> 2] = limit;
  s[TR_FLAGS >> 2] = descFlags(d) | (TSS_BUSY_BIT >>> 8);
  s[CR >> 2] |= CR0_TS;
  if (new32) writeCr3(cpu, next.cr3);
  writeEflags(cpu, eflags);
  for (let r = 0; r < 8; r++) s[r] = new32 ? next.regs[r] : (s[r] & ~0xffff) | next.regs[r];
  s[EIP >> 2] = next.eip;
  cpu.next = next.eip;
  try {
    loadTaskSegments(cpu, next);
    if (errorCode !== NO_ERROR_CODE) {
      const size = new32 ? 4 : 2;
      s[R_ESP] = pushFrame(cpu, currentStack(cpu), s[R_ESP], [errorCode], size, cpu.cpl < 3, EX_SS, 0);
    }
    if (next.eip >>> 0 > cpu.segLimit(SEG_CS)) fault(EX_GP, 0);
  } catch (e) {
    if (e instanceof GuestFault && !(e instanceof NewTaskFault)) throw new NewTaskFault(e.vector, e.errorCode);
    throw e;
  }
  if (next.trap) {
    s[(DR >> 2) + 6] |= DR6_BT;
    throw new NewTaskFault(1); // #DB as a trap before the new task's first instruction
  }
}

/**
 * Loads LDTR and the segment registers of the new task with the checks of SDM table 7-1. All
 * selectors are first installed as unusable so that a fault leaves the new task's selectors
 * visible, as on hardware.
 */
function loadTaskSegments(cpu: Cpu, t: TaskState): void {
  const s = cpu.s;
  const v86 = (s[EFLAGS >> 2] & F_VM) !== 0;
  for (let k = 0; k < 6; k++) {
    if (t.segs[k] >= 0) cpu.setSegment(k, t.segs[k], 0, 0, v86 ? V86_SEG_FLAGS : 0);
  }
  // LDTR first: the other selectors may refer to the new LDT.
  s[LDTR_SEL >> 2] = t.ldt;
  s[LDTR_FLAGS >> 2] = 0;
  if (!isNullSel(t.ldt)) {
    if (t.ldt & 4) fault(EX_TS, selError(t.ldt));
    const ld = fetchDescriptor(cpu, t.ldt, EX_TS);
    if (descSysType(ld) !== SYS_LDT || !descPresent(ld)) fault(EX_TS, selError(t.ldt));
    s[LDTR_BASE >> 2] = descBase(ld);
    s[LDTR_LIMIT >> 2] = descLimit(ld);
    s[LDTR_FLAGS >> 2] = descFlags(ld);
  }
  if (v86) {
    cpu.setCpl(3);
    for (let k = 0; k < 6; k++) cpu.setSegment(k, t.segs[k], t.segs[k] << 4, 0xffff, V86_SEG_FLAGS);
    return;
  }
  const csSel = t.segs[SEG_CS];
  const cpl = csSel & 3;
  cpu.setCpl(cpl);
  if (isNullSel(csSel)) fault(EX_TS, 0);
  const cd = fetchDescriptor(cpu, csSel, EX_TS);
  if (!descIsCode(cd)) fault(EX_TS, selError(csSel));
  const dpl = descDpl(cd);
  if (descIsConforming(cd) ? dpl > cpl : dpl !== cpl) fault(EX_TS, selError(csSel));
  if (!descPresent(cd)) fault(EX_NP, selError(csSel));
  markAccessed(cpu, cd);
  commitSegment(cpu, SEG_CS, csSel, cd);
  commitSegment(cpu, SEG_SS, t.segs[SEG_SS], checkStackSegment(cpu, t.segs[SEG_SS], cpl, EX_TS));
  for (const seg of [SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
    if (t.segs[seg] < 0) continue;
    commitSegment(cpu, seg, t.segs[seg], checkDataSegment(cpu, t.segs[seg], cpl, EX_TS));
  }
}

/**
 * Checks a TSS descriptor named by JMP/CALL or a task gate: it must be an available TSS (else
 * `vector`(sel), #GP for these sources) and present (else #NP(sel)).
 */
export function checkAvailableTss(d: Descriptor, sel: number): void {
  const t = descSysType(d);
  if (t !== 0x1 && t !== 0x9) fault(EX_GP, selError(sel));
  if (!descPresent(d)) fault(EX_NP, selError(sel));
}

/** Task switch for IRET with NT = 1: back to the task named by the current TSS's back link. */
export function taskReturn(cpu: Cpu): void {
  const link = readBackLink(cpu);
  const d = fetchGdtDescriptor(cpu, link, EX_TS);
  const t = descSysType(d);
  if (t !== 0x3 && t !== 0xb) fault(EX_TS, selError(link));
  if (!descPresent(d)) fault(EX_NP, selError(link));
  switchTask(cpu, link, d, TS_IRET, cpu.next, NO_ERROR_CODE);
}
