/**
 * Emitters: SHL/SAL, SHR, SAR with an immediate, 1 or CL count, facing runtime/interp/shift.ts
 * (SDM vol. 2, SAL/SAR/SHL/SHR). The count is masked to 5 bits; a zero count changes nothing
 * (not even flags). CF is the last bit shifted out; OF, undefined for counts other than 1, is
 * made deterministic exactly as runtime/interp/shift.ts does (SHL: MSB(result) XOR CF, SHR: XOR
 * of the result's two top bits, SAR: 0). Results are recorded as a LFK_SHIFT lazy record with CF
 * and OF in LF_C. ROL/ROR keep SF ZF AF PF: they materialize the flags and replace CF and OF
 * (flags.ts). RCL/RCR and the double shifts run in the interpreter.
 */
import type { Insn } from '../decoder/insn.ts';
import type { Expr } from '../wasm/backend.ts';
import { F_CF, F_OF, R_ECX, SIZE_BITS, SZ32, SZ8 } from '../abi.ts';
import type { EmitCtx } from './context.ts';
import { mask } from './alu.ts';
import { setArithFlags, setShiftFlags } from './flags.ts';
import { operandLinear, rmwLinear } from './memory.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

type Kind = 'shl' | 'shr' | 'sar' | 'rol' | 'ror';

/** Result and CF|OF<<1 of shifting `v` (masked to `sz`) by nonzero `n` (both side-effect free). */
function shiftOf(c: EmitCtx, kind: Kind, sz: number, v: Expr, n: Expr): { res: Expr; cfOf: Expr } {
  const { i32 } = c;
  const top = c.const(SIZE_BITS[sz] - 1);
  const n1 = i32.sub(n, c.const(1));
  if (kind === 'shl') {
    const res = c.save(mask(c, sz, i32.shl(v, n)));
    const cf = c.save(i32.and(i32.shr_u(i32.shl(v, n1), top), c.const(1)));
    // OF = MSB(result) XOR CF.
    return { res, cfOf: i32.or(cf, i32.shl(i32.xor(i32.shr_u(res, top), cf), c.const(1))) };
  }
  if (kind === 'shr') {
    const res = c.save(i32.shr_u(v, n));
    const cf = i32.and(i32.shr_u(v, n1), c.const(1));
    // OF = the XOR of the result's two top bits (= MSB of the operand at count 1, the defined case).
    const of = i32.and(i32.xor(i32.shr_u(res, top), i32.shr_u(res, c.const(SIZE_BITS[sz] - 2))), c.const(1));
    return { res, cfOf: i32.or(cf, i32.shl(of, c.const(1))) };
  }
  const sv = sz === SZ8 ? i32.extend8_s(v) : sz === 1 ? i32.extend16_s(v) : v;
  const res = c.save(mask(c, sz, i32.shr_s(sv, n)));
  // SAR: OF = 0.
  return { res, cfOf: i32.and(i32.shr_s(sv, n1), c.const(1)) };
}

/**
 * Result and CF | OF << 11 (EFLAGS positions) of rotating `v` by nonzero `n` (ROL/ROR change only
 * CF and OF; the count is taken modulo the width for the rotation, as in runtime/interp/shift.ts).
 */
function rotateOf(c: EmitCtx, kind: 'rol' | 'ror', sz: number, v: Expr, n: Expr): { res: Expr; cfOf: Expr } {
  const { i32 } = c;
  const w = SIZE_BITS[sz];
  const top = c.const(w - 1);
  let res: Expr;
  if (sz === SZ32) {
    res = c.save(kind === 'rol' ? i32.rotl(v, n) : i32.rotr(v, n));
  } else {
    const k = c.save(i32.and(n, top));
    const l = kind === 'rol' ? i32.shl(v, k) : i32.shr_u(v, k);
    const r = kind === 'rol' ? i32.shr_u(v, i32.sub(c.const(w), k)) : i32.shl(v, i32.sub(c.const(w), k));
    res = c.save(mask(c, sz, i32.or(l, r)));
  }
  const msb = i32.and(i32.shr_u(res, top), c.const(1));
  if (kind === 'rol') {
    const cf = c.save(i32.and(res, c.const(1)));
    return { res, cfOf: i32.or(cf, i32.shl(i32.xor(msb, cf), c.const(11))) };
  }
  const cf = c.save(msb);
  const next = i32.and(i32.shr_u(res, c.const(w - 2)), c.const(1));
  return { res, cfOf: i32.or(cf, i32.shl(i32.xor(cf, next), c.const(11))) };
}

