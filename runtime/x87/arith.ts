/**
 * x87 basic arithmetic (SDM vol. 2: FADD/FADDP/FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/FISUBR,
 * FMUL/FMULP/FIMUL, FDIV/FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR, FSQRT, FABS, FCHS, FRNDINT) and the
 * NaN rules every two-operand instruction shares (SDM vol. 1, table 4-7).
 *
 * Exception order per operation (SDM vol. 1, 4.9.2): stack underflow (IE+SF), SNaN or
 * unsupported operand (IE), invalid operation (IE: ∞−∞, 0·∞, 0/0, ∞/∞, √negative), division by
 * zero (ZE, which hides a denormal dividend), denormal operand (DE: a denormal or
 * pseudo-denormal register, or a denormal m32/m64), then the rounding flags (OE, UE, PE) from
 * extended.ts. An unmasked IE/DE/ZE leaves the destination and the stack as they were. Results
 * are rounded once, exactly, to the precision control's 24, 53 or 64 bits.
 */
import type { Insn } from '../../translator/decoder/insn.ts';
import { X87_ARITH_OPS } from '../../translator/isa/rows-x87.ts';
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { Unpacked, addTo, divTo, mulTo, sqrtTo, unpack } from './extended.ts';
import {
  CLS_DENORMAL, CLS_INF, CLS_NAN, CLS_NORMAL, CLS_PSEUDO_DENORMAL, CLS_UNSUPPORTED, CLS_ZERO, SLOT_TMP, SW_C1, SW_DE, SW_IE,
  SW_ZE, copySlot, isEmpty, pop, precision, quietSlot, raise, rc, setC1, setCC, setIndefinite, setReg, slotClass,
  slotHi, slotIsSNaN, slotLo, slotSe, st, stackFault,
} from './fpu.ts';
import { roundSlotToInteger } from './formats.ts';
import { MEM_F32, MEM_F64, MEM_I16, MEM_I32, loadMemSource } from './operands.ts';

// ------------------------------------------------------------------------------- NaN rules
/** Outcome of `nanOperands`. */
export const NOT_NAN = 0;
export const NAN_DONE = 1;
export const NAN_ABORTED = 2;

/** True for the classes that raise DE as operands of arithmetic (register denormals). */
export function isDenormalClass(cls: number): boolean {
  return cls === CLS_DENORMAL || cls === CLS_PSEUDO_DENORMAL;
}

/**
 * If either operand slot holds a NaN or an unsupported encoding, delivers the x87 result into
 * `dst`: an unsupported operand raises IE (masked: the QNaN indefinite); an SNaN raises IE; of
 * two NaNs a QNaN beats an SNaN, otherwise the larger significand wins (ties: the positive one,
 * as measured); the result is quieted. Returns NOT_NAN, NAN_DONE, or NAN_ABORTED (unmasked IE:
 * nothing written).
 */
export function nanOperands(cpu: Cpu, dst: number, a: number, b: number): number {
  const ca = slotClass(cpu, a);
  const cb = slotClass(cpu, b);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) {
    if (raise(cpu, SW_IE)) return NAN_ABORTED;
    setIndefinite(cpu, dst);
    return NAN_DONE;
  }
  const aN = ca === CLS_NAN;
  const bN = cb === CLS_NAN;
  if (!aN && !bN) return NOT_NAN;
  const aS = aN && slotIsSNaN(cpu, a);
  const bS = bN && slotIsSNaN(cpu, b);
  if ((aS || bS) && raise(cpu, SW_IE)) return NAN_ABORTED;
  let pick = aN ? a : b;
  if (aN && bN && a !== b) {
    if (aS !== bS) {
      pick = aS ? b : a;
    } else {
      const ah = slotHi(cpu, a) >>> 0;
      const bh = slotHi(cpu, b) >>> 0;
      const al = slotLo(cpu, a) >>> 0;
      const bl = slotLo(cpu, b) >>> 0;
      if (ah !== bh || al !== bl) pick = ah > bh || (ah === bh && al > bl) ? a : b;
      else pick = slotSe(cpu, a) & 0x8000 ? b : a;
    }
  }
  copySlot(cpu, dst, pick);
  quietSlot(cpu, dst);
  return NAN_DONE;
}

/** Records the flags of a rounded result (PE, UE, OE and C1 = rounded up). */
export function commit(cpu: Cpu, flags: number): void {
  if (flags & 0x3f) raise(cpu, flags & 0x3f);
  setCC(cpu, SW_C1, flags & SW_C1);
}

/** The masked response to an invalid operation (or nothing, unmasked). Returns false if unmasked. */
export function invalidResult(cpu: Cpu, dst: number): boolean {
  if (raise(cpu, SW_IE)) return false;
  setIndefinite(cpu, dst);
  setC1(cpu, false);
  return true;
}

// ------------------------------------------------------------------------------- + - * /
const OP_ADD = 0;
const OP_MUL = 1;
const OP_SUB = 4;
const OP_SUBR = 5;
const OP_DIV = 6;
const OP_DIVR = 7;

const A = new Unpacked();
const B = new Unpacked();

