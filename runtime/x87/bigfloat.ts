/**
 * A small arbitrary-precision binary float on BigInt for the x87 transcendental instructions:
 * value = m · 2^e with |m| kept near P = 256 bits (truncating), enough that rounding the result
 * to a 64-bit significand is correct except in cases closer to a rounding boundary than 2^-180
 * relative. Also the constants π and ln 2 to that precision (computed once, on first use).
 *
 * Transcendentals are rare in guest code, so clarity wins over speed here; + − × ÷ √ of the
 * FPU itself never come here (extended.ts).
 */
import type { Cpu } from '../cpu.ts';
import { roundToSlot } from './extended.ts';
import type { Unpacked } from './extended.ts';

/** Significant bits kept. */
export const P = 256;

export interface BigFloat {
  readonly m: bigint;
  readonly e: number;
}

export function bitLength(m: bigint): number {
  return m === 0n ? 0 : (m < 0n ? -m : m).toString(2).length;
}

/**
 * m · 2^e with the magnitude rounded to odd at P significant bits: truncated, and the last bit
 * set if anything nonzero was dropped. The approximation then never lands on a value of fewer
 * bits unless the exact value is one, so the final rounding to 64 bits sees on which side of a
 * representable number (or midpoint) the exact value lies.
 */
export function bf(m: bigint, e: number): BigFloat {
  const n = bitLength(m) - P;
  if (n <= 0) return { m, e };
  const neg = m < 0n;
  const mag = neg ? -m : m;
  let q = mag >> BigInt(n);
  if ((mag & ((1n << BigInt(n)) - 1n)) !== 0n) q |= 1n;
  return { m: neg ? -q : q, e: e + n };
}

export const ZERO: BigFloat = { m: 0n, e: 0 };

export function fromInt(n: number | bigint): BigFloat {
  return bf(BigInt(n), 0);
}

/** The exact value of an unpacked finite value. */
export function fromUnpacked(u: Unpacked): BigFloat {
  const m = (BigInt(u.h) << 32n) | BigInt(u.l);
  return bf(u.s ? -m : m, u.e - 63);
}

export function neg(a: BigFloat): BigFloat {
  return { m: -a.m, e: a.e };
}

export function mul(a: BigFloat, b: BigFloat): BigFloat {
  return bf(a.m * b.m, a.e + b.e);
}

export function div(a: BigFloat, b: BigFloat): BigFloat {
  const sh = P + 2 + bitLength(b.m) - bitLength(a.m);
  return bf((a.m << BigInt(Math.max(sh, 0))) / b.m, a.e - Math.max(sh, 0) - b.e);
}

