/**
 * Conversions between the x87 memory formats and our binary64 registers (SDM vol. 1, 4.2 and
 * 8.2): single, double and double-extended reals, 16/32/64-bit integers and 18-digit packed
 * BCD. Loads write a slot (fpu.ts) so NaN payloads travel as bits; stores return the bits to
 * write plus the exception flags they raise, and the caller commits the flags only after the
 * memory write succeeded (a page fault must leave the FPU untouched).
 *
 * Exactness: every binary64 value, infinity, NaN and zero survives m80 store → load bit for bit;
 * wider values (64-bit significands, exponents beyond binary64, 64-bit integers, 18-digit BCD)
 * are rounded to binary64 by the rounding control. Unsupported 80-bit encodings (unnormals,
 * pseudo-infinities, pseudo-NaNs) load as the QNaN indefinite. See README.md.
 */
import type { Cpu } from '../cpu.ts';
import {
  INDEFINITE_HI, RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_IE, SW_OE, SW_PE, SW_UE, bitsAreNaN, setSlot, setSlotBits, slotHi,
  slotLo, slotVal, unmasked,
} from './fpu.ts';
import { MAX_DOUBLE, exponentOf, fromFloat32Bits, float32Bits, isNegative, ldexp, roundInt, roundSig } from './rounding.ts';

/** Bits to store and the flags (SW_IE/OE/UE/PE, plus SW_C1 for "rounded up") the store raises. */
export interface StoreResult {
  lo: number;
  hi: number;
  flags: number;
}

// ------------------------------------------------------------------------------- BigInt → binary64
/** Rounds ±m · 2^k (m a nonnegative BigInt) to binary64 under rounding control `mode`. */
export function bigToDouble(neg: boolean, m: bigint, k: number, mode: number): number {
  if (m === 0n) return neg ? -0 : 0;
  const len = m.toString(2).length;
  const q = Math.max(len - 1 + k - 52, -1074); // exponent of the result's last bit
  let t: bigint;
  if (q <= k) {
    t = m << BigInt(k - q);
  } else {
    const sh = BigInt(q - k);
    t = m >> sh;
    const rem = m & ((1n << sh) - 1n);
    const half = 1n << (sh - 1n);
    if (mode === RC_NEAREST) {
      if (rem > half || (rem === half && (t & 1n) === 1n)) t += 1n;
    } else if (rem !== 0n && ((mode === RC_UP && !neg) || (mode === RC_DOWN && neg))) {
      t += 1n;
    }
  }
  let v = ldexp(Number(t), q);
  if (!Number.isFinite(v) && mode !== RC_NEAREST && !((mode === RC_UP && !neg) || (mode === RC_DOWN && neg))) v = MAX_DOUBLE;
  return neg ? -v : v;
}

// ------------------------------------------------------------------------------- loads
/** Loads float32 bits into a slot. Returns true if the operand is a single-precision denormal. */
export function loadF32(cpu: Cpu, slot: number, bits: number): boolean {
  const e = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (e === 0xff && frac !== 0) {
    setSlotBits(cpu, slot, (bits & 0x80000000) | 0x7ff00000 | (frac >>> 3), (frac & 7) << 29);
    return false;
  }
  setSlot(cpu, slot, fromFloat32Bits(bits));
  return e === 0 && frac !== 0;
}

/** Loads binary64 bits into a slot. Returns true if the operand is a double-precision denormal. */
export function loadF64(cpu: Cpu, slot: number, lo: number, hi: number): boolean {
  setSlotBits(cpu, slot, hi, lo);
  return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0;
}

/**
 * Loads an 80-bit real (significand words `mlo`, `mhi`, sign+exponent `se`) into a slot,
 * rounding finite values to binary64 by `mode`.
 */