/**
 * The result alone of shifting or rotating `v` (masked to `sz`) by `n` (0..31; `v` and `n` are
 * read once, except by 8/16-bit rotates, which need stable reads). A zero count gives `v`.
 */
function shiftResult(c: EmitCtx, kind: Kind, sz: number, v: Expr, n: Expr): Expr {
  const { i32 } = c;
  switch (kind) {
    case 'shl': return mask(c, sz, i32.shl(v, n));
    case 'shr': return i32.shr_u(v, n);
    case 'sar': return mask(c, sz, i32.shr_s(sz === SZ8 ? i32.extend8_s(v) : sz === 1 ? i32.extend16_s(v) : v, n));
    default: {
      if (sz === SZ32) return kind === 'rol' ? i32.rotl(v, n) : i32.rotr(v, n);
      const w = SIZE_BITS[sz];
      const k = i32.and(n, c.const(w - 1));
      const k2 = i32.and(n, c.const(w - 1));
      const l = kind === 'rol' ? i32.shl(v, k) : i32.shr_u(v, k);
      const r = kind === 'rol' ? i32.shr_u(v, i32.sub(c.const(w), k2)) : i32.shl(v, i32.sub(c.const(w), k2));
      return mask(c, sz, i32.or(l, r));
    }
  }
}

/** Shift of E by `count` (an immediate, 1, or CL). */
function emitShift(c: EmitCtx, i: Insn, kind: Kind, sz: number, count: 'imm' | 'one' | 'cl'): void {
  const { m, i32 } = c;
  const mem = i.mod !== 3;
  if (!mem && !c.flagsLive) {
    // Nothing observes the flags (liveness.ts): the result alone; a zero count changes nothing.
    const n = count === 'one' ? 1 : count === 'imm' ? i.imm & 31 : -1;
    if (n === 0) return;
    const rot16 = (kind === 'rol' || kind === 'ror') && sz !== SZ32;
    const v = rot16 ? c.save(c.reg(i.rm, sz)) : c.reg(i.rm, sz);
    const cnt = n > 0 ? c.const(n) : rot16 ? c.save(i32.and(c.reg(R_ECX, SZ8), c.const(31))) : i32.and(c.reg(R_ECX, SZ8), c.const(31));
    c.emit(c.setReg(i.rm, sz, shiftResult(c, kind, sz, v, cnt)));
    return;
  }
  const acc = mem ? rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true)) : null;
  const v = c.save(acc ? acc.read : c.reg(i.rm, sz));
  const apply = (n: Expr): Expr[] => c.capture(() => {
    if (kind === 'rol' || kind === 'ror') {
      const { res, cfOf } = rotateOf(c, kind, sz, v, n);
      const flags = c.save(cfOf);
      if (acc) c.emit(acc.write(res));
      setArithFlags(c, F_CF | F_OF, flags);
      if (!acc) c.emit(c.setReg(i.rm, sz, res));
      return;
    }
    const { res, cfOf } = shiftOf(c, kind, sz, v, n);
    const flags = c.save(cfOf);
    if (acc) c.emit(acc.write(res));
    setShiftFlags(c, sz, res, flags);
    if (!acc) c.emit(c.setReg(i.rm, sz, res));
  });
  if (count !== 'cl') {
    const n = count === 'one' ? 1 : i.imm & 31;
    if (n !== 0) c.emit(...apply(c.const(n)));
    return;
  }
  const n = c.save(i32.and(c.reg(R_ECX, SZ8), c.const(31)));
  const body = apply(n);
  c.emit(m.if(n, m.block(null, body)));
  // The record now depends on the count: its kind is only known at run time.
  c.flagKind = -1;
}

