/**
 * Segment-register loads (SDM vol. 3, 3.4.3 and 5.5–5.7; vol. 2, MOV, POP, LDS/LES/LFS/LGS/LSS)
 * and the instructions that move selectors: MOV Sreg, MOV r/m from Sreg, PUSH/POP Sreg, the
 * far-pointer loads, and ARPL.
 *
 * Three regimes:
 * - Real-address mode: the selector and base (selector << 4) change; the limit and attributes
 *   stay as they were, as on hardware (this is what makes "unreal mode" work).
 * - Virtual-8086 mode: base = selector << 4, limit 0xFFFF, a present DPL-3 read/write data
 *   segment (SDM 20.1.1).
 * - Protected mode: the descriptor is fetched and checked in the SDM's order; every fault is
 *   raised before anything changes; the accessed bit is set in memory.
 *
 * A null selector may be loaded into DS, ES, FS, GS: the register becomes unusable (SEGF_USABLE
 * clear), so a later access through it raises #GP(0) (cpu.linRead/linWrite). SS may never be
 * null in protected mode (#GP(0)); CS is never loaded here (MOV CS is #UD; far transfers own it).
 */
import { EX_GP, EX_NP, EX_SS, EX_UD, F_ZF, INHIBIT_IRQ, R_ESP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEGF_DPL_SHIFT, SEGF_P, SEGF_S, SEGF_USABLE, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { setArithFlags } from '../lazy-flags.ts';
import { ea, peek, push, readE, setReg } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import {
  descBase, descDpl, descIsConforming, descIsReadable, descIsWritableData, descLimit, descPresent,
  fetchDescriptor, isNullSel, loadedFlags, markAccessed, selError,
} from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { isProtected, isProtectedNotV86, isV86 } from './eflags.ts';
import { vsize } from '../../translator/decoder/insn.ts';

/** Attributes of every segment register in virtual-8086 mode. */
export const V86_SEG_FLAGS = SEGF_USABLE | SEGF_P | SEGF_S | (3 << SEGF_DPL_SHIFT) | 0x03;

/**
 * INHIBIT_IRQ value after MOV SS / POP SS: bit 0 blocks external interrupts for one instruction
 * (as after STI); bit 1 also holds back debug traps (single-step) for that instruction, which
 * the STI shadow does not (SDM vol. 3, 6.8.3).
 */
export const INHIBIT_STI = 1;
export const INHIBIT_DEBUG = 2;
export const INHIBIT_MOV_SS = INHIBIT_STI | INHIBIT_DEBUG;

/** Loads a segment register in real-address or virtual-8086 mode. */
export function loadSegmentRealV86(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (isV86(cpu)) cpu.setSegment(seg, sel, sel << 4, 0xffff, V86_SEG_FLAGS);
  else cpu.setSegment(seg, sel, sel << 4, cpu.segLimit(seg), cpu.segFlags(seg) | SEGF_USABLE | SEGF_P);
}

/**
 * Checks `sel` for DS, ES, FS or GS in protected mode: the descriptor must be data or readable
 * code, and unless it is conforming code its DPL must be at least CPL and RPL; it must be
 * present. `vector` is the fault for selector, type and privilege errors (#GP for instructions,
 * #TS during a task switch); a non-present segment raises #NP. Returns null for a null selector.
 */
export function checkDataSegment(cpu: Cpu, sel: number, cpl: number, vector: number): Descriptor | null {
  if (isNullSel(sel)) return null;
  const d = fetchDescriptor(cpu, sel, vector);
  if (!descIsReadable(d)) fault(vector, selError(sel));
  if (!descIsConforming(d)) {
    const dpl = descDpl(d);
    if ((sel & 3) > dpl || cpl > dpl) fault(vector, selError(sel));
  }
  if (!descPresent(d)) fault(EX_NP, selError(sel));
  markAccessed(cpu, d);
  return d;
}

/**
 * Checks `sel` as a stack segment for privilege level `pl`: not null, RPL = DPL = `pl`, a
 * writable data segment (else `vector`(selector), or `vector`(0) for a null selector), and
 * present (else #SS(selector)). Sets the accessed bit.
 */
export function checkStackSegment(cpu: Cpu, sel: number, pl: number, vector: number): Descriptor {
  if (isNullSel(sel)) fault(vector, 0);
  const d = fetchDescriptor(cpu, sel, vector);
  if ((sel & 3) !== pl || descDpl(d) !== pl || !descIsWritableData(d)) fault(vector, selError(sel));
  if (!descPresent(d)) fault(EX_SS, selError(sel));
  markAccessed(cpu, d);
  return d;
}

/**
 * Loads a checked descriptor (or null) into a segment register's cache. Reloading what the
 * register already holds (the kernel's DS and ES on every system call) changes nothing.
 */
export function commitSegment(cpu: Cpu, seg: number, sel: number, d: Descriptor | null): void {
  if (d === null) {
    cpu.setSegment(seg, sel, 0, 0, 0);
    return;
  }
  const base = descBase(d);
  const limit = descLimit(d);
  const flags = loadedFlags(d);
  if (!cpu.segmentIs(seg, sel, base, limit, flags)) cpu.setSegment(seg, sel, base, limit, flags);
}

/**
 * Loads DS, ES, FS, GS or SS from `sel` by the rules of the current mode (MOV, POP, LxS).
 * Faults before changing anything.
 */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!isProtectedNotV86(cpu)) {
    loadSegmentRealV86(cpu, seg, sel);
    return;
  }
  const cpl = cpu.cpl;
  if (seg === SEG_SS) {
    commitSegment(cpu, SEG_SS, sel, checkStackSegment(cpu, sel, cpl, EX_GP));
    return;
  }
  commitSegment(cpu, seg, sel, checkDataSegment(cpu, sel, cpl, EX_GP));
}

