/**
 * Lazy EFLAGS (SDM vol. 1, 3.4.3): the status flags are computed from the last flag-setting
 * operation only when something reads them. The record lives in the shared state block
 * (LF_OP, LF_A, LF_B, LF_RES, LF_C; see translator/abi.ts) so translated code and the interpreter
 * share it.
 *
 * Invariant: while LF_OP is LF_NONE, EFLAGS holds all status flags; otherwise its CF PF AF ZF SF
 * OF bits are stale and are computed here. All other EFLAGS bits are always current.
 */
import {
  EFLAGS, F_AF, F_ARITH, F_CF, F_OF, F_PF, F_SF, F_ZF, LF_A, LF_B, LF_C, LF_NONE, LF_OP, LF_RES,
  LFK_ADC, LFK_ADD, LFK_DEC, LFK_INC, LFK_LOGIC, LFK_SBB, LFK_SHIFT, LFK_SUB, SIZE_MASK, SZ16, SZ8,
} from '../translator/abi.ts';

const I_OP = LF_OP >> 2;
const I_A = LF_A >> 2;
const I_B = LF_B >> 2;
const I_RES = LF_RES >> 2;
const I_C = LF_C >> 2;
const I_FLAGS = EFLAGS >> 2;

/** Size codes used in LF_OP's low two bits. */
export const SIGN_BIT = [0x80, 0x8000, 0x80000000 | 0] as const;

/** Parity flag lookup: PARITY[b] = F_PF if b has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  PARITY[i] = n & 1 ? 0 : F_PF;
}

/** Records a lazy operation. Values must already be masked to the size. */
export function setLazy(s: Int32Array, kind: number, size: number, a: number, b: number, res: number): void {
  s[I_OP] = (kind << 2) | size;
  s[I_A] = a;
  s[I_B] = b;
  s[I_RES] = res;
}

function cfOf(s: Int32Array, op: number): number {
  const a = s[I_A] >>> 0;
  const b = s[I_B] >>> 0;
  const res = s[I_RES] >>> 0;
  switch (op >> 2) {
    case LFK_ADD: return res < a ? 1 : 0;
    case LFK_ADC: return (s[I_C] ? res <= a : res < a) ? 1 : 0;
    case LFK_SUB: return a < b ? 1 : 0;
    case LFK_SBB: return (s[I_C] ? a <= b : a < b) ? 1 : 0;
    case LFK_INC: case LFK_DEC: case LFK_SHIFT: return s[I_C] & 1;
    default: return 0; // LOGIC
  }
}

function ofOf(s: Int32Array, op: number): number {
  const a = s[I_A];
  const b = s[I_B];
  const res = s[I_RES];
  const sign = SIGN_BIT[op & 3];
  switch (op >> 2) {
    case LFK_ADD: case LFK_ADC: case LFK_INC: return (a ^ res) & (b ^ res) & sign ? 1 : 0;
    case LFK_SUB: case LFK_SBB: case LFK_DEC: return (a ^ b) & (a ^ res) & sign ? 1 : 0;
    case LFK_SHIFT: return (s[I_C] >> 1) & 1;
    default: return 0;
  }
}

/** Computes the six status flags from the lazy record (LF_OP must not be LF_NONE). */
function arithFlags(s: Int32Array, op: number): number {
  const res = s[I_RES];
  const size = op & 3;
  const kind = op >> 2;
  let f = cfOf(s, op) | (ofOf(s, op) ? F_OF : 0) | PARITY[res & 0xff];
  if ((res & SIZE_MASK[size]) === 0) f |= F_ZF;
  if (res & SIGN_BIT[size]) f |= F_SF;
  if (kind !== LFK_LOGIC && kind !== LFK_SHIFT) f |= (s[I_A] ^ s[I_B] ^ res) & F_AF;
  return f;
}

/** The full EFLAGS value. */
export function getEflags(s: Int32Array): number {
  const op = s[I_OP];
  if (op === LF_NONE) return s[I_FLAGS];
  return (s[I_FLAGS] & ~F_ARITH) | arithFlags(s, op);
}

/** Makes EFLAGS authoritative (LF_OP = LF_NONE). */
export function materializeFlags(s: Int32Array): void {
  const op = s[I_OP];
  if (op === LF_NONE) return;
  s[I_FLAGS] = (s[I_FLAGS] & ~F_ARITH) | arithFlags(s, op);
  s[I_OP] = LF_NONE;
}

/** Replaces the status flags selected by `mask` with those of `value`. */
export function setArithFlags(s: Int32Array, mask: number, value: number): void {
  materializeFlags(s);
  s[I_FLAGS] = (s[I_FLAGS] & ~mask) | (value & mask);
}

export function getCF(s: Int32Array): number {
  const op = s[I_OP];
  return op === LF_NONE ? s[I_FLAGS] & F_CF : cfOf(s, op);
}

export function getZF(s: Int32Array): boolean {
  const op = s[I_OP];
  return op === LF_NONE ? (s[I_FLAGS] & F_ZF) !== 0 : (s[I_RES] & SIZE_MASK[op & 3]) === 0;
}

export function getSF(s: Int32Array): boolean {
  const op = s[I_OP];
  return op === LF_NONE ? (s[I_FLAGS] & F_SF) !== 0 : (s[I_RES] & SIGN_BIT[op & 3]) !== 0;
}

export function getOF(s: Int32Array): boolean {
  const op = s[I_OP];
  return op === LF_NONE ? (s[I_FLAGS] & F_OF) !== 0 : ofOf(s, op) !== 0;
}

export function getPF(s: Int32Array): boolean {
  const op = s[I_OP];
  return op === LF_NONE ? (s[I_FLAGS] & F_PF) !== 0 : PARITY[s[I_RES] & 0xff] !== 0;
}

export function getAF(s: Int32Array): boolean {
  return (getEflags(s) & F_AF) !== 0;
}

/** Sign-extends a value of the given size code to int32. */
function sext(v: number, size: number): number {
  return size === SZ8 ? (v << 24) >> 24 : size === SZ16 ? (v << 16) >> 16 : v | 0;
}

/**
 * Evaluates condition code `cc` (0..15, the low nibble of Jcc/SETcc/CMOVcc).
 * After CMP/SUB the common conditions are answered from the operands directly.
 */
export function testCC(s: Int32Array, cc: number): boolean {
  const op = s[I_OP];
  if (op >> 2 === LFK_SUB) {
    const size = op & 3;
    const a = s[I_A];
    const b = s[I_B];
    let r: boolean;
    switch (cc >> 1) {
      case 1: r = a >>> 0 < b >>> 0; break; // b / ae
      case 2: r = a === b; break; // e / ne
      case 3: r = a >>> 0 <= b >>> 0; break; // be / a
      case 6: r = sext(a, size) < sext(b, size); break; // l / ge
      case 7: r = sext(a, size) <= sext(b, size); break; // le / g
      default: return testCCSlow(s, cc);
    }
    return (cc & 1) === 0 ? r : !r;
  }
  return testCCSlow(s, cc);
}

function testCCSlow(s: Int32Array, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(s); break;
    case 1: r = getCF(s) !== 0; break;
    case 2: r = getZF(s); break;
    case 3: r = getCF(s) !== 0 || getZF(s); break;
    case 4: r = getSF(s); break;
    case 5: r = getPF(s); break;
    case 6: r = getSF(s) !== getOF(s); break;
    default: r = getZF(s) || getSF(s) !== getOF(s); break;
  }
  return (cc & 1) === 0 ? r : !r;
}
