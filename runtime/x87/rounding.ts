/**
 * Rounding for an x87 that computes in binary64 (SDM vol. 1, 4.8.4 and 8.1.5): JS arithmetic
 * rounds to nearest-even only, so every basic operation also determines on which side of its
 * rounded result the exact value lies (`dir`: -1 below, +1 above, 0 exact). That is enough to
 * honour the control word's rounding control (RC) and precision control (PC = 24 bits) exactly,
 * to set PE, and to set C1 ("rounded up", i.e. away from zero) as the hardware does.
 *
 * How `dir` is obtained: error-free transformations (TwoSum for addition, Dekker's TwoProduct
 * for multiplication, division remainders and square-root residuals) while all magnitudes stay
 * well inside the normal range; outside it, an exact comparison on BigInt significands.
 *
 * Helpers here hold no state: SCRATCH is only a bit-casting buffer used within one call.
 */
import type { Cpu } from '../cpu.ts';
import { PC_SINGLE, RC_CHOP, RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_OE, SW_PE, SW_UE, pc, raise, rc, setCC } from './fpu.ts';

const SCRATCH = new DataView(new ArrayBuffer(8));

/** Largest finite binary64. */
export const MAX_DOUBLE = Number.MAX_VALUE;
/** Smallest normal binary64, 2^-1022. */
export const MIN_NORMAL = 2.2250738585072014e-308;

// ------------------------------------------------------------------------------- bit casts
/** High word (sign, exponent, top of the fraction) of a non-NaN number. */
export function hiWord(x: number): number {
  SCRATCH.setFloat64(0, x, true);
  return SCRATCH.getInt32(4, true);
}

/** Low word of a non-NaN number. */
export function loWord(x: number): number {
  SCRATCH.setFloat64(0, x, true);
  return SCRATCH.getInt32(0, true);
}

/** The number with the given bits; only for non-NaN patterns. */
export function fromWords(hi: number, lo: number): number {
  SCRATCH.setInt32(0, lo, true);
  SCRATCH.setInt32(4, hi, true);
  return SCRATCH.getFloat64(0, true);
}

/** float32 bits → number (callers handle NaN patterns themselves). */
export function fromFloat32Bits(bits: number): number {
  SCRATCH.setInt32(0, bits, true);
  return SCRATCH.getFloat32(0, true);
}

/** number (already representable as float32, or ±inf) → float32 bits. */
export function float32Bits(x: number): number {
  SCRATCH.setFloat32(0, x, true);
  return SCRATCH.getInt32(0, true);
}

