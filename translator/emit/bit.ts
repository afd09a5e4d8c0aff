/**
 * Emitters: BT/BTS/BTR/BTC, BSF/BSR and BSWAP, facing runtime/interp/bit.ts (SDM vol. 2).
 * BTx change only CF and BSF/BSR only ZF (the other status flags keep their values, as on the
 * reference host): both materialize the flags and replace one bit (flags.ts). A register bit
 * offset with a memory operand addresses the word/dword at EA + 2 * (offset >> 4) or
 * EA + 4 * (offset >> 5) (signed); an immediate offset is masked to the width.
 */
import type { Insn } from '../decoder/insn.ts';
import { F_CF, F_ZF, SZ16, SZ32 } from '../abi.ts';
import type { Expr } from '../wasm/backend.ts';
import type { EmitCtx } from './context.ts';
import { setArithFlags } from './flags.ts';
import { effectiveAddress, linear, readLinear, readRM, rmwLinear } from './memory.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;

function apply(c: EmitCtx, op: number, v: Expr, bit: Expr): Expr {
  const { i32 } = c;
  const m = i32.shl(c.const(1), bit);
  switch (op) {
    case BTS: return i32.or(v, m);
    case BTR: return i32.and(v, i32.xor(m, c.const(-1)));
    default: return i32.xor(v, m);
  }
}

function btE(c: EmitCtx, i: Insn, op: number, fromReg: boolean): void {
  const { i32 } = c;
  if (i.mod === 3 && op === BT && !c.flagsLive) return;
  const sz = vsize(i);
  const width = sz === SZ16 ? 15 : 31;
  const offset = c.save(fromReg ? c.reg(i.reg, sz) : c.const(i.imm & 0xff));
  const bit = c.save(i32.and(offset, c.const(width)));
  if (i.mod === 3) {
    const v = c.save(c.reg(i.rm, sz));
    // BT with a dead CF (liveness.ts) does nothing at all.
    if (c.flagsLive) setArithFlags(c, F_CF, c.save(i32.and(i32.shr_u(v, bit), c.const(1))));
    if (op !== BT) c.emit(c.setReg(i.rm, sz, sz === SZ32 ? apply(c, op, v, bit) : i32.and(apply(c, op, v, bit), c.const(0xffff))));
    return;
  }
  let off = effectiveAddress(c, i);
  if (fromReg) {
    const delta = sz === SZ16
      ? i32.shl(i32.shr_s(i32.shl(offset, c.const(16)), c.const(20)), c.const(1))
      : i32.shl(i32.shr_s(offset, c.const(5)), c.const(2));
    off = i.a32 ? i32.add(off, delta) : i32.and(i32.add(off, delta), c.const(0xffff));
  }
  const n = sz === SZ16 ? 2 : 4;
  if (op === BT) {
    const v = c.save(readLinear(c, sz, linear(c, i.seg, off, n, false)));
    setArithFlags(c, F_CF, i32.and(i32.shr_u(v, bit), c.const(1)));
    return;
  }
  const acc = rmwLinear(c, sz, linear(c, i.seg, off, n, true));
  const v = c.save(acc.read);
  const nv = c.save(sz === SZ32 ? apply(c, op, v, bit) : i32.and(apply(c, op, v, bit), c.const(0xffff)));
  c.emit(acc.write(nv));
  setArithFlags(c, F_CF, i32.and(i32.shr_u(v, bit), c.const(1)));
}

/** BSF/BSR: the index of the lowest/highest set bit; a zero source sets ZF and changes nothing. */
function bitScan(c: EmitCtx, i: Insn, reverse: boolean): void {
  const { i32, m } = c;
  const sz = vsize(i);
  const v = c.save(readRM(c, i, sz));
  const index = reverse ? i32.sub(c.const(31), i32.clz(v)) : i32.ctz(v);
  if (!c.flagsLive) {
    c.emit(m.if(v, c.setReg(i.reg, sz, index)));
    return;
  }
  const zero = c.save(i32.eqz(v));
  setArithFlags(c, F_ZF, i32.shl(zero, c.const(6)));
  c.emit(m.if(i32.eqz(zero), c.setReg(i.reg, sz, index)));
}

export const BIT_EMITTERS: EmitterMap = {
  btEvGv: (c, i) => btE(c, i, BT, true),
  btsEvGv: (c, i) => btE(c, i, BTS, true),
  btrEvGv: (c, i) => btE(c, i, BTR, true),
  btcEvGv: (c, i) => btE(c, i, BTC, true),
  btEvIb: (c, i) => btE(c, i, BT, false),
  btsEvIb: (c, i) => btE(c, i, BTS, false),
  btrEvIb: (c, i) => btE(c, i, BTR, false),
  btcEvIb: (c, i) => btE(c, i, BTC, false),
  bsfGvEv: (c, i) => bitScan(c, i, false),
  bsrGvEv: (c, i) => bitScan(c, i, true),
  // BSWAP with a 16-bit operand size clears the word, as hardware does.
  bswapZd: (c, i) => {
    const { i32 } = c;
    if (!i.o32) {
      c.emit(c.setReg(i.reg, SZ16, c.const(0)));
      return;
    }
    const v = c.save(c.reg(i.reg, SZ32));
    const hi = i32.or(i32.shl(v, c.const(24)), i32.shl(i32.and(v, c.const(0xff00)), c.const(8)));
    const lo = i32.or(i32.and(i32.shr_u(v, c.const(8)), c.const(0xff00)), i32.shr_u(v, c.const(24)));
    c.emit(c.setReg(i.reg, SZ32, i32.or(hi, lo)));
  },
};