/**
 * After a return to an outer privilege level (RET far, IRET): DS, ES, FS and GS that the new CPL
 * may not use (data or non-conforming code with DPL < CPL) are loaded with a null selector
 * (SDM vol. 2, RET and IRET operation).
 */
export function nullInaccessibleDataSegments(cpu: Cpu): void {
  const cpl = cpu.cpl;
  for (const seg of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) {
    const f = cpu.segFlags(seg);
    if (!(f & SEGF_USABLE)) continue;
    const conformingCode = (f & 0x1c) === 0x1c;
    if (!conformingCode && ((f >>> SEGF_DPL_SHIFT) & 3) < cpl) cpu.setSegment(seg, 0, 0, 0, 0);
  }
}

// ------------------------------------------------------------------------------ handlers
/** MOV Sreg, r/m16: MOV CS (and the undefined registers 6, 7) are #UD; MOV SS opens a shadow. */
const movSwEw: Handler = (cpu, i) => {
  const seg = i.reg;
  if (seg === SEG_CS || seg > SEG_GS) fault(EX_UD);
  loadSegment(cpu, seg, readE(cpu, i, SZ16));
  if (seg === SEG_SS) cpu.s[INHIBIT_IRQ >> 2] = INHIBIT_MOV_SS;
};

/**
 * MOV r/m16, Sreg: a memory destination is always 16 bits; a register destination with 32-bit
 * operand size receives the selector zero-extended (Pentium Pro and later).
 */
const movEwSw: Handler = (cpu, i) => {
  if (i.reg > SEG_GS) fault(EX_UD);
  const v = cpu.segSel(i.reg);
  if (i.mod === 3) setReg(cpu, i.o32 ? SZ32 : SZ16, i.rm, v);
  else cpu.write16(cpu.linWrite(i.seg, ea(cpu, i), 2), v);
};

