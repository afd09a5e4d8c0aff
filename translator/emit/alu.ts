/**
 * Emitters: integer arithmetic and logic (ADD OR ADC SBB AND SUB XOR CMP, TEST, INC/DEC,
 * NOT/NEG, CBW/CWD), facing runtime/interp/alu.ts. Flags are recorded lazily (flags.ts).
 */
import type { Insn } from '../decoder/insn.ts';
import { vsize } from '../decoder/insn.ts';
import { LFK_ADC, LFK_ADD, LFK_DEC, LFK_INC, LFK_LOGIC, LFK_SBB, LFK_SUB, R_EAX, R_EDX, SIZE_MASK, SZ16, SZ32, SZ8 } from '../abi.ts';
import { ALU, ALU_OPS } from '../isa/rows-alu.ts';
import type { Expr } from '../wasm/backend.ts';
import { L_LFA, L_LFB, L_LFC, L_LFR } from './context.ts';
import type { EmitCtx } from './context.ts';
import { carryFlag, recordFlags, setKind } from './flags.ts';
import { operandLinear, readLinear, readRM, rmwLinear } from './memory.ts';
import type { Emitter, EmitterMap } from './types.ts';

const { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP } = ALU;
/** Lazy-flags kind per ALU operation. */
const KIND = [LFK_ADD, LFK_LOGIC, LFK_ADC, LFK_SBB, LFK_LOGIC, LFK_SUB, LFK_LOGIC, LFK_SUB];

/** The immediate masked to the operand size (Ibs and Jz are stored sign-extended). */
export function imm(c: EmitCtx, i: Insn, sz: number): Expr {
  return c.const(sz === SZ32 ? i.imm | 0 : i.imm & SIZE_MASK[sz]);
}

/** Masks `v` to size `sz`. */
export function mask(c: EmitCtx, sz: number, v: Expr): Expr {
  return sz === SZ32 ? v : c.i32.and(v, c.const(SIZE_MASK[sz]));
}

function compute(c: EmitCtx, op: number, sz: number, a: Expr, b: Expr, cin: Expr | null): Expr {
  const { i32 } = c;
  switch (op) {
    case ADD: return mask(c, sz, i32.add(a, b));
    case OR: return i32.or(a, b);
    case ADC: return mask(c, sz, i32.add(i32.add(a, b), cin as Expr));
    case SBB: return mask(c, sz, i32.sub(i32.sub(a, b), cin as Expr));
    case AND: return i32.and(a, b);
    case XOR: return i32.xor(a, b);
    default: return mask(c, sz, i32.sub(a, b));
  }
}

/**
 * `op a, b` with its flags straight into the LF* locals (no fault may follow), the result into
 * register `dest` (-1: CMP/TEST, no result). A dead record (liveness.ts) is not recorded.
 */
function aluToReg(c: EmitCtx, op: number, sz: number, a: Expr, b: Expr, dest: number): void {
  const { m } = c;
  const withCarry = op === ADC || op === SBB;
  if (!c.flagsLive) {
    if (dest >= 0) c.emit(c.setReg(dest, sz, compute(c, op, sz, a, b, withCarry ? carryFlag(c) : null)));
    return;
  }
  c.usesFlags = true;
  if (withCarry) c.emit(m.set(L_LFC, carryFlag(c)));
  const res = compute(c, op, sz, m.tee(L_LFA, a), m.tee(L_LFB, b), withCarry ? m.get(L_LFC) : null);
  if (dest >= 0 && sz === SZ32) {
    c.emit(c.setReg(dest, SZ32, m.tee(L_LFR, res)));
  } else {
    c.emit(m.set(L_LFR, res));
    if (dest >= 0) c.emit(c.setReg(dest, sz, m.get(L_LFR)));
  }
  setKind(c, KIND[op], sz);
}

/** `op a, b` with flags recorded when live; returns the result as a stable read. */
function aluValue(c: EmitCtx, op: number, sz: number, a: Expr, b: Expr): Expr {
  if (!c.flagsLive) return c.save(compute(c, op, sz, a, b, op === ADC || op === SBB ? carryFlag(c) : null));
  aluToReg(c, op, sz, a, b, -1);
  return c.m.get(L_LFR);
}

/** `op E, b` with E a register or memory (read-modify-write; CMP only reads). */
function aluE(c: EmitCtx, i: Insn, op: number, sz: number, b: Expr): void {
  if (i.mod === 3) {
    aluToReg(c, op, sz, c.reg(i.rm, sz), b, op === CMP ? -1 : i.rm);
    return;
  }
  if (op === CMP) {
    const a = c.save(readLinear(c, sz, operandLinear(c, i, 1 << sz, false)));
    aluToReg(c, op, sz, a, b, -1);
    return;
  }
  const acc = rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true));
  const a = c.save(acc.read);
  const tb = c.save(b);
  const cin = op === ADC || op === SBB ? c.save(carryFlag(c)) : null;
  const r = c.save(compute(c, op, sz, a, tb, cin));
  c.emit(acc.write(r));
  recordFlags(c, KIND[op], sz, a, tb, r, cin ?? undefined);
}

