/**
 * x87 transcendental instructions (SDM vol. 2: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
 * FYL2X, FYL2XP1), computed with the host's correctly reduced libm (Math.*) in binary64.
 *
 * Deviations (README.md): results can differ from a real x87 in the last bits (the x87 works
 * with a 64-bit significand and, for FSIN/FCOS/FPTAN, reduces the argument with a 66-bit π, so
 * it is *less* accurate for large arguments); RC is not honoured; C1 is cleared rather than
 * reporting the rounding direction; PE is set unless the result is exact by construction.
 * Architectural behaviour is kept: |x| ≥ 2^63 sets C2 and leaves ST(0) alone, the invalid
 * cases raise IE, and FPTAN pushes 1.0.
 */
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { NAN_DONE, NOT_NAN, commit, invalidResult, isDenormalClass, nanOperands, onST0 } from './arith.ts';
import type { BigFloat } from './bigfloat.ts';
import { add, atan, div, expm1, fromInt, fromUnpacked, ilog2, ln, ln1p, ln2, mul, neg, pi, roundBigFloat, scale, sinCos, sub } from './bigfloat.ts';
import { Unpacked, mulTo, unpack } from './extended.ts';
import { loadInt } from './formats.ts';
import {
  CLS_INF, CLS_ZERO, SLOT_TMP, SW_C2, SW_DE, SW_IE, SW_PE, SW_UE, SW_ZE, copySlot, isEmpty, pop, raise, setCC, setIndefinite, setReg,
  setTop, slotClass, slotSe, st, stackFault,
} from './fpu.ts';

const U = new Unpacked();
const V = new Unpacked();

/** Writes a rounded transcendental result (PE always: the hardware reports it even when exact). */
function result(cpu: Cpu, slot: number, v: BigFloat): void {
  commit(cpu, roundBigFloat(cpu, slot, v) | SW_PE);
}

function setInf(cpu: Cpu, slot: number, sign: number): void {
  setReg(cpu, slot, (sign << 15) | 0x7fff, 0x80000000 | 0, 0);
}

function setZero(cpu: Cpu, slot: number, sign: number): void {
  setReg(cpu, slot, sign << 15, 0, 0);
}

/**
 * The common frame of FSIN/FCOS/FPTAN/FSINCOS: empty and range checks, NaN and infinity.
 * `compute(x)` returns ST(0)'s replacement and, for FPTAN/FSINCOS (`pushes`), the pushed value.
 */
function trig(cpu: Cpu, pushes: boolean, compute: (x: BigFloat) => [BigFloat, BigFloat | null]): void {
  setCC(cpu, SW_C2, 0); // C2 reports only "out of range"
  const p = st(cpu, 0);
  const t = (p - 1) & 7;
  if (isEmpty(cpu, p) || (pushes && !isEmpty(cpu, t))) {
    if (stackFault(cpu, !isEmpty(cpu, p))) {
      setIndefinite(cpu, p);
      if (pushes) {
        setIndefinite(cpu, t);
        setTop(cpu, t);
      }
    }
    return;
  }
  const n = nanOperands(cpu, p, p, p);
  if (n !== NOT_NAN) {
    if (n === NAN_DONE && pushes) {
      copySlot(cpu, t, p);
      setTop(cpu, t);
    }
    return;
  }
  const cls = slotClass(cpu, p);
  if (cls === CLS_INF) {
    if (raise(cpu, SW_IE)) return;
    setIndefinite(cpu, p);
    if (pushes) {
      setIndefinite(cpu, t);
      setTop(cpu, t);
    }
    return;
  }
  const u = unpack(cpu, p, U);
  if (u.h !== 0 && u.e >= 63) {
    setCC(cpu, SW_C2, SW_C2); // operand out of range: the program must reduce it
    return;
  }
  if (isDenormalClass(cls) && raise(cpu, SW_DE)) return;
  const [a, b] = compute(fromUnpacked(u));
  // sin and tan of ±0 are ±0 (ST(0) stays), cos 0 is 1, and FPTAN pushes 1: all exact. C1
  // reports the rounding of ST(0)'s replacement (FSINCOS: the sine; measured), so it goes last.
  if (b) {
    if (cls === CLS_ZERO || b === ONE) setOne(cpu, t);
    else result(cpu, t, b);
  }
  if (cls !== CLS_ZERO) result(cpu, p, a);
  else if (a.m !== 0n) setOne(cpu, p);
  if (b) setTop(cpu, t);
}

const ONE = fromInt(1);

function setOne(cpu: Cpu, slot: number): void {
  setReg(cpu, slot, 0x3fff, 0x80000000 | 0, 0);
}

function sinOf(x: BigFloat): [BigFloat, null] {
  return [x.m === 0n ? x : sinCos(x)[0], null];
}

function cosOf(x: BigFloat): [BigFloat, null] {
  return [x.m === 0n ? ONE : sinCos(x)[1], null];
}

