/**
 * Far control transfers (SDM vol. 3, 5.8 "Privilege level checking when transferring program
 * control between code segments"; vol. 2, JMP, CALL, RET): direct and indirect far JMP/CALL in
 * real, virtual-8086 and protected mode; in protected mode to a code segment (conforming or
 * not), through a call gate (CALL may switch to the inner stack from the TSS and copy
 * parameters), or to a TSS or task gate (a task switch); and far RET to the same or an outer
 * privilege level.
 *
 * Every check runs, and every stack slot is validated, before any register changes; the accessed
 * bits of the descriptors used are set in memory as part of the checks.
 */
import { EX_GP, EX_NP, EX_SS, EX_TS, R_ESP, SEG_CS, SEG_SS, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault, NO_ERROR_CODE } from '../fault.ts';
import { adjustSp, ea, peek } from '../insn/operands.ts';
import { checkReturnCode, enterOuterStack, readOuterStack } from './far-return.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import {
  descBase, descDpl, descIsCode, descIsConforming, descIsSegment, descLimit, descPresent,
  descSysType, fetchDescriptor, fetchGdtDescriptor, gateOffset, gateParamCount, gateSelector,
  isNullSel, loadedFlags, markAccessed, selError, SYS_CALL_GATE16, SYS_CALL_GATE32, SYS_TASK_GATE,
  SYS_TSS16_AVAIL, SYS_TSS32_AVAIL,
} from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { isProtectedNotV86 } from './eflags.ts';
import { checkStackSegment, commitSegment, loadSegmentRealV86 } from './segments.ts';
import { checkFrame, currentStack, pushFrame, stackOfDescriptor, writeFrame } from './system-stack.ts';
import { checkAvailableTss, readTssStack, switchTask, TS_CALL, TS_JMP } from './task-switch.ts';

/** Loads CS from a checked code-segment descriptor with RPL = `cpl` and jumps to `eip`. */
function enterCode(cpu: Cpu, sel: number, d: Descriptor, cpl: number, eip: number): void {
  cpu.setSegment(SEG_CS, (sel & 0xfffc) | cpl, descBase(d), descLimit(d), loadedFlags(d));
  cpu.next = eip;
}

/**
 * Real-address and virtual-8086 mode: CS = sel, base sel << 4, EIP = offset (#GP(0) past the
 * CS limit); CALL pushes CS and IP/EIP by the operand size first.
 */
function farRealV86(cpu: Cpu, i: Insn, sel: number, offset: number, call: boolean): void {
  const s = cpu.s;
  if (offset >>> 0 > cpu.segLimit(SEG_CS)) fault(EX_GP, 0);
  if (call) {
    const st = currentStack(cpu);
    const size = i.o32 ? 4 : 2;
    s[R_ESP] = pushFrame(cpu, { ...st, flags: st.flags & ~0x0c }, s[R_ESP], [cpu.segSel(SEG_CS), cpu.next], size, false, EX_SS, 0);
  }
  loadSegmentRealV86(cpu, SEG_CS, sel);
  cpu.next = offset;
}

