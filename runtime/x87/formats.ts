/**
 * Conversions between the x87 memory formats and the double-extended registers (SDM vol. 1,
 * 4.2, 4.7 and 8.2): single, double and double-extended reals, 16/32/64-bit integers and
 * 18-digit packed BCD. Loads write a slot; every load is exact (single and double reals, all
 * integers and BCD fit a 64-bit significand), and FLD m80 copies the bits, unsupported encodings
 * included. Stores return the bits to write plus the exception flags they raise, and the caller
 * commits the flags only after the memory write succeeded (a fault must leave the FPU untouched).
 */
import type { Cpu } from '../cpu.ts';
import { RF, TWO32, Unpacked, roundFormat, unpack } from './extended.ts';
import {
  CLS_INF, CLS_NAN, CLS_UNSUPPORTED, CLS_ZERO, RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_IE, SW_OE, SW_PE, SW_UE,
  setReg, slotClass, slotHi, slotLo, slotSe, unmasked,
} from './fpu.ts';

/** Bits to store and the flags (SW_IE/OE/UE/PE, plus SW_C1 for "rounded up") the store raises. */
export interface StoreResult {
  lo: number;
  hi: number;
  flags: number;
}

const U = new Unpacked();

/**
 * Writes m · 2^k with the sign bit `sign` (0 or 0x8000) exactly to a slot: m a nonnegative integer
 * below 2^64 as its hi/lo 32-bit halves, normalized here; the result must be in the normal range.
 */
function setScaled(cpu: Cpu, slot: number, sign: number, hi: number, lo: number, k: number): void {
  if (hi === 0 && lo === 0) {
    setReg(cpu, slot, sign, 0, 0);
    return;
  }
  let n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo); // m's leading bit at 63 − n
  let h = hi;
  let l = lo >>> 0;
  const exp = 16383 + 63 - n + k;
  if (n >= 32) {
    h = l; l = 0; n -= 32;
  }
  if (n > 0) {
    h = ((h << n) | (l >>> (32 - n))) >>> 0;
    l = (l << n) >>> 0;
  }
  setReg(cpu, slot, sign | exp, h | 0, l | 0);
}

/** Writes ±m (m a nonnegative integer below 2^64 as hi/lo numbers) exactly to a slot. */
function setInteger(cpu: Cpu, slot: number, neg: boolean, hi: number, lo: number): void {
  setScaled(cpu, slot, neg ? 0x8000 : 0, hi, lo, 0);
}

// ------------------------------------------------------------------------------- loads
/** Loads float32 bits into a slot. Returns true if the operand is a single-precision denormal. */
export function loadF32(cpu: Cpu, slot: number, bits: number): boolean {
  const sign = (bits >>> 16) & 0x8000;
  const e = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (e === 0xff) {
    setReg(cpu, slot, sign | 0x7fff, (0x80000000 | (frac << 8)) | 0, 0);
    return false;
  }
  if (e === 0) {
    if (frac === 0) {
      setReg(cpu, slot, sign, 0, 0);
      return false;
    }
    const n = Math.clz32(frac); // leading bit at 31 − n, value 2^(31 − n − 149)
    setReg(cpu, slot, sign | (16383 + 31 - n - 149), frac << n, 0);
    return true;
  }
  setReg(cpu, slot, sign | (e - 127 + 16383), (0x80000000 | (frac << 8)) | 0, 0);
  return false;
}

/** Loads binary64 bits into a slot. Returns true if the operand is a double-precision denormal. */
export function loadF64(cpu: Cpu, slot: number, lo: number, hi: number): boolean {
  const sign = (hi >>> 16) & 0x8000;
  const e = (hi >>> 20) & 0x7ff;
  const fhi = hi & 0xfffff;
  if (e === 0) {
    if (fhi === 0 && lo === 0) {
      setReg(cpu, slot, sign, 0, 0);
      return false;
    }
    // |x| = frac · 2^-1074 with frac below 2^52.
    setScaled(cpu, slot, sign, fhi, lo, -1074);
    return true;
  }
  const sig = (0x80000000 | (fhi << 11) | (lo >>> 21)) | 0;
  setReg(cpu, slot, sign | (e === 0x7ff ? 0x7fff : e - 1023 + 16383), sig, lo << 11);
  return false;
}

/** Loads an 80-bit real: the bits as they are (no exception; unsupported encodings included). */
export function loadF80(cpu: Cpu, slot: number, mlo: number, mhi: number, se: number): void {
  setReg(cpu, slot, se & 0xffff, mhi | 0, mlo | 0);
}

