/**
 * Emitters: data movement (MOV, MOVZX/MOVSX, LEA, XCHG, XLAT, NOPs), facing
 * runtime/interp/move.ts. SDM vol. 2 entries of the same names. The segment-register moves are
 * sensitive and never emitted here.
 */
import type { Insn } from '../decoder/insn.ts';
import { R_EAX, R_EBX, SZ16, SZ32, SZ8 } from '../abi.ts';
import type { EmitCtx } from './context.ts';
import { imm, mask } from './alu.ts';
import { effectiveAddress, linear, operandLinear, readLinear, readRM, rmwLinear, writeLinear } from './memory.ts';
import type { Lin } from './memory.ts';
import type { Expr } from '../wasm/backend.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

/**
 * Writes the r/m operand: a register, or memory (the value is evaluated before the store). The
 * write is the instruction's last effect.
 */
export function writeRM(c: EmitCtx, i: Insn, sz: number, v: Expr): void {
  if (i.mod === 3) c.emit(c.setReg(i.rm, sz, v));
  else c.emit(writeLinear(c, sz, operandLinear(c, i, 1 << sz, true), v, true));
}

/** A moffs operand (A0..A3): the displacement is the offset. */
function moffsLinear(c: EmitCtx, i: Insn, n: number, write: boolean): Lin {
  return linear(c, i.seg, c.const(i.a32 ? i.disp : i.disp & 0xffff), n, write);
}

function xchgE(c: EmitCtx, i: Insn, sz: number): void {
  if (i.mod === 3) {
    const t = c.save(c.reg(i.rm, sz));
    c.emit(c.setReg(i.rm, sz, c.reg(i.reg, sz)));
    c.emit(c.setReg(i.reg, sz, t));
    return;
  }
  const acc = rmwLinear(c, sz, operandLinear(c, i, 1 << sz, true));
  const old = c.save(acc.read);
  c.emit(acc.write(c.reg(i.reg, sz)));
  c.emit(c.setReg(i.reg, sz, old));
}

const nothing = (): void => {};

export const MOVE_EMITTERS: EmitterMap = {
  movEbGb: (c, i) => writeRM(c, i, SZ8, c.reg(i.reg, SZ8)),
  movEvGv: (c, i) => writeRM(c, i, vsize(i), c.reg(i.reg, vsize(i))),
  movGbEb: (c, i) => c.emit(c.setReg(i.reg, SZ8, readRM(c, i, SZ8))),
  movGvEv: (c, i) => c.emit(c.setReg(i.reg, vsize(i), readRM(c, i, vsize(i)))),
  movALOb: (c, i) => c.emit(c.setReg(R_EAX, SZ8, readLinear(c, SZ8, moffsLinear(c, i, 1, false)))),
  moveAXOv: (c, i) => { const sz = vsize(i); c.emit(c.setReg(R_EAX, sz, readLinear(c, sz, moffsLinear(c, i, 1 << sz, false)))); },
  movObAL: (c, i) => c.emit(writeLinear(c, SZ8, moffsLinear(c, i, 1, true), c.reg(R_EAX, SZ8), true)),
  movOveAX: (c, i) => { const sz = vsize(i); c.emit(writeLinear(c, sz, moffsLinear(c, i, 1 << sz, true), c.reg(R_EAX, sz), true)); },
  movZbIb: (c, i) => c.emit(c.setReg(i.reg, SZ8, imm(c, i, SZ8))),
  movZvIv: (c, i) => c.emit(c.setReg(i.reg, vsize(i), imm(c, i, vsize(i)))),
  movEbIb: (c, i) => writeRM(c, i, SZ8, imm(c, i, SZ8)),
  movEvIz: (c, i) => writeRM(c, i, vsize(i), imm(c, i, vsize(i))),

  movzxGvEb: (c, i) => c.emit(c.setReg(i.reg, vsize(i), readRM(c, i, SZ8))),
  movzxGvEw: (c, i) => c.emit(c.setReg(i.reg, vsize(i), mask(c, vsize(i), readRM(c, i, SZ16)))),
  movsxGvEb: (c, i) => c.emit(c.setReg(i.reg, vsize(i), mask(c, vsize(i), c.i32.extend8_s(readRM(c, i, SZ8))))),
  movsxGvEw: (c, i) => c.emit(c.setReg(i.reg, vsize(i), mask(c, vsize(i), c.i32.extend16_s(readRM(c, i, SZ16))))),

  // LEA computes the address at the address size and stores it at the operand size.
  leaGvM: (c, i) => c.emit(c.setReg(i.reg, vsize(i), mask(c, vsize(i), effectiveAddress(c, i)))),

  xchgEbGb: (c, i) => xchgE(c, i, SZ8),
  xchgEvGv: (c, i) => xchgE(c, i, vsize(i)),
  xchgZveAX: (c, i) => {
    const sz = vsize(i);
    const t = c.save(c.reg(i.reg, sz));
    c.emit(c.setReg(i.reg, sz, c.reg(R_EAX, sz)));
    c.emit(c.setReg(R_EAX, sz, t));
  },
  xlat: (c, i) => {
    const { i32 } = c;
    const off = i32.add(c.reg(R_EBX, i.a32 ? SZ32 : SZ16), c.reg(R_EAX, SZ8));
    const lin = linear(c, i.seg, i.a32 ? off : i32.and(off, c.const(0xffff)), 1, false);
    c.emit(c.setReg(R_EAX, SZ8, readLinear(c, SZ8, lin)));
  },

  nop: nothing,
  nopEv: nothing,
  hintnop18: nothing,
  hintnop19: nothing,
  hintnop1a: nothing,
  hintnop1b: nothing,
  hintnop1c: nothing,
  hintnop1d: nothing,
  hintnop1e: nothing,
};
