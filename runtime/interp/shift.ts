/**
 * Interpreter handlers: shifts and rotates (group 2: ROL ROR RCL RCR SHL SHR SAL SAR, with the
 * /6 SAL alias) and the double-precision shifts SHLD/SHRD (SDM vol. 2, "SAL/SAR/SHL/SHR",
 * "RCL/RCR/ROL/ROR", "SHLD", "SHRD").
 *
 * Invariants:
 * - The count is masked to 5 bits; a masked count of 0 changes no flag and no register. A memory
 *   destination is still checked for writability (the instruction is a read-modify-write) but
 *   not written, so a zero-count shift never touches MMIO or invalidates code.
 * - Shifts record flags lazily as LFK_SHIFT (CF in bit 0 and OF in bit 1 of LF_C; SF ZF PF from
 *   the result; AF reads 0). Rotates change only CF and OF (setArithFlags).
 * - RCL/RCR rotate through CF over 9 or 17 bits for 8- and 16-bit operands (count mod 9 / 17).
 *
 * Cases the SDM leaves undefined, made deterministic (CF/result as on the reference host, an AMD
 * EPYC, and the Pentium; OF values as the oracle masks them):
 * - OF for counts other than 1: SHL/SHLD/ROL/RCL use MSB(result) XOR CF, SHR/SHRD/ROR/RCR use
 *   the XOR of the two top result bits, SAR uses 0 — each equal to the defined value at count 1.
 * - 8/16-bit SHL/SHR with count >= width shift everything out (CF = last bit out, 0 beyond).
 * - 16-bit SHLD/SHRD with count > 16: the source bits repeat (DEST:SRC:SRC shifted as 48 bits;
 *   P6-family Intel parts use DEST:SRC:DEST instead) and CF = 0 (SHLD also OF = 0).
 */
