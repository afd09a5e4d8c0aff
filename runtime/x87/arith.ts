/**
 * x87 basic arithmetic (SDM vol. 2: FADD/FADDP/FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/FISUBR,
 * FMUL/FMULP/FIMUL, FDIV/FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR, FSQRT, FABS, FCHS, FRNDINT) and the
 * NaN rules every two-operand instruction shares (SDM vol. 1, table 4-7).
 *
 * Exception order per operation: stack underflow (IE+SF), SNaN operand (IE), invalid operation
 * (IE: ∞−∞, 0·∞, 0/0, ∞/∞, √negative), division by zero (ZE, which hides a denormal dividend),
 * denormal memory operand (DE), then the rounding flags (OE, UE, PE) from rounding.ts. An unmasked IE/DE/ZE leaves the
 * destination and the stack as they were.
 */
import type { Insn } from '../../translator/decoder/insn.ts';
import { X87_ARITH_OPS } from '../../translator/isa/rows-x87.ts';
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import {
  SLOT_TMP, SW_DE, SW_IE, SW_PE, SW_ZE, copySlot, isEmpty, pop, quietSlot, raise, rc, setC1, setIndefinite, setSlot,
  setSlotBits, slotHi, slotIsNaN, slotIsSNaN, slotLo, slotVal, st, stackFault,
} from './fpu.ts';
import { MEM_F32, MEM_F64, MEM_I16, MEM_I32, loadMemSource } from './operands.ts';
import { RC_DOWN, addDir, divDir, finishRounding, mulDir, roundInt, sqrtDir } from './rounding.ts';

// ------------------------------------------------------------------------------- NaN rules
/** Outcome of `nanOperands`. */
export const NOT_NAN = 0;
export const NAN_DONE = 1;
export const NAN_ABORTED = 2;

/**
 * If either operand slot holds a NaN, delivers the x87 NaN result into `dst`: an SNaN raises
 * IE; of two NaNs a QNaN beats an SNaN, otherwise the larger significand wins (ties: the
 * positive one, as measured); the result is quieted. Returns NOT_NAN, NAN_DONE, or NAN_ABORTED
 * (unmasked IE: nothing written).
 */
export function nanOperands(cpu: Cpu, dst: number, a: number, b: number): number {
  const aN = slotIsNaN(cpu, a);
  const bN = slotIsNaN(cpu, b);
  if (!aN && !bN) return NOT_NAN;
  const aS = aN && slotIsSNaN(cpu, a);
  const bS = bN && slotIsSNaN(cpu, b);
  if ((aS || bS) && raise(cpu, SW_IE)) return NAN_ABORTED;
  let pick = aN ? a : b;
  if (aN && bN && a !== b) {
    if (aS !== bS) {
      pick = aS ? b : a;
    } else {
      const ah = slotHi(cpu, a) & 0xfffff;
      const bh = slotHi(cpu, b) & 0xfffff;
      const al = slotLo(cpu, a) >>> 0;
      const bl = slotLo(cpu, b) >>> 0;
      if (ah !== bh || al !== bl) pick = ah > bh || (ah === bh && al > bl) ? a : b;
      else pick = slotHi(cpu, a) >= 0 ? a : b;
    }
  }
  copySlot(cpu, dst, pick);
  quietSlot(cpu, dst);
  setC1(cpu, false);
  return NAN_DONE;
}

// ------------------------------------------------------------------------------- + - * /
const OP_ADD = 0;
const OP_MUL = 1;
const OP_SUB = 4;
const OP_SUBR = 5;
const OP_DIV = 6;
const OP_DIVR = 7;

/**
 * dst := left OP right for OP in {ADD, MUL, SUB, DIV} (the R forms swap left and right before
 * calling). `denormal`: one operand came from memory as a denormal. Returns false if an
 * unmasked exception abandoned the operation.
 */
export function binaryOp(cpu: Cpu, op: number, dst: number, left: number, right: number, denormal: boolean): boolean {
  const n = nanOperands(cpu, dst, left, right);
  if (n !== NOT_NAN) return n === NAN_DONE;
  const a = slotVal(cpu, left);
  const b = op === OP_SUB ? -slotVal(cpu, right) : slotVal(cpu, right);
  let r = op === OP_MUL ? a * b : op === OP_DIV ? a / b : a + b;
  if (r !== r) {
    if (raise(cpu, SW_IE)) return false;
    setIndefinite(cpu, dst);
    setC1(cpu, false);
    return true;
  }
  if (op === OP_DIV && b === 0 && Number.isFinite(a)) {
    // Division by zero takes precedence over a denormal dividend (measured: DE not reported).
    if (raise(cpu, SW_ZE)) return false;
    setSlot(cpu, dst, r);
    setC1(cpu, false);
    return true;
  }
  if (denormal && raise(cpu, SW_DE)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    setSlot(cpu, dst, r); // exact: an infinity, or a finite value divided by one
    setC1(cpu, false);
    return true;
  }
  const dir = op === OP_MUL ? mulDir(a, b, r) : op === OP_DIV ? divDir(a, b, r) : addDir(a, b, r);
  r = finishRounding(cpu, r, dir, true);
  // An exact zero sum of operands of opposite sign is −0 when rounding down (IEEE 754 6.3).
  if (r === 0 && op !== OP_MUL && op !== OP_DIV && dir === 0 && rc(cpu) === RC_DOWN && !(Object.is(a, 0) && Object.is(b, 0))) r = -0;
  setSlot(cpu, dst, r);
  return true;
}

