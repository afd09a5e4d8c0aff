/**
 * Exception and interrupt delivery (SDM vol. 3, chapter 6; real mode in 20.1.4; virtual-8086
 * mode in 20.3): through the real-mode IVT, or the protected-mode IDT's interrupt, trap and task
 * gates, with the privilege change and stack switch from the TSS, error codes, and the rules
 * for faults raised during delivery (EXT bit, double fault, triple fault).
 *
 * Entry points and the return address they push:
 * - deliverException: a fault raised by the instruction at state EIP (the instruction restarts);
 *   fault-class exceptions push EFLAGS with RF = 1 (SDM 17.3.1.1).
 * - deliverInterrupt: an external interrupt between instructions (state EIP = next to run).
 * - deliverSoftwareInterrupt: INT n / INT3 / INTO / INT1 from their handlers: a trap, so the
 *   return address is the next instruction (cpu.next).
 * - deliverSingleStep: the TF trap after an instruction (DR6.BS set).
 * Each leaves state EIP and cpu.next at the handler's first instruction.
 *
 * A fault during delivery is handled here, never thrown to the caller: the second exception
 * either becomes #DF (contributory + contributory, #PF + contributory or #PF; SDM table 6-5),
 * shuts the machine down (any contributory or #PF while delivering #DF: MachineHalt
 * 'triple-fault'), or is delivered in turn. Error codes of faults raised while delivering an
 * exception, an external interrupt or INT1 carry EXT = 1; INT n/INT3/INTO do not.
 */
import {
  CR, DR, EIP, EX_BP, EX_DB, EX_DF, EX_GP, EX_NP, EX_OF, EX_PF, EX_SS, EX_TS, F_AC, F_IF, F_NT,
  F_RF, F_TF, F_VM, IDTR_BASE, IDTR_LIMIT, INHIBIT_IRQ, R_ESP, SEG_CS, SEG_DS, SEG_ES, SEG_FS,
  SEG_GS, SEG_SS,
} from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault, GuestFault, MachineHalt, NO_ERROR_CODE } from '../fault.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { getOF } from '../lazy-flags.ts';
import {
  descBase, descDpl, descIsCode, descIsConforming, descLimit, descPresent, descSysType, fetchDescriptor,
  fetchGdtDescriptor, gateOffset, gateSelector, isNullSel, loadedFlags, markAccessed, selError,
  SYS_TASK_GATE,
} from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { iopl, isV86, readEflags, writeEflags } from './eflags.ts';
import { readSys } from './paging.ts';
import { checkStackSegment, commitSegment, loadSegmentRealV86 } from './segments.ts';
import { checkFrame, currentStack, pushFrame, stackOfDescriptor, writeFrame } from './system-stack.ts';
import { checkAvailableTss, NewTaskFault, readTssStack, switchTask, TS_INT } from './task-switch.ts';

/** How an event arose; decides the gate DPL check and the EXT bit of nested faults. */
const EV_EXCEPTION = 0; // raised by the processor
const EV_EXTERNAL = 1; // INTR (or NMI)
const EV_SOFTWARE = 2; // INT n, INT3, INTO: gate DPL checked against CPL
const EV_ICEBP = 3; // INT1: delivered like an external event, no DPL check

/** DR6.BS: the #DB is a single-step trap. */
const DR6_BS = 0x4000;

/** Fault-class exceptions (the others are traps or aborts): 0, 5, 6, 7, 10-14, 16, 17, 19. */
const FAULT_CLASS = (1 << 0) | (1 << 5) | (1 << 6) | (1 << 7) | (0x1f << 10) | (1 << 16) | (1 << 17) | (1 << 19);
/** Contributory exceptions for the double-fault rules: #DE, #TS, #NP, #SS, #GP. */
const CONTRIBUTORY = (1 << 0) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13);
/** Safety net: no legal chain of nested faults is longer than #x -> #PF -> #DF -> shutdown. */
const MAX_NESTING = 8;

function isContributory(v: number): boolean {
  return v >= 0 && v < 32 && ((CONTRIBUTORY >>> v) & 1) !== 0;
}

/**
 * Delivers a fault raised by the instruction at state EIP (state is as before the instruction).
 * A thrown #DB is the general-detect fault (DR7.GD), unless it is the T-bit trap of a task switch.
 */
export function deliverException(cpu: Cpu, f: GuestFault): void {
  const v = f.vector;
  const faultClass = (v < 32 && ((FAULT_CLASS >>> v) & 1) !== 0) || (v === EX_DB && !(f instanceof NewTaskFault));
  deliverEvent(cpu, v, f.errorCode, cpu.eip, EV_EXCEPTION, faultClass);
}

/** Delivers an external (hardware) interrupt between instructions. */
export function deliverInterrupt(cpu: Cpu, vector: number): void {
  deliverEvent(cpu, vector & 0xff, NO_ERROR_CODE, cpu.eip, EV_EXTERNAL, false);
}

/** Delivers the single-step trap (EFLAGS.TF) after the instruction that just completed. */
export function deliverSingleStep(cpu: Cpu): void {
  cpu.s[(DR >> 2) + 6] |= DR6_BS;
  deliverEvent(cpu, EX_DB, NO_ERROR_CODE, cpu.eip, EV_EXCEPTION, false);
}