import { F_CF, F_OF, LF_C, LFK_SHIFT, SZ32, SZ8 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { SHIFT_OPS } from '../../translator/isa/rows-shift.ts';
import type { Cpu } from '../cpu.ts';
import { getCF, setArithFlags, setLazy } from '../lazy-flags.ts';
import { getReg, readMem, rmwLin, setReg, writeMem } from '../insn/operands.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const I_LF_C = LF_C >> 2;
const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;
const WIDTH = [8, 16, 32];
const MASK = [0xff, 0xffff, 0xffffffff];

/** Records a shift's flags: result for SF ZF PF, CF and OF (0/1) in LF_C. */
function shiftFlags(cpu: Cpu, sz: number, a: number, count: number, r: number, cf: number, of: number): void {
  cpu.s[I_LF_C] = cf | (of << 1);
  setLazy(cpu.s, LFK_SHIFT, sz, a, count, r);
}

/**
 * Group-2 operation `op` on the unsigned value `a` (masked to `sz`) with masked count 1..31.
 * Returns the result masked to the operand size.
 */
function shiftOp(cpu: Cpu, op: number, sz: number, a: number, count: number): number {
  const w = WIDTH[sz];
  const top = w - 1;
  const mask = MASK[sz];
  let r: number;
  let cf: number;
  switch (op) {
    case ROL: case ROR: {
      const k = count & top;
      if (op === ROL) {
        r = k === 0 ? a : ((a << k) | (a >>> (w - k))) & mask;
        cf = r & 1;
        setArithFlags(cpu.s, F_CF | F_OF, cf | (((r >>> top) ^ cf) & 1 ? F_OF : 0));
      } else {
        r = k === 0 ? a : ((a >>> k) | (a << (w - k))) & mask;
        cf = (r >>> top) & 1;
        setArithFlags(cpu.s, F_CF | F_OF, cf | ((cf ^ (r >>> (top - 1))) & 1 ? F_OF : 0));
      }
      return r;
    }
    case RCL: case RCR: {
      // Rotate the (w+1)-bit value CF:a. Shifts by w+1-k can be 32 (k = 1 at 32 bits), which JS
      // would take mod 32, hence the explicit zero.
      const k = sz === SZ32 ? count : count % (w + 1);
      const c = getCF(cpu.s);
      if (k === 0) {
        r = a;
        cf = c;
      } else if (op === RCL) {
        const wrap = k === 1 ? 0 : a >>> (w + 1 - k);
        r = ((a << k) | (c << (k - 1)) | wrap) & mask;
        cf = (a >>> (w - k)) & 1;
      } else {
        const wrap = k === 1 ? 0 : a << (w + 1 - k);
        r = ((a >>> k) | (c << (w - k)) | wrap) & mask;
        cf = (a >>> (k - 1)) & 1;
      }
      const of = op === RCL ? (r >>> top) ^ cf : (r >>> top) ^ (r >>> (top - 1));
      setArithFlags(cpu.s, F_CF | F_OF, cf | (of & 1 ? F_OF : 0));
      return r;
    }
    case SHL: case SAL: {
      r = (a << count) & mask;
      cf = count <= w ? (a >>> (w - count)) & 1 : 0;
      shiftFlags(cpu, sz, a, count, r, cf, ((r >>> top) ^ cf) & 1);
      return r;
    }
    case SHR: {
      r = a >>> count;
      cf = (a >>> (count - 1)) & 1;
      shiftFlags(cpu, sz, a, count, r, cf, ((r >>> top) ^ (r >>> (top - 1))) & 1);
      return r;
    }
    default: { // SAR
      const sa = (a << (32 - w)) >> (32 - w);
      r = (sa >> count) & mask;
      cf = (sa >> (count - 1)) & 1;
      shiftFlags(cpu, sz, a, count, r, cf, 0);
      return r;
    }
  }
}

/** Applies group-2 `op` to the r/m operand with the raw count (masked here). */
function shiftE(cpu: Cpu, i: Insn, op: number, sz: number, rawCount: number): void {
  const count = rawCount & 0x1f;
  if (i.mod === 3) {
    if (count === 0) return;
    setReg(cpu, sz, i.rm, shiftOp(cpu, op, sz, getReg(cpu, sz, i.rm) >>> 0, count));
    return;
  }
  const lin = rmwLin(cpu, i, sz);
  const a = readMem(cpu, sz, lin) >>> 0;
  if (count === 0) return;
  writeMem(cpu, sz, lin, shiftOp(cpu, op, sz, a, count));
}

/**
 * SHLD (left) / SHRD: shifts `a` by `count` (1..31), filling from `b`. For 16 bits the operands
 * are treated as the 48-bit value a:b:b (SHLD) or b:b:a (SHRD), which equals the SDM's
 * definition for counts up to 16 and gives the host's result beyond.
 */
function doubleShift(cpu: Cpu, left: boolean, sz: number, a: number, b: number, count: number): number {
  let r: number;
  let cf: number;
  let of: number;
  if (sz === SZ32) {
    if (left) {
      r = (a << count) | (b >>> (32 - count));
      cf = (a >>> (32 - count)) & 1;
      of = ((r >>> 31) ^ cf) & 1;
    } else {
      r = (a >>> count) | (b << (32 - count));
      cf = (a >>> (count - 1)) & 1;
      of = ((r >>> 31) ^ (r >>> 30)) & 1;
    }
  } else if (count <= 16) {
    const ab = left ? (a << 16) | b : (b << 16) | a;
    if (left) {
      r = (ab >>> (16 - count)) & 0xffff;
      cf = (a >>> (16 - count)) & 1;
      // Top bit of the destination's own bits after the shift (0 at count 16), as the host does.
      of = ((a << count >>> 15) ^ cf) & 1;
    } else {
      r = (ab >>> count) & 0xffff;
      cf = (a >>> (count - 1)) & 1;
      of = ((r >>> 15) ^ (r >>> 14)) & 1;
    }
  } else {
    const bb = (b << 16) | b;
    r = (left ? bb >>> (32 - count) : bb >>> (count - 16)) & 0xffff;
    cf = 0;
    of = left ? 0 : ((r >>> 15) ^ (r >>> 14)) & 1;
  }
  shiftFlags(cpu, sz, a, count, r, cf, of);
  return r;
}

function doubleShiftE(cpu: Cpu, i: Insn, left: boolean, rawCount: number): void {
  const sz = vsize(i);
  const count = rawCount & 0x1f;
  const b = getReg(cpu, sz, i.reg) >>> 0;
  if (i.mod === 3) {
    if (count === 0) return;
    setReg(cpu, sz, i.rm, doubleShift(cpu, left, sz, getReg(cpu, sz, i.rm) >>> 0, b, count));
    return;
  }
  const lin = rmwLin(cpu, i, sz);
  const a = readMem(cpu, sz, lin) >>> 0;
  if (count === 0) return;
  writeMem(cpu, sz, lin, doubleShift(cpu, left, sz, a, b, count));
}

function makeShift(op: number): HandlerMap {
  const m = SHIFT_OPS[op];
  return {
    [`${m}EbIb`]: (cpu, i) => shiftE(cpu, i, op, SZ8, i.imm),
    [`${m}EvIb`]: (cpu, i) => shiftE(cpu, i, op, vsize(i), i.imm),
    [`${m}Eb1`]: (cpu, i) => shiftE(cpu, i, op, SZ8, 1),
    [`${m}Ev1`]: (cpu, i) => shiftE(cpu, i, op, vsize(i), 1),
    [`${m}EbCL`]: (cpu, i) => shiftE(cpu, i, op, SZ8, cpu.reg8(1)),
    [`${m}EvCL`]: (cpu, i) => shiftE(cpu, i, op, vsize(i), cpu.reg8(1)),
  };
}

export const SHIFT_HANDLERS: HandlerMap = {
  ...makeShift(ROL), ...makeShift(ROR), ...makeShift(RCL), ...makeShift(RCR),
  ...makeShift(SHL), ...makeShift(SHR), ...makeShift(SAL), ...makeShift(SAR),
  shldEvGvIb: (cpu, i) => doubleShiftE(cpu, i, true, i.imm),
  shldEvGvCL: (cpu, i) => doubleShiftE(cpu, i, true, cpu.reg8(1)),
  shrdEvGvIb: (cpu, i) => doubleShiftE(cpu, i, false, i.imm),
  shrdEvGvCL: (cpu, i) => doubleShiftE(cpu, i, false, cpu.reg8(1)),
};