/** Loads a 16- or 32-bit integer (already sign-extended to a JS integer). */
export function loadInt(cpu: Cpu, slot: number, v: number): void {
  setInteger(cpu, slot, v < 0, 0, Math.abs(v));
}

/** Loads a 64-bit two's-complement integer from its two words. */
export function loadI64(cpu: Cpu, slot: number, lo: number, hi: number): void {
  let h = hi >>> 0;
  let l = lo >>> 0;
  const neg = hi < 0;
  if (neg) {
    l = TWO32 - l;
    h = TWO32 - 1 - h;
    if (l === TWO32) { l = 0; h += 1; }
    if (h === TWO32) h = 0;
  }
  setInteger(cpu, slot, neg, h, l);
}

/**
 * Loads 18-digit packed BCD (bytes 0..8, low digit in the low nibble; byte 9 bit 7 the sign).
 * Nibbles above 9 have undefined results on hardware; we weigh them as their binary value.
 */
export function loadBcd(cpu: Cpu, slot: number, bytes: readonly number[]): void {
  let hi9 = 0;
  for (let k = 8; k >= 5; k--) hi9 = hi9 * 100 + (bytes[k] >> 4) * 10 + (bytes[k] & 15);
  hi9 = hi9 * 10 + (bytes[4] >> 4);
  let lo9 = bytes[4] & 15;
  for (let k = 3; k >= 0; k--) lo9 = lo9 * 100 + (bytes[k] >> 4) * 10 + (bytes[k] & 15);
  const v = BigInt(hi9) * 1_000_000_000n + BigInt(lo9);
  setInteger(cpu, slot, (bytes[9] & 0x80) !== 0, Number(v >> 32n), Number(v & 0xffffffffn));
}

// ------------------------------------------------------------------------------- stores
/** The 80-bit image of a slot: its bits. */
export function storeF80(cpu: Cpu, slot: number): { mlo: number; mhi: number; se: number } {
  return { mlo: slotLo(cpu, slot), mhi: slotHi(cpu, slot), se: slotSe(cpu, slot) };
}

function toInfinity(mode: number, neg: boolean): boolean {
  return mode === RC_NEAREST || (mode === RC_UP && !neg) || (mode === RC_DOWN && neg);
}

/**
 * The flags of a rounded store to a narrower real: PE when inexact, UE when tiny and (inexact or
 * UE unmasked), C1 when rounded up.
 */
function storeFlags(cpu: Cpu): number {
  let flags = RF.inexact ? SW_PE : 0;
  if (RF.tiny && (RF.inexact || unmasked(cpu, SW_UE))) flags |= SW_UE;
  if (RF.up) flags |= SW_C1;
  return flags;
}

/** FST m64: round by `mode` to double precision with its own exponent range and denormals. */
export function storeF64(cpu: Cpu, slot: number, mode: number): StoreResult {
  const se = slotSe(cpu, slot);
  const hi = slotHi(cpu, slot);
  const lo = slotLo(cpu, slot);
  const sign = se & 0x8000 ? 0x80000000 : 0;
  switch (slotClass(cpu, slot)) {
    case CLS_NAN: {
      const fhi = (hi >>> 11) & 0xfffff;
      return { hi: (sign | 0x7ff00000 | 0x80000 | fhi) | 0, lo: ((hi << 21) | (lo >>> 11)) | 0, flags: hi & 0x40000000 ? 0 : SW_IE };
    }
    case CLS_UNSUPPORTED: return { hi: 0xfff80000 | 0, lo: 0, flags: SW_IE };
    case CLS_INF: return { hi: (sign | 0x7ff00000) | 0, lo: 0, flags: 0 };
    case CLS_ZERO: return { hi: sign | 0, lo: 0, flags: 0 };
  }
  const u = unpack(cpu, slot, U);
  if (u.e >= -1022 && u.e < 1023) {
    // Normal in binary64 whatever the rounding: drop 11 bits of the significand.
    const rbit = (u.l >>> 10) & 1;
    const rest = (u.l & 0x3ff) !== 0;
    const up = mode === RC_NEAREST ? rbit !== 0 && (rest || (u.l & 0x800) !== 0) : mode === RC_UP ? u.s === 0 && (rbit !== 0 || rest) : mode === RC_DOWN ? u.s !== 0 && (rbit !== 0 || rest) : false;
    let fl = ((u.l >>> 11) | (u.h << 21)) >>> 0;
    let fh = (u.h >>> 11) & 0xfffff;
    let e = u.e;
    if (up) {
      fl += 1;
      if (fl === TWO32) {
        fl = 0;
        fh += 1;
        if (fh === 0x100000) { fh = 0; e += 1; }
      }
    }
    return { hi: (sign | ((e + 1023) << 20) | fh) | 0, lo: fl | 0, flags: (rbit !== 0 || rest ? SW_PE : 0) | (up ? SW_C1 : 0) };
  }
  roundFormat(u.s, u.e, u.h, u.l, 53, -1022, mode);
  const neg = u.s !== 0;
  if (RF.e > 1023 && !RF.tiny) {
    const inf = toInfinity(mode, neg);
    return inf
      ? { hi: (sign | 0x7ff00000) | 0, lo: 0, flags: SW_OE | SW_PE | SW_C1 }
      : { hi: (sign | 0x7fefffff) | 0, lo: -1, flags: SW_OE | SW_PE };
  }
  const flags = storeFlags(cpu);
  if (RF.tiny) return { hi: (sign | RF.qh) | 0, lo: RF.ql | 0, flags }; // a carry makes it normal
  return { hi: (sign | ((RF.e + 1023) << 20) | (RF.qh & 0xfffff)) | 0, lo: RF.ql | 0, flags };
}