/** Delivers INT n / INT3 / INTO (`icebp` false) or INT1 as traps returning to cpu.next. */
export function deliverSoftwareInterrupt(cpu: Cpu, vector: number, icebp: boolean): void {
  deliverEvent(cpu, vector, NO_ERROR_CODE, cpu.next, icebp ? EV_ICEBP : EV_SOFTWARE, false);
}

function deliverEvent(cpu: Cpu, vector: number, errorCode: number, returnEip: number, kind: number, faultClass: boolean): void {
  let first = kind === EV_EXCEPTION ? vector : -1;
  let ext = kind !== EV_SOFTWARE;
  for (let depth = 0; ; depth++) {
    try {
      deliverOnce(cpu, vector, errorCode, returnEip, kind, faultClass);
      // A delivered event ends any interrupt shadow and any HLT state.
      cpu.s[INHIBIT_IRQ >> 2] = 0;
      cpu.halted = false;
      cpu.events++;
      return;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      const second = e.vector;
      let code = e.errorCode;
      if (ext && code !== NO_ERROR_CODE && second >= EX_TS && second <= EX_GP) code |= 1;
      if (e instanceof NewTaskFault) {
        // Raised in the new task after a task-gate switch: a fresh exception there.
        vector = second;
      } else if (first === EX_DF && (isContributory(second) || second === EX_PF)) {
        throw new MachineHalt('triple-fault', `${new GuestFault(second, code).toString()} while delivering #DF`);
      } else if ((isContributory(first) && isContributory(second)) ||
                 (first === EX_PF && (isContributory(second) || second === EX_PF))) {
        vector = EX_DF;
        code = 0;
      } else {
        vector = second;
      }
      if (depth >= MAX_NESTING) throw new MachineHalt('triple-fault', `fault loop delivering vector ${vector}`);
      errorCode = code;
      returnEip = cpu.eip;
      kind = EV_EXCEPTION;
      faultClass = vector < 32 && ((FAULT_CLASS >>> vector) & 1) !== 0;
      ext = true;
      first = vector;
    }
  }
}

/** One delivery attempt: faults propagate to deliverEvent. */
const EVENT_KINDS = ['exception', 'external', 'software', 'icebp'] as const;

function deliverOnce(cpu: Cpu, vector: number, errorCode: number, returnEip: number, kind: number, faultClass: boolean): void {
  cpu.onEvent?.(EVENT_KINDS[kind], vector, kind === EV_EXCEPTION ? errorCode : NO_ERROR_CODE);
  const flags = readEflags(cpu);
  if (!(cpu.s[CR >> 2] & 1)) {
    deliverReal(cpu, vector, returnEip, flags);
    return;
  }
  deliverProtected(cpu, vector, kind === EV_EXCEPTION ? errorCode : NO_ERROR_CODE, returnEip, kind, faultClass ? flags | F_RF : flags);
}

/** Real-address mode: FLAGS, CS, IP pushed on the 16-bit stack; handler from the IVT at IDTR.base. */
function deliverReal(cpu: Cpu, vector: number, returnEip: number, flags: number): void {
  const s = cpu.s;
  if (vector * 4 + 3 > (s[IDTR_LIMIT >> 2] >>> 0)) fault(EX_GP, 0);
  const entry = (s[IDTR_BASE >> 2] + vector * 4) | 0;
  const ip = cpu.read16(entry);
  const cs = cpu.read16((entry + 2) | 0);
  const st = currentStack(cpu);
  // Real-mode segments have no type checks: treat SS as expand-up read/write data here.
  s[R_ESP] = pushFrame(cpu, { ...st, flags: st.flags & ~0x0c }, s[R_ESP], [flags, cpu.segSel(SEG_CS), returnEip], 2, false, EX_SS, 0);
  writeEflags(cpu, flags & ~(F_IF | F_TF | F_AC | F_RF));
  loadSegmentRealV86(cpu, SEG_CS, cs);
  s[EIP >> 2] = ip;
  cpu.next = ip;
}

/**
 * Protected mode (and virtual-8086 mode): the IDT gate, then a task switch or a transfer to the
 * handler's code segment, on the same stack or on the inner stack from the TSS. `pushedFlags`
 * is the EFLAGS image to save (RF set for faults); `errorCode` is NO_ERROR_CODE unless one is
 * pushed.
 */