/** Decodes ModRM.reg into (operation, reversed). */
function opOf(reg: number): [number, boolean] {
  if (reg === OP_SUBR) return [OP_SUB, true];
  if (reg === OP_DIVR) return [OP_DIV, true];
  return [reg, false];
}

/** dst := dst OP other (or other OP dst when reversed), with stack checks, then maybe pop. */
function regForm(cpu: Cpu, reg: number, dst: number, other: number, popAfter: boolean): void {
  if (isEmpty(cpu, dst) || isEmpty(cpu, other)) {
    if (stackFault(cpu, false)) {
      setIndefinite(cpu, dst);
      if (popAfter) pop(cpu);
    }
    return;
  }
  const [op, rev] = opOf(reg);
  const ok = rev ? binaryOp(cpu, op, dst, other, dst, false) : binaryOp(cpu, op, dst, dst, other, false);
  if (ok && popAfter) pop(cpu);
}

/** ST(0) := ST(0) OP mem (or mem OP ST(0)). The memory read comes first: it may fault. */
function memForm(cpu: Cpu, i: Insn, reg: number, kind: number): void {
  const denormal = loadMemSource(cpu, i, kind);
  const dst = st(cpu, 0);
  if (isEmpty(cpu, dst)) {
    if (stackFault(cpu, false)) setIndefinite(cpu, dst);
    return;
  }
  const [op, rev] = opOf(reg);
  if (rev) binaryOp(cpu, op, dst, SLOT_TMP, dst, denormal);
  else binaryOp(cpu, op, dst, dst, SLOT_TMP, denormal);
}

// ------------------------------------------------------------------------------- unary
/** Runs `f` on ST(0) after the empty check (masked underflow leaves the QNaN indefinite). */
export function onST0(cpu: Cpu, f: (p: number) => void): void {
  const p = st(cpu, 0);
  if (isEmpty(cpu, p)) {
    if (stackFault(cpu, false)) setIndefinite(cpu, p);
    return;
  }
  f(p);
}

const fsqrt: Handler = (cpu) => onST0(cpu, (p) => {
  if (nanOperands(cpu, p, p, p) !== NOT_NAN) return;
  const x = slotVal(cpu, p);
  if (x < 0) {
    if (!raise(cpu, SW_IE)) {
      setIndefinite(cpu, p);
      setC1(cpu, false);
    }
    return;
  }
  const r = Math.sqrt(x);
  setSlot(cpu, p, Number.isFinite(x) ? finishRounding(cpu, r, sqrtDir(x, r), true) : r);
  if (!Number.isFinite(x) || x === 0) setC1(cpu, false);
});

/** FABS/FCHS act on the sign bit only: no exception even for an SNaN. */
function signOp(cpu: Cpu, f: (hi: number) => number): void {
  onST0(cpu, (p) => {
    setSlotBits(cpu, p, f(slotHi(cpu, p)), slotLo(cpu, p));
    setC1(cpu, false);
  });
}

const frndint: Handler = (cpu) => onST0(cpu, (p) => {
  if (nanOperands(cpu, p, p, p) !== NOT_NAN) return;
  const x = slotVal(cpu, p);
  const r = roundInt(x, rc(cpu));
  if (r !== x) raise(cpu, SW_PE);
  setC1(cpu, Math.abs(r) > Math.abs(x));
  setSlot(cpu, p, r);
});

// ------------------------------------------------------------------------------- table
function build(): Record<string, Handler> {
  const h: Record<string, Handler> = {};
  const intNames = ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr'];
  X87_ARITH_OPS.forEach((mn, reg) => {
    if (mn === 'fcom' || mn === 'fcomp') return; // compare.ts
    h[`${mn}Mf32`] = (cpu, i) => memForm(cpu, i, reg, MEM_F32);
    h[`${mn}Mf64`] = (cpu, i) => memForm(cpu, i, reg, MEM_F64);
    h[`${intNames[reg]}Mi32`] = (cpu, i) => memForm(cpu, i, reg, MEM_I32);
    h[`${intNames[reg]}Mi16`] = (cpu, i) => memForm(cpu, i, reg, MEM_I16);
    h[`${mn}ST0STi`] = (cpu, i) => regForm(cpu, reg, st(cpu, 0), st(cpu, i.rm), false);
    h[`${mn}STiST0`] = (cpu, i) => regForm(cpu, reg, st(cpu, i.rm), st(cpu, 0), false);
    h[`${mn}pSTiST0`] = (cpu, i) => regForm(cpu, reg, st(cpu, i.rm), st(cpu, 0), true);
  });
  h.fsqrt = fsqrt;
  h.fabs = (cpu) => signOp(cpu, (hi) => hi & 0x7fffffff);
  h.fchs = (cpu) => signOp(cpu, (hi) => hi ^ 0x80000000);
  h.frndint = frndint;
  return h;
}

/** Handlers of the arithmetic rows, keyed by row name. */
export const ARITH_HANDLERS: Readonly<Record<string, Handler>> = build();

export { OP_ADD, OP_DIV, OP_DIVR, OP_MUL, OP_SUB, OP_SUBR };