/** Writes ±∞ or ±0 (exact results of special operands). */
function setSpecial(cpu: Cpu, dst: number, sign: number, inf: boolean): void {
  if (inf) setReg(cpu, dst, (sign << 15) | 0x7fff, 0x80000000 | 0, 0);
  else setReg(cpu, dst, sign << 15, 0, 0);
}

/**
 * dst := left OP right for OP in {ADD, MUL, SUB, DIV} (the R forms swap left and right before
 * calling). `memDenormal`: the memory operand was a denormal of its format. Returns false if an
 * unmasked exception abandoned the operation.
 */
export function binaryOp(cpu: Cpu, op: number, dst: number, left: number, right: number, memDenormal: boolean): boolean {
  if (!memDenormal && slotClass(cpu, left) === CLS_NORMAL && slotClass(cpu, right) === CLS_NORMAL) {
    // The common case: two normal operands, nothing but the rounding can raise anything.
    unpack(cpu, left, A);
    unpack(cpu, right, B);
    const prec = precision(cpu);
    commit(cpu, op === OP_MUL ? mulTo(cpu, dst, A, B, prec) : op === OP_DIV ? divTo(cpu, dst, A, B, prec) : addTo(cpu, dst, A, B, op === OP_SUB ? 1 : 0, prec));
    return true;
  }
  const n = nanOperands(cpu, dst, left, right);
  if (n !== NOT_NAN) return n === NAN_DONE;
  const ca = slotClass(cpu, left);
  const cb = slotClass(cpu, right);
  const sa = slotSe(cpu, left) >>> 15;
  const sb = (slotSe(cpu, right) >>> 15) ^ (op === OP_SUB ? 1 : 0);
  const aInf = ca === CLS_INF;
  const bInf = cb === CLS_INF;
  const aZero = ca === CLS_ZERO;
  const bZero = cb === CLS_ZERO;
  if (op === OP_ADD || op === OP_SUB) {
    if (aInf && bInf && sa !== sb) return invalidResult(cpu, dst);
  } else if (op === OP_MUL) {
    if ((aInf && bZero) || (aZero && bInf)) return invalidResult(cpu, dst);
  } else {
    if ((aZero && bZero) || (aInf && bInf)) return invalidResult(cpu, dst);
    if (bZero && !aInf) {
      // Division by zero takes precedence over a denormal dividend (measured: DE not reported).
      if (raise(cpu, SW_ZE)) return false;
      setSpecial(cpu, dst, sa ^ sb, true);
      return true;
    }
  }
  if ((memDenormal || isDenormalClass(ca) || isDenormalClass(cb)) && raise(cpu, SW_DE)) return false;
  if (aInf || bInf) {
    if (op === OP_ADD || op === OP_SUB) setSpecial(cpu, dst, aInf ? sa : sb, true);
    else if (op === OP_MUL) setSpecial(cpu, dst, sa ^ sb, true);
    else setSpecial(cpu, dst, sa ^ sb, aInf);
    return true;
  }
  if ((op === OP_MUL && (aZero || bZero)) || (op === OP_DIV && aZero)) {
    setSpecial(cpu, dst, sa ^ sb, false);
    return true;
  }
  unpack(cpu, left, A);
  unpack(cpu, right, B);
  const prec = precision(cpu);
  let flags: number;
  if (op === OP_MUL) flags = mulTo(cpu, dst, A, B, prec);
  else if (op === OP_DIV) flags = divTo(cpu, dst, A, B, prec);
  else flags = addTo(cpu, dst, A, B, op === OP_SUB ? 1 : 0, prec);
  commit(cpu, flags);
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
  const cls = slotClass(cpu, p);
  const neg = (slotSe(cpu, p) & 0x8000) !== 0;
  if (cls === CLS_ZERO) return; // ±0
  if (neg) {
    invalidResult(cpu, p);
    return;
  }
  if (cls === CLS_INF) return;
  if (isDenormalClass(cls) && raise(cpu, SW_DE)) return;
  commit(cpu, sqrtTo(cpu, p, unpack(cpu, p, A), precision(cpu)));
});

/** FABS/FCHS act on the sign bit only: no exception even for an SNaN. */
function signOp(cpu: Cpu, f: (se: number) => number): void {
  onST0(cpu, (p) => {
    setReg(cpu, p, f(slotSe(cpu, p)), slotHi(cpu, p), slotLo(cpu, p));
    setC1(cpu, false);
  });
}

const frndint: Handler = (cpu) => onST0(cpu, (p) => {
  if (nanOperands(cpu, p, p, p) !== NOT_NAN) return;
  const cls = slotClass(cpu, p);
  if (cls === CLS_ZERO || cls === CLS_INF) return;
  if (isDenormalClass(cls) && raise(cpu, SW_DE)) return;
  commit(cpu, roundSlotToInteger(cpu, p, p, rc(cpu)));
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
  h.fabs = (cpu) => signOp(cpu, (se) => se & 0x7fff);
  h.fchs = (cpu) => signOp(cpu, (se) => se ^ 0x8000);
  h.frndint = frndint;
  return h;
}

/** Handlers of the arithmetic rows, keyed by row name. */
export const ARITH_HANDLERS: Readonly<Record<string, Handler>> = build();

export { OP_ADD, OP_DIV, OP_DIVR, OP_MUL, OP_SUB, OP_SUBR };
