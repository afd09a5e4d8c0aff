/**
 * x87 exponent and remainder instructions (SDM vol. 2: FSCALE, FXTRACT, FPREM, FPREM1).
 *
 * FPREM/FPREM1 compute exactly on BigInt significands. When the exponent difference D is 64 or
 * more they only reduce partially (C2 = 1), by ST(1)·2^(D−N) with an implementation-specific N
 * in 32..63; we use N = 32 + (D mod 32), which reproduces the processor this project measured
 * (see README.md), and clear C0, C1, C3 as it does.
 */
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { NAN_DONE, NOT_NAN, nanOperands } from './arith.ts';
import { bigToDouble } from './formats.ts';
import {
  RC_NEAREST, SW_C0, SW_C1, SW_C2, SW_C3, SW_IE, SW_ZE, copySlot, isEmpty, raise, setC1, setCC, setIndefinite, setSlot,
  setTop, slotIsNaN, slotVal, st, stackFault,
} from './fpu.ts';
import { decompose, exponentOf, finishRounding, isNegative, ldexp } from './rounding.ts';

/** Runs `f(ST0, ST1)` after the empty checks; a masked underflow leaves ST(0) indefinite. */
function onST0ST1(cpu: Cpu, f: (p0: number, p1: number) => void): void {
  const p0 = st(cpu, 0);
  const p1 = st(cpu, 1);
  if (isEmpty(cpu, p0) || isEmpty(cpu, p1)) {
    if (stackFault(cpu, false)) setIndefinite(cpu, p0);
    return;
  }
  f(p0, p1);
}

function invalid(cpu: Cpu, dst: number): void {
  if (raise(cpu, SW_IE)) return;
  setIndefinite(cpu, dst);
  setC1(cpu, false);
}

const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** FSCALE: ST(0) := ST(0) · 2^trunc(ST(1)). */
const fscale: Handler = (cpu) => onST0ST1(cpu, (p0, p1) => {
  if (nanOperands(cpu, p0, p0, p1) !== NOT_NAN) return;
  const a = slotVal(cpu, p0);
  const b = slotVal(cpu, p1);
  if (!Number.isFinite(b)) {
    // 0·2^+∞ and ∞·2^−∞ are invalid; otherwise the result is ±∞ or ±0.
    if (b > 0 ? a === 0 : !Number.isFinite(a)) return invalid(cpu, p0);
    setSlot(cpu, p0, b > 0 ? a * Infinity : isNegative(a) ? -0 : 0);
    setC1(cpu, false);
    return;
  }
  if (a === 0 || !Number.isFinite(a)) {
    setC1(cpu, false);
    return;
  }
  const n = Math.max(-100000, Math.min(100000, Math.trunc(b)));
  const r = ldexp(a, n);
  const dir = Number.isFinite(r) ? sgn(a - ldexp(r, -n)) : 0;
  setSlot(cpu, p0, finishRounding(cpu, r, dir, false));
});

/** FXTRACT: ST(0) := exponent, then push the significand (so ST(1) = exponent). */
const fxtract: Handler = (cpu) => {
  const p0 = st(cpu, 0);
  const t = (p0 - 1) & 7;
  if (isEmpty(cpu, p0) || !isEmpty(cpu, t)) {
    // Underflow or overflow: the masked response makes both results the QNaN indefinite.
    if (stackFault(cpu, !isEmpty(cpu, p0))) {
      setIndefinite(cpu, p0);
      setIndefinite(cpu, t);
      setTop(cpu, t);
    }
    return;
  }
  if (slotIsNaN(cpu, p0)) {
    // Both results are the (quieted) NaN.
    if (nanOperands(cpu, p0, p0, p0) === NAN_DONE) {
      copySlot(cpu, t, p0);
      setTop(cpu, t);
    }
    return;
  }
  const x = slotVal(cpu, p0);
  if (x === 0) {
    if (raise(cpu, SW_ZE)) return;
    setSlot(cpu, t, x);
    setSlot(cpu, p0, -Infinity);
  } else if (!Number.isFinite(x)) {
    setSlot(cpu, t, x);
    setSlot(cpu, p0, Infinity);
  } else {
    const e = exponentOf(x);
    setSlot(cpu, t, ldexp(x, -e));
    setSlot(cpu, p0, e);
  }
  setTop(cpu, t);
  setC1(cpu, false);
};

/** FPREM (truncating quotient) and FPREM1 (IEEE remainder, quotient rounded to nearest). */
function prem(cpu: Cpu, ieee: boolean): void {
  setCC(cpu, SW_C2, 0); // set again only for a partial remainder (C0, C3 kept on faults: measured)
  onST0ST1(cpu, (p0, p1) => {
    if (nanOperands(cpu, p0, p0, p1) !== NOT_NAN) return;
    const a = slotVal(cpu, p0);
    const b = slotVal(cpu, p1);
    if (!Number.isFinite(a) || b === 0) return invalid(cpu, p0);
    if (a === 0 || !Number.isFinite(b)) {
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, 0); // complete, quotient 0, ST(0) unchanged
      return;
    }
    const d = exponentOf(a) - exponentOf(b);
    const A = decompose(a);
    const B = decompose(b);
    let q: bigint;
    let R: bigint;
    let k: number;
    if (d < 64) {
      k = Math.min(A.e, B.e);
      const am = A.m << BigInt(A.e - k);
      const bm = B.m << BigInt(B.e - k);
      q = am / bm;
      R = am - q * bm;
      if (ieee && (2n * R > bm || (2n * R === bm && (q & 1n) === 1n))) {
        q += 1n;
        R -= bm;
      }
      const cc = (q & 4n ? SW_C0 : 0) | (q & 2n ? SW_C3 : 0) | (q & 1n ? SW_C1 : 0);
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, cc);
    } else {
      const shift = 32 * Math.floor(d / 32) - 32; // D − N with N = 32 + (D mod 32)
      const be = B.e + shift;
      k = Math.min(A.e, be);
      const am = A.m << BigInt(A.e - k);
      const bm = B.m << BigInt(be - k);
      R = am % bm;
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, SW_C2);
    }
    const neg = isNegative(a) !== R < 0n;
    const r = bigToDouble(R === 0n ? isNegative(a) : neg, R < 0n ? -R : R, k, RC_NEAREST);
    setSlot(cpu, p0, r);
  });
}

/** Handlers of FSCALE, FXTRACT, FPREM and FPREM1. */
export const SCALE_REM_HANDLERS: Readonly<Record<string, Handler>> = {
  fscale,
  fxtract,
  fprem: (cpu) => prem(cpu, false),
  fprem1: (cpu) => prem(cpu, true),
};