/** `op reg, b` with a register destination. */
function aluR(c: EmitCtx, op: number, sz: number, r: number, b: Expr): void {
  aluToReg(c, op, sz, c.reg(r, sz), b, op === CMP ? -1 : r);
}

function makeAlu(op: number): Record<string, Emitter> {
  const m = ALU_OPS[op];
  const imm8: Emitter = (c, i) => aluE(c, i, op, SZ8, imm(c, i, SZ8));
  return {
    [`${m}EbGb`]: (c, i) => aluE(c, i, op, SZ8, c.reg(i.reg, SZ8)),
    [`${m}EvGv`]: (c, i) => aluE(c, i, op, vsize(i), c.reg(i.reg, vsize(i))),
    // The memory source is loaded (and may fault) before the register is touched.
    [`${m}GbEb`]: (c, i) => aluR(c, op, SZ8, i.reg, i.mod === 3 ? c.reg(i.rm, SZ8) : c.save(readRM(c, i, SZ8))),
    [`${m}GvEv`]: (c, i) => { const sz = vsize(i); aluR(c, op, sz, i.reg, i.mod === 3 ? c.reg(i.rm, sz) : c.save(readRM(c, i, sz))); },
    [`${m}ALIb`]: (c, i) => aluR(c, op, SZ8, R_EAX, imm(c, i, SZ8)),
    [`${m}eAXIz`]: (c, i) => aluR(c, op, vsize(i), R_EAX, imm(c, i, vsize(i))),
    [`${m}EbIb`]: imm8,
    [`${m}EbIb82`]: imm8,
    [`${m}EvIz`]: (c, i) => aluE(c, i, op, vsize(i), imm(c, i, vsize(i))),
    [`${m}EvIbs`]: (c, i) => aluE(c, i, op, vsize(i), imm(c, i, vsize(i))),
  };
}

// ------------------------------------------------------------------------------ TEST
function test(c: EmitCtx, i: Insn, sz: number, b: Expr): void {
  const a = i.mod === 3 ? c.reg(i.rm, sz) : c.save(readRM(c, i, sz));
  aluToReg(c, AND, sz, a, b, -1);
}

function testAcc(c: EmitCtx, sz: number, b: Expr): void {
  aluToReg(c, AND, sz, c.reg(R_EAX, sz), b, -1);
}

// ------------------------------------------------------------------------------ INC/DEC/NOT/NEG
/** A unary operation: its result from `a`, and the statements recording its flags (when live). */
type Unary = (c: EmitCtx, sz: number, a: Expr) => { res: Expr; flags: (res: Expr) => void };

/** INC/DEC keep CF: the old CF goes to LF_C (computed from the old record, before it changes). */
function incDec(dec: boolean): Unary {
  return (c, sz, a) => {
    const { i32 } = c;
    const res = mask(c, sz, dec ? i32.sub(a, c.const(1)) : i32.add(a, c.const(1)));
    return { res, flags: (r) => recordFlags(c, dec ? LFK_DEC : LFK_INC, sz, a, c.const(1), r, c.save(carryFlag(c))) };
  };
}

const notOp: Unary = (c, sz, a) => ({ res: mask(c, sz, c.i32.xor(a, c.const(-1))), flags: () => {} });

const negOp: Unary = (c, sz, a) => ({
  res: mask(c, sz, c.i32.sub(c.const(0), a)),
  flags: (r) => recordFlags(c, LFK_SUB, sz, c.const(0), a, r),
});

function unaryReg(c: EmitCtx, r: number, sz: number, f: Unary): void {
  if (!c.flagsLive || f === notOp) {
    c.emit(c.setReg(r, sz, f(c, sz, c.reg(r, sz)).res));
    return;
  }
  const a = c.save(c.reg(r, sz));
  const u = f(c, sz, a);
  const res = c.save(u.res);
  u.flags(res);
  c.emit(c.setReg(r, sz, res));
}

function unaryE(c: EmitCtx, i: Insn, sz: number, f: Unary): void {
  if (i.mod === 3) { unaryReg(c, i.rm, sz, f); return; }
  const acc = rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true));
  const a = c.save(acc.read);
  const u = f(c, sz, a);
  const res = c.save(u.res);
  c.emit(acc.write(res));
  u.flags(res);
}

