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
import { NAN_DONE, NOT_NAN, nanOperands, onST0 } from './arith.ts';
import {
  SW_C2, SW_IE, SW_PE, SW_ZE, copySlot, isEmpty, pop, raise, setC1, setCC, setIndefinite, setSlot,
  setTop, slotIsNaN, slotVal, st, stackFault,
} from './fpu.ts';

const TWO_63 = 2 ** 63;

/** Writes an inexact transcendental result: PE set, C1 cleared. */
function inexact(cpu: Cpu, slot: number, v: number): void {
  raise(cpu, SW_PE);
  setC1(cpu, false);
  setSlot(cpu, slot, v);
}

/**
 * The common frame of FSIN/FCOS/FPTAN/FSINCOS: empty and range checks, NaN and infinity.
 * `second` computes the value pushed after ST(0) is replaced (FPTAN, FSINCOS), or is null.
 * `first` computes ST(0)'s replacement.
 */
function trig(cpu: Cpu, first: (x: number) => number, second: ((x: number) => number) | null): void {
  setCC(cpu, SW_C2, 0); // C2 reports only "out of range"
  const p = st(cpu, 0);
  const t = (p - 1) & 7;
  if (isEmpty(cpu, p) || (second && !isEmpty(cpu, t))) {
    if (stackFault(cpu, !isEmpty(cpu, p))) {
      setIndefinite(cpu, p);
      if (second) {
        setIndefinite(cpu, t);
        setTop(cpu, t);
      }
    }
    return;
  }
  if (slotIsNaN(cpu, p)) {
    if (nanOperands(cpu, p, p, p) === NAN_DONE && second) {
      copySlot(cpu, t, p);
      setTop(cpu, t);
    }
    return;
  }
  const x = slotVal(cpu, p);
  if (!Number.isFinite(x)) {
    if (raise(cpu, SW_IE)) return;
    setIndefinite(cpu, p);
    if (second) {
      setIndefinite(cpu, t);
      setTop(cpu, t);
    }
    return;
  }
  if (Math.abs(x) >= TWO_63) {
    setCC(cpu, SW_C2, SW_C2); // operand out of range: the program must reduce it
    return;
  }
  const a = first(x);
  const b = second ? second(x) : 0;
  // sin, tan of ±0 are ±0 and cos 0 is 1: exact. Everything else is inexact.
  if (x === 0) {
    setSlot(cpu, p, a);
    setC1(cpu, false);
  } else {
    inexact(cpu, p, a);
  }
  if (second) {
    setSlot(cpu, t, b);
    setTop(cpu, t);
  }
}

/**
 * The frame of the two-operand instructions that replace ST(1) and pop (FPATAN, FYL2X,
 * FYL2XP1): empty checks, NaN propagation into ST(1), then `f(ST0, ST1)` writes ST(1) and
 * returns false if an unmasked exception suppressed the pop.
 */
function pop2(cpu: Cpu, f: (x: number, y: number, p1: number) => boolean): void {
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
  if (f(slotVal(cpu, p0), slotVal(cpu, p1), p1)) pop(cpu);
}

/** Writes y·log2(x) (or an invalid / zero-divide response); shared by FYL2X and FYL2XP1. */
function ylog(cpu: Cpu, x: number, y: number, log2x: number, zeroArg: boolean, dst: number): boolean {
  const r = y * log2x;
  if (r !== r) {
    if (raise(cpu, SW_IE)) return false;
    setIndefinite(cpu, dst);
    setC1(cpu, false);
    return true;
  }
  if (zeroArg && y !== 0 && Number.isFinite(y)) {
    if (raise(cpu, SW_ZE)) return false;
    setSlot(cpu, dst, r);
    setC1(cpu, false);
    return true;
  }
  if (!Number.isFinite(r) || r === 0 || !Number.isFinite(x)) {
    setSlot(cpu, dst, r);
    setC1(cpu, false);
    return true;
  }
  inexact(cpu, dst, r); // PE even when the product happens to be exact (measured)
  return true;
}

const fpatan: Handler = (cpu) => pop2(cpu, (x, y, p1) => {
  const r = Math.atan2(y, x);
  if (r === 0) {
    setSlot(cpu, p1, r);
    setC1(cpu, false);
  } else {
    inexact(cpu, p1, r);
  }
  return true;
});

const fyl2x: Handler = (cpu) => pop2(cpu, (x, y, p1) => ylog(cpu, x, y, Math.log2(x), x === 0, p1));

const fyl2xp1: Handler = (cpu) => pop2(cpu, (x, y, p1) => ylog(cpu, x, y, Math.log1p(x) / Math.LN2, false, p1));

/** F2XM1: 2^x − 1 (defined for −1 ≤ x ≤ 1; we compute it for any x). */
const f2xm1: Handler = (cpu) => onST0(cpu, (p) => {
  if (nanOperands(cpu, p, p, p) !== NOT_NAN) return;
  const x = slotVal(cpu, p);
  if (x === 0) return; // ±0: exact
  // PE even for the exact results at ±1 (measured).
  inexact(cpu, p, Number.isFinite(x) ? Math.expm1(x * Math.LN2) : x > 0 ? x : -1);
});

/** Handlers of the transcendental rows. */
export const TRANSCENDENTAL_HANDLERS: Readonly<Record<string, Handler>> = {
  fsin: (cpu) => trig(cpu, Math.sin, null),
  fcos: (cpu) => trig(cpu, Math.cos, null),
  fptan: (cpu) => trig(cpu, Math.tan, () => 1),
  fsincos: (cpu) => trig(cpu, Math.sin, Math.cos),
  fpatan,
  f2xm1,
  fyl2x,
  fyl2xp1,
};
