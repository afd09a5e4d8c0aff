/**
 * Exact double-extended arithmetic (SDM vol. 1, 4.2.2, 4.8, 8.1.5): + − × ÷ on 64-bit
 * significands held as two unsigned 32-bit limbs, and the one rounding step every x87 result goes
 * through (precision control 24/53/64, the four rounding modes, the 15-bit exponent range with
 * denormals, masked and unmasked overflow/underflow, PE and the C1 "rounded up" bit).
 *
 * Working form: a finite nonzero value is (−1)^s · (h·2^32 + l) · 2^(e − 63) with bit 31 of h
 * set (normalized, whatever the register encoding was: denormals and pseudo-denormals are
 * normalized on unpacking, so e may lie below −16382). Intermediate results carry a third limb x
 * (32 more bits) and a sticky bit for anything below it: (h:l:x + sticky) · 2^(e − 95).
 *
 * Limbs are JS numbers in [0, 2^32); nothing here allocates or uses BigInt. The Unpacked
 * scratch records are only live within one call.
 */
import type { Cpu } from '../cpu.ts';
import { RC_DOWN, RC_NEAREST, RC_UP, SW_C1, SW_OE, SW_PE, SW_UE, getCw, rc, setReg, slotHi, slotLo, slotSe } from './fpu.ts';

export const TWO32 = 4294967296;
/** Exponent range of normal double-extended values (unbiased). */
export const EMIN = -16382;
export const EMAX = 16383;
export const BIAS = 16383;
/** Exponent of the last bit of the smallest denormal at 64-bit precision: 2^-16445. */
const DENORMAL_ULP = -16445;
/** The exponent adjustment of unmasked overflow/underflow results (SDM vol. 1, 8.5.4/8.5.5). */
const WRAP = 24576;

/** An unpacked finite value; zero has h = l = 0. */
export class Unpacked {
  s = 0;
  e = 0;
  h = 0;
  l = 0;
}

// ------------------------------------------------------------------------------- rounding
function roundsUp(mode: number, sign: number, rbit: number, rest: boolean, lsb: number): boolean {
  switch (mode) {
    case RC_NEAREST: return rbit !== 0 && (rest || lsb !== 0);
    case RC_UP: return sign === 0 && (rbit !== 0 || rest);
    case RC_DOWN: return sign !== 0 && (rbit !== 0 || rest);
    default: return false;
  }
}

/** The result of shiftRound. */
const SR = { h: 0, l: 0, inexact: false, up: false };

/** SR := round((h:l:x + sticky) / 2^k) for k ≥ 32 (a 64-bit result, before any carry out). */
function shiftRound(h: number, l: number, x: number, sticky: boolean, k: number, mode: number, sign: number): void {
  const s = k - 32;
  let qh = 0;
  let ql = 0;
  let rbit = 0;
  let rest: boolean;
  if (s === 0) {
    qh = h; ql = l; rbit = x >>> 31; rest = (x & 0x7fffffff) !== 0 || sticky;
  } else if (s < 32) {
    ql = ((l >>> s) | (h << (32 - s))) >>> 0; qh = h >>> s;
    rbit = (l >>> (s - 1)) & 1; rest = (s > 1 && (l << (33 - s)) !== 0) || x !== 0 || sticky;
  } else if (s === 32) {
    ql = h; rbit = l >>> 31; rest = (l & 0x7fffffff) !== 0 || x !== 0 || sticky;
  } else if (s < 64) {
    const t = s - 32;
    ql = h >>> t; rbit = (h >>> (t - 1)) & 1; rest = (t > 1 && (h << (33 - t)) !== 0) || l !== 0 || x !== 0 || sticky;
  } else if (s === 64) {
    rbit = h >>> 31; rest = (h & 0x7fffffff) !== 0 || l !== 0 || x !== 0 || sticky;
  } else {
    rest = h !== 0 || l !== 0 || x !== 0 || sticky;
  }
  const up = roundsUp(mode, sign, rbit, rest, ql & 1);
  if (up) {
    ql += 1;
    if (ql === TWO32) { ql = 0; qh += 1; }
  }
  SR.h = qh; SR.l = ql; SR.inexact = rbit !== 0 || rest; SR.up = up;
}

