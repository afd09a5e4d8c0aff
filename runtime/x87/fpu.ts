/**
 * The x87 register stack and its status (SDM vol. 1, chapter 8): physical registers R0..R7 in
 * double-extended format in the shared state block (abi.ts FPU_ST), TOP, the full tag word, the control and status words,
 * exception flags with their masked/unmasked consequences, and the last-instruction pointers.
 *
 * Values are addressed by *slot*: slots 0..7 are the physical registers, SLOT_TMP/SLOT_TMP2 the
 * scratch FPU_TMP where a memory source operand or a constant is converted before use. Values
 * are only ever moved as bit patterns (sign+exponent, significand high and low words).
 *
 * Invariants:
 * - FPU_TAG is always exact for non-empty registers (00 valid, 01 zero, 10 special = NaN,
 *   infinity, denormal, pseudo-denormal or an unsupported encoding), as the hardware computes it.
 * - FPU_SW holds everything but TOP; its ES and B bits always equal "some exception flag is set
 *   whose mask bit is clear" (the processor recomputes them whenever flags or masks change:
 *   FLDCW that unmasks a set flag makes ES appear, FNSTENV that masks everything clears it).
 * - An instruction with an unmasked pre-computation exception (invalid, denormal, zero-divide,
 *   stack fault) changes nothing but the status word; the #MF comes from the next waiting x87
 *   instruction (`checkPending`).
 */
import {
  CR, EX_MF, EX_NM, FPU_CW, FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_SLOT, FPU_ST, FPU_SW, FPU_TAG,
  FPU_TMP, FPU_TOP, SEG_CS,
} from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { ea } from '../insn/operands.ts';

// ------------------------------------------------------------------------------- word layouts
/** Status-word exception flags (SDM vol. 1, 8.1.3). */
export const SW_IE = 0x0001;
export const SW_DE = 0x0002;
export const SW_ZE = 0x0004;
export const SW_OE = 0x0008;
export const SW_UE = 0x0010;
export const SW_PE = 0x0020;
export const SW_SF = 0x0040;
export const SW_ES = 0x0080;
export const SW_C0 = 0x0100;
export const SW_C1 = 0x0200;
export const SW_C2 = 0x0400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
/** The six exception flags; the control word's mask bits sit at the same positions. */
export const EXC_MASK = 0x3f;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

/** Control-word fields (SDM vol. 1, 8.1.5). */
export const CW_PC_SHIFT = 8;
export const CW_RC_SHIFT = 10;
/** Precision control values. */
export const PC_SINGLE = 0;
export const PC_DOUBLE = 2;
/** Rounding control values. */
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_CHOP = 3;

/** Tag values. */
export const TAG_VALID = 0;
export const TAG_ZERO = 1;
export const TAG_SPECIAL = 2;
export const TAG_EMPTY = 3;

/** CR0 bits the x87 cares about. */
const CR0_MP = 0x02;
const CR0_EM = 0x04;
const CR0_TS = 0x08;
const CR0_NE = 0x20;

const I_CW = FPU_CW >> 2;
const I_SW = FPU_SW >> 2;
const I_TOP = FPU_TOP >> 2;
const I_TAG = FPU_TAG >> 2;
const I_FIP = FPU_FIP >> 2;
const I_FCS = FPU_FCS >> 2;
const I_FDP = FPU_FDP >> 2;
const I_FDS = FPU_FDS >> 2;
const I_FOP = FPU_FOP >> 2;
const I_CR0 = CR >> 2;
/** Int32 index of R0's significand low word; slot k starts FPU_SLOT/4 words further. */
const W_ST = FPU_ST >> 2;
const W_SLOT = FPU_SLOT >> 2;

/** Slots of the scratch registers (FPU_TMP). */
export const SLOT_TMP = (FPU_TMP - FPU_ST) / FPU_SLOT;
export const SLOT_TMP2 = SLOT_TMP + 1;

/** The QNaN indefinite: sign and exponent FFFFh, significand C000000000000000h. */
export const INDEFINITE_SE = 0xffff;
export const INDEFINITE_HI = 0xc0000000 | 0;

// ------------------------------------------------------------------------------- slots
/** Sign and exponent (16 bits) of a slot. */
export function slotSe(cpu: Cpu, slot: number): number {
  return cpu.s[W_ST + W_SLOT * slot + 2] & 0xffff;
}

