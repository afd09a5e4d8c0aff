/**
 * Interpreter handlers: data movement without segment registers (SDM vol. 2: MOV, MOVZX, MOVSX,
 * LEA, XCHG, NOP, XLAT, LAHF, SAHF) and the single-flag instructions CLC STC CMC CLD STD. MOV to
 * or from segment registers and the far-pointer loads (LES LDS LSS LFS LGS) are the VMM's.
 *
 * Invariants:
 * - moffs forms (Ob/Ov) are decoded as memory operands with no base or index and the offset in
 *   `disp`, so the ordinary r/m accessors serve them.
 * - LEA computes the address at the address size and truncates it to the operand size.
 * - XCHG with memory checks writability before reading (it is a locked read-modify-write).
 * - Hint NOPs (0F 18..1F) decode their memory operand but never access it.
 */
import { EFLAGS, F_AF, F_CF, F_DF, F_PF, F_SF, F_ZF, R_EAX, R_EBX, SZ16, SZ8 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { getCF, getEflags, setArithFlags } from '../lazy-flags.ts';
import { ea, getReg, immOf, readE, readMem, rmwLin, setReg, writeE, writeMem } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const I_EFLAGS = EFLAGS >> 2;
/** The flags LAHF/SAHF transfer through AH. */
const F_AH = F_SF | F_ZF | F_AF | F_PF | F_CF;
/** AH register number in the 8-bit encoding. */
const R_AH = 4;

function xchg(cpu: Cpu, i: Insn, sz: number): void {
  const g = getReg(cpu, sz, i.reg);
  if (i.mod === 3) {
    setReg(cpu, sz, i.reg, getReg(cpu, sz, i.rm));
    setReg(cpu, sz, i.rm, g);
    return;
  }
  const lin = rmwLin(cpu, i, sz);
  const m = readMem(cpu, sz, lin);
  writeMem(cpu, sz, lin, g);
  setReg(cpu, sz, i.reg, m);
}

const nop: Handler = () => {};

export const MOVE_HANDLERS: HandlerMap = {
  movEbGb: (cpu, i) => writeE(cpu, i, SZ8, cpu.reg8(i.reg)),
  movEvGv: (cpu, i) => { const sz = vsize(i); writeE(cpu, i, sz, getReg(cpu, sz, i.reg)); },
  movGbEb: (cpu, i) => cpu.setReg8(i.reg, readE(cpu, i, SZ8)),
  movGvEv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, i.reg, readE(cpu, i, sz)); },
  movALOb: (cpu, i) => cpu.setReg8(R_EAX, readE(cpu, i, SZ8)),
  moveAXOv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, R_EAX, readE(cpu, i, sz)); },
  movObAL: (cpu, i) => writeE(cpu, i, SZ8, cpu.reg8(R_EAX)),
  movOveAX: (cpu, i) => { const sz = vsize(i); writeE(cpu, i, sz, getReg(cpu, sz, R_EAX)); },
  movZbIb: (cpu, i) => cpu.setReg8(i.reg, i.imm & 0xff),
  movZvIv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, i.reg, immOf(i, sz)); },
  movEbIb: (cpu, i) => writeE(cpu, i, SZ8, i.imm & 0xff),
  movEvIz: (cpu, i) => { const sz = vsize(i); writeE(cpu, i, sz, immOf(i, sz)); },

  movzxGvEb: (cpu, i) => setReg(cpu, vsize(i), i.reg, readE(cpu, i, SZ8)),
  movzxGvEw: (cpu, i) => setReg(cpu, vsize(i), i.reg, readE(cpu, i, SZ16)),
  movsxGvEb: (cpu, i) => {
    const v = (readE(cpu, i, SZ8) << 24) >> 24;
    setReg(cpu, vsize(i), i.reg, i.o32 ? v : v & 0xffff);
  },
  movsxGvEw: (cpu, i) => {
    const v = (readE(cpu, i, SZ16) << 16) >> 16;
    setReg(cpu, vsize(i), i.reg, i.o32 ? v : v & 0xffff);
  },

  leaGvM: (cpu, i) => {
    const a = ea(cpu, i); // already wrapped to the address size
    if (i.o32) cpu.s[i.reg] = a;
    else cpu.u16[i.reg << 1] = a;
  },

  xchgEbGb: (cpu, i) => xchg(cpu, i, SZ8),
  xchgEvGv: (cpu, i) => xchg(cpu, i, vsize(i)),
  xchgZveAX: (cpu, i) => {
    const sz = vsize(i);
    const a = getReg(cpu, sz, R_EAX);
    setReg(cpu, sz, R_EAX, getReg(cpu, sz, i.reg));
    setReg(cpu, sz, i.reg, a);
  },
  nop,
  nopEv: nop,
  hintnop18: nop,
  hintnop19: nop,
  hintnop1a: nop,
  hintnop1b: nop,
  hintnop1c: nop,
  hintnop1d: nop,
  hintnop1e: nop,

  /** XLAT: AL = [seg:(e)BX + AL] with the address size; the segment may be overridden. */
  xlat: (cpu, i) => {
    const s = cpu.s;
    const off = i.a32 ? (s[R_EBX] + cpu.reg8(R_EAX)) | 0 : (s[R_EBX] + cpu.reg8(R_EAX)) & 0xffff;
    cpu.setReg8(R_EAX, cpu.read8(cpu.linRead(i.seg, off, 1)));
  },

  lahf: (cpu) => cpu.setReg8(R_AH, (getEflags(cpu.s) & F_AH) | 0x02),
  sahf: (cpu) => setArithFlags(cpu.s, F_AH, cpu.reg8(R_AH)),
  clc: (cpu) => setArithFlags(cpu.s, F_CF, 0),
  stc: (cpu) => setArithFlags(cpu.s, F_CF, F_CF),
  cmc: (cpu) => setArithFlags(cpu.s, F_CF, getCF(cpu.s) ^ F_CF),
  // DF is not part of the lazy record: EFLAGS holds it directly.
  cld: (cpu) => { cpu.s[I_EFLAGS] &= ~F_DF; },
  std: (cpu) => { cpu.s[I_EFLAGS] |= F_DF; },
};
