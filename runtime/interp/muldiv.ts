/**
 * Interpreter handlers: multiply, divide and the decimal/ASCII adjustments (SDM vol. 2: MUL,
 * IMUL, DIV, IDIV, DAA, DAS, AAA, AAS, AAM, AAD).
 *
 * Invariants:
 * - DIV/IDIV/AAM raise #DE (divide by zero, or a quotient that does not fit) before any register
 *   or flag changes.
 * - 64-bit products and dividends are handled in exact 16/32-bit pieces with doubles: no BigInt
 *   and no allocation.
 *
 * Undefined flags (the oracle masks them) are made deterministic and, where cheap, equal to what
 * the reference host (an AMD EPYC) produces: MUL/IMUL keep SF ZF AF PF; DIV/IDIV change no flag;
 * AAM sets flags as a logical result in AL, AAD as the byte addition AL + AH * imm8 (which is how
 * the hardware computes it), AAA/AAS as the word addition/subtraction AX +- 106h, and DAA/DAS set
 * OF as the signed overflow of the adjustment.
 */
import { EX_DE, F_AF, F_ARITH, F_CF, F_OF, F_SF, F_ZF, LFK_ADD, LFK_LOGIC, R_EAX, R_EDX, SZ16, SZ8 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { getAF, getCF, PARITY, setArithFlags, setLazy } from '../lazy-flags.ts';
import { getReg, immOf, readE, setReg } from '../insn/operands.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const F_CO = F_CF | F_OF;

/** CF and OF together, as MUL/IMUL report "the upper half is significant". */
function setCO(cpu: Cpu, overflow: boolean): void {
  setArithFlags(cpu.s, F_CO, overflow ? F_CO : 0);
}

/**
 * High 32 bits of the unsigned 64-bit product of two 32-bit values (given as int32 or uint32),
 * as an int32. Exact: every partial product is below 2^32.
 */
export function mulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
  const mid = Math.floor(p00 / 0x10000) + (p01 % 0x10000) + (p10 % 0x10000);
  return (a1 * b1 + Math.floor(p01 / 0x10000) + Math.floor(p10 / 0x10000) + Math.floor(mid / 0x10000)) | 0;
}

/** High 32 bits of the signed 64-bit product of two int32 values. */
export function mulHiS32(a: number, b: number): number {
  let hi = mulHiU32(a, b);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}

/**
 * Unsigned quotient of the 64-bit value hi:lo by d, all unsigned 32-bit; requires hi < d (so the
 * quotient fits in 32 bits). Two long-division steps of 16 bits keep every intermediate below
 * 2^48, where doubles are exact, and floor(n / d) cannot round across an integer (the gap to the
 * next integer is at least 1/d > 2^-32, far above the rounding error of a value below 2^16).
 */
function divU64(hi: number, lo: number, d: number): number {
  let n = hi * 0x10000 + (lo >>> 16);
  const q1 = Math.floor(n / d);
  n = (n - q1 * d) * 0x10000 + (lo & 0xffff);
  return q1 * 0x10000 + Math.floor(n / d);
}

// ------------------------------------------------------------------------------ MUL / IMUL (one operand)
function mul(cpu: Cpu, sz: number, src: number): void {
  const s = cpu.s;
  if (sz === SZ8) {
    const r = cpu.reg8(R_EAX) * src;
    cpu.u16[R_EAX << 1] = r;
    setCO(cpu, r > 0xff);
  } else if (sz === SZ16) {
    const r = cpu.u16[R_EAX << 1] * src;
    cpu.u16[R_EAX << 1] = r;
    cpu.u16[R_EDX << 1] = r >>> 16;
    setCO(cpu, r > 0xffff);
  } else {
    const a = s[R_EAX];
    const hi = mulHiU32(a, src);
    s[R_EAX] = Math.imul(a, src);
    s[R_EDX] = hi;
    setCO(cpu, hi !== 0);
  }
}

function imul1(cpu: Cpu, sz: number, src: number): void {
  const s = cpu.s;
  if (sz === SZ8) {
    const r = ((cpu.reg8(R_EAX) << 24) >> 24) * ((src << 24) >> 24);
    cpu.u16[R_EAX << 1] = r;
    setCO(cpu, r !== (r << 24) >> 24);
  } else if (sz === SZ16) {
    const r = ((s[R_EAX] << 16) >> 16) * ((src << 16) >> 16);
    cpu.u16[R_EAX << 1] = r;
    cpu.u16[R_EDX << 1] = r >> 16;
    setCO(cpu, r !== (r << 16) >> 16);
  } else {
    const a = s[R_EAX];
    const lo = Math.imul(a, src);
    const hi = mulHiS32(a, src);
    s[R_EAX] = lo;
    s[R_EDX] = hi;
    setCO(cpu, hi !== lo >> 31);
  }
}