/** PUSH Sreg: with 32-bit operand size the selector is pushed zero-extended. */
function pushSeg(seg: number): Handler {
  return (cpu, i) => {
    push(cpu, vsize(i), cpu.segSel(seg));
  };
}

/** POP Sreg: the load is checked before ESP moves; POP SS opens an interrupt shadow. */
function popSeg(seg: number): Handler {
  return (cpu, i) => {
    const sz = vsize(i);
    const sel = peek(cpu, sz, 0) & 0xffff;
    // The pop's stack width is that of the SS the value was read through.
    const stack32 = cpu.stack32;
    loadSegment(cpu, seg, sel);
    const n = sz === SZ32 ? 4 : 2;
    if (stack32) cpu.s[R_ESP] = (cpu.s[R_ESP] + n) | 0;
    else cpu.u16[R_ESP << 1] = (cpu.u16[R_ESP << 1] + n) & 0xffff;
    if (seg === SEG_SS) cpu.s[INHIBIT_IRQ >> 2] = INHIBIT_MOV_SS;
  };
}

/** LDS/LES/LFS/LGS/LSS r, m16:16/m16:32: offset first, selector after it; the segment load is checked before the register is written. */
function loadFarPointer(seg: number): Handler {
  return (cpu: Cpu, i: Insn) => {
    const off = ea(cpu, i);
    const n = i.o32 ? 4 : 2;
    const value = i.o32 ? cpu.read32(cpu.linRead(i.seg, off, 4)) : cpu.read16(cpu.linRead(i.seg, off, 2));
    const selOff = i.a32 ? (off + n) | 0 : (off + n) & 0xffff;
    const sel = cpu.read16(cpu.linRead(i.seg, selOff, 2));
    loadSegment(cpu, seg, sel);
    setReg(cpu, vsize(i), i.reg, value);
  };
}

/**
 * ARPL r/m16, r16: raises the destination selector's RPL to the source's; ZF tells whether it did.
 * A memory destination is read first and written only when its RPL changes, as the processor
 * does: an unchanged selector in a read-only segment or page raises no fault, and a page fault
 * on the read has a read error code.
 */
const arplEwGw: Handler = (cpu, i) => {
  if (!isProtected(cpu) || isV86(cpu)) fault(EX_UD);
  const src = cpu.u16[i.reg << 1];
  const off = i.mod === 3 ? 0 : ea(cpu, i);
  const dest = i.mod === 3 ? cpu.u16[i.rm << 1] : cpu.read16(cpu.linRead(i.seg, off, 2));
  if ((dest & 3) < (src & 3)) {
    const v = (dest & ~3) | (src & 3);
    if (i.mod === 3) cpu.u16[i.rm << 1] = v;
    else cpu.write16(cpu.linWrite(i.seg, off, 2), v);
    setArithFlags(cpu.s, F_ZF, F_ZF);
  } else {
    setArithFlags(cpu.s, F_ZF, 0);
  }
};

/** Handlers of the segment-register rows (and ARPL), by row name. */
export const SEGMENT_HANDLERS: HandlerMap = {
  movSwEw,
  movEwSw,
  pushES: pushSeg(SEG_ES),
  pushCS: pushSeg(SEG_CS),
  pushSS: pushSeg(SEG_SS),
  pushDS: pushSeg(SEG_DS),
  pushFS: pushSeg(SEG_FS),
  pushGS: pushSeg(SEG_GS),
  popES: popSeg(SEG_ES),
  popSS: popSeg(SEG_SS),
  popDS: popSeg(SEG_DS),
  popFS: popSeg(SEG_FS),
  popGS: popSeg(SEG_GS),
  lesGvMp: loadFarPointer(SEG_ES),
  ldsGvMp: loadFarPointer(SEG_DS),
  lssGvMp: loadFarPointer(SEG_SS),
  lfsGvMp: loadFarPointer(SEG_FS),
  lgsGvMp: loadFarPointer(SEG_GS),
  arplEwGw,
};