/** High significand word (bit 31 = the integer bit J), as a signed int32. */
export function slotHi(cpu: Cpu, slot: number): number {
  return cpu.s[W_ST + W_SLOT * slot + 1];
}

/** Low significand word, as a signed int32. */
export function slotLo(cpu: Cpu, slot: number): number {
  return cpu.s[W_ST + W_SLOT * slot];
}

/** Encoding classes of a double-extended value (SDM vol. 1, 4.2.2 and 8.2.2, table 8-3). */
export const CLS_ZERO = 0;
export const CLS_NORMAL = 1;
/** Exponent 0, J = 0, nonzero significand. */
export const CLS_DENORMAL = 2;
/** Exponent 0, J = 1: the value 2^-16382 · 1.f, accepted as an operand (raises DE). */
export const CLS_PSEUDO_DENORMAL = 3;
export const CLS_INF = 4;
export const CLS_NAN = 5;
/** Unnormals, pseudo-infinities and pseudo-NaNs: invalid operands (IE) on a 387 and later. */
export const CLS_UNSUPPORTED = 6;

/** The class of the encoding (se, hi, lo). */
export function classOf(se: number, hi: number, lo: number): number {
  const exp = se & 0x7fff;
  const j = hi < 0;
  if (exp === 0x7fff) {
    if (!j) return CLS_UNSUPPORTED;
    return (hi & 0x7fffffff) === 0 && lo === 0 ? CLS_INF : CLS_NAN;
  }
  if (exp === 0) {
    if (j) return CLS_PSEUDO_DENORMAL;
    return hi === 0 && lo === 0 ? CLS_ZERO : CLS_DENORMAL;
  }
  return j ? CLS_NORMAL : CLS_UNSUPPORTED;
}

export function slotClass(cpu: Cpu, slot: number): number {
  const w = W_ST + W_SLOT * slot;
  return classOf(cpu.s[w + 2], cpu.s[w + 1], cpu.s[w]);
}

/** True if the slot holds a NaN (exponent 7FFFh, J = 1, fraction nonzero). */
export function slotIsNaN(cpu: Cpu, slot: number): boolean {
  return slotClass(cpu, slot) === CLS_NAN;
}

/** A NaN whose quiet bit (significand bit 62) is clear. */
export function slotIsSNaN(cpu: Cpu, slot: number): boolean {
  return slotIsNaN(cpu, slot) && (slotHi(cpu, slot) & 0x40000000) === 0;
}

/** The tag of an encoding: zero, valid (normal), or special (NaN, ∞, denormal, unsupported). */
function tagOf(se: number, hi: number, lo: number): number {
  const exp = se & 0x7fff;
  if (exp === 0) return hi === 0 && lo === 0 ? TAG_ZERO : TAG_SPECIAL;
  return exp === 0x7fff || hi >= 0 ? TAG_SPECIAL : TAG_VALID;
}

/** Writes a double-extended encoding to a slot (and its tag, for a physical register). */
export function setReg(cpu: Cpu, slot: number, se: number, hi: number, lo: number): void {
  const w = W_ST + W_SLOT * slot;
  const s = cpu.s;
  s[w] = lo;
  s[w + 1] = hi;
  s[w + 2] = se & 0xffff;
  if (slot < 8) setTag(cpu, slot, tagOf(se, hi, lo));
}

/** Copies a slot's bits. */
export function copySlot(cpu: Cpu, dst: number, src: number): void {
  const w = W_ST + W_SLOT * src;
  const s = cpu.s;
  setReg(cpu, dst, s[w + 2], s[w + 1], s[w]);
}

/** Writes the QNaN indefinite, the masked response to most invalid operations. */
export function setIndefinite(cpu: Cpu, slot: number): void {
  setReg(cpu, slot, INDEFINITE_SE, INDEFINITE_HI, 0);
}

/** Sets a NaN slot's quiet bit (the masked response to an SNaN operand). */
export function quietSlot(cpu: Cpu, slot: number): void {
  cpu.s[W_ST + W_SLOT * slot + 1] |= 0x40000000;
}

