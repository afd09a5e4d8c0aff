/**
 * IRET/IRETD (SDM vol. 2, IRET; vol. 3, 6.12.1, 7.3 and 20.3.3): return from an interrupt or
 * exception handler in real-address mode, in virtual-8086 mode (IOPL 3 only; no VME), in
 * protected mode to the same or an outer privilege level, to virtual-8086 mode (from CPL 0 with
 * VM set in the popped EFLAGS), and with NT set, a task switch back to the previous task.
 *
 * The EFLAGS image is filtered by the privilege of the level returning (the old CPL): IF only
 * when CPL <= IOPL, IOPL (and VIF/VIP) only at CPL 0; VM only through the virtual-8086 return.
 * Every check and stack read happens before any register changes.
 */
import { EX_GP, F_AC, F_AF, F_CF, F_DF, F_ID, F_IF, F_IOPL, F_NT, F_OF, F_PF, F_RF, F_SF, F_TF, F_VIF, F_VIP, F_VM, F_ZF, R_ESP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { adjustSp, peek } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { descBase, descLimit, loadedFlags, markAccessed } from './descriptors.ts';
import { iopl, isProtected, isV86, readEflags, writeEflags } from './eflags.ts';
import { loadSegmentRealV86 } from './segments.ts';
import { checkReturnCode, enterOuterStack, readOuterStack } from './far-return.ts';
import { taskReturn } from './task-switch.ts';

/** Flags any IRET may load (16-bit IRET: their low 16 bits). */
const IRET_BASIC = F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_DF | F_OF | F_NT;
/** Real-mode IRETD: everything but VM, VIF, VIP (SDM: tempEFLAGS AND 257FD5H). */
const REAL_MASK32 = 0x257fd5;

const iret: Handler = (cpu, i) => {
  const sz = i.o32 ? SZ32 : SZ16;
  const n = i.o32 ? 4 : 2;
  const flags = readEflags(cpu);
  if (!isProtected(cpu)) {
    iretReal(cpu, i.o32, flags);
    return;
  }
  if (flags & F_VM) {
    // Virtual-8086 mode: IOPL-sensitive without VME.
    if (iopl(cpu) < 3) fault(EX_GP, 0);
    iretReal(cpu, i.o32, flags);
    return;
  }
  if (flags & F_NT) {
    taskReturn(cpu);
    return;
  }
  let eip = peek(cpu, sz, 0);
  const csSel = peek(cpu, sz, n) & 0xffff;
  const popped = peek(cpu, sz, 2 * n);
  const cpl = cpu.cpl;
  if (i.o32 && popped & F_VM && cpl === 0) {
    returnToV86(cpu, eip, csSel, popped);
    return;
  }
  if (!i.o32) eip &= 0xffff;
  const cd = checkReturnCode(cpu, csSel);
  const rpl = csSel & 3;

  // EFLAGS image filtered by the returning (old) CPL.
  let mask = IRET_BASIC;
  if (i.o32) mask |= F_RF | F_AC | F_ID;
  if (cpl <= iopl(cpu)) mask |= F_IF;
  if (cpl === 0) {
    mask |= F_IOPL;
    if (i.o32) mask |= F_VIF | F_VIP;
  }
  const newFlags = (flags & ~mask) | (popped & mask);

  if (rpl === cpl) {
    if (eip >>> 0 > descLimit(cd)) fault(EX_GP, 0);
    markAccessed(cpu, cd);
    adjustSp(cpu, 3 * n);
    cpu.setSegment(SEG_CS, csSel, descBase(cd), descLimit(cd), loadedFlags(cd));
    writeEflags(cpu, newFlags);
    cpu.next = eip;
    return;
  }
  // Return to an outer privilege level: SS:ESP follow on the stack.
  const outer = readOuterStack(cpu, i.o32, 3 * n, rpl);
  if (eip >>> 0 > descLimit(cd)) fault(EX_GP, 0);
  markAccessed(cpu, cd);
  writeEflags(cpu, newFlags);
  cpu.setCpl(rpl);
  cpu.setSegment(SEG_CS, csSel, descBase(cd), descLimit(cd), loadedFlags(cd));
  enterOuterStack(cpu, outer, 0);
  cpu.next = eip;
};

/**
 * IRET in real-address mode, or in virtual-8086 mode at IOPL 3 (where IOPL, VM, VIF and VIP are
 * kept): CS:IP and FLAGS popped; #GP(0) if IP is past the CS limit.
 */
function iretReal(cpu: Cpu, o32: boolean, flags: number): void {
  const sz = o32 ? SZ32 : SZ16;
  const n = o32 ? 4 : 2;
  const eip = peek(cpu, sz, 0);
  const csSel = peek(cpu, sz, n) & 0xffff;
  const popped = peek(cpu, sz, 2 * n);
  const v86 = isV86(cpu);
  if (eip >>> 0 > (v86 ? 0xffff : cpu.segLimit(SEG_CS))) fault(EX_GP, 0);
  let mask: number;
  if (o32) mask = v86 ? REAL_MASK32 & ~F_IOPL : REAL_MASK32;
  else mask = v86 ? 0xffff & ~F_IOPL : 0xffff;
  adjustSp(cpu, 3 * n);
  loadSegmentRealV86(cpu, SEG_CS, csSel);
  writeEflags(cpu, (flags & ~mask) | (popped & mask));
  cpu.next = eip;
}

/**
 * IRETD from CPL 0 with VM set in the popped EFLAGS: pops ESP, SS, ES, DS, FS, GS as well and
 * resumes in virtual-8086 mode at CPL 3 (SDM 20.3.3 and IRET "RETURN-TO-VIRTUAL-8086-MODE").
 */
function returnToV86(cpu: Cpu, eip: number, csSel: number, popped: number): void {
  const esp = peek(cpu, SZ32, 12);
  const ss = peek(cpu, SZ32, 16) & 0xffff;
  const es = peek(cpu, SZ32, 20) & 0xffff;
  const ds = peek(cpu, SZ32, 24) & 0xffff;
  const fs = peek(cpu, SZ32, 28) & 0xffff;
  const gs = peek(cpu, SZ32, 32) & 0xffff;
  writeEflags(cpu, popped);
  cpu.setCpl(3);
  for (const [seg, sel] of [[SEG_CS, csSel], [SEG_SS, ss], [SEG_ES, es], [SEG_DS, ds], [SEG_FS, fs], [SEG_GS, gs]]) {
    loadSegmentRealV86(cpu, seg, sel);
  }
  cpu.s[R_ESP] = esp;
  cpu.next = eip & 0xffff;
}

/** Handler of the IRET row. */
export const IRET_HANDLERS: HandlerMap = { iret };