export function add(a: BigFloat, b: BigFloat): BigFloat {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  // A term more than P + 8 bits below the other only tells on which side of it the sum lies.
  const ta = a.e + bitLength(a.m);
  const tb = b.e + bitLength(b.m);
  if (ta - tb > P + 8) return nudge(a, b.m);
  if (tb - ta > P + 8) return nudge(b, a.m);
  const e = Math.min(a.e, b.e);
  return bf((a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e);
}

/** a plus a tiny amount of the sign of `towards`. */
function nudge(a: BigFloat, towards: bigint): BigFloat {
  const sh = Math.max(2, P + 4 - bitLength(a.m));
  return bf((a.m << BigInt(sh)) + (towards > 0n ? 1n : -1n), a.e - sh);
}

export function sub(a: BigFloat, b: BigFloat): BigFloat {
  return add(a, neg(b));
}

/** a · 2^n. */
export function scale(a: BigFloat, n: number): BigFloat {
  return { m: a.m, e: a.e + n };
}

/** Exponent of the leading bit (floor(log2|a|)); -Infinity for zero. */
export function ilog2(a: BigFloat): number {
  return a.m === 0n ? -Infinity : a.e + bitLength(a.m) - 1;
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** √a for a ≥ 0. */
export function sqrt(a: BigFloat): BigFloat {
  if (a.m === 0n) return ZERO;
  let sh = 2 * P + 4 - bitLength(a.m);
  if ((a.e - sh) & 1) sh += 1;
  return bf(isqrt(a.m << BigInt(sh)), (a.e - sh) / 2);
}

/** Nearest integer (ties away from zero), as a BigInt. */
export function roundToBigInt(a: BigFloat): bigint {
  if (a.e >= 0) return a.m << BigInt(a.e);
  const half = 1n << BigInt(-a.e - 1);
  return a.m >= 0n ? (a.m + half) >> BigInt(-a.e) : -((-a.m + half) >> BigInt(-a.e));
}

// ------------------------------------------------------------------------------- series
/** Σ (−1)^k x^(2k+1)/(2k+1) for |x| ≤ 1/2: atan(x) (alternate) or atanh(x) (not). */
function atanSeries(x: BigFloat, alternate: boolean): BigFloat {
  const x2 = mul(x, x);
  let power = x;
  let sum = x;
  const stop = ilog2(x) - P - 4;
  for (let k = 1; ; k++) {
    power = mul(power, x2);
    const term = div(power, fromInt(2 * k + 1));
    if (term.m === 0n || ilog2(term) < stop) break;
    sum = alternate && k & 1 ? sub(sum, term) : add(sum, term);
  }
  return sum;
}

let piCache: BigFloat | undefined;
let ln2Cache: BigFloat | undefined;

/** π (Machin: 16 atan(1/5) − 4 atan(1/239)). */
export function pi(): BigFloat {
  piCache ??= sub(scale(atanSeries(div(fromInt(1), fromInt(5)), true), 4), scale(atanSeries(div(fromInt(1), fromInt(239)), true), 2));
  return piCache;
}

/** ln 2 = 2 atanh(1/3). */
export function ln2(): BigFloat {
  ln2Cache ??= scale(atanSeries(div(fromInt(1), fromInt(3)), false), 1);
  return ln2Cache;
}

/** ln x for x > 0. */
export function ln(x: BigFloat): BigFloat {
  // x = m · 2^k with m in [1/√2, √2): ln x = k ln 2 + 2 atanh((m − 1)/(m + 1)).
  let k = ilog2(x);
  let m = scale(x, -k);
  if (ilog2(sub(mul(m, m), fromInt(2))) >= 0) {
    k += 1;
    m = scale(m, -1);
  }
  const one = fromInt(1);
  const t = atanSeries(div(sub(m, one), add(m, one)), false);
  return add(mul(fromInt(k), ln2()), scale(t, 1));
}

/** ln(1 + x) for |x| < 1/2 (no cancellation for tiny x). */
export function ln1p(x: BigFloat): BigFloat {
  return scale(atanSeries(div(x, add(fromInt(2), x)), false), 1);
}

/** e^x − 1 for |x| ≤ 1. */
export function expm1(x: BigFloat): BigFloat {
  let term = x;
  let sum = x;
  const stop = ilog2(x) - P - 4;
  for (let k = 2; ; k++) {
    term = div(mul(term, x), fromInt(k));
    if (term.m === 0n || ilog2(term) < stop) break;
    sum = add(sum, term);
  }
  return sum;
}

/** atan x for any finite x. */
export function atan(x: BigFloat): BigFloat {
  if (x.m === 0n) return ZERO;
  const one = fromInt(1);
  if (ilog2(x) >= 0) {
    if (sub(x.m > 0n ? x : neg(x), one).m === 0n) return scale(x.m > 0n ? pi() : neg(pi()), -2); // ±π/4
    // |x| > 1: atan x = ±π/2 − atan(1/x).
    const r = atan(div(one, x));
    return sub(scale(x.m > 0n ? pi() : neg(pi()), -1), r);
  }
  // Halve the argument twice: atan x = 2 atan(x / (1 + √(1 + x²))).
  let y = x;
  for (let i = 0; i < 2; i++) y = div(y, add(one, sqrt(add(one, mul(y, y)))));
  return scale(atanSeries(y, true), 2);
}

/** sin r and cos r for |r| ≤ π/4 (Taylor series). */
export function sinCosSmall(r: BigFloat): [BigFloat, BigFloat] {
  const r2 = mul(r, r);
  let s = r;
  let c = fromInt(1);
  let ts = r;
  let tc = fromInt(1);
  const stopS = ilog2(r) - P - 4;
  for (let k = 1; ; k++) {
    ts = div(mul(ts, r2), fromInt((2 * k) * (2 * k + 1)));
    tc = div(mul(tc, r2), fromInt((2 * k - 1) * (2 * k)));
    const small = (ts.m === 0n || ilog2(ts) < stopS) && (tc.m === 0n || ilog2(tc) < -P - 4);
    if (k & 1) {
      s = sub(s, ts);
      c = sub(c, tc);
    } else {
      s = add(s, ts);
      c = add(c, tc);
    }
    if (small) break;
  }
  return [s, c];
}

let pi66Cache: BigFloat | undefined;

/** π rounded to 66 significant bits: the processor's own approximation (SDM vol. 1, 8.3.10). */
export function pi66(): BigFloat {
  if (!pi66Cache) {
    const p = pi();
    const sh = bitLength(p.m) - 66;
    pi66Cache = { m: (p.m + (1n << BigInt(sh - 1))) >> BigInt(sh), e: p.e + sh };
  }
  return pi66Cache;
}

/**
 * sin x and cos x for finite |x| < 2^64, x reduced modulo π/2 with the 66-bit π as the
 * processor does (SDM vol. 1, 8.3.10: results for arguments far from zero or near multiples of
 * π/2 are accurate only relative to that π; measured: the AMD host agrees to the last bit in
 * ~98 % of random arguments and is one unit off otherwise), then computed to P bits.
 */
export function sinCos(x: BigFloat): [BigFloat, BigFloat] {
  const halfPi = scale(pi66(), -1);
  const k = roundToBigInt(div(x, halfPi));
  const r = sub(x, mul(bf(k, 0), halfPi));
  const [s, c] = sinCosSmall(r);
  switch (Number(((k % 4n) + 4n) % 4n)) {
    case 0: return [s, c];
    case 1: return [c, neg(s)];
    case 2: return [neg(s), neg(c)];
    default: return [neg(c), s];
  }
}

/**
 * Rounds a nonzero approximation to the slot as an inexact value (the true results of the
 * transcendentals here are irrational): PE, and UE/OE/C1 as the rounding finds them.
 */
export function roundBigFloat(cpu: Cpu, slot: number, a: BigFloat): number {
  const mag = a.m < 0n ? -a.m : a.m;
  const len = bitLength(mag);
  const sh = len - 96;
  const top = sh >= 0 ? mag >> BigInt(sh) : mag << BigInt(-sh);
  const h = Number(top >> 64n);
  const l = Number((top >> 32n) & 0xffffffffn);
  const x = Number(top & 0xffffffffn);
  return roundToSlot(cpu, slot, a.m < 0n ? 1 : 0, a.e + len - 1, h, l, x, true, 64);
}