/** Recomputes the tag of physical register `p` from its contents (FLDENV, FRSTOR). */
export function retag(cpu: Cpu, p: number): void {
  const w = W_ST + W_SLOT * p;
  setTag(cpu, p, tagOf(cpu.s[w + 2], cpu.s[w + 1], cpu.s[w]));
}

// ------------------------------------------------------------------------------- stack
export function getTop(cpu: Cpu): number {
  return cpu.s[I_TOP];
}

export function setTop(cpu: Cpu, top: number): void {
  cpu.s[I_TOP] = top & 7;
}

/** Physical register of ST(i). */
export function st(cpu: Cpu, i: number): number {
  return (cpu.s[I_TOP] + i) & 7;
}

export function getTag(cpu: Cpu, phys: number): number {
  return (cpu.s[I_TAG] >> (2 * phys)) & 3;
}

export function setTag(cpu: Cpu, phys: number, tag: number): void {
  const sh = 2 * phys;
  cpu.s[I_TAG] = (cpu.s[I_TAG] & ~(3 << sh)) | (tag << sh);
}

export function isEmpty(cpu: Cpu, phys: number): boolean {
  return getTag(cpu, phys) === TAG_EMPTY;
}

/** Marks ST(0) empty and increments TOP. */
export function pop(cpu: Cpu): void {
  const t = cpu.s[I_TOP];
  setTag(cpu, t, TAG_EMPTY);
  cpu.s[I_TOP] = (t + 1) & 7;
}

/**
 * Prepares a push: returns the physical register that becomes ST(0), or -1 if the push
 * overflows. On a masked overflow the QNaN indefinite has already been pushed; on an unmasked
 * one only the status word changed. The caller writes the value and then calls `setTop(p)`.
 */
export function pushTarget(cpu: Cpu): number {
  const p = (cpu.s[I_TOP] - 1) & 7;
  if (isEmpty(cpu, p)) return p;
  if (stackFault(cpu, true)) {
    setIndefinite(cpu, p);
    cpu.s[I_TOP] = p;
  }
  return -1;
}

/**
 * Signals a stack fault: IE and SF, C1 = 1 for overflow and 0 for underflow. Returns true if
 * IE is masked (the caller then delivers the masked response, usually the QNaN indefinite).
 */
export function stackFault(cpu: Cpu, overflow: boolean): boolean {
  setC1(cpu, overflow);
  return !raise(cpu, SW_IE | SW_SF);
}

// ------------------------------------------------------------------------------- status
export function getCw(cpu: Cpu): number {
  return cpu.s[I_CW];
}

/** Rounding control (RC_*). */
export function rc(cpu: Cpu): number {
  return (cpu.s[I_CW] >> CW_RC_SHIFT) & 3;
}

/** Precision control (PC_*). */
export function pc(cpu: Cpu): number {
  return (cpu.s[I_CW] >> CW_PC_SHIFT) & 3;
}

/** Significand bits of + − × ÷ √ results: 24, 53, or 64 (PC = 3, and the reserved PC = 1). */
export function precision(cpu: Cpu): number {
  const p = (cpu.s[I_CW] >> CW_PC_SHIFT) & 3;
  return p === PC_SINGLE ? 24 : p === PC_DOUBLE ? 53 : 64;
}

/** The status word's ES and B bits recomputed from its flags and the control word's masks. */
export function withSummary(sw: number, cw: number): number {
  return sw & EXC_MASK & ~cw ? sw | SW_ES | SW_B : sw & ~(SW_ES | SW_B);
}

/** Sets the control word (reserved bits 7 and 13..15 read as 0, bit 6 as 1, as measured). */
export function setCw(cpu: Cpu, cw: number): void {
  const v = (cw & 0x1f3f) | 0x40;
  cpu.s[I_CW] = v;
  cpu.s[I_SW] = withSummary(cpu.s[I_SW], v);
}

/** The status word as FNSTSW returns it (with TOP). */
export function getSw(cpu: Cpu): number {
  return (cpu.s[I_SW] & ~0x3800) | (cpu.s[I_TOP] << 11);
}

/** Loads a full status word (FLDENV, FRSTOR): TOP goes to FPU_TOP, ES/B are recomputed. */
export function setSw(cpu: Cpu, sw: number): void {
  cpu.s[I_TOP] = (sw >> 11) & 7;
  cpu.s[I_SW] = withSummary(sw & 0xc7ff, cpu.s[I_CW]);
}