/** FST m32: round by `mode` to single precision with its own exponent range and denormals. */
export function storeF32(cpu: Cpu, slot: number, mode: number): StoreResult {
  const se = slotSe(cpu, slot);
  const hi = slotHi(cpu, slot);
  const sign = se & 0x8000 ? 0x80000000 : 0;
  switch (slotClass(cpu, slot)) {
    case CLS_NAN: return { lo: (sign | 0x7fc00000 | ((hi >>> 8) & 0x3fffff)) | 0, hi: 0, flags: hi & 0x40000000 ? 0 : SW_IE };
    case CLS_UNSUPPORTED: return { lo: 0xffc00000 | 0, hi: 0, flags: SW_IE };
    case CLS_INF: return { lo: (sign | 0x7f800000) | 0, hi: 0, flags: 0 };
    case CLS_ZERO: return { lo: sign | 0, hi: 0, flags: 0 };
  }
  const u = unpack(cpu, slot, U);
  roundFormat(u.s, u.e, u.h, u.l, 24, -126, mode);
  const neg = u.s !== 0;
  if (RF.e > 127 && !RF.tiny) {
    const inf = toInfinity(mode, neg);
    return { lo: (sign | (inf ? 0x7f800000 : 0x7f7fffff)) | 0, hi: 0, flags: SW_OE | SW_PE | (inf ? SW_C1 : 0) };
  }
  const flags = storeFlags(cpu);
  if (RF.tiny) return { lo: (sign | RF.ql) | 0, hi: 0, flags };
  return { lo: (sign | ((RF.e + 127) << 23) | (RF.ql & 0x7fffff)) | 0, hi: 0, flags };
}

/**
 * Rounds a finite slot to an integer by `mode`: the magnitude in RF.qh:RF.ql (or RF.qh ≥ 2^32
 * when it does not fit 64 bits), RF.inexact, RF.up. Returns the sign.
 */
function roundToInteger(cpu: Cpu, slot: number, mode: number): number {
  const u = unpack(cpu, slot, U);
  if (u.h === 0) {
    RF.qh = 0; RF.ql = 0; RF.inexact = false; RF.up = false;
  } else if (u.e >= 63) {
    RF.qh = u.e === 63 ? u.h : TWO32; RF.ql = u.l; RF.inexact = false; RF.up = false;
  } else {
    shiftInteger(u, mode);
  }
  return u.s;
}

/** RF := round(u) to an integer, u.e < 63 (u nonzero). */
function shiftInteger(u: Unpacked, mode: number): void {
  // value = (h:l) · 2^(e − 63): drop k = 63 − e ≥ 1 bits of the 64-bit significand.
  const k = 63 - u.e;
  let qh = 0;
  let ql = 0;
  let rbit = 0;
  let rest: boolean;
  if (k < 32) {
    ql = ((u.l >>> k) | (u.h << (32 - k))) >>> 0; qh = u.h >>> k;
    rbit = (u.l >>> (k - 1)) & 1; rest = k > 1 && (u.l << (33 - k)) !== 0;
  } else if (k === 32) {
    ql = u.h; rbit = u.l >>> 31; rest = (u.l & 0x7fffffff) !== 0;
  } else if (k < 64) {
    const t = k - 32;
    ql = u.h >>> t; rbit = (u.h >>> (t - 1)) & 1; rest = (t > 1 && (u.h << (33 - t)) !== 0) || u.l !== 0;
  } else if (k === 64) {
    rbit = 1; rest = (u.h & 0x7fffffff) !== 0 || u.l !== 0;
  } else {
    rest = true;
  }
  let up: boolean;
  switch (mode) {
    case RC_NEAREST: up = rbit !== 0 && (rest || (ql & 1) !== 0); break;
    case RC_UP: up = u.s === 0 && (rbit !== 0 || rest); break;
    case RC_DOWN: up = u.s !== 0 && (rbit !== 0 || rest); break;
    default: up = false;
  }
  if (up) {
    ql += 1;
    if (ql === TWO32) { ql = 0; qh += 1; }
  }
  RF.qh = qh; RF.ql = ql; RF.inexact = rbit !== 0 || rest; RF.up = up;
}

