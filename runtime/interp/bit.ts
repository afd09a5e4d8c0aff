/**
 * Interpreter handlers: bit test and modify (BT BTS BTR BTC), bit scan (BSF BSR), byte swap
 * (BSWAP), and the condition-code families SETcc and CMOVcc (SDM vol. 2 entries of those names).
 *
 * Invariants:
 * - BTx with a register bit offset and a memory operand addresses beyond the operand: the
 *   offset is signed, and the word/dword at EA + 2 * (offset >> 4) (16-bit) or
 *   EA + 4 * (offset >> 5) (32-bit) is accessed. An immediate offset is masked to the width.
 * - BSF/BSR with a zero source set ZF and leave the destination unchanged (as every Intel and
 *   AMD part does). BSWAP with a 16-bit operand size clears the low word, as hardware does.
 * - CMOVcc always reads its source (a memory source may fault even when the condition is false)
 *   and writes the destination only when the condition holds.
 *
 * Undefined flags: BTx change only CF, BSF/BSR only ZF (OF SF AF PF and CF keep their values),
 * which is what the reference host does.
 */
import { F_CF, F_ZF, SZ16, SZ8 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { CONDITIONS } from '../../translator/isa/rows-bit.ts';
import type { Cpu } from '../cpu.ts';
import { setArithFlags, testCC } from '../lazy-flags.ts';
import { ea, getReg, readE, readMem, setReg, writeE, writeMem } from '../insn/operands.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;

/** The new value of the operand after BTx `op` on bit `bit` (BT returns it unchanged). */
function btApply(op: number, v: number, bit: number): number {
  switch (op) {
    case BTS: return v | (1 << bit);
    case BTR: return v & ~(1 << bit);
    case BTC: return v ^ (1 << bit);
    default: return v;
  }
}

/**
 * BTx on the r/m operand. `offset` is the raw bit offset: from a register (`fromReg`, signed and
 * able to address memory beyond the operand) or an immediate (masked to the width).
 */
function btE(cpu: Cpu, i: Insn, op: number, offset: number, fromReg: boolean): void {
  const sz = vsize(i);
  const widthMask = sz === SZ16 ? 15 : 31;
  const bit = offset & widthMask;
  if (i.mod === 3) {
    const v = getReg(cpu, sz, i.rm);
    if (op !== BT) setReg(cpu, sz, i.rm, btApply(op, v, bit));
    setArithFlags(cpu.s, F_CF, (v >>> bit) & 1);
    return;
  }
  let off = ea(cpu, i);
  if (fromReg) {
    // Signed offset: whole words/dwords before or after the addressed operand.
    const delta = sz === SZ16 ? ((offset << 16) >> 20) * 2 : (offset >> 5) * 4;
    off = i.a32 ? (off + delta) | 0 : (off + delta) & 0xffff;
  }
  const n = sz === SZ16 ? 2 : 4;
  let lin: number;
  if (op === BT) {
    lin = cpu.linRead(i.seg, off, n);
  } else {
    lin = cpu.linWrite(i.seg, off, n);
    cpu.checkWrite(lin, n);
  }
  const v = readMem(cpu, sz, lin);
  if (op !== BT) writeMem(cpu, sz, lin, btApply(op, v, bit));
  setArithFlags(cpu.s, F_CF, (v >>> bit) & 1);
}

/** BSF (forward) / BSR: index of the lowest / highest set bit; ZF = source was zero. */
function bitScan(cpu: Cpu, i: Insn, reverse: boolean): void {
  const sz = vsize(i);
  const v = readE(cpu, i, sz);
  if (v === 0) {
    setArithFlags(cpu.s, F_ZF, F_ZF);
    return;
  }
  setReg(cpu, sz, i.reg, reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v));
  setArithFlags(cpu.s, F_ZF, 0);
}

function bswap(cpu: Cpu, i: Insn): void {
  const r = i.reg;
  if (!i.o32) {
    cpu.u16[r << 1] = 0;
    return;
  }
  const v = cpu.s[r];
  cpu.s[r] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function ccHandlers(): HandlerMap {
  const h: Record<string, (cpu: Cpu, i: Insn) => void> = {};
  CONDITIONS.forEach(([cc], n) => {
    h[`set${cc}Eb`] = (cpu, i) => writeE(cpu, i, SZ8, testCC(cpu.s, n) ? 1 : 0);
    h[`cmov${cc}GvEv`] = (cpu, i) => {
      const sz = vsize(i);
      const v = readE(cpu, i, sz);
      if (testCC(cpu.s, n)) setReg(cpu, sz, i.reg, v);
    };
  });
  return h;
}

export const BIT_HANDLERS: HandlerMap = {
  btEvGv: (cpu, i) => btE(cpu, i, BT, getReg(cpu, vsize(i), i.reg), true),
  btsEvGv: (cpu, i) => btE(cpu, i, BTS, getReg(cpu, vsize(i), i.reg), true),
  btrEvGv: (cpu, i) => btE(cpu, i, BTR, getReg(cpu, vsize(i), i.reg), true),
  btcEvGv: (cpu, i) => btE(cpu, i, BTC, getReg(cpu, vsize(i), i.reg), true),
  btEvIb: (cpu, i) => btE(cpu, i, BT, i.imm, false),
  btsEvIb: (cpu, i) => btE(cpu, i, BTS, i.imm, false),
  btrEvIb: (cpu, i) => btE(cpu, i, BTR, i.imm, false),
  btcEvIb: (cpu, i) => btE(cpu, i, BTC, i.imm, false),
  bsfGvEv: (cpu, i) => bitScan(cpu, i, false),
  bsrGvEv: (cpu, i) => bitScan(cpu, i, true),
  bswapZd: bswap,
  ...ccHandlers(),
};