/** Far JMP or CALL to `sel:offset` (offset already sized by the operand size). */
function farTransfer(cpu: Cpu, i: Insn, sel: number, offset: number, call: boolean): void {
  if (!isProtectedNotV86(cpu)) {
    farRealV86(cpu, i, sel, offset, call);
    return;
  }
  if (isNullSel(sel)) fault(EX_GP, 0);
  const d = fetchDescriptor(cpu, sel, EX_GP);
  const cpl = cpu.cpl;
  const rpl = sel & 3;
  if (descIsSegment(d)) {
    if (!descIsCode(d)) fault(EX_GP, selError(sel));
    const dpl = descDpl(d);
    if (descIsConforming(d) ? dpl > cpl : rpl > cpl || dpl !== cpl) fault(EX_GP, selError(sel));
    if (!descPresent(d)) fault(EX_NP, selError(sel));
    if (offset >>> 0 > descLimit(d)) fault(EX_GP, 0);
    markAccessed(cpu, d);
    if (call) pushReturn(cpu, i.o32 ? 4 : 2);
    enterCode(cpu, sel, d, cpl, offset);
    return;
  }
  const type = descSysType(d);
  const dpl = descDpl(d);
  if (type === SYS_CALL_GATE16 || type === SYS_CALL_GATE32) {
    if (dpl < cpl || dpl < rpl) fault(EX_GP, selError(sel));
    if (!descPresent(d)) fault(EX_NP, selError(sel));
    throughCallGate(cpu, d, call);
    return;
  }
  if (type === SYS_TASK_GATE) {
    if (dpl < cpl || dpl < rpl) fault(EX_GP, selError(sel));
    if (!descPresent(d)) fault(EX_NP, selError(sel));
    const tssSel = gateSelector(d);
    const td = fetchGdtDescriptor(cpu, tssSel, EX_GP);
    checkAvailableTss(td, tssSel);
    switchTask(cpu, tssSel, td, call ? TS_CALL : TS_JMP, cpu.next, NO_ERROR_CODE);
    return;
  }
  if (type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL) {
    if (dpl < cpl || dpl < rpl) fault(EX_GP, selError(sel));
    if (!descPresent(d)) fault(EX_NP, selError(sel));
    switchTask(cpu, sel, d, call ? TS_CALL : TS_JMP, cpu.next, NO_ERROR_CODE);
    return;
  }
  // Busy TSS, LDT, interrupt/trap gates and reserved types.
  fault(EX_GP, selError(sel));
}

/** Pushes CS and the return EIP on the current stack (same privilege level). */
function pushReturn(cpu: Cpu, size: 2 | 4): void {
  const s = cpu.s;
  s[R_ESP] = pushFrame(cpu, currentStack(cpu), s[R_ESP], [cpu.segSel(SEG_CS), cpu.next], size, cpu.cpl < 3, EX_SS, 0);
}

/**
 * JMP or CALL through a call gate (SDM 5.8.4–5.8.5). CALL to a more privileged non-conforming
 * segment switches to the TSS's stack for the new CPL and copies the gate's parameter count of
 * words/dwords from the caller's stack; JMP never changes privilege.
 */
function throughCallGate(cpu: Cpu, gate: Descriptor, call: boolean): void {
  const s = cpu.s;
  const csSel = gateSelector(gate);
  const offset = gateOffset(gate);
  const size = descSysType(gate) === SYS_CALL_GATE32 ? 4 : 2;
  if (isNullSel(csSel)) fault(EX_GP, 0);
  const cd = fetchDescriptor(cpu, csSel, EX_GP);
  const cpl = cpu.cpl;
  const dpl = descDpl(cd);
  const conforming = descIsConforming(cd);
  if (!descIsCode(cd) || dpl > cpl) fault(EX_GP, selError(csSel));
  if (!call && !conforming && dpl !== cpl) fault(EX_GP, selError(csSel));
  if (!descPresent(cd)) fault(EX_NP, selError(csSel));

  if (call && !conforming && dpl < cpl) {
    const inner = readTssStack(cpu, dpl);
    const sd = checkStackSegment(cpu, inner.ss, dpl, EX_TS);
    // Parameters are read from the caller's stack at the caller's privilege.
    const count = gateParamCount(gate);
    const params: number[] = [];
    for (let k = count - 1; k >= 0; k--) params.push(peek(cpu, size === 4 ? SZ32 : SZ16, k * size));
    const frame = [cpu.segSel(SEG_SS), s[R_ESP], ...params, cpu.segSel(SEG_CS), cpu.next];
    const st = stackOfDescriptor(sd);
    checkFrame(st, inner.esp, frame.length, size, EX_SS, selError(inner.ss));
    if (offset >>> 0 > descLimit(cd)) fault(EX_GP, 0);
    markAccessed(cpu, cd);
    const esp = writeFrame(cpu, st, inner.esp, frame, size, true);
    cpu.setCpl(dpl);
    commitSegment(cpu, SEG_SS, inner.ss, sd);
    s[R_ESP] = esp;
    enterCode(cpu, csSel, cd, dpl, offset);
    return;
  }
  if (offset >>> 0 > descLimit(cd)) fault(EX_GP, 0);
  markAccessed(cpu, cd);
  if (call) pushReturn(cpu, size);
  enterCode(cpu, csSel, cd, cpl, offset);
}