export function loadF80(cpu: Cpu, slot: number, mlo: number, mhi: number, se: number, mode: number): void {
  const neg = (se & 0x8000) !== 0;
  const exp = se & 0x7fff;
  const j = (mhi & 0x80000000) !== 0;
  if (exp === 0x7fff || (exp !== 0 && !j)) {
    if (!j) {
      setSlotBits(cpu, slot, INDEFINITE_HI, 0); // pseudo-infinity, pseudo-NaN, unnormal
      return;
    }
    const sign = neg ? 0x80000000 : 0;
    if ((mhi & 0x7fffffff) === 0 && mlo === 0) {
      setSlotBits(cpu, slot, sign | 0x7ff00000, 0);
      return;
    }
    // NaN: keep the top 52 fraction bits (quiet bit first); keep it a NaN if only low bits were set.
    const fhi = (mhi >>> 11) & 0xfffff;
    let flo = ((mhi & 0x7ff) << 21) | (mlo >>> 11);
    if (fhi === 0 && flo === 0) flo = 1;
    setSlotBits(cpu, slot, sign | 0x7ff00000 | fhi, flo);
    return;
  }
  const m = (BigInt(mhi >>> 0) << 32n) | BigInt(mlo >>> 0);
  setSlot(cpu, slot, bigToDouble(neg, m, Math.max(exp, 1) - 16383 - 63, mode));
}

/** Loads a 16- or 32-bit integer (already sign-extended to a JS integer). */
export function loadInt(cpu: Cpu, slot: number, v: number): void {
  setSlot(cpu, slot, v);
}

