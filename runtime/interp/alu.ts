/**
 * Interpreter handlers: integer arithmetic and logic (ADD OR ADC SBB AND SUB XOR CMP, TEST,
 * INC/DEC, NOT/NEG, CBW/CWD, XADD, CMPXCHG, CMPXCHG8B). Flags are recorded lazily
 * (lazy-flags.ts). SDM vol. 2 entries of the same names.
 */
import { F_ZF, LF_C, LFK_ADC, LFK_ADD, LFK_DEC, LFK_INC, LFK_LOGIC, LFK_SBB, LFK_SUB, R_EAX, R_EBX, R_ECX, R_EDX, SIZE_MASK, SZ8 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { ALU, ALU_OPS } from '../../translator/isa/rows-alu.ts';
import type { Cpu } from '../cpu.ts';
import { getCF, setArithFlags, setLazy } from '../lazy-flags.ts';
import { getReg, immOf, memLinRead, readE, rmwLin, readMem, setReg, writeMem } from '../insn/operands.ts';
import type { Handler } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const I_LF_C = LF_C >> 2;

const { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP } = ALU;

/** Performs ALU op `op` on masked operands, records flags, returns the masked result. */
export function aluOp(cpu: Cpu, op: number, sz: number, a: number, b: number): number {
  const s = cpu.s;
  const mask = SIZE_MASK[sz];
  let r: number;
  switch (op) {
    case ADD: r = (a + b) & mask; setLazy(s, LFK_ADD, sz, a, b, r); return r;
    case OR: r = (a | b) & mask; setLazy(s, LFK_LOGIC, sz, a, b, r); return r;
    case ADC: {
      const c = getCF(s);
      r = (a + b + c) & mask;
      s[I_LF_C] = c;
      setLazy(s, LFK_ADC, sz, a, b, r);
      return r;
    }
    case SBB: {
      const c = getCF(s);
      r = (a - b - c) & mask;
      s[I_LF_C] = c;
      setLazy(s, LFK_SBB, sz, a, b, r);
      return r;
    }
    case AND: r = a & b & mask; setLazy(s, LFK_LOGIC, sz, a, b, r); return r;
    case XOR: r = (a ^ b) & mask; setLazy(s, LFK_LOGIC, sz, a, b, r); return r;
    default: r = (a - b) & mask; setLazy(s, LFK_SUB, sz, a, b, r); return r; // SUB, CMP
  }
}

/** op E, src: register or read-modify-write memory; CMP writes nothing. */
function aluE(cpu: Cpu, i: Insn, op: number, sz: number, b: number): void {
  if (i.mod === 3) {
    const r = aluOp(cpu, op, sz, getReg(cpu, sz, i.rm), b);
    if (op !== CMP) setReg(cpu, sz, i.rm, r);
  } else if (op === CMP) {
    aluOp(cpu, op, sz, readMem(cpu, sz, memLinRead(cpu, i, 1 << sz)), b);
  } else {
    const lin = rmwLin(cpu, i, sz);
    writeMem(cpu, sz, lin, aluOp(cpu, op, sz, readMem(cpu, sz, lin), b));
  }
}

function makeAlu(op: number): Record<string, Handler> {
  const m = ALU_OPS[op];
  const write = op !== CMP;
  const imm8: Handler = (cpu, i) => aluE(cpu, i, op, SZ8, i.imm & 0xff);
  return {
    [`${m}EbGb`]: (cpu, i) => aluE(cpu, i, op, SZ8, cpu.reg8(i.reg)),
    [`${m}EvGv`]: (cpu, i) => { const sz = vsize(i); aluE(cpu, i, op, sz, getReg(cpu, sz, i.reg)); },
    [`${m}GbEb`]: (cpu, i) => {
      const r = aluOp(cpu, op, SZ8, cpu.reg8(i.reg), readE(cpu, i, SZ8));
      if (write) cpu.setReg8(i.reg, r);
    },
    [`${m}GvEv`]: (cpu, i) => {
      const sz = vsize(i);
      const r = aluOp(cpu, op, sz, getReg(cpu, sz, i.reg), readE(cpu, i, sz));
      if (write) setReg(cpu, sz, i.reg, r);
    },
    [`${m}ALIb`]: (cpu, i) => {
      const r = aluOp(cpu, op, SZ8, cpu.reg8(R_EAX), i.imm & 0xff);
      if (write) cpu.setReg8(R_EAX, r);
    },
    [`${m}eAXIz`]: (cpu, i) => {
      const sz = vsize(i);
      const r = aluOp(cpu, op, sz, getReg(cpu, sz, R_EAX), immOf(i, sz));
      if (write) setReg(cpu, sz, R_EAX, r);
    },
    [`${m}EbIb`]: imm8,
    [`${m}EbIb82`]: imm8,
    [`${m}EvIz`]: (cpu, i) => { const sz = vsize(i); aluE(cpu, i, op, sz, immOf(i, sz)); },
    [`${m}EvIbs`]: (cpu, i) => { const sz = vsize(i); aluE(cpu, i, op, sz, immOf(i, sz)); },
  };
}

function test(cpu: Cpu, sz: number, a: number, b: number): void {
  const r = a & b & SIZE_MASK[sz];
  setLazy(cpu.s, LFK_LOGIC, sz, a, b, r);
}

/** INC/DEC keep CF: it is saved in LF_C for the lazy evaluator. */
function incDec(cpu: Cpu, sz: number, a: number, dec: boolean): number {
  const s = cpu.s;
  s[I_LF_C] = getCF(s);
  const r = (dec ? a - 1 : a + 1) & SIZE_MASK[sz];
  setLazy(s, dec ? LFK_DEC : LFK_INC, sz, a, 1, r);
  return r;
}

function unaryE(cpu: Cpu, i: Insn, sz: number, f: (cpu: Cpu, sz: number, a: number) => number): void {
  if (i.mod === 3) setReg(cpu, sz, i.rm, f(cpu, sz, getReg(cpu, sz, i.rm)));
  else {
    const lin = rmwLin(cpu, i, sz);
    writeMem(cpu, sz, lin, f(cpu, sz, readMem(cpu, sz, lin)));
  }
}

const inc = (cpu: Cpu, sz: number, a: number): number => incDec(cpu, sz, a, false);
const dec = (cpu: Cpu, sz: number, a: number): number => incDec(cpu, sz, a, true);
const not = (_cpu: Cpu, sz: number, a: number): number => ~a & SIZE_MASK[sz];
const neg = (cpu: Cpu, sz: number, a: number): number => {
  const r = -a & SIZE_MASK[sz];
  setLazy(cpu.s, LFK_SUB, sz, 0, a, r);
  return r;
};

function xadd(cpu: Cpu, i: Insn, sz: number): void {
  const src = getReg(cpu, sz, i.reg);
  if (i.mod === 3) {
    const dst = getReg(cpu, sz, i.rm);
    const r = aluOp(cpu, ADD, sz, dst, src);
    setReg(cpu, sz, i.reg, dst);
    setReg(cpu, sz, i.rm, r);
  } else {
    const lin = rmwLin(cpu, i, sz);
    const dst = readMem(cpu, sz, lin);
    const r = aluOp(cpu, ADD, sz, dst, src);
    writeMem(cpu, sz, lin, r);
    setReg(cpu, sz, i.reg, dst);
  }
}

/** CMPXCHG: compare the accumulator with E; equal -> E = G, else accumulator = E. */
function cmpxchg(cpu: Cpu, i: Insn, sz: number): void {
  const acc = getReg(cpu, sz, R_EAX);
  if (i.mod === 3) {
    const dst = getReg(cpu, sz, i.rm);
    aluOp(cpu, CMP, sz, acc, dst);
    if (acc === dst) setReg(cpu, sz, i.rm, getReg(cpu, sz, i.reg));
    else setReg(cpu, sz, R_EAX, dst);
  } else {
    // The destination is always written (with its old value on failure), as on hardware.
    const lin = rmwLin(cpu, i, sz);
    const dst = readMem(cpu, sz, lin);
    aluOp(cpu, CMP, sz, acc, dst);
    if (acc === dst) writeMem(cpu, sz, lin, getReg(cpu, sz, i.reg));
    else {
      writeMem(cpu, sz, lin, dst);
      setReg(cpu, sz, R_EAX, dst);
    }
  }
}

function cmpxchg8b(cpu: Cpu, i: Insn): void {
  const s = cpu.s;
  const lin = rmwLin(cpu, i, 3); // size code 3 = 8 bytes
  const lo = cpu.read32(lin);
  const hi = cpu.read32((lin + 4) | 0);
  if (lo === s[R_EAX] && hi === s[R_EDX]) {
    cpu.write32(lin, s[R_EBX]);
    cpu.write32((lin + 4) | 0, s[R_ECX]);
    setArithFlags(s, F_ZF, F_ZF);
  } else {
    cpu.write32(lin, lo);
    cpu.write32((lin + 4) | 0, hi);
    s[R_EAX] = lo;
    s[R_EDX] = hi;
    setArithFlags(s, F_ZF, 0);
  }
}

export const ALU_HANDLERS: Readonly<Record<string, Handler>> = {
  ...makeAlu(ADD), ...makeAlu(OR), ...makeAlu(ADC), ...makeAlu(SBB),
  ...makeAlu(AND), ...makeAlu(SUB), ...makeAlu(XOR), ...makeAlu(CMP),

  incZv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, i.reg, inc(cpu, sz, getReg(cpu, sz, i.reg))); },
  decZv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, i.reg, dec(cpu, sz, getReg(cpu, sz, i.reg))); },
  incEb: (cpu, i) => unaryE(cpu, i, SZ8, inc),
  decEb: (cpu, i) => unaryE(cpu, i, SZ8, dec),
  incEv: (cpu, i) => unaryE(cpu, i, vsize(i), inc),
  decEv: (cpu, i) => unaryE(cpu, i, vsize(i), dec),
  notEb: (cpu, i) => unaryE(cpu, i, SZ8, not),
  notEv: (cpu, i) => unaryE(cpu, i, vsize(i), not),
  negEb: (cpu, i) => unaryE(cpu, i, SZ8, neg),
  negEv: (cpu, i) => unaryE(cpu, i, vsize(i), neg),

  testEbIb: (cpu, i) => test(cpu, SZ8, readE(cpu, i, SZ8), i.imm & 0xff),
  testEbIbAlias: (cpu, i) => test(cpu, SZ8, readE(cpu, i, SZ8), i.imm & 0xff),
  testEvIz: (cpu, i) => { const sz = vsize(i); test(cpu, sz, readE(cpu, i, sz), immOf(i, sz)); },
  testEvIzAlias: (cpu, i) => { const sz = vsize(i); test(cpu, sz, readE(cpu, i, sz), immOf(i, sz)); },
  testEbGb: (cpu, i) => test(cpu, SZ8, readE(cpu, i, SZ8), cpu.reg8(i.reg)),
  testEvGv: (cpu, i) => { const sz = vsize(i); test(cpu, sz, readE(cpu, i, sz), getReg(cpu, sz, i.reg)); },
  testALIb: (cpu, i) => test(cpu, SZ8, cpu.reg8(R_EAX), i.imm & 0xff),
  testeAXIz: (cpu, i) => { const sz = vsize(i); test(cpu, sz, getReg(cpu, sz, R_EAX), immOf(i, sz)); },

  cbw: (cpu, i) => {
    if (i.o32) cpu.s[R_EAX] = (cpu.s[R_EAX] << 16) >> 16;
    else cpu.u16[R_EAX << 1] = (cpu.s[R_EAX] << 24) >> 24;
  },
  cwd: (cpu, i) => {
    if (i.o32) cpu.s[R_EDX] = cpu.s[R_EAX] >> 31;
    else cpu.u16[R_EDX << 1] = (cpu.s[R_EAX] << 16) >> 31;
  },
  salc: (cpu) => cpu.setReg8(R_EAX, getCF(cpu.s) ? 0xff : 0),

  xaddEbGb: (cpu, i) => xadd(cpu, i, SZ8),
  xaddEvGv: (cpu, i) => xadd(cpu, i, vsize(i)),
  cmpxchgEbGb: (cpu, i) => cmpxchg(cpu, i, SZ8),
  cmpxchgEvGv: (cpu, i) => cmpxchg(cpu, i, vsize(i)),
  cmpxchg8bMq: cmpxchg8b,
};