/**
 * SHLD/SHRD Ev, Gv, Ib/CL with a 32-bit operand size (table.ts leaves the 16-bit forms, whose
 * counts above 16 have host-specific results, to the interpreter): the destination shifted by
 * the masked count, filled from the source register; flags as runtime/interp/shift.ts sets them.
 */
function emitDouble(c: EmitCtx, i: Insn, left: boolean, count: 'imm' | 'cl'): void {
  const { m, i32 } = c;
  const acc = i.mod !== 3 ? rmwLinear(c, SZ32, operandLinear(c, i, 4, true)) : null;
  const a = c.save(acc ? acc.read : c.reg(i.rm, SZ32));
  const b = c.save(c.reg(i.reg, SZ32));
  if (!acc && !c.flagsLive) {
    const n = count === 'imm' ? c.const(i.imm & 31) : c.save(i32.and(c.reg(R_ECX, SZ8), c.const(31)));
    if (count === 'imm' && (i.imm & 31) === 0) return;
    const inv = i32.sub(c.const(32), n);
    const res = left ? i32.or(i32.shl(a, n), i32.shr_u(b, inv)) : i32.or(i32.shr_u(a, n), i32.shl(b, inv));
    // A zero count would shift the source in by 32 (Wasm masks it to 0): keep the destination.
    c.emit(count === 'imm' ? c.setReg(i.rm, SZ32, res) : m.if(n, c.setReg(i.rm, SZ32, res)));
    return;
  }
  const apply = (n: Expr): Expr[] => c.capture(() => {
    const inv = i32.sub(c.const(32), n);
    const res = c.save(left ? i32.or(i32.shl(a, n), i32.shr_u(b, inv)) : i32.or(i32.shr_u(a, n), i32.shl(b, inv)));
    const cf = c.save(i32.and(left ? i32.shr_u(a, inv) : i32.shr_u(a, i32.sub(n, c.const(1))), c.const(1)));
    const top = i32.shr_u(res, c.const(31));
    const of = left ? i32.xor(top, cf) : i32.and(i32.xor(top, i32.shr_u(res, c.const(30))), c.const(1));
    const flags = c.save(i32.or(cf, i32.shl(of, c.const(1))));
    if (acc) c.emit(acc.write(res));
    setShiftFlags(c, SZ32, res, flags);
    if (!acc) c.emit(c.setReg(i.rm, SZ32, res));
  });
  if (count === 'imm') {
    const n = i.imm & 31;
    if (n !== 0) c.emit(...apply(c.const(n)));
    return;
  }
  const n = c.save(i32.and(c.reg(R_ECX, SZ8), c.const(31)));
  c.emit(m.if(n, m.block(null, apply(n))));
  c.flagKind = -1;
}

function family(name: string, kind: Kind): EmitterMap {
  return {
    [`${name}EbIb`]: (c, i) => emitShift(c, i, kind, SZ8, 'imm'),
    [`${name}EvIb`]: (c, i) => emitShift(c, i, kind, vsize(i), 'imm'),
    [`${name}Eb1`]: (c, i) => emitShift(c, i, kind, SZ8, 'one'),
    [`${name}Ev1`]: (c, i) => emitShift(c, i, kind, vsize(i), 'one'),
    [`${name}EbCL`]: (c, i) => emitShift(c, i, kind, SZ8, 'cl'),
    [`${name}EvCL`]: (c, i) => emitShift(c, i, kind, vsize(i), 'cl'),
  };
}

export const SHIFT_EMITTERS: EmitterMap = {
  ...family('rol', 'rol'),
  ...family('ror', 'ror'),
  ...family('shl', 'shl'),
  ...family('sal', 'shl'),
  ...family('shr', 'shr'),
  ...family('sar', 'sar'),
  shldEvGvIb: (c, i) => emitDouble(c, i, true, 'imm'),
  shldEvGvCL: (c, i) => emitDouble(c, i, true, 'cl'),
  shrdEvGvIb: (c, i) => emitDouble(c, i, false, 'imm'),
  shrdEvGvCL: (c, i) => emitDouble(c, i, false, 'cl'),
};
