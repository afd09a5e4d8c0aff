/**
 * Operand access for interpreter handlers: effective addresses, ModRM register/memory operands
 * by size, immediates, and the stack. Sizes are size codes (SZ8, SZ16, SZ32 from lazy-flags.ts).
 *
 * Value conventions: 8- and 16-bit values are unsigned and masked; 32-bit values are int32.
 * Every memory write path checks the segment and the page before anything is modified.
 */
import { R_ESP, SEG_SS, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';

/** Operand size code of an instruction's `v` operands. */
/** Effective address (offset within the segment) of the memory operand. */
export function ea(cpu: Cpu, i: Insn): number {
  const s = cpu.s;
  let a = i.disp;
  if (i.base >= 0) a += s[i.base];
  if (i.index >= 0) a += s[i.index] << i.scale;
  return i.a32 ? a | 0 : a & 0xffff;
}

// ------------------------------------------------------------------------------ registers
export function getReg(cpu: Cpu, sz: number, r: number): number {
  return sz === SZ32 ? cpu.s[r] : sz === SZ16 ? cpu.u16[r << 1] : cpu.reg8(r);
}

export function setReg(cpu: Cpu, sz: number, r: number, v: number): void {
  if (sz === SZ32) cpu.s[r] = v;
  else if (sz === SZ16) cpu.u16[r << 1] = v;
  else cpu.setReg8(r, v);
}

// ------------------------------------------------------------------------------ memory by size
export function readMem(cpu: Cpu, sz: number, lin: number): number {
  return sz === SZ32 ? cpu.read32(lin) : sz === SZ16 ? cpu.read16(lin) : cpu.read8(lin);
}

export function writeMem(cpu: Cpu, sz: number, lin: number, v: number): void {
  if (sz === SZ32) cpu.write32(lin, v);
  else if (sz === SZ16) cpu.write16(lin, v);
  else cpu.write8(lin, v);
}

/** Reads `sz` at `seg:off`. */
export function readSeg(cpu: Cpu, sz: number, seg: number, off: number): number {
  return readMem(cpu, sz, cpu.linRead(seg, off, 1 << sz));
}

/** Writes `sz` at `seg:off`. */
export function writeSeg(cpu: Cpu, sz: number, seg: number, off: number, v: number): void {
  writeMem(cpu, sz, cpu.linWrite(seg, off, 1 << sz), v);
}

// ------------------------------------------------------------------------------ ModRM operands
/** Reads the r/m operand (register or memory). */
export function readE(cpu: Cpu, i: Insn, sz: number): number {
  if (i.mod === 3) return getReg(cpu, sz, i.rm);
  return readMem(cpu, sz, cpu.linRead(i.seg, ea(cpu, i), 1 << sz));
}

/** Writes the r/m operand (register or memory). */
export function writeE(cpu: Cpu, i: Insn, sz: number, v: number): void {
  if (i.mod === 3) setReg(cpu, sz, i.rm, v);
  else writeMem(cpu, sz, cpu.linWrite(i.seg, ea(cpu, i), 1 << sz), v);
}

/**
 * For read-modify-write of a memory r/m operand: the linear address after checking that the
 * segment and the page allow the write (so the fault, if any, is a write fault).
 */
export function rmwLin(cpu: Cpu, i: Insn, sz: number): number {
  const n = 1 << sz;
  const lin = cpu.linWrite(i.seg, ea(cpu, i), n);
  cpu.checkWrite(lin, n);
  return lin;
}

/** Linear address of the memory operand for a read of `n` bytes. */
export function memLinRead(cpu: Cpu, i: Insn, n: number): number {
  return cpu.linRead(i.seg, ea(cpu, i), n);
}

/** Linear address of the memory operand for a write of `n` bytes. */
export function memLinWrite(cpu: Cpu, i: Insn, n: number): number {
  return cpu.linWrite(i.seg, ea(cpu, i), n);
}

// ------------------------------------------------------------------------------ immediates
/** The immediate masked to the operand size (Ibs/Iz are stored sign-extended or raw). */
export function immOf(i: Insn, sz: number): number {
  return sz === SZ32 ? i.imm | 0 : sz === SZ16 ? i.imm & 0xffff : i.imm & 0xff;
}

// ------------------------------------------------------------------------------ stack
/** Current stack pointer (ESP or SP by SS.B). */
export function getSp(cpu: Cpu): number {
  return cpu.stack32 ? cpu.s[R_ESP] : cpu.u16[R_ESP << 1];
}

export function setSp(cpu: Cpu, v: number): void {
  if (cpu.stack32) cpu.s[R_ESP] = v;
  else cpu.u16[R_ESP << 1] = v;
}

/** Pushes a 16- or 32-bit value (size code SZ16/SZ32). ESP changes only if the write succeeds. */
export function push(cpu: Cpu, sz: number, v: number): void {
  const n = sz === SZ32 ? 4 : 2;
  const sp = cpu.stack32 ? (cpu.s[R_ESP] - n) | 0 : (cpu.u16[R_ESP << 1] - n) & 0xffff;
  const lin = cpu.linWrite(SEG_SS, sp, n);
  if (sz === SZ32) cpu.write32(lin, v);
  else cpu.write16(lin, v);
  setSp(cpu, sp);
}

/** Reads the value on top of the stack (offset `delta` bytes above SP) without popping. */
export function peek(cpu: Cpu, sz: number, delta: number): number {
  const n = sz === SZ32 ? 4 : 2;
  const sp = cpu.stack32 ? (cpu.s[R_ESP] + delta) | 0 : (cpu.u16[R_ESP << 1] + delta) & 0xffff;
  const lin = cpu.linRead(SEG_SS, sp, n);
  return sz === SZ32 ? cpu.read32(lin) : cpu.read16(lin);
}

/** Adds to the stack pointer (by SS.B width). */
export function adjustSp(cpu: Cpu, delta: number): void {
  if (cpu.stack32) cpu.s[R_ESP] = (cpu.s[R_ESP] + delta) | 0;
  else cpu.u16[R_ESP << 1] = (cpu.u16[R_ESP << 1] + delta) & 0xffff;
}

/** Pops a 16- or 32-bit value. */
export function pop(cpu: Cpu, sz: number): number {
  const v = peek(cpu, sz, 0);
  adjustSp(cpu, sz === SZ32 ? 4 : 2);
  return v;
}

/** Masks an EIP value to the operand size of a near transfer. */
export function maskIp(i: Insn, v: number): number {
  return i.o32 ? v | 0 : v & 0xffff;
}