function tanOf(x: BigFloat): [BigFloat, BigFloat] {
  if (x.m === 0n) return [x, ONE];
  const [s, c] = sinCos(x);
  return [div(s, c), ONE];
}

function sinCosOf(x: BigFloat): [BigFloat, BigFloat] {
  return x.m === 0n ? [x, ONE] : sinCos(x);
}

/**
 * The frame of the two-operand instructions that replace ST(1) and pop (FPATAN, FYL2X,
 * FYL2XP1): empty checks, NaN propagation into ST(1), then `f(ST0, ST1)` writes ST(1) and
 * returns false if an unmasked exception suppressed the pop.
 */
function pop2(cpu: Cpu, f: (p0: number, p1: number) => boolean): void {
  const p0 = st(cpu, 0);
  const p1 = st(cpu, 1);
  if (isEmpty(cpu, p0) || isEmpty(cpu, p1)) {
    if (stackFault(cpu, false)) {
      setIndefinite(cpu, p1);
      pop(cpu);
    }
    return;
  }
  const n = nanOperands(cpu, p1, p0, p1);
  if (n !== NOT_NAN) {
    if (n === NAN_DONE) pop(cpu);
    return;
  }
  if (f(p0, p1)) pop(cpu);
}

/** π · k/4 rounded (the exact-angle results of FPATAN), with sign. */
function piQuarters(k: number, sign: number): BigFloat {
  const v = div(mul(pi(), fromInt(k)), fromInt(4));
  return sign ? neg(v) : v;
}

/** FPATAN: ST(1) := atan2(ST(1), ST(0)) (SDM vol. 2A FPATAN table), pop. */
const fpatan: Handler = (cpu) => pop2(cpu, (p0, p1) => {
  const cx = slotClass(cpu, p0);
  const cy = slotClass(cpu, p1);
  const sx = slotSe(cpu, p0) >>> 15;
  const sy = slotSe(cpu, p1) >>> 15;
  if ((isDenormalClass(cx) || isDenormalClass(cy)) && raise(cpu, SW_DE)) return false;
  if (cy === CLS_ZERO) {
    if (sx) result(cpu, p1, piQuarters(4, sy));
    else setZero(cpu, p1, sy);
    return true;
  }
  if (cy === CLS_INF) {
    result(cpu, p1, piQuarters(cx === CLS_INF ? (sx ? 3 : 1) : 2, sy));
    return true;
  }
  if (cx === CLS_INF) {
    if (sx) result(cpu, p1, piQuarters(4, sy));
    else setZero(cpu, p1, sy);
    return true;
  }
  if (cx === CLS_ZERO) {
    result(cpu, p1, piQuarters(2, sy));
    return true;
  }
  const x = fromUnpacked(unpack(cpu, p0, U));
  const y = fromUnpacked(unpack(cpu, p1, V));
  let r = atan(div(y, x));
  if (sx) r = sy ? sub(r, pi()) : add(r, pi());
  result(cpu, p1, r);
  return true;
});

/**
 * y · L for FYL2X/FYL2XP1, where L = log2(x) is given as `log` (finite, nonzero, computed only
 * when needed) or by its special value: `lz` (L = ±0, with sign), `linf` (L = ±∞, with sign).
 */
function ylog(cpu: Cpu, p1: number, special: 'zero' | 'inf' | null, lsign: number, log: () => BigFloat): boolean {
  const cy = slotClass(cpu, p1);
  const sy = slotSe(cpu, p1) >>> 15;
  if (special === 'inf') {
    if (cy === CLS_ZERO) return invalidResult(cpu, p1);
    setInf(cpu, p1, sy ^ lsign);
    return true;
  }
  if (special === 'zero') {
    if (cy === CLS_INF) return invalidResult(cpu, p1);
    setZero(cpu, p1, sy ^ lsign);
    return true;
  }
  if (cy === CLS_INF) {
    setInf(cpu, p1, sy ^ lsign);
    return true;
  }
  if (cy === CLS_ZERO) {
    setZero(cpu, p1, sy ^ lsign);
    return true;
  }
  result(cpu, p1, mul(fromUnpacked(unpack(cpu, p1, V)), log()));
  return true;
}

const LOG2E = (): BigFloat => div(fromInt(1), ln2());