/** Largest finite significand (high, low) at each precision. */
function maxSig(prec: number): [number, number] {
  return prec === 64 ? [0xffffffff, 0xffffffff] : prec === 53 ? [0xffffffff, 0xfffff800] : [0xffffff00, 0];
}

/**
 * Rounds (−1)^sign · (h:l:x + sticky) · 2^(e − 95) (h bit 31 set) to `prec` bits (24, 53, 64)
 * under the control word's RC, with the double-extended exponent range, and writes it to `slot`.
 * Returns the flags it raises (PE, UE, OE) plus SW_C1 if the magnitude was rounded up; the caller
 * records them (`commit`). Unmasked overflow/underflow store the result with its exponent wrapped
 * by ∓24576 (SDM vol. 1, 8.5.4, 8.5.5); masked ones give ±∞/±max or a denormal on the grid of
 * the precision (2^-16405 at 24 bits, 2^-16434 at 53, 2^-16445 at 64). Underflow is
 * tiny-after-rounding (SDM vol. 1, 4.9.1.5: the result rounded with an unbounded exponent).
 */
export function roundToSlot(cpu: Cpu, slot: number, sign: number, e: number, h: number, l: number, x: number, sticky: boolean, prec: number): number {
  const mode = rc(cpu);
  let rh = h;
  let rl = l;
  let rbit: number;
  let rest: boolean;
  let lsb: number;
  if (prec === 64) {
    rbit = x >>> 31; rest = (x & 0x7fffffff) !== 0 || sticky; lsb = l & 1;
  } else if (prec === 53) {
    rbit = (l >>> 10) & 1; rest = (l & 0x3ff) !== 0 || x !== 0 || sticky; lsb = (l >>> 11) & 1;
    rl = (l & ~0x7ff) >>> 0;
  } else {
    rbit = (h >>> 7) & 1; rest = (h & 0x7f) !== 0 || l !== 0 || x !== 0 || sticky; lsb = (h >>> 8) & 1;
    rh = (h & ~0xff) >>> 0; rl = 0;
  }
  const inexact = rbit !== 0 || rest;
  const up = roundsUp(mode, sign, rbit, rest, lsb);
  if (up) {
    rl += prec === 64 ? 1 : prec === 53 ? 0x800 : 0;
    if (prec === 24) rh += 0x100;
    if (rl >= TWO32) { rl -= TWO32; rh += 1; }
  }
  let re = e;
  if (rh >= TWO32) { rh = 0x80000000; re += 1; }
  const cw = getCw(cpu);
  let flags = (inexact ? SW_PE : 0) | (up ? SW_C1 : 0);
  if (re > EMAX) {
    if (cw & SW_OE) {
      const toInf = mode === RC_NEAREST || (mode === RC_UP && sign === 0) || (mode === RC_DOWN && sign !== 0);
      if (toInf) setReg(cpu, slot, (sign << 15) | 0x7fff, 0x80000000 | 0, 0);
      else {
        const [mh, ml] = maxSig(prec);
        setReg(cpu, slot, (sign << 15) | 0x7ffe, mh | 0, ml | 0);
      }
      return SW_OE | SW_PE | (toInf ? SW_C1 : 0);
    }
    re -= WRAP;
    flags |= SW_OE;
    if (re > EMAX) {
      // Beyond even the wrapped range (FSCALE): ∞, inexact, rounded up (measured).
      setReg(cpu, slot, (sign << 15) | 0x7fff, 0x80000000 | 0, 0);
      return flags | SW_PE | SW_C1;
    }
  } else if (re < EMIN) {
    if (!(cw & SW_UE)) {
      re += WRAP;
      flags |= SW_UE;
      if (re < EMIN) {
        // Below even the wrapped range (FSCALE): zero, inexact (measured).
        setReg(cpu, slot, sign << 15, 0, 0);
        return (flags | SW_PE) & ~SW_C1;
      }
    } else {
      // Denormalize from the exact value. The last bit is at 2^(−16382 − prec + 1) whatever the
      // exponent: the precision control's grid continued below the normal range (measured).
      const ulp = EMIN - prec + 1;
      shiftRound(h, l, x, sticky, ulp - e + 95, mode, sign);
      let qh = SR.h;
      let ql = SR.l;
      let n = ulp - DENORMAL_ULP; // 0, 11 or 40: the last kept bit's place in the 64-bit significand
      if (n >= 32) {
        qh = ql; ql = 0; n -= 32;
      }
      if (n > 0) {
        qh = ((qh << n) | (ql >>> (32 - n))) >>> 0;
        ql = (ql << n) >>> 0;
      }
      setReg(cpu, slot, (sign << 15) | (qh >= 0x80000000 ? 1 : 0), qh | 0, ql | 0);
      return (SR.inexact ? SW_UE | SW_PE : 0) | (SR.up ? SW_C1 : 0);
    }
  }
  setReg(cpu, slot, (sign << 15) | (re + BIAS), rh | 0, rl | 0);
  return flags;
}