// ------------------------------------------------------------------------------ XADD / CMPXCHG
/** XADD E, G: E = E + G and G = old E; flags of the addition. */
function xadd(c: EmitCtx, i: Insn, sz: number): void {
  if (i.mod === 3) {
    const dst = c.save(c.reg(i.rm, sz));
    const r = aluValue(c, ADD, sz, dst, c.reg(i.reg, sz));
    c.emit(c.setReg(i.reg, sz, dst));
    c.emit(c.setReg(i.rm, sz, r));
    return;
  }
  const acc = rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true));
  const dst = c.save(acc.read);
  const src = c.save(c.reg(i.reg, sz));
  const r = c.save(compute(c, ADD, sz, dst, src, null));
  c.emit(acc.write(r));
  recordFlags(c, LFK_ADD, sz, dst, src, r);
  c.emit(c.setReg(i.reg, sz, dst));
}

/**
 * CMPXCHG E, G: compare the accumulator with E; equal: E = G, else accumulator = E. A memory
 * destination is written either way (with its old value on failure), as on hardware.
 */
function cmpxchg(c: EmitCtx, i: Insn, sz: number): void {
  const { m, i32 } = c;
  const accum = c.save(c.reg(R_EAX, sz));
  if (i.mod === 3) {
    const dst = c.save(c.reg(i.rm, sz));
    const src = c.save(c.reg(i.reg, sz));
    aluToReg(c, CMP, sz, accum, dst, -1);
    c.emit(m.if(i32.eq(accum, dst), c.setReg(i.rm, sz, src), c.setReg(R_EAX, sz, dst)));
    return;
  }
  const acc = rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true));
  const dst = c.save(acc.read);
  const eq = c.save(i32.eq(accum, dst));
  c.emit(acc.write(m.select(eq, c.reg(i.reg, sz), dst)));
  recordFlags(c, LFK_SUB, sz, accum, dst, mask(c, sz, i32.sub(accum, dst)));
  c.emit(m.if(i32.eqz(eq), c.setReg(R_EAX, sz, dst)));
}

const inc = incDec(false);
const dec = incDec(true);

export const ALU_EMITTERS: EmitterMap = {
  ...makeAlu(ADD), ...makeAlu(OR), ...makeAlu(ADC), ...makeAlu(SBB),
  ...makeAlu(AND), ...makeAlu(SUB), ...makeAlu(XOR), ...makeAlu(CMP),

  incZv: (c, i) => unaryReg(c, i.reg, vsize(i), inc),
  decZv: (c, i) => unaryReg(c, i.reg, vsize(i), dec),
  incEb: (c, i) => unaryE(c, i, SZ8, inc),
  decEb: (c, i) => unaryE(c, i, SZ8, dec),
  incEv: (c, i) => unaryE(c, i, vsize(i), inc),
  decEv: (c, i) => unaryE(c, i, vsize(i), dec),
  notEb: (c, i) => unaryE(c, i, SZ8, notOp),
  notEv: (c, i) => unaryE(c, i, vsize(i), notOp),
  negEb: (c, i) => unaryE(c, i, SZ8, negOp),
  negEv: (c, i) => unaryE(c, i, vsize(i), negOp),

  testEbIb: (c, i) => test(c, i, SZ8, imm(c, i, SZ8)),
  testEbIbAlias: (c, i) => test(c, i, SZ8, imm(c, i, SZ8)),
  testEvIz: (c, i) => test(c, i, vsize(i), imm(c, i, vsize(i))),
  testEvIzAlias: (c, i) => test(c, i, vsize(i), imm(c, i, vsize(i))),
  testEbGb: (c, i) => test(c, i, SZ8, c.reg(i.reg, SZ8)),
  testEvGv: (c, i) => test(c, i, vsize(i), c.reg(i.reg, vsize(i))),
  testALIb: (c, i) => testAcc(c, SZ8, imm(c, i, SZ8)),
  testeAXIz: (c, i) => testAcc(c, vsize(i), imm(c, i, vsize(i))),

  xaddEbGb: (c, i) => xadd(c, i, SZ8),
  xaddEvGv: (c, i) => xadd(c, i, vsize(i)),
  cmpxchgEbGb: (c, i) => cmpxchg(c, i, SZ8),
  cmpxchgEvGv: (c, i) => cmpxchg(c, i, vsize(i)),

  cbw: (c, i) => {
    const { i32 } = c;
    if (i.o32) c.emit(c.setReg(R_EAX, SZ32, i32.extend16_s(c.reg(R_EAX, SZ32))));
    else c.emit(c.setReg(R_EAX, SZ16, i32.and(i32.extend8_s(c.reg(R_EAX, SZ32)), c.const(0xffff))));
  },
  cwd: (c, i) => {
    const { i32 } = c;
    if (i.o32) c.emit(c.setReg(R_EDX, SZ32, i32.shr_s(c.reg(R_EAX, SZ32), c.const(31))));
    else c.emit(c.setReg(R_EDX, SZ16, i32.and(i32.shr_s(i32.shl(c.reg(R_EAX, SZ32), c.const(16)), c.const(31)), c.const(0xffff))));
  },
};