/**
 * IMUL with a truncated result (two- and three-operand forms): `a * b` at size `sz`; CF = OF =
 * the result was truncated. For 32 bits the double product is exact whenever it fits in int32
 * and otherwise lies outside the int32 range, so comparing it with the wrapped product decides
 * overflow exactly.
 */
function imulTrunc(cpu: Cpu, sz: number, a: number, b: number): number {
  if (sz === SZ16) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    setCO(cpu, p !== (p << 16) >> 16);
    return p & 0xffff;
  }
  const lo = Math.imul(a, b);
  setCO(cpu, a * b !== lo);
  return lo;
}

// ------------------------------------------------------------------------------ DIV / IDIV
function div(cpu: Cpu, sz: number, d: number): void {
  const s = cpu.s;
  if (d === 0) fault(EX_DE);
  if (sz === SZ8) {
    const n = cpu.u16[R_EAX << 1];
    const q = Math.floor(n / d);
    if (q > 0xff) fault(EX_DE);
    cpu.u16[R_EAX << 1] = ((n - q * d) << 8) | q;
  } else if (sz === SZ16) {
    const n = (cpu.u16[R_EDX << 1] * 0x10000) + cpu.u16[R_EAX << 1];
    const q = Math.floor(n / d);
    if (q > 0xffff) fault(EX_DE);
    cpu.u16[R_EAX << 1] = q;
    cpu.u16[R_EDX << 1] = n - q * d;
  } else {
    const hi = s[R_EDX] >>> 0;
    const lo = s[R_EAX];
    const du = d >>> 0;
    if (hi >= du) fault(EX_DE);
    const q = divU64(hi, lo, du);
    s[R_EAX] = q | 0;
    s[R_EDX] = (lo - Math.imul(q, du)) | 0;
  }
}

function idiv(cpu: Cpu, sz: number, dRaw: number): void {
  const s = cpu.s;
  if (dRaw === 0) fault(EX_DE);
  if (sz === SZ8) {
    const n = (s[R_EAX] << 16) >> 16;
    const d = (dRaw << 24) >> 24;
    const q = Math.trunc(n / d);
    if (q > 0x7f || q < -0x80) fault(EX_DE);
    cpu.u16[R_EAX << 1] = (((n % d) & 0xff) << 8) | (q & 0xff);
  } else if (sz === SZ16) {
    const n = (cpu.u16[R_EDX << 1] << 16) | cpu.u16[R_EAX << 1];
    const d = (dRaw << 16) >> 16;
    const q = Math.trunc(n / d);
    if (q > 0x7fff || q < -0x8000) fault(EX_DE);
    cpu.u16[R_EAX << 1] = q;
    cpu.u16[R_EDX << 1] = n % d;
  } else {
    // Divide magnitudes, then apply signs; the remainder takes the dividend's sign.
    let hi = s[R_EDX];
    let lo = s[R_EAX];
    const negN = hi < 0;
    if (negN) {
      hi = ~hi + (lo === 0 ? 1 : 0);
      lo = -lo;
    }
    const negD = dRaw < 0;
    const du = (negD ? -dRaw : dRaw) >>> 0;
    if (hi >>> 0 >= du) fault(EX_DE);
    const q = divU64(hi >>> 0, lo, du);
    if (q > (negN !== negD ? 0x80000000 : 0x7fffffff)) fault(EX_DE);
    const r = (lo - Math.imul(q, du)) | 0;
    s[R_EAX] = negN !== negD ? -q | 0 : q | 0;
    s[R_EDX] = negN ? -r | 0 : r;
  }
}

// ------------------------------------------------------------------------------ BCD adjustments
/** SF ZF PF of an 8-bit result (the defined flags of the decimal adjustments). */
function szp8(r: number): number {
  return (r & 0x80 ? F_SF : 0) | (r === 0 ? F_ZF : 0) | PARITY[r];
}