/**
 * FIST/FISTP: round by `mode` to a `bits`-bit signed integer. Out of range, NaN, infinity or an
 * unsupported encoding raise IE; the masked response is the integer indefinite (sign bit only).
 */
export function storeInt(cpu: Cpu, slot: number, bits: 16 | 32 | 64, mode: number): StoreResult {
  const indefinite: StoreResult = bits === 64 ? { lo: 0, hi: 0x80000000 | 0, flags: SW_IE } : { lo: bits === 32 ? 0x80000000 | 0 : 0x8000, hi: 0, flags: SW_IE };
  const cls = slotClass(cpu, slot);
  if (cls === CLS_NAN || cls === CLS_INF || cls === CLS_UNSUPPORTED) return indefinite;
  const neg = roundToInteger(cpu, slot, mode) !== 0;
  const { qh, ql } = RF;
  // Magnitude limit: 2^(bits−1) − 1, or 2^(bits−1) for a negative result.
  const fits = bits === 64
    ? qh < 0x80000000 || (neg && qh === 0x80000000 && ql === 0)
    : qh === 0 && (ql < 2 ** (bits - 1) || (neg && ql === 2 ** (bits - 1)));
  if (!fits) return indefinite;
  const flags = (RF.inexact ? SW_PE : 0) | (RF.up ? SW_C1 : 0);
  let lo = ql;
  let hi = qh;
  if (neg && (lo !== 0 || hi !== 0)) {
    lo = TWO32 - lo;
    hi = TWO32 - 1 - hi;
    if (lo === TWO32) { lo = 0; hi += 1; }
  }
  if (bits === 16) return { lo: lo & 0xffff, hi: 0, flags };
  return { lo: lo | 0, hi: bits === 64 ? hi | 0 : 0, flags };
}

/**
 * FBSTP: round by `mode` to an integer and encode 18 BCD digits plus sign. |value| ≥ 10^18,
 * NaN, infinity or an unsupported encoding raise IE; the masked response is the BCD indefinite
 * (FFFF C000 0000 0000 0000).
 */
export function storeBcd(cpu: Cpu, slot: number, mode: number): { bytes: number[]; flags: number } {
  const indefinite = { bytes: [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff], flags: SW_IE };
  const cls = slotClass(cpu, slot);
  if (cls === CLS_NAN || cls === CLS_INF || cls === CLS_UNSUPPORTED) return indefinite;
  const neg = roundToInteger(cpu, slot, mode) !== 0;
  if (RF.qh >= TWO32) return indefinite;
  let v = (BigInt(RF.qh) << 32n) | BigInt(RF.ql);
  if (v >= 1_000_000_000_000_000_000n) return indefinite;
  const flags = (RF.inexact ? SW_PE : 0) | (RF.up ? SW_C1 : 0);
  const bytes: number[] = [];
  for (let k = 0; k < 9; k++) {
    const lowDigit = Number(v % 10n);
    v /= 10n;
    const highDigit = Number(v % 10n);
    v /= 10n;
    bytes.push((highDigit << 4) | lowDigit);
  }
  bytes.push(neg ? 0x80 : 0);
  return { bytes, flags };
}

/** FRNDINT's core: `slot` (finite) rounded to an integer by `mode` into `dst`; returns PE|C1. */
export function roundSlotToInteger(cpu: Cpu, dst: number, slot: number, mode: number): number {
  const u = unpack(cpu, slot, U);
  if (u.h === 0 || u.e >= 63) {
    setReg(cpu, dst, slotSe(cpu, slot), slotHi(cpu, slot), slotLo(cpu, slot));
    return 0;
  }
  const sign = roundToInteger(cpu, slot, mode);
  if (RF.qh === 0 && RF.ql === 0) setReg(cpu, dst, sign << 15, 0, 0);
  else setInteger(cpu, dst, sign !== 0, RF.qh, RF.ql);
  return (RF.inexact ? SW_PE : 0) | (RF.up ? SW_C1 : 0);
}