/**
 * Far RET (imm16 bytes of parameters released): to the same privilege level, or to an outer
 * one, where SS:ESP are popped too, `imm` is released on both stacks, and DS/ES/FS/GS that the
 * outer level may not use become null.
 */
function farReturn(cpu: Cpu, i: Insn, imm: number): void {
  const sz = i.o32 ? SZ32 : SZ16;
  const n = i.o32 ? 4 : 2;
  let eip = peek(cpu, sz, 0);
  const sel = peek(cpu, sz, n) & 0xffff;
  if (!i.o32) eip &= 0xffff;
  if (!isProtectedNotV86(cpu)) {
    if (eip >>> 0 > cpu.segLimit(SEG_CS)) fault(EX_GP, 0);
    loadSegmentRealV86(cpu, SEG_CS, sel);
    adjustSp(cpu, 2 * n + imm);
    cpu.next = eip;
    return;
  }
  const cd = checkReturnCode(cpu, sel);
  const cpl = cpu.cpl;
  const rpl = sel & 3;
  if (rpl === cpl) {
    if (eip >>> 0 > descLimit(cd)) fault(EX_GP, 0);
    markAccessed(cpu, cd);
    adjustSp(cpu, 2 * n + imm);
    enterCode(cpu, sel, cd, cpl, eip);
    return;
  }
  // Return to an outer privilege level: SS:ESP follow the parameters.
  const outer = readOuterStack(cpu, i.o32, 2 * n + imm, rpl);
  if (eip >>> 0 > descLimit(cd)) fault(EX_GP, 0);
  markAccessed(cpu, cd);
  cpu.setCpl(rpl);
  enterCode(cpu, sel, cd, rpl, eip);
  enterOuterStack(cpu, outer, imm);
}

/** The far pointer of an `Mp` operand: offset (16/32 by operand size) then selector. */
function readFarPointer(cpu: Cpu, i: Insn): { sel: number; offset: number } {
  const off = ea(cpu, i);
  const n = i.o32 ? 4 : 2;
  const offset = i.o32 ? cpu.read32(cpu.linRead(i.seg, off, 4)) : cpu.read16(cpu.linRead(i.seg, off, 2));
  const selOff = i.a32 ? (off + n) | 0 : (off + n) & 0xffff;
  return { sel: cpu.read16(cpu.linRead(i.seg, selOff, 2)), offset };
}

const jmpAp: Handler = (cpu, i) => {
  farTransfer(cpu, i, i.imm2 & 0xffff, i.o32 ? i.imm | 0 : i.imm & 0xffff, false);
};

const jmpMp: Handler = (cpu, i) => {
  const p = readFarPointer(cpu, i);
  farTransfer(cpu, i, p.sel, p.offset, false);
};

const callAp: Handler = (cpu, i) => {
  farTransfer(cpu, i, i.imm2 & 0xffff, i.o32 ? i.imm | 0 : i.imm & 0xffff, true);
};

const callMp: Handler = (cpu, i) => {
  const p = readFarPointer(cpu, i);
  farTransfer(cpu, i, p.sel, p.offset, true);
};

const retf: Handler = (cpu, i) => {
  farReturn(cpu, i, 0);
};

const retfIw: Handler = (cpu, i) => {
  farReturn(cpu, i, i.imm & 0xffff);
};

/** Handlers of the far JMP/CALL/RET rows, by row name. */
export const FAR_TRANSFER_HANDLERS: HandlerMap = { jmpAp, jmpMp, callAp, callMp, retf, retfIw };