// ------------------------------------------------------------------------------- + −
/**
 * dst := a + (−1)^negB · b, rounded to `prec`. Both finite; either may be zero. Returns the flags
 * of roundToSlot (0 for exact results, zeros included).
 */
export function addTo(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, negB: number, prec: number): number {
  let bs = b.s ^ negB;
  const aZero = a.h === 0;
  const bZero = b.h === 0;
  if (!aZero && !bZero) {
    const fast = addFast(cpu, dst, a, b, negB, prec);
    if (fast >= 0) return fast;
  }
  if (aZero || bZero) {
    if (aZero && bZero) {
      // Exact zero sum: −0 only for −0 + −0, or opposite signs rounding down (IEEE 754 6.3).
      const s = a.s === bs ? a.s : rc(cpu) === RC_DOWN ? 1 : 0;
      setReg(cpu, dst, s << 15, 0, 0);
      return 0;
    }
    const v = aZero ? b : a;
    return roundToSlot(cpu, dst, aZero ? bs : a.s, v.e, v.h, v.l, 0, false, prec);
  }
  // Order so that |big| ≥ |small| (by exponent, then significand).
  let big = a;
  let small = b;
  let bigS = a.s;
  if (b.e > a.e || (b.e === a.e && (b.h > a.h || (b.h === a.h && b.l > a.l)))) {
    big = b; small = a; bigS = bs; bs = a.s;
  }
  const d = big.e - small.e;
  let sh = small.h;
  let sl = small.l;
  let sx = 0;
  let sticky = false;
  if (d === 0) {
    // aligned
  } else if (d < 32) {
    sx = (sl << (32 - d)) >>> 0; sl = ((sl >>> d) | (sh << (32 - d))) >>> 0; sh = sh >>> d;
  } else if (d === 32) {
    sx = sl; sl = sh; sh = 0;
  } else if (d < 64) {
    const t = d - 32;
    sticky = (sl << (32 - t)) !== 0; sx = ((sl >>> t) | (sh << (32 - t))) >>> 0; sl = sh >>> t; sh = 0;
  } else if (d === 64) {
    sticky = sl !== 0; sx = sh; sl = 0; sh = 0;
  } else if (d < 96) {
    const t = d - 64;
    sticky = sl !== 0 || (sh << (32 - t)) !== 0; sx = sh >>> t; sl = 0; sh = 0;
  } else {
    sticky = true; sx = 0; sl = 0; sh = 0;
  }
  let e = big.e;
  let h: number;
  let l: number;
  let x: number;
  if (bigS === bs) {
    x = sx;
    l = big.l + sl;
    h = big.h + sh;
    if (l >= TWO32) { l -= TWO32; h += 1; }
    if (h >= TWO32) {
      sticky = sticky || (x & 1) !== 0;
      x = ((x >>> 1) | (l << 31)) >>> 0;
      l = ((l >>> 1) | (h << 31)) >>> 0;
      h = Math.floor(h / 2);
      e += 1;
    }
  } else {
    x = -sx - (sticky ? 1 : 0);
    let borrow = 0;
    if (x < 0) { x += TWO32; borrow = 1; }
    l = big.l - sl - borrow;
    borrow = 0;
    if (l < 0) { l += TWO32; borrow = 1; }
    h = big.h - sh - borrow;
    if (h === 0 && l === 0 && x === 0) {
      setReg(cpu, dst, (rc(cpu) === RC_DOWN ? 1 : 0) << 15, 0, 0);
      return 0;
    }
    // Normalize (more than one bit only when d ≤ 1, where nothing went to sticky).
    let n: number;
    if (h !== 0) n = Math.clz32(h);
    else if (l !== 0) n = 32 + Math.clz32(l);
    else n = 64 + Math.clz32(x);
    e -= n;
    if (n >= 64) {
      h = x; l = 0; x = 0; n -= 64;
    } else if (n >= 32) {
      h = l; l = x; x = 0; n -= 32;
    }
    if (n > 0) {
      h = ((h << n) | (l >>> (32 - n))) >>> 0;
      l = ((l << n) | (x >>> (32 - n))) >>> 0;
      x = (x << n) >>> 0;
    }
  }
  return roundToSlot(cpu, dst, bigS, e, h, l, x, sticky, prec);
}

