/**
 * Emitters: MUL, IMUL (one, two and three operands), DIV, IDIV, facing runtime/interp/muldiv.ts
 * (SDM vol. 2). Products use i64 where they exceed 32 bits. After a multiply CF = OF = "the upper
 * half is significant"; SF ZF AF PF are undefined and we record the low half (LFK_SHIFT record
 * with CF|OF in LF_C). DIV/IDIV raise #DE for a zero divisor or a quotient that does not fit,
 * before anything changes; their flags are undefined and left as they were.
 */
import type { Insn } from '../decoder/insn.ts';
import { EX_DE, EXIT_EXCEPTION, R_EAX, R_EDX, SZ16, SZ32, SZ8 } from '../abi.ts';
import type { Expr } from '../wasm/backend.ts';
import type { EmitCtx } from './context.ts';
import { imm, mask } from './alu.ts';
import { setShiftFlags } from './flags.ts';
import { readRM } from './memory.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

function source(c: EmitCtx, i: Insn, sz: number): Expr {
  return c.save(readRM(c, i, sz));
}

function sext(c: EmitCtx, sz: number, v: Expr): Expr {
  return sz === SZ8 ? c.i32.extend8_s(v) : sz === SZ16 ? c.i32.extend16_s(v) : v;
}

/** Records CF = OF = `ovf` (0/1) with `low` as the result (nothing when the record is dead). */
function mulFlags(c: EmitCtx, sz: number, low: Expr, ovf: Expr): void {
  const { i32 } = c;
  if (!c.flagsLive) return;
  const o = c.save(ovf);
  setShiftFlags(c, sz, low, i32.or(o, i32.shl(o, c.const(1))));
}

/** MUL/IMUL with the accumulator: AX = AL * src, DX:AX = AX * src, EDX:EAX = EAX * src. */
function mulAcc(c: EmitCtx, i: Insn, sz: number, signed: boolean): void {
  const { i32, i64, m } = c;
  const src = source(c, i, sz);
  if (sz === SZ32) {
    const p = c.tmp64();
    const ext = (v: Expr): Expr => (signed ? i64.extend_s(v) : i64.extend_u(v));
    c.emit(m.set(p, i64.mul(ext(c.reg(R_EAX, SZ32)), ext(src))));
    const lo = c.save(i32.wrap(m.get(p, m.i64Type)));
    const hi = c.save(i32.wrap(i64.shr_u(m.get(p, m.i64Type), i64.const(32n))));
    const ovf = signed ? i32.ne(hi, i32.shr_s(lo, c.const(31))) : i32.ne(hi, c.const(0));
    mulFlags(c, SZ32, lo, ovf);
    c.emit(c.setReg(R_EAX, SZ32, lo), c.setReg(R_EDX, SZ32, hi));
    return;
  }
  const a = c.reg(R_EAX, sz);
  const p = c.save(signed ? i32.mul(sext(c, sz, a), sext(c, sz, src)) : i32.mul(a, src));
  if (sz === SZ8) {
    const ovf = signed ? i32.ne(p, i32.extend8_s(p)) : i32.gt_u(p, c.const(0xff));
    mulFlags(c, SZ8, i32.and(p, c.const(0xff)), ovf);
    c.emit(c.setReg(R_EAX, SZ16, i32.and(p, c.const(0xffff))));
  } else {
    const ovf = signed ? i32.ne(p, i32.extend16_s(p)) : i32.gt_u(p, c.const(0xffff));
    mulFlags(c, SZ16, i32.and(p, c.const(0xffff)), ovf);
    c.emit(c.setReg(R_EAX, SZ16, i32.and(p, c.const(0xffff))), c.setReg(R_EDX, SZ16, i32.shr_u(p, c.const(16))));
  }
}

/** IMUL Gv, Ev[, imm]: the truncated signed product; CF = OF = it did not fit. */
function imulG(c: EmitCtx, i: Insn, b: (sz: number) => Expr, aFromE: boolean): void {
  const { i32, i64, m } = c;
  const sz = vsize(i);
  const ev = source(c, i, sz);
  const a = aFromE ? ev : c.reg(i.reg, sz);
  const bv = aFromE ? b(sz) : ev;
  if (!c.flagsLive) {
    // Only the truncated product: the flags it would set are dead (liveness.ts).
    c.emit(c.setReg(i.reg, sz, sz === SZ32 ? i32.mul(a, bv) : i32.and(i32.mul(a, bv), c.const(0xffff))));
    return;
  }
  if (sz === SZ32) {
    const p = c.tmp64();
    c.emit(m.set(p, i64.mul(i64.extend_s(a), i64.extend_s(bv))));
    const lo = c.save(i32.wrap(m.get(p, m.i64Type)));
    mulFlags(c, SZ32, lo, i64.ne(m.get(p, m.i64Type), i64.extend_s(lo)));
    c.emit(c.setReg(i.reg, SZ32, lo));
    return;
  }
  const p = c.save(i32.mul(i32.extend16_s(a), i32.extend16_s(bv)));
  const lo = c.save(i32.and(p, c.const(0xffff)));
  mulFlags(c, SZ16, lo, i32.ne(p, i32.extend16_s(p)));
  c.emit(c.setReg(i.reg, SZ16, lo));
}