export function isNegative(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

// ------------------------------------------------------------------------------- exponents
/** 2^n for integer n in [-1074, 1023], exactly. */
export function pow2(n: number): number {
  if (n >= -1022) return fromWords((n + 1023) << 20, 0);
  return n >= -1042 ? fromWords(1 << (n + 1042), 0) : fromWords(0, 1 << (n + 1074));
}

/** floor(log2(|x|)) for finite nonzero x, subnormals included. */
export function exponentOf(x: number): number {
  const hi = hiWord(x);
  const e = (hi >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  const fhi = hi & 0xfffff;
  // Subnormal: |x| = fraction · 2^-1074.
  if (fhi !== 0) return -1011 - Math.clz32(fhi);
  return -1043 - Math.clz32(loWord(x));
}

/** x · 2^n with a single rounding (only the last multiplication can be inexact). */
export function ldexp(x: number, n: number): number {
  if (n > 1023) {
    x *= pow2(1023);
    n -= 1023;
    if (n > 1023) {
      x *= pow2(1023);
      n = Math.min(n - 1023, 1023);
    }
  } else if (n < -1022) {
    // Step down by 2^-969 (= 2^-1022 · 2^53) so that intermediates stay normal.
    x *= pow2(-969);
    n += 969;
    if (n < -1022) {
      x *= pow2(-969);
      n = Math.max(n + 969, -1022);
    }
  }
  return x * pow2(n);
}

/** The next binary64 above x (x finite or -inf). */
export function nextUp(x: number): number {
  if (x === 0) return pow2(-1074);
  const hi = hiWord(x);
  const lo = loWord(x);
  if (x > 0) return lo === -1 ? fromWords(hi + 1, 0) : fromWords(hi, lo + 1);
  return lo === 0 ? fromWords(hi - 1, -1) : fromWords(hi, lo - 1);
}

export function nextDown(x: number): number {
  return -nextUp(-x);
}

// ------------------------------------------------------------------------------- integers
/**
 * Rounds x to an integer under rounding control `mode`, keeping the sign of zero. Exact for any
 * finite x (values of 2^52 and above are already integers).
 */
export function roundInt(x: number, mode: number): number {
  if (!(Math.abs(x) < 4503599627370496)) return x;
  const fl = Math.floor(x);
  const frac = x - fl;
  let r: number;
  switch (mode) {
    case RC_NEAREST: r = frac > 0.5 || (frac === 0.5 && fl % 2 !== 0) ? fl + 1 : fl; break;
    case RC_DOWN: r = fl; break;
    case RC_UP: r = frac > 0 ? fl + 1 : fl; break;
    default: r = x < 0 ? Math.ceil(x) : fl; break;
  }
  return r === 0 && isNegative(x) ? -0 : r;
}

/**
 * Rounds x to `p` significant bits with the quantum never below 2^minUlpExp (the denormal grid
 * of a narrower format), under rounding control `mode`. No exponent upper bound is applied;
 * the result is ±inf only if it exceeds binary64.
 */
export function roundSig(x: number, p: number, minUlpExp: number, mode: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const ulpExp = Math.max(exponentOf(x) - p + 1, minUlpExp);
  if (ulpExp <= -1074) return x; // already on the binary64 grid
  return ldexp(roundInt(ldexp(x, -ulpExp), mode), ulpExp);
}

// ------------------------------------------------------------------------------- exact error
const SPLIT = 134217729; // 2^27 + 1
const SAFE_HI = 2 ** 900;
const SAFE_LO = 2 ** -900;

function safe(x: number): boolean {
  const a = Math.abs(x);
  return a < SAFE_HI && a > SAFE_LO;
}

/** The rounding error of p = a·b (Dekker); exact while a, b, p are in the safe range. */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** Integer significand and exponent of a finite nonzero x: |x| = m · 2^e. */
export function decompose(x: number): { m: bigint; e: number } {
  const hi = hiWord(x);
  const lo = loWord(x);
  const be = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo >>> 0);
  if (be !== 0) m |= 1n << 52n;
  return { m, e: (be === 0 ? 1 : be) - 1075 };
}

/** Sign of (u·2^ue − v·2^ve) for nonnegative BigInt u, v. */
function cmpScaled(u: bigint, ue: number, v: bigint, ve: number): number {
  const k = Math.min(ue, ve);
  const a = u << BigInt(ue - k);
  const b = v << BigInt(ve - k);
  return a > b ? 1 : a < b ? -1 : 0;
}

const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** Side of s = RN(a + b) on which a + b lies. */
export function addDir(a: number, b: number, s: number): number {
  if (!Number.isFinite(s)) return 0;
  const bb = s - a;
  return sgn((a - (s - bb)) + (b - bb));
}

/** Side of p = RN(a · b) on which a · b lies (a, b finite). */
export function mulDir(a: number, b: number, p: number): number {
  if (a === 0 || b === 0 || !Number.isFinite(p)) return 0;
  if (safe(a) && safe(b) && safe(p)) return sgn(productError(a, b, p));
  const neg = (a < 0) !== (b < 0);
  const x = decompose(a);
  const y = decompose(b);
  const exact = [x.m * y.m, x.e + y.e] as const;
  if (p === 0) return neg ? -1 : 1;
  const z = decompose(p);
  const c = cmpScaled(exact[0], exact[1], z.m, z.e); // |exact| vs |p|
  return neg ? -c : c;
}

/** Side of q = RN(a / b) on which a / b lies (a, b finite, b nonzero). */
export function divDir(a: number, b: number, q: number): number {
  if (a === 0 || !Number.isFinite(q)) return 0;
  if (safe(a) && safe(b) && safe(q)) {
    const p = q * b;
    const rem = (a - p) - productError(q, b, p);
    return sgn(rem) * sgn(b);
  }
  const neg = (a < 0) !== (b < 0);
  if (q === 0) return neg ? -1 : 1;
  // |a| vs |q|·|b|: if |a| > |q·b| the exact quotient is larger in magnitude than q.
  const x = decompose(a);
  const y = decompose(b);
  const z = decompose(q);
  const c = cmpScaled(x.m, x.e, z.m * y.m, z.e + y.e);
  return neg ? -c : c;
}

/** Side of r = RN(sqrt(a)) on which sqrt(a) lies (a finite, nonnegative). */
export function sqrtDir(a: number, r: number): number {
  if (a === 0) return 0;
  if (safe(a)) {
    const p = r * r;
    return sgn((a - p) - productError(r, r, p));
  }
  const x = decompose(a);
  const z = decompose(r);
  return cmpScaled(x.m, x.e, z.m * z.m, 2 * z.e);
}

// ------------------------------------------------------------------------------- finishing
/**
 * Turns a round-to-nearest binary64 result `r` (of finite operands) with exact-value side `dir`
 * into the result the control word asks for, and records PE, OE, UE and C1 in the status word.
 * `usePc`: the instruction obeys precision control (FADD FSUB FMUL FDIV FSQRT families).
 *
 * r = ±inf means the exact result overflowed binary64. Underflow is reported when the result is
 * below 2^-1022 and inexact — a binary64 criterion, see README.md.
 */
export function finishRounding(cpu: Cpu, r: number, dir: number, usePc: boolean): number {
  const mode = rc(cpu);
  if (!Number.isFinite(r)) return overflowResult(cpu, r > 0, mode);
  let v = r;
  let side = dir; // where the exact value lies relative to v
  if (usePc && pc(cpu) === PC_SINGLE && r !== 0) {
    // Round to odd at 53 bits (keeps the sticky information), then to 24 bits.
    let odd = r;
    if (dir !== 0 && (loWord(r) & 1) === 0) odd = dir > 0 ? nextUp(r) : nextDown(r);
    v = roundSig(odd, 24, -1074, mode);
    if (v !== odd) side = v > odd ? -1 : 1;
    else side = dir;
  } else if (dir !== 0 && mode !== RC_NEAREST) {
    const down = mode === RC_DOWN || (mode === RC_CHOP && r > 0);
    const up = mode === RC_UP || (mode === RC_CHOP && r < 0);
    if (down && dir < 0) {
      v = nextDown(r);
      side = 1;
    } else if (up && dir > 0) {
      v = nextUp(r);
      side = -1;
    }
  }
  if (!Number.isFinite(v)) return overflowResult(cpu, v > 0, mode);
  if (side === 0) {
    setCC(cpu, SW_C1, 0);
    return v;
  }
  let flags = SW_PE;
  if (Math.abs(v) < MIN_NORMAL) flags |= SW_UE;
  raise(cpu, flags);
  setCC(cpu, SW_C1, (v > 0 && side < 0) || (v < 0 && side > 0) ? SW_C1 : 0);
  return v;
}

/** Masked overflow response: ±inf or ±MAX by rounding direction; OE, PE, and C1 if rounded up. */
export function overflowResult(cpu: Cpu, positive: boolean, mode: number): number {
  const toInf = mode === RC_NEAREST || (mode === RC_UP && positive) || (mode === RC_DOWN && !positive);
  raise(cpu, SW_OE | SW_PE);
  setCC(cpu, SW_C1, toInf ? SW_C1 : 0);
  const m = toInf ? Infinity : MAX_DOUBLE;
  return positive ? m : -m;
}

export { RC_CHOP, RC_DOWN, RC_NEAREST, RC_UP };