// ------------------------------------------------------------------------------- ×
/** dst := a · b rounded to `prec` (both finite and nonzero). */
export function mulTo(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, prec: number): number {
  const fast = mulFast(cpu, dst, a, b, prec);
  if (fast >= 0) return fast;
  const a0 = a.l & 0xffff, a1 = a.l >>> 16, a2 = a.h & 0xffff, a3 = a.h >>> 16;
  const b0 = b.l & 0xffff, b1 = b.l >>> 16, b2 = b.h & 0xffff, b3 = b.h >>> 16;
  // Columns of 16-bit digits; each sum stays below 2^35, carries are exact in doubles.
  let t = a0 * b0;
  const d0 = t % 65536;
  t = (t - d0) / 65536 + a0 * b1 + a1 * b0;
  const d1 = t % 65536;
  t = (t - d1) / 65536 + a0 * b2 + a1 * b1 + a2 * b0;
  const d2 = t % 65536;
  t = (t - d2) / 65536 + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const d3 = t % 65536;
  t = (t - d3) / 65536 + a1 * b3 + a2 * b2 + a3 * b1;
  const d4 = t % 65536;
  t = (t - d4) / 65536 + a2 * b3 + a3 * b2;
  const d5 = t % 65536;
  t = (t - d5) / 65536 + a3 * b3;
  const d6 = t % 65536;
  const d7 = (t - d6) / 65536;
  let h = d7 * 65536 + d6;
  let l = d5 * 65536 + d4;
  let x = d3 * 65536 + d2;
  let e = a.e + b.e + 1;
  let sticky: boolean;
  if (h < 0x80000000) {
    h = (h * 2 + (l >>> 31)) >>> 0;
    l = ((l << 1) | (x >>> 31)) >>> 0;
    x = ((x << 1) | (d1 >>> 15)) >>> 0;
    sticky = ((d1 & 0x7fff) | d0) !== 0;
    e -= 1;
  } else {
    sticky = (d1 | d0) !== 0;
  }
  return roundToSlot(cpu, dst, a.s ^ b.s, e, h, l, x, sticky, prec);
}

// ------------------------------------------------------------------------------- fast paths
/*
 * ÷ and √ of operands that are binary64 values (53-bit significands, |exponent| ≤ 400, so that
 * quotients and Dekker's splitting stay far inside binary64's range; what C
 * code working on doubles feeds the FPU): the binary64 result r of the host's correctly rounded
 * operation plus a correction c with a(b) = r + c, where c comes from an exact residual
 * (Dekker's product) divided once more. In units of the 64-bit result's last place, c is known
 * to about 2^-40; unless that leaves the rounding decision open (a fraction within 2^-30 of 0 or
 * 1/2), the 64-bit value and its rounding follow from it exactly. Otherwise the slow path runs.
 */
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
const SPLIT = 134217729; // 2^27 + 1
const GUARD = 2 ** -30;