/**
 * Records exception flags (and SF). Returns true if any of them is unmasked, in which case the
 * caller abandons the operation for IE/DE/ZE (and stores to memory for OE/UE).
 */
export function raise(cpu: Cpu, flags: number): boolean {
  const s = cpu.s;
  s[I_SW] = withSummary(s[I_SW] | flags, s[I_CW]);
  return (flags & ~s[I_CW] & EXC_MASK) !== 0;
}

/** True if `flags` contains an exception whose mask bit is clear (without recording anything). */
export function unmasked(cpu: Cpu, flags: number): boolean {
  return (flags & ~cpu.s[I_CW] & EXC_MASK) !== 0;
}

/** Replaces the condition-code bits selected by `mask` (SW_C0..SW_C3) with those of `value`. */
export function setCC(cpu: Cpu, mask: number, value: number): void {
  cpu.s[I_SW] = (cpu.s[I_SW] & ~mask) | (value & mask);
}

export function setC1(cpu: Cpu, on: boolean): void {
  setCC(cpu, SW_C1, on ? SW_C1 : 0);
}

/** Clears the exception flags, SF, ES and B (FNCLEX). */
export function clearExceptions(cpu: Cpu): void {
  cpu.s[I_SW] &= ~(EXC_MASK | SW_SF | SW_ES | SW_B);
}

/** The FPU state after FNINIT (SDM vol. 1, table 8-1 / FINIT). */
export function initFpu(cpu: Cpu): void {
  const s = cpu.s;
  s[I_CW] = 0x37f;
  s[I_SW] = 0;
  s[I_TOP] = 0;
  s[I_TAG] = 0xffff;
  s[I_FIP] = 0;
  s[I_FCS] = 0;
  s[I_FDP] = 0;
  s[I_FDS] = 0;
  s[I_FOP] = 0;
}

// ------------------------------------------------------------------------------- gating
/**
 * #NM for an ESC instruction when CR0.EM or CR0.TS is set (SDM vol. 3, 2.5, table "Action Taken
 * By x87 FPU Instructions for Different Combinations of EM, MP, and TS"); kernels use TS for
 * lazy FPU context switching.
 */
export function checkDeviceAvailable(cpu: Cpu): void {
  if (cpu.s[I_CR0] & (CR0_EM | CR0_TS)) fault(EX_NM);
}

/** WAIT/FWAIT: #NM only when both CR0.TS and CR0.MP are set. */
export function checkWaitDeviceAvailable(cpu: Cpu): void {
  if ((cpu.s[I_CR0] & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) fault(EX_NM);
}

/**
 * The pending-exception check of every waiting x87 instruction: ES set means an earlier
 * instruction left an unmasked exception, reported now as #MF with CR0.NE = 1. With CR0.NE = 0
 * a PC would assert FERR# and raise IRQ 13 through the PIC; we do not model FERR# and simply
 * proceed, as a PC with IGNNE# asserted would (see README.md).
 */
export function checkPending(cpu: Cpu): void {
  if (cpu.s[I_SW] & SW_ES && cpu.s[I_CR0] & CR0_NE) fault(EX_MF);
}

/**
 * Records the last non-control instruction: FIP/FCS (the first byte, prefixes included), the
 * opcode FOP (low three bits of the escape byte and the ModRM byte), and for memory forms the
 * operand pointer FDP/FDS. Register forms leave FDP/FDS alone, as the P6 does.
 */
export function notePointers(cpu: Cpu, i: Insn): void {
  const s = cpu.s;
  s[I_FIP] = i.eip;
  s[I_FCS] = cpu.segSel(SEG_CS);
  s[I_FOP] = ((i.opcode & 7) << 8) | (i.mod << 6) | (i.reg << 3) | i.rm;
  if (i.isMem) {
    s[I_FDP] = ea(cpu, i);
    s[I_FDS] = cpu.segSel(i.seg);
  }
}

/** Pointer registers, for FNSTENV/FNSAVE/FLDENV/FRSTOR. */
export const PTR = { FIP: I_FIP, FCS: I_FCS, FDP: I_FDP, FDS: I_FDS, FOP: I_FOP, TAG: I_TAG } as const;