/** DIV/IDIV: quotient to AL/AX/EAX, remainder to AH/DX/EDX; #DE leaves everything unchanged. */
function div(c: EmitCtx, i: Insn, sz: number, signed: boolean): void {
  const { i32, i64, m } = c;
  const de = (): Expr => c.faultExit(EXIT_EXCEPTION | EX_DE);
  const d = source(c, i, sz);
  c.emit(m.if(i32.eqz(d), de()));
  if (sz === SZ32) {
    // 64-bit dividend EDX:EAX.
    const n = c.tmp64();
    c.emit(m.set(n, i64.or(i64.shl(i64.extend_u(c.reg(R_EDX, SZ32)), i64.const(32n)), i64.extend_u(c.reg(R_EAX, SZ32)))));
    const q = c.tmp64();
    const nv = m.get(n, m.i64Type);
    if (signed) {
      // INT64_MIN / -1 traps in Wasm; its quotient does not fit anyway.
      c.emit(m.if(i32.and(i64.eq(nv, i64.const(-0x8000000000000000n)), i32.eq(d, c.const(-1))), de()));
      c.emit(m.set(q, i64.div_s(m.get(n, m.i64Type), i64.extend_s(d))));
      const qv = m.get(q, m.i64Type);
      c.emit(m.if(i64.ne(qv, i64.extend_s(i32.wrap(m.get(q, m.i64Type)))), de()));
      const r = c.save(i32.wrap(i64.rem_s(m.get(n, m.i64Type), i64.extend_s(d))));
      c.emit(c.setReg(R_EAX, SZ32, i32.wrap(m.get(q, m.i64Type))), c.setReg(R_EDX, SZ32, r));
    } else {
      c.emit(m.set(q, i64.div_u(nv, i64.extend_u(d))));
      c.emit(m.if(i64.ne(i64.shr_u(m.get(q, m.i64Type), i64.const(32n)), i64.const(0n)), de()));
      const r = c.save(i32.wrap(i64.rem_u(m.get(n, m.i64Type), i64.extend_u(d))));
      c.emit(c.setReg(R_EAX, SZ32, i32.wrap(m.get(q, m.i64Type))), c.setReg(R_EDX, SZ32, r));
    }
    return;
  }
  // 8-bit: AX / src; 16-bit: DX:AX / src. The dividend fits in 32 bits; use i64 for the signed
  // case so that -2^31 / -1 cannot trap.
  const bits = sz === SZ8 ? 8 : 16;
  const n = c.save(sz === SZ8 ? c.reg(R_EAX, SZ16) : i32.or(i32.shl(c.reg(R_EDX, SZ16), c.const(16)), c.reg(R_EAX, SZ16)));
  let q: Expr;
  let r: Expr;
  if (signed) {
    const sn = sz === SZ8 ? i32.extend16_s(n) : n;
    const sd = sext(c, sz, d);
    const nq = c.tmp64();
    c.emit(m.set(nq, i64.div_s(i64.extend_s(sn), i64.extend_s(sd))));
    q = c.save(i32.wrap(m.get(nq, m.i64Type)));
    c.emit(m.if(i32.ne(q, sext(c, sz, mask(c, sz, q))), de()));
    r = c.save(i32.rem_s(sz === SZ8 ? i32.extend16_s(n) : n, sext(c, sz, d)));
  } else {
    q = c.save(i32.div_u(n, d));
    c.emit(m.if(i32.gt_u(q, c.const((1 << bits) - 1)), de()));
    r = c.save(i32.rem_u(n, d));
  }
  if (sz === SZ8) {
    c.emit(c.setReg(R_EAX, SZ16, i32.or(i32.and(q, c.const(0xff)), i32.shl(i32.and(r, c.const(0xff)), c.const(8)))));
  } else {
    c.emit(c.setReg(R_EAX, SZ16, i32.and(q, c.const(0xffff))), c.setReg(R_EDX, SZ16, i32.and(r, c.const(0xffff))));
  }
}

export const MULDIV_EMITTERS: EmitterMap = {
  mulEb: (c, i) => mulAcc(c, i, SZ8, false),
  mulEv: (c, i) => mulAcc(c, i, vsize(i), false),
  imulEb: (c, i) => mulAcc(c, i, SZ8, true),
  imulEv: (c, i) => mulAcc(c, i, vsize(i), true),
  imulGvEv: (c, i) => imulG(c, i, () => c.const(0), false),
  imulGvEvIz: (c, i) => imulG(c, i, (sz) => imm(c, i, sz), true),
  imulGvEvIbs: (c, i) => imulG(c, i, (sz) => imm(c, i, sz), true),
  divEb: (c, i) => div(c, i, SZ8, false),
  divEv: (c, i) => div(c, i, vsize(i), false),
  idivEb: (c, i) => div(c, i, SZ8, true),
  idivEv: (c, i) => div(c, i, vsize(i), true),
};