/** The binary64 value of `u` if it has one (53-bit significand, |e| ≤ 400), else NaN. */
function toDouble(u: Unpacked): number {
  if ((u.l & 0x7ff) !== 0 || u.e > 400 || u.e < -400) return NaN;
  I32[1] = (u.s << 31) | ((u.e + 1023) << 20) | ((u.h >>> 11) & 0xfffff);
  I32[0] = (u.h << 21) | (u.l >>> 11);
  return F64[0];
}

/** 2^n for |n| ≤ 1000. */
function pow2(n: number): number {
  I32[1] = (n + 1023) << 20;
  I32[0] = 0;
  return F64[0];
}

/** The rounding error of p = a·b (Dekker; exact for operands and product well inside the range). */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * Rounds r + c (r a normal binary64, c its small correction, `exact` if c = 0 exactly) to the
 * slot; returns the flags, or −1 if the decision is too close to call. `known`: c is exact (a
 * TwoSum or TwoProduct error), so nothing is too close to call.
 */
function roundNear(cpu: Cpu, dst: number, r: number, c: number, exact: boolean, prec: number, known = false): number {
  F64[0] = r;
  const hi = I32[1];
  const lo = I32[0];
  const sign = hi >>> 31;
  const e = ((hi >>> 20) & 0x7ff) - 1023;
  let h = (0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0;
  let l = (lo << 11) >>> 0;
  if (exact) return roundToSlot(cpu, dst, sign, e, h, l, 0, false, prec);
  // The correction in units of 2^(e − 63), towards larger magnitude.
  const t = (sign ? -c : c) * pow2(63 - e);
  // t = whole + f with |f| < 1 of t's sign, both exact; then the 32 bits below the last place
  // (x) and whether anything lies below those, all in integer arithmetic.
  let whole = Math.trunc(t);
  const f = t - whole;
  if (!known) {
    const fr = f < 0 ? f + 1 : f;
    if (fr < GUARD || fr > 1 - GUARD || Math.abs(fr - 0.5) < GUARD) return -1;
  }
  const y = f * TWO32;
  let x = Math.floor(y);
  const below = y !== x;
  if (x < 0) {
    x += TWO32;
    whole -= 1;
  }
  l += whole;
  if (l < 0) { l += TWO32; h -= 1; } else if (l >= TWO32) { l -= TWO32; h += 1; }
  if (h < 0x80000000 || h >= TWO32) return -1;
  return roundToSlot(cpu, dst, sign, e, h, l, x, !known || below, prec);
}

/** a + (−1)^negB · b of binary64 operands: TwoSum gives the exact sum as s + err. */
function addFast(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, negB: number, prec: number): number {
  const x = toDouble(a);
  const y = negB ? -toDouble(b) : toDouble(b);
  if (x !== x || y !== y) return -1;
  const sum = x + y;
  if (sum === 0) return -1; // exact cancellation: the sign of zero is the slow path's business
  const bb = sum - x;
  const err = (x - (sum - bb)) + (y - bb);
  return roundNear(cpu, dst, sum, err, err === 0, prec, true);
}

/** a · b of binary64 operands: Dekker's TwoProduct gives the exact product as p + err. */
function mulFast(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, prec: number): number {
  const x = toDouble(a);
  const y = toDouble(b);
  if (x !== x || y !== y) return -1;
  const p = x * y;
  const err = productError(x, y, p);
  return roundNear(cpu, dst, p, err, err === 0, prec, true);
}

function divFast(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, prec: number): number {
  const x = toDouble(a);
  const y = toDouble(b);
  if (x !== x || y !== y) return -1;
  const q = x / y;
  const p = q * y;
  const rem = (x - p) - productError(q, y, p);
  return roundNear(cpu, dst, q, rem / y, rem === 0, prec);
}

/**
 * √ of any 64-bit significand with |e| ≤ 400: a = x + y with x its top 53 bits and y the
 * other 11 (both binary64), r = √x, and the residual a − r² = (x − r·r) + y from Dekker's
 * product. With y = 0 a zero residual means an exact root; with y ≠ 0 a zero could hide a tiny
 * one, so that case goes to the slow path.
 */
function sqrtFast(cpu: Cpu, dst: number, a: Unpacked, prec: number): number {
  if (a.e > 400 || a.e < -400) return -1;
  const low = a.l & 0x7ff;
  I32[1] = ((a.e + 1023) << 20) | ((a.h >>> 11) & 0xfffff);
  I32[0] = (a.h << 21) | (a.l >>> 11);
  const x = F64[0];
  const r = Math.sqrt(x);
  const p = r * r;
  let res = (x - p) - productError(r, r, p);
  if (low !== 0) {
    res += low * pow2(a.e - 63);
    if (res === 0) return -1;
  }
  return roundNear(cpu, dst, r, res / (2 * r), res === 0, prec);
}

// ------------------------------------------------------------------------------- ÷
/** dst := a / b rounded to `prec` (both finite and nonzero). Restoring division, 66 bits. */
export function divTo(cpu: Cpu, dst: number, a: Unpacked, b: Unpacked, prec: number): number {
  const fast = divFast(cpu, dst, a, b, prec);
  if (fast >= 0) return fast;
  const dh = b.h;
  const dl = b.l;
  let rh = a.h;
  let rl = a.l;
  let e = a.e - b.e;
  if (rh < dh || (rh === dh && rl < dl)) {
    e -= 1;
    rh = rh * 2 + (rl >>> 31);
    rl = (rl << 1) >>> 0;
  }
  // Quotient bits: 32 into qh, 32 into ql, 2 into the top of x.
  let qh = 0;
  let ql = 0;
  let qx = 0;
  for (let i = 0; i < 66; i++) {
    let bit = 0;
    if (rh > dh || (rh === dh && rl >= dl)) {
      bit = 1;
      rl -= dl;
      rh -= dh;
      if (rl < 0) { rl += TWO32; rh -= 1; }
    }
    rh = rh * 2 + (rl >>> 31);
    rl = (rl << 1) >>> 0;
    if (i < 32) qh = qh * 2 + bit;
    else if (i < 64) ql = ql * 2 + bit;
    else qx = qx * 2 + bit;
  }
  return roundToSlot(cpu, dst, a.s ^ b.s, e, qh, ql, qx * 0x40000000, rh !== 0 || rl !== 0, prec);
}

// ------------------------------------------------------------------------------- √
/** dst := √a rounded to `prec` (a finite, positive, nonzero). */
export function sqrtTo(cpu: Cpu, dst: number, a: Unpacked, prec: number): number {
  const fast = sqrtFast(cpu, dst, a, prec);
  if (fast >= 0) return fast;
  // a = m · 2^(e − 63); with e even, √a = √(m · 2^65) · 2^(e/2 − 64) and √(m·2^65) has 65 bits;
  // with e odd, √a = √(m · 2^64) · 2^((e−1)/2 − 63)... both written as N = m · 2^k, root R.
  const odd = a.e & 1;
  const k = odd ? 66 : 67; // N has 130 or 131 bits: R has 65 or 66 bits
  const m = (BigInt(a.h) << 32n) | BigInt(a.l);
  const N = m << BigInt(k);
  let r = BigInt(Math.floor(Math.sqrt(Number(N))));
  r = (r + N / r) >> 1n;
  while (r * r > N) r -= 1n;
  while ((r + 1n) * (r + 1n) <= N) r += 1n;
  const sticky = r * r !== N;
  // √a = R · 2^((e − 63 − k)/2); R has 66 bits (k = 67 ⇒ N in [2^130, 2^131)) or 65/66 bits.
  const bits = r.toString(2).length;
  const eR = (a.e - 63 - k) / 2 + bits - 1;
  const top = r << BigInt(96 - bits); // 96-bit window
  const h = Number(top >> 64n);
  const l = Number((top >> 32n) & 0xffffffffn);
  const x = Number(top & 0xffffffffn);
  return roundToSlot(cpu, dst, 0, eR, h, l, x, sticky, prec);
}

// ------------------------------------------------------------------------------- unpacking
/**
 * Unpacks a finite slot (zero, normal, denormal or pseudo-denormal) into `u`, normalizing the
 * significand. Other classes must be handled by the caller first.
 */
export function unpack(cpu: Cpu, slot: number, u: Unpacked): Unpacked {
  unpackBits(slotSe(cpu, slot), slotHi(cpu, slot) >>> 0, slotLo(cpu, slot) >>> 0, u);
  return u;
}

/** unpack for an encoding (se, hi, lo) with hi and lo as unsigned numbers. */
export function unpackBits(se: number, hi: number, lo: number, u: Unpacked): void {
  u.s = (se >>> 15) & 1;
  const exp = se & 0x7fff;
  let e = (exp === 0 ? 1 : exp) - BIAS;
  let h = hi;
  let l = lo;
  if (h < 0x80000000) {
    if (h === 0 && l === 0) {
      u.e = 0; u.h = 0; u.l = 0;
      return;
    }
    let n = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(l);
    e -= n;
    if (n >= 32) {
      h = l; l = 0; n -= 32;
    }
    if (n > 0) {
      h = ((h << n) | (l >>> (32 - n))) >>> 0;
      l = (l << n) >>> 0;
    }
  }
  u.e = e; u.h = h; u.l = l;
}

/** Writes the exact value (−1)^s · (h:l) · 2^(e − 63) (h:l nonzero, any normalization) to a slot. */
export function packExact(cpu: Cpu, slot: number, s: number, e: number, h: number, l: number): number {
  let n = h !== 0 ? Math.clz32(h) : 32 + Math.clz32(l);
  let hh = h;
  let ll = l;
  const ee = e - n;
  if (n >= 32) {
    hh = ll; ll = 0; n -= 32;
  }
  if (n > 0) {
    hh = ((hh << n) | (ll >>> (32 - n))) >>> 0;
    ll = (ll << n) >>> 0;
  }
  return roundToSlot(cpu, slot, s, ee, hh, ll, 0, false, 64);
}

/** Result of roundFormat. */
export const RF = { q: 0, qh: 0, ql: 0, e: 0, inexact: false, up: false, tiny: false };

/**
 * Rounds (−1)^sign · (h:l) · 2^(e − 63) to a narrower format (`prec` significand bits, normal
 * exponents from `emin`) under `mode`, for FST m32/m64: RF.qh:RF.ql is the significand as an
 * integer in units of the result's last bit (a denormal's fraction when RF.tiny, which a carry
 * into the hidden bit turns into the smallest normal), RF.e its exponent if normal. Tininess is
 * after rounding.
 */
export function roundFormat(sign: number, e: number, h: number, l: number, prec: number, emin: number, mode: number): void {
  shiftRound(h, l, 0, false, 96 - prec, mode, sign);
  let re = e;
  let qh = SR.h;
  let ql = SR.l;
  const carry = prec === 24 ? ql >= 2 ** 24 : qh >= 2 ** 21;
  if (carry) {
    re += 1;
    if (prec === 24) ql /= 2;
    else { ql = ((ql >>> 1) | (qh << 31)) >>> 0; qh = Math.floor(qh / 2); }
  }
  RF.tiny = re < emin;
  if (RF.tiny) {
    shiftRound(h, l, 0, false, (emin - prec + 1) - e + 95, mode, sign);
    qh = SR.h;
    ql = SR.l;
  }
  RF.qh = qh; RF.ql = ql; RF.e = re; RF.inexact = SR.inexact; RF.up = SR.up;
}