/** DAA / DAS (SDM pseudo-code), OF = signed overflow of the whole adjustment. */
function decimalAdjust(cpu: Cpu, sub: boolean): void {
  const s = cpu.s;
  const old = cpu.reg8(R_EAX);
  const oldCf = getCF(s);
  let al = old;
  let cf = 0;
  let af = 0;
  if ((al & 0x0f) > 9 || getAF(s)) {
    const t = sub ? al - 6 : al + 6;
    cf = oldCf | (t < 0 || t > 0xff ? 1 : 0);
    al = t & 0xff;
    af = F_AF;
  }
  if (old > 0x99 || oldCf) {
    al = (sub ? al - 0x60 : al + 0x60) & 0xff;
    cf = 1;
  } else if (!sub) {
    cf = 0;
  }
  const of = (sub ? old & ~al : ~old & al) & 0x80 ? F_OF : 0;
  cpu.setReg8(R_EAX, al);
  setArithFlags(s, F_ARITH, cf | af | of | szp8(al));
}

/** AAA / AAS: AX +- 106h when the low nibble needs adjusting; flags as that word operation. */
function asciiAdjust(cpu: Cpu, sub: boolean): void {
  const s = cpu.s;
  const ax = cpu.u16[R_EAX << 1];
  const adjust = (ax & 0x0f) > 9 || getAF(s);
  const b = adjust ? 0x106 : 0;
  const r = (sub ? ax - b : ax + b) & 0xffff;
  const ov = sub ? (ax ^ b) & (ax ^ r) : (ax ^ r) & (b ^ r);
  cpu.u16[R_EAX << 1] = r & 0xff0f;
  const f = (adjust ? F_AF | F_CF : 0) | (ov & 0x8000 ? F_OF : 0) | (r & 0x8000 ? F_SF : 0) |
    (r === 0 ? F_ZF : 0) | PARITY[r & 0xff];
  setArithFlags(s, F_ARITH, f);
}

function aam(cpu: Cpu, i: Insn): void {
  const base = i.imm & 0xff;
  if (base === 0) fault(EX_DE);
  const al = cpu.reg8(R_EAX);
  const r = al % base;
  cpu.u16[R_EAX << 1] = (Math.floor(al / base) << 8) | r;
  setLazy(cpu.s, LFK_LOGIC, SZ8, r, r, r);
}

function aad(cpu: Cpu, i: Insn): void {
  const al = cpu.reg8(R_EAX);
  const t = (cpu.reg8(4) * (i.imm & 0xff)) & 0xff; // 4 = AH
  const r = (al + t) & 0xff;
  cpu.u16[R_EAX << 1] = r;
  setLazy(cpu.s, LFK_ADD, SZ8, al, t, r);
}

export const MULDIV_HANDLERS: HandlerMap = {
  mulEb: (cpu, i) => mul(cpu, SZ8, readE(cpu, i, SZ8)),
  mulEv: (cpu, i) => { const sz = vsize(i); mul(cpu, sz, readE(cpu, i, sz)); },
  imulEb: (cpu, i) => imul1(cpu, SZ8, readE(cpu, i, SZ8)),
  imulEv: (cpu, i) => { const sz = vsize(i); imul1(cpu, sz, readE(cpu, i, sz)); },
  divEb: (cpu, i) => div(cpu, SZ8, readE(cpu, i, SZ8)),
  divEv: (cpu, i) => { const sz = vsize(i); div(cpu, sz, readE(cpu, i, sz)); },
  idivEb: (cpu, i) => idiv(cpu, SZ8, readE(cpu, i, SZ8)),
  idivEv: (cpu, i) => { const sz = vsize(i); idiv(cpu, sz, readE(cpu, i, sz)); },

  imulGvEv: (cpu, i) => {
    const sz = vsize(i);
    const b = readE(cpu, i, sz);
    setReg(cpu, sz, i.reg, imulTrunc(cpu, sz, getReg(cpu, sz, i.reg), b));
  },
  imulGvEvIz: (cpu, i) => {
    const sz = vsize(i);
    setReg(cpu, sz, i.reg, imulTrunc(cpu, sz, readE(cpu, i, sz), immOf(i, sz)));
  },
  imulGvEvIbs: (cpu, i) => {
    const sz = vsize(i);
    setReg(cpu, sz, i.reg, imulTrunc(cpu, sz, readE(cpu, i, sz), immOf(i, sz)));
  },

  daa: (cpu) => decimalAdjust(cpu, false),
  das: (cpu) => decimalAdjust(cpu, true),
  aaa: (cpu) => asciiAdjust(cpu, false),
  aas: (cpu) => asciiAdjust(cpu, true),
  aamIb: aam,
  aadIb: aad,
};
