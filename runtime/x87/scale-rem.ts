/**
 * x87 exponent and remainder instructions (SDM vol. 2: FSCALE, FXTRACT, FPREM, FPREM1).
 *
 * All exact on the double-extended values (FSCALE rounds only a result below the normal range;
 * FPREM/FPREM1 compute on BigInt significands: they are rare). When the exponent difference D is 64 or
 * more they only reduce partially (C2 = 1), by ST(1)·2^(D−N) with an implementation-specific N
 * in 32..63; we use N = 32 + (D mod 32), which reproduces the processor this project measured
 * (see README.md), and clear C0, C1, C3 as it does.
 */
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { NAN_DONE, NOT_NAN, commit, invalidResult, isDenormalClass, nanOperands } from './arith.ts';
import { Unpacked, packExact, roundToSlot, unpack } from './extended.ts';
import { loadInt } from './formats.ts';
import {
  CLS_INF, CLS_ZERO, SW_C0, SW_C1, SW_C2, SW_C3, SW_DE, SW_ZE, copySlot, isEmpty, raise, setC1, setCC, setIndefinite,
  setReg, setTop, slotClass, slotSe, st, stackFault,
} from './fpu.ts';

const A = new Unpacked();
const B = new Unpacked();

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

/** trunc(x) of a finite unpacked value, clamped to ±2^20 (beyond any exponent's reach). */
function truncInt(u: Unpacked): number {
  if (u.h === 0 || u.e < 0) return 0;
  const m = u.e >= 20 ? 2 ** 20 : u.h >>> (31 - u.e);
  return u.s ? -m : m;
}

/** FSCALE: ST(0) := ST(0) · 2^trunc(ST(1)), rounded only if it leaves the exponent range. */
const fscale: Handler = (cpu) => onST0ST1(cpu, (p0, p1) => {
  if (nanOperands(cpu, p0, p0, p1) !== NOT_NAN) return;
  const ca = slotClass(cpu, p0);
  const cb = slotClass(cpu, p1);
  const sa = slotSe(cpu, p0) >>> 15;
  if (cb === CLS_INF) {
    // 0·2^+∞ and ∞·2^−∞ are invalid; otherwise the result is ±∞ or ±0.
    const up = (slotSe(cpu, p1) & 0x8000) === 0;
    if (up ? ca === CLS_ZERO : ca === CLS_INF) {
      invalidResult(cpu, p0);
      return;
    }
    if ((isDenormalClass(ca)) && raise(cpu, SW_DE)) return;
    if (up) setReg(cpu, p0, (sa << 15) | 0x7fff, 0x80000000 | 0, 0);
    else setReg(cpu, p0, sa << 15, 0, 0);
    return;
  }
  if ((isDenormalClass(ca) || isDenormalClass(cb)) && raise(cpu, SW_DE)) return;
  if (ca === CLS_ZERO || ca === CLS_INF) return;
  const n = truncInt(unpack(cpu, p1, B));
  const a = unpack(cpu, p0, A);
  commit(cpu, roundToSlot(cpu, p0, a.s, a.e + n, a.h, a.l, 0, false, 64));
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
  const n = nanOperands(cpu, p0, p0, p0);
  if (n !== NOT_NAN) {
    // Both results are the (quieted) NaN or the indefinite.
    if (n === NAN_DONE) {
      copySlot(cpu, t, p0);
      setTop(cpu, t);
    }
    return;
  }
  const cls = slotClass(cpu, p0);
  const sign = slotSe(cpu, p0) & 0x8000;
  if (cls === CLS_ZERO) {
    if (raise(cpu, SW_ZE)) return;
    setReg(cpu, t, sign, 0, 0);
    setReg(cpu, p0, 0xffff, 0x80000000 | 0, 0);
  } else if (cls === CLS_INF) {
    setReg(cpu, t, sign | 0x7fff, 0x80000000 | 0, 0);
    setReg(cpu, p0, 0x7fff, 0x80000000 | 0, 0);
  } else {
    if (isDenormalClass(cls) && raise(cpu, SW_DE)) return;
    const u = unpack(cpu, p0, A);
    setReg(cpu, t, sign | 0x3fff, u.h | 0, u.l | 0);
    loadInt(cpu, p0, u.e);
  }
  setTop(cpu, t);
  setC1(cpu, false);
};

const bigOf = (u: Unpacked): bigint => (BigInt(u.h) << 32n) | BigInt(u.l);

/** FPREM (truncating quotient) and FPREM1 (IEEE remainder, quotient rounded to nearest). */
function prem(cpu: Cpu, ieee: boolean): void {
  setCC(cpu, SW_C2, 0); // set again only for a partial remainder (C0, C3 kept on faults: measured)
  onST0ST1(cpu, (p0, p1) => {
    if (nanOperands(cpu, p0, p0, p1) !== NOT_NAN) return;
    const ca = slotClass(cpu, p0);
    const cb = slotClass(cpu, p1);
    if (ca === CLS_INF || cb === CLS_ZERO) {
      invalidResult(cpu, p0);
      return;
    }
    if ((isDenormalClass(ca) || isDenormalClass(cb)) && raise(cpu, SW_DE)) return;
    if (ca === CLS_ZERO) {
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, 0); // complete, quotient 0, ST(0) unchanged
      return;
    }
    const a = unpack(cpu, p0, A);
    const b = unpack(cpu, p1, B);
    const d = a.e - b.e;
    let R: bigint;
    let k: number;
    if (d < -1 || cb === CLS_INF) {
      // |a| < |b|/2 or b = ±∞: quotient 0, remainder a (normalized, a tiny one reported: measured).
      k = a.e;
      R = bigOf(a);
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, 0);
    } else if (d < 64) {
      k = Math.min(a.e, b.e);
      const am = bigOf(a) << BigInt(a.e - k);
      const bm = bigOf(b) << BigInt(b.e - k);
      let q = am / bm;
      R = am - q * bm;
      if (ieee && (2n * R > bm || (2n * R === bm && (q & 1n) === 1n))) {
        q += 1n;
        R -= bm;
      }
      const cc = (q & 4n ? SW_C0 : 0) | (q & 2n ? SW_C3 : 0) | (q & 1n ? SW_C1 : 0);
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, cc);
    } else {
      // Partial: reduce by ST(1)·2^(D−N), N = 32 + (D mod 32).
      k = b.e + 32 * Math.floor(d / 32) - 32;
      R = (bigOf(a) << BigInt(a.e - k)) % bigOf(b);
      setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, SW_C2);
    }
    const neg = R < 0n;
    const mag = neg ? -R : R;
    const sign = a.s ^ (neg ? 1 : 0);
    if (mag === 0n) setReg(cpu, p0, a.s << 15, 0, 0);
    else raise(cpu, packExact(cpu, p0, sign, k, Number(mag >> 32n), Number(mag & 0xffffffffn)) & 0x3f); // C1 is Q0
  });
}

/** Handlers of FSCALE, FXTRACT, FPREM and FPREM1. */
export const SCALE_REM_HANDLERS: Readonly<Record<string, Handler>> = {
  fscale,
  fxtract,
  fprem: (cpu) => prem(cpu, false),
  fprem1: (cpu) => prem(cpu, true),
};
