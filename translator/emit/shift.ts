/**
 * Emitters: SHL/SAL, SHR, SAR with an immediate, 1 or CL count, facing runtime/interp/shift.ts
 * (SDM vol. 2, SAL/SAR/SHL/SHR). The count is masked to 5 bits; a zero count changes nothing
 * (not even flags). CF is the last bit shifted out; OF, undefined for counts other than 1, is
 * made deterministic exactly as runtime/interp/shift.ts does (SHL: MSB(result) XOR CF, SHR: XOR
 * of the result's two top bits, SAR: 0). Results are recorded as a LFK_SHIFT lazy record with CF
 * and OF in LF_C. Rotates (which keep SF ZF AF PF) and the double shifts run in the
 * interpreter.
 */
import type { Insn } from '../decoder/insn.ts';
import { R_ECX } from '../abi.ts';
import type { Expr } from '../wasm/backend.ts';
import { SIZE_BITS, SZ8 } from './context.ts';
import type { EmitCtx } from './context.ts';
import { mask, vsize } from './alu.ts';
import { setShiftFlags } from './flags.ts';
import { operandLinear, rmwLinear } from './memory.ts';
import type { EmitterMap } from './types.ts';

type Kind = 'shl' | 'shr' | 'sar';

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

/** Shift of E by `count` (an immediate, 1, or CL). */
function emitShift(c: EmitCtx, i: Insn, kind: Kind, sz: number, count: 'imm' | 'one' | 'cl'): void {
  const { m, i32 } = c;
  const mem = i.mod !== 3;
  const acc = mem ? rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true)) : null;
  const v = c.save(acc ? acc.read : c.reg(i.rm, sz));
  const apply = (n: Expr): Expr[] => c.capture(() => {
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
  ...family('shl', 'shl'),
  ...family('sal', 'shl'),
  ...family('shr', 'shr'),
  ...family('sar', 'sar'),
};