function deliverProtected(cpu: Cpu, vector: number, errorCode: number, returnEip: number, kind: number, pushedFlags: number): void {
  const s = cpu.s;
  const idtError = vector * 8 + 2;
  if (vector * 8 + 7 > (s[IDTR_LIMIT >> 2] >>> 0)) fault(EX_GP, idtError);
  const addr = (s[IDTR_BASE >> 2] + vector * 8) | 0;
  const gate: Descriptor = { lo: readSys(cpu, addr, 4), hi: readSys(cpu, (addr + 4) | 0, 4), addr };
  const type = descSysType(gate);
  if (type !== SYS_TASK_GATE && type !== 0x6 && type !== 0x7 && type !== 0xe && type !== 0xf) fault(EX_GP, idtError);
  if (kind === EV_SOFTWARE && descDpl(gate) < cpu.cpl) fault(EX_GP, idtError);
  if (!descPresent(gate)) fault(EX_NP, idtError);

  if (type === SYS_TASK_GATE) {
    const tssSel = gateSelector(gate);
    const td = fetchGdtDescriptor(cpu, tssSel, EX_GP);
    checkAvailableTss(td, tssSel);
    switchTask(cpu, tssSel, td, TS_INT, returnEip, errorCode);
    return;
  }

  const gate32 = (type & 0x8) !== 0;
  const size = gate32 ? 4 : 2;
  const sel = gateSelector(gate);
  const offset = gateOffset(gate);
  if (isNullSel(sel)) fault(EX_GP, 0);
  const cd = fetchDescriptor(cpu, sel, EX_GP);
  const cpl = cpu.cpl;
  const dpl = descDpl(cd);
  if (!descIsCode(cd) || dpl > cpl) fault(EX_GP, selError(sel));
  if (!descPresent(cd)) fault(EX_NP, selError(sel));
  const v86 = (pushedFlags & F_VM) !== 0;
  const oldCs = cpu.segSel(SEG_CS);
  const tail = errorCode === NO_ERROR_CODE ? [pushedFlags, oldCs, returnEip] : [pushedFlags, oldCs, returnEip, errorCode];
  let newCpl: number;
  let newEsp: number;
  let ssSel = 0;
  let ssDesc: Descriptor | null = null;
  if (!descIsConforming(cd) && dpl < cpl) {
    // Inter-privilege: switch to the inner stack named by the TSS.
    if (v86 && dpl !== 0) fault(EX_GP, selError(sel));
    const inner = readTssStack(cpu, dpl);
    ssSel = inner.ss;
    ssDesc = checkStackSegment(cpu, ssSel, dpl, EX_TS);
    const head = [cpu.segSel(SEG_SS), s[R_ESP]];
    const frame = v86
      ? [cpu.segSel(SEG_GS), cpu.segSel(SEG_FS), cpu.segSel(SEG_DS), cpu.segSel(SEG_ES), ...head, ...tail]
      : [...head, ...tail];
    const st = stackOfDescriptor(ssDesc);
    checkFrame(st, inner.esp, frame.length, size, EX_SS, selError(ssSel));
    if (offset >>> 0 > descLimit(cd)) fault(EX_GP, 0);
    markAccessed(cpu, cd);
    newEsp = writeFrame(cpu, st, inner.esp, frame, size, true);
    newCpl = dpl;
  } else {
    // Intra-privilege: same stack. Not possible from virtual-8086 mode.
    if (v86) fault(EX_GP, selError(sel));
    const st = currentStack(cpu);
    checkFrame(st, s[R_ESP], tail.length, size, EX_SS, 0);
    if (offset >>> 0 > descLimit(cd)) fault(EX_GP, 0);
    markAccessed(cpu, cd);
    newEsp = writeFrame(cpu, st, s[R_ESP], tail, size, cpl < 3);
    newCpl = cpl;
  }

  // Commit. Clearing VM first makes the segment loads below protected-mode loads.
  let flags = pushedFlags & ~(F_TF | F_NT | F_VM | F_RF);
  if (!(type & 1)) flags &= ~F_IF; // interrupt gate (trap gates leave IF alone)
  writeEflags(cpu, flags);
  if (v86) {
    for (const seg of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) cpu.setSegment(seg, 0, 0, 0, 0);
  }
  cpu.setCpl(newCpl);
  if (ssDesc) commitSegment(cpu, SEG_SS, ssSel, ssDesc);
  s[R_ESP] = newEsp;
  cpu.setSegment(SEG_CS, (sel & 0xfffc) | newCpl, descBase(cd), descLimit(cd), loadedFlags(cd));
  s[EIP >> 2] = offset;
  cpu.next = offset;
}

// ------------------------------------------------------------------------------ handlers
/** INT imm8: in virtual-8086 mode with IOPL < 3 it is #GP(0) (no VME). */
const intIb: Handler = (cpu, i) => {
  if (isV86(cpu) && iopl(cpu) < 3) fault(EX_GP, 0);
  deliverSoftwareInterrupt(cpu, i.imm & 0xff, false);
};

/** INT3: not IOPL-sensitive in virtual-8086 mode; the gate DPL is checked. */
const int3: Handler = (cpu) => {
  deliverSoftwareInterrupt(cpu, EX_BP, false);
};

/** INTO: #OF as a trap when OF = 1, otherwise nothing. */
const into: Handler = (cpu) => {
  if (getOF(cpu.s)) deliverSoftwareInterrupt(cpu, EX_OF, false);
};

/** INT1 (ICEBP): #DB delivered like an external event (no gate DPL check, EXT = 1). */
const int1: Handler = (cpu) => {
  deliverSoftwareInterrupt(cpu, EX_DB, true);
};

/** Handlers of the software-interrupt rows, by row name. */
export const INTERRUPT_HANDLERS: HandlerMap = { intIb, int3, into, int1 };