/** FYL2X: ST(1) := ST(1) · log2(ST(0)), pop. */
const fyl2x: Handler = (cpu) => pop2(cpu, (p0, p1) => {
  const cx = slotClass(cpu, p0);
  const cy = slotClass(cpu, p1);
  const sx = slotSe(cpu, p0) >>> 15;
  if (sx && cx !== CLS_ZERO) return invalidResult(cpu, p1); // log of a negative number
  if (cx === CLS_ZERO) {
    // log2(±0) = −∞: ZE for a finite nonzero y, which hides a denormal y (measured).
    if (cy === CLS_ZERO) return invalidResult(cpu, p1);
    if (cy !== CLS_INF && raise(cpu, SW_ZE)) return false;
    return ylog(cpu, p1, 'inf', 1, () => fromInt(0));
  }
  if ((isDenormalClass(cx) || isDenormalClass(cy)) && raise(cpu, SW_DE)) return false;
  if (cx === CLS_INF) return ylog(cpu, p1, 'inf', 0, () => fromInt(0));
  const x = unpack(cpu, p0, U);
  if (x.h === 0x80000000 && x.l === 0) {
    // A power of two: log2 x is the integer x.e, and the product is rounded once, exactly.
    if (x.e === 0) return ylog(cpu, p1, 'zero', 0, () => ONE); // log2 1 = +0
    const y = slotClass(cpu, p1);
    if (y === CLS_INF || y === CLS_ZERO) return ylog(cpu, p1, null, x.e < 0 ? 1 : 0, () => ONE);
    loadInt(cpu, SLOT_TMP, x.e);
    // PE even so, and a tiny result counts as inexact for UE (measured).
    const flags = mulTo(cpu, p1, unpack(cpu, p1, V), unpack(cpu, SLOT_TMP, U), 64) | SW_PE;
    commit(cpu, flags | ((slotSe(cpu, p1) & 0x7fff) === 0 && slotClass(cpu, p1) !== CLS_ZERO ? SW_UE : 0));
    return true;
  }
  const lx = fromUnpacked(x);
  return ylog(cpu, p1, null, x.e < 0 ? 1 : 0, () => mul(ln(lx), LOG2E()));
});

/** FYL2XP1: ST(1) := ST(1) · log2(ST(0) + 1), pop (|ST(0)| < 1 − √2/2). */
const fyl2xp1: Handler = (cpu) => pop2(cpu, (p0, p1) => {
  const cx = slotClass(cpu, p0);
  const cy = slotClass(cpu, p1);
  const sx = slotSe(cpu, p0) >>> 15;
  if ((isDenormalClass(cx) || isDenormalClass(cy)) && raise(cpu, SW_DE)) return false;
  if (cx === CLS_ZERO) return ylog(cpu, p1, 'zero', sx, () => fromInt(0));
  if (cx === CLS_INF) {
    if (sx) return invalidResult(cpu, p1);
    return ylog(cpu, p1, 'inf', 0, () => fromInt(0));
  }
  const x = fromUnpacked(unpack(cpu, p0, U));
  if (ilog2(x) >= 0 && sx) return invalidResult(cpu, p1); // x ≤ −1: 1 + x ≤ 0, no logarithm
  return ylog(cpu, p1, null, sx, () => mul(ilog2(x) >= -1 ? ln(add(x, fromInt(1))) : ln1p(x), LOG2E()));
});

/** F2XM1: 2^x − 1 (defined for −1 ≤ x ≤ 1; computed for any finite x). */
const f2xm1: Handler = (cpu) => onST0(cpu, (p) => {
  if (nanOperands(cpu, p, p, p) !== NOT_NAN) return;
  const cls = slotClass(cpu, p);
  const sign = slotSe(cpu, p) >>> 15;
  if (cls === CLS_ZERO) return; // ±0: exact
  if (cls === CLS_INF) {
    if (sign) setReg(cpu, p, 0xbfff, 0x80000000 | 0, 0); // −1
    return;
  }
  if (isDenormalClass(cls) && raise(cpu, SW_DE)) return;
  const u = unpack(cpu, p, U);
  if (u.h === 0x80000000 && u.l === 0 && u.e === 0) {
    // ±1: 1 or −0.5 exactly, PE all the same (measured).
    if (sign) setReg(cpu, p, 0xbffe, 0x80000000 | 0, 0);
    else setOne(cpu, p);
    raise(cpu, SW_PE);
    return;
  }
  const x = fromUnpacked(u);
  if (ilog2(x) >= 1) {
    // Outside the domain (undefined): 2^x − 1 by squaring e^(x ln 2 / 2^k).
    const k = ilog2(x) + 1;
    let v = add(expm1(scale(mul(x, ln2()), -k)), fromInt(1));
    for (let i = 0; i < k && ilog2(v) < 20000; i++) v = mul(v, v);
    result(cpu, p, sub(v, fromInt(1)));
    return;
  }
  // PE even for the exact results at ±1 (measured).
  result(cpu, p, expm1(mul(x, ln2())));
});

/** Handlers of the transcendental rows. */
export const TRANSCENDENTAL_HANDLERS: Readonly<Record<string, Handler>> = {
  fsin: (cpu) => trig(cpu, false, sinOf),
  fcos: (cpu) => trig(cpu, false, cosOf),
  fptan: (cpu) => trig(cpu, true, tanOf),
  fsincos: (cpu) => trig(cpu, true, sinCosOf),
  fpatan,
  f2xm1,
  fyl2x,
  fyl2xp1,
};