/** Loads a 64-bit integer from its two words, rounded to binary64 by `mode`. */
export function loadI64(cpu: Cpu, slot: number, lo: number, hi: number, mode: number): void {
  const v = (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
  setSlot(cpu, slot, v < 0n ? bigToDouble(true, -v, 0, mode) : bigToDouble(false, v, 0, mode));
}

/**
 * Loads 18-digit packed BCD (bytes 0..8, low digit in the low nibble; byte 9 bit 7 the sign).
 * Nibbles above 9 have undefined results on hardware; we weigh them as their binary value.
 */
export function loadBcd(cpu: Cpu, slot: number, bytes: readonly number[], mode: number): void {
  let v = 0n;
  for (let k = 8; k >= 0; k--) v = v * 100n + BigInt((bytes[k] >> 4) * 10 + (bytes[k] & 15));
  setSlot(cpu, slot, bigToDouble((bytes[9] & 0x80) !== 0, v, 0, mode));
}

// ------------------------------------------------------------------------------- stores
/** The 80-bit image of a slot: significand words and sign+exponent. Exact for every value. */
export function storeF80(cpu: Cpu, slot: number): { mlo: number; mhi: number; se: number } {
  const hi = slotHi(cpu, slot);
  const lo = slotLo(cpu, slot);
  const sign = (hi >>> 16) & 0x8000;
  const e = (hi >>> 20) & 0x7ff;
  if (e === 0x7ff) return { mlo: lo << 11, mhi: (0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) | 0, se: sign | 0x7fff };
  if (e === 0) {
    if (((hi & 0xfffff) | lo) === 0) return { mlo: 0, mhi: 0, se: sign };
    // A binary64 subnormal is a normal extended value: shift its fraction up to bit 63.
    const x = Math.abs(slotVal(cpu, slot));
    const ex = exponentOf(x);
    const m = ((BigInt(hi & 0xfffff) << 32n) | BigInt(lo >>> 0)) << BigInt(63 - (ex + 1074));
    return { mlo: Number(m & 0xffffffffn) | 0, mhi: Number(m >> 32n) | 0, se: sign | (ex + 16383) };
  }
  return { mlo: lo << 11, mhi: (0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) | 0, se: sign | (e - 1023 + 16383) };
}

/** FST m64: the bits (SNaN quieted with IE; unmasked UE for a tiny nonzero value). */
export function storeF64(cpu: Cpu, slot: number): StoreResult {
  const hi = slotHi(cpu, slot);
  const lo = slotLo(cpu, slot);
  if (bitsAreNaN(hi, lo)) return { hi: hi | 0x80000, lo, flags: hi & 0x80000 ? 0 : SW_IE };
  // Our registers hold binary64 already, so the store is exact; a subnormal is still "tiny",
  // which matters only when UE is unmasked (then the store is suppressed).
  const tiny = (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0;
  return { hi, lo, flags: tiny && unmasked(cpu, SW_UE) ? SW_UE : 0 };
}

const MAX_F32 = 3.4028234663852886e38;
const MIN_NORMAL_F32 = 2 ** -126;

/** FST m32: round by `mode` to single precision with its own exponent range and denormals. */
export function storeF32(cpu: Cpu, slot: number, mode: number): StoreResult {
  const hi = slotHi(cpu, slot);
  const lo = slotLo(cpu, slot);
  if (bitsAreNaN(hi, lo)) {
    const frac = ((hi & 0xfffff) << 3) | (lo >>> 29) | 0x400000;
    return { lo: (hi & 0x80000000) | 0x7f800000 | frac, hi: 0, flags: hi & 0x80000 ? 0 : SW_IE };
  }
  const x = slotVal(cpu, slot);
  if (x === 0 || !Number.isFinite(x)) return { lo: float32Bits(x), hi: 0, flags: 0 };
  const y = roundSig(x, 24, -149, mode);
  let flags = y !== x ? SW_PE : 0;
  if (Math.abs(y) > MAX_F32) {
    const pos = x > 0;
    const toInf = mode === RC_NEAREST || (mode === RC_UP && pos) || (mode === RC_DOWN && !pos);
    const m = toInf ? Infinity : MAX_F32;
    return { lo: float32Bits(pos ? m : -m), hi: 0, flags: SW_OE | SW_PE | (toInf ? SW_C1 : 0) };
  }
  // Tininess after rounding (as measured on hardware): the result rounded with an unbounded exponent.
  const unbounded = roundSig(x, 24, -1074, mode);
  if (Math.abs(unbounded) < MIN_NORMAL_F32 && (flags || unmasked(cpu, SW_UE))) flags |= SW_UE;
  if (flags & SW_PE && Math.abs(y) > Math.abs(x)) flags |= SW_C1;
  return { lo: float32Bits(y), hi: 0, flags };
}

/**
 * FIST/FISTP: round by `mode` to a `bits`-bit signed integer. Out of range, NaN or infinity
 * raise IE; the masked response is the integer indefinite (only the sign bit set).
 */
export function storeInt(cpu: Cpu, slot: number, bits: 16 | 32 | 64, mode: number): StoreResult {
  const hi = slotHi(cpu, slot);
  const lo = slotLo(cpu, slot);
  const indefinite: StoreResult = bits === 64 ? { lo: 0, hi: 0x80000000 | 0, flags: SW_IE } : { lo: bits === 32 ? 0x80000000 | 0 : 0x8000, hi: 0, flags: SW_IE };
  if (bitsAreNaN(hi, lo)) return indefinite;
  const x = slotVal(cpu, slot);
  if (!Number.isFinite(x)) return indefinite;
  const r = roundInt(x, mode);
  const limit = 2 ** (bits - 1);
  if (r >= limit || r < -limit) return indefinite;
  let flags = r !== x ? SW_PE : 0;
  if (flags && Math.abs(r) > Math.abs(x)) flags |= SW_C1;
  if (bits === 64) {
    const v = BigInt.asUintN(64, BigInt(r));
    return { lo: Number(v & 0xffffffffn) | 0, hi: Number(v >> 32n) | 0, flags };
  }
  return { lo: bits === 32 ? r | 0 : r & 0xffff, hi: 0, flags };
}

/**
 * FBSTP: round by `mode` to an integer and encode 18 BCD digits plus sign. |value| ≥ 10^18,
 * NaN or infinity raise IE; the masked response is the BCD indefinite (FFFF C000 0000 0000 0000).
 */
export function storeBcd(cpu: Cpu, slot: number, mode: number): { bytes: number[]; flags: number } {
  const indefinite = { bytes: [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff], flags: SW_IE };
  if (bitsAreNaN(slotHi(cpu, slot), slotLo(cpu, slot))) return indefinite;
  const x = slotVal(cpu, slot);
  if (!Number.isFinite(x)) return indefinite;
  const r = roundInt(x, mode);
  if (Math.abs(r) >= 1e18) return indefinite;
  let flags = r !== x ? SW_PE : 0;
  if (flags && Math.abs(r) > Math.abs(x)) flags |= SW_C1;
  let v = BigInt(Math.abs(r));
  const bytes: number[] = [];
  for (let k = 0; k < 9; k++) {
    const lowDigit = Number(v % 10n);
    v /= 10n;
    const highDigit = Number(v % 10n);
    v /= 10n;
    bytes.push((highDigit << 4) | lowDigit);
  }
  bytes.push(isNegative(r) ? 0x80 : 0);
  return { bytes, flags };
}
