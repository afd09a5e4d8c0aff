/**
 * x87 case generation for the real-CPU oracle: the `x87Plugin` of types.ts (X87Plugin).
 *
 * Every case starts from a random FSAVE image (32-bit protected-mode layout) that both sides
 * load: TOP, a mix of valid and empty registers, random sticky flags and condition codes, and a
 * control word with precision control 53 bits (sometimes 24) so that + − × ÷ √ round exactly as
 * binary64 does — the precision our registers have — and any rounding control. The memory
 * operand, if any, gets a value of its format (reals, integers, BCD, control words,
 * environments, whole states). Values are edge-biased (±0, ±∞, QNaN/SNaN payloads, denormals,
 * small integers, integer-format bounds, values near overflow) and shaped per instruction
 * (arguments inside FSIN's and F2XM1's domains, exponent differences for FPREM, ...).
 *
 * Comparison (after the instruction): control word, status word (with TOP) and tag word
 * exactly; every register (empty ones too) bit-exactly after rounding the native 80-bit value to
 * binary64 by the case's rounding control, which is the precision a binary64 x87 can deliver
 * (native 64-bit constants, FILD m64, FBLD and FLD m80 of wide values then agree with ours). The
 * documented tolerances (runtime/x87/README.md):
 * - FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1: values within 2^-50 relative (plus
 *   2^-62·|argument| absolute for the trigonometric ones, whose hardware argument reduction uses
 *   a 66-bit π); C1 (rounding direction) not compared.
 * - FCOMI/FCOMIP/FUCOMI/FUCOMIP: C1 not compared (the SDM says cleared; AMD leaves it).
 * - A native result outside the binary64 exponent range, or OE/UE raised on either side (only
 *   from extreme inputs): OE, UE, PE, C1, ES and B not compared, tags only as empty or not,
 *   values within one binary64 step or ±∞ against ±max (a binary64 x87 must overflow or
 *   denormalize where the 15-bit exponent does not, and delivers the masked response where the
 *   hardware would deliver a bias-adjusted result).
 * FIP/FCS/FOP/FDP/FDS are not compared: the native image comes from the kernel's signal frame,
 * whose pointer fields are synthesized from FXSAVE data (CS/SS of the frame, and AMD processors
 * do not save the pointers without a pending exception). test/unit/x87/x87-sequences.test.ts checks
 * them with FNSAVE instead.
 */
import type { Row } from '../../translator/isa/types.ts';
import type { Cpu } from '../../runtime/cpu.ts';
import { FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_TAG } from '../../translator/abi.ts';
import { getCw, getSw, getTop, setCw, setSw, st } from '../../runtime/x87/fpu.ts';
import { bigToDouble, loadF80, storeF80 } from '../../runtime/x87/formats.ts';
import { CaseBuilder } from './gen.ts';
import type { Rng } from './rng.ts';
import type { Excuse, Form, GenContext, OracleCase, RowGenerator, X87Plugin } from './types.ts';

/** A binary64 bit pattern: [high word, low word]. */
type Bits = readonly [number, number];

const SCRATCH = new DataView(new ArrayBuffer(8));

function bitsOf(x: number): Bits {
  SCRATCH.setFloat64(0, x, true);
  return [SCRATCH.getInt32(4, true), SCRATCH.getInt32(0, true)];
}

function valueOf(b: Bits): number {
  SCRATCH.setInt32(0, b[1], true);
  SCRATCH.setInt32(4, b[0], true);
  return SCRATCH.getFloat64(0, true);
}

function isNaNBits(b: Bits): boolean {
  return (b[0] & 0x7ff00000) === 0x7ff00000 && ((b[0] & 0xfffff) | b[1]) !== 0;
}

// ------------------------------------------------------------------------------- 80-bit images
/** binary64 bits → 10 bytes of double-extended (exact). */
export function f80FromBits(b: Bits): number[] {
  const [hi, lo] = b;
  const sign = (hi >>> 16) & 0x8000;
  const e = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo >>> 0);
  let m: bigint;
  let exp: number;
  if (e === 0x7ff) {
    m = (1n << 63n) | (frac << 11n);
    exp = 0x7fff;
  } else if (e === 0) {
    if (frac === 0n) {
      m = 0n;
      exp = 0;
    } else {
      const len = frac.toString(2).length; // a binary64 subnormal is normal in 80 bits
      m = frac << BigInt(64 - len);
      exp = len - 1 - 1074 + 16383;
    }
  } else {
    m = (1n << 63n) | (frac << 11n);
    exp = e - 1023 + 16383;
  }
  const out: number[] = [];
  for (let k = 0; k < 8; k++) out.push(Number((m >> BigInt(8 * k)) & 0xffn));
  out.push(exp & 0xff, ((exp >> 8) & 0x7f) | (sign >> 8));
  return out;
}

/**
 * 10 bytes of double-extended → binary64 bits, rounding finite values by `rc` (the comparison
 * rule: what a binary64 x87 can hold of the native value). NaNs keep their top 52 fraction
 * bits; unsupported encodings map to the QNaN indefinite, as our loads do.
 */
export function bitsFromF80(b: ArrayLike<number>, off: number, rc: number): Bits {
  let m = 0n;
  for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(b[off + k]);
  const se = b[off + 8] | (b[off + 9] << 8);
  const neg = (se & 0x8000) !== 0;
  const exp = se & 0x7fff;
  const j = (m >> 63n) === 1n;
  if (exp === 0x7fff || (exp !== 0 && !j)) {
    if (!j) return [0xfff80000 | 0, 0];
    const frac = m & ((1n << 63n) - 1n);
    const sign = neg ? 0x80000000 : 0;
    if (frac === 0n) return [sign | 0x7ff00000, 0];
    let f52 = frac >> 11n;
    if (f52 === 0n) f52 = 1n;
    return [(sign | 0x7ff00000 | Number(f52 >> 32n)) | 0, Number(f52 & 0xffffffffn) | 0];
  }
  return bitsOf(bigToDouble(neg, m, Math.max(exp, 1) - 16383 - 63, rc));
}

/** True if a native 80-bit value is finite, nonzero and outside the binary64 normal range. */
function outOfDoubleRange(b: ArrayLike<number>, off: number): boolean {
  const exp = (b[off + 8] | (b[off + 9] << 8)) & 0x7fff;
  if (exp === 0x7fff) return false;
  let nz = false;
  for (let k = 0; k < 8; k++) if (b[off + k]) nz = true;
  if (!nz) return false;
  return exp - 16383 > 1023 || exp - 16383 < -1022;
}

// ------------------------------------------------------------------------------- values
const rnd = (rng: Rng, lo: number, hi: number): number => lo + (rng.u32() / 0x1_0000_0000) * (hi - lo);

/** A random binary64 with exponent in [emin, emax] and a random significand. */
function randomReal(rng: Rng, emin: number, emax: number): number {
  const e = rng.range(emin, emax);
  const hi = ((e + 1023) << 20) | (rng.u32() & 0xfffff) | (rng.chance(0.5) ? 0x80000000 : 0);
  return valueOf([hi | 0, rng.u32() | 0]);
}

function randomNaN(rng: Rng, quiet: boolean): Bits {
  const k = rng.below(4);
  let hi = 0x7ff00000 | (quiet ? 0x80000 : 0) | (k === 0 ? 0 : rng.u32() & 0x7ffff);
  let lo = k === 1 ? 0 : rng.u32() | 0;
  if (!quiet && (hi & 0x7ffff) === 0 && lo === 0) lo = 1;
  if (rng.chance(0.5)) hi |= 0x80000000;
  if (quiet && rng.chance(0.2)) {
    hi = 0xfff80000; // the indefinite
    lo = 0;
  }
  return [hi | 0, lo];
}

const NICE = [0.5, 1, 1.5, 2, 3, 10, 0.1, 0.25, 100, 1e10, 2 ** 52, 2 ** 53, 2 ** 63, 1e18, 2 ** -20, Math.PI, 1 / 3];

/** The general-purpose edge-biased distribution of register and m64 values. */
function generalBits(rng: Rng): Bits {
  const k = rng.below(100);
  const sign = rng.chance(0.5) ? -1 : 1;
  if (k < 7) return bitsOf(sign * 0);
  if (k < 11) return bitsOf(sign * Infinity);
  if (k < 16) return randomNaN(rng, true);
  if (k < 19) return randomNaN(rng, false);
  if (k < 23) return bitsOf(sign * valueOf([rng.u32() & 0xfffff, rng.u32() | 0])); // subnormal
  if (k < 38) return bitsOf(rng.range(-100, 100));
  if (k < 48) return bitsOf(sign * rng.pick(NICE));
  if (k < 55) return bitsOf(sign * rng.range(1, 2 ** 30) * 2 ** rng.range(-30, 30)); // short significands
  if (k < 93) return bitsOf(randomReal(rng, -60, 60));
  return bitsOf(randomReal(rng, -1022, 1023));
}

/** A float32 bit pattern. */
function f32Bits(rng: Rng): number {
  const k = rng.below(100);
  const sign = rng.chance(0.5) ? 0x80000000 : 0;
  if (k < 8) return sign;
  if (k < 12) return sign | 0x7f800000;
  if (k < 18) return sign | 0x7fc00000 | (rng.chance(0.5) ? 0 : rng.u32() & 0x3fffff);
  if (k < 22) return sign | 0x7f800000 | ((rng.u32() & 0x3fffff) || 1);
  if (k < 28) return sign | (rng.u32() & 0x7fffff); // denormal
  if (k < 45) {
    SCRATCH.setFloat32(0, rng.range(-100, 100), true);
    return SCRATCH.getInt32(0, true);
  }
  if (k < 90) return sign | ((rng.range(127 - 40, 127 + 40) << 23) | (rng.u32() & 0x7fffff));
  return sign | ((rng.range(1, 254) << 23) | (rng.u32() & 0x7fffff));
}

/** An 80-bit memory real: mostly binary64 values, some with a full 64-bit significand. */
function f80Bytes(rng: Rng): number[] {
  if (rng.chance(0.7)) return f80FromBits(generalBits(rng));
  const exp = rng.chance(0.9) ? 16383 + rng.range(-60, 60) : rng.range(1, 0x7ffe);
  const out: number[] = [];
  for (let k = 0; k < 8; k++) out.push(rng.u32() & 0xff);
  out[7] |= 0x80;
  out.push(exp & 0xff, (exp >> 8) | (rng.chance(0.5) ? 0x80 : 0));
  return out;
}

function i64Bytes(rng: Rng): number[] {
  const k = rng.below(10);
  let v: bigint;
  if (k < 3) v = BigInt(rng.range(-1000, 1000));
  else if (k < 5) v = (1n << 53n) + BigInt(rng.range(-5, 5));
  else if (k < 6) v = rng.chance(0.5) ? -(1n << 63n) : (1n << 63n) - 1n;
  else v = BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  if (rng.chance(0.3)) v = -v;
  v = BigInt.asUintN(64, v);
  return Array.from({ length: 8 }, (_, j) => Number((v >> BigInt(8 * j)) & 0xffn));
}

function bcdBytes(rng: Rng): number[] {
  const digits = rng.chance(0.3) ? 18 : rng.range(0, 18);
  const out = new Array<number>(10).fill(0);
  for (let d = 0; d < digits; d++) out[d >> 1] |= rng.below(10) << (4 * (d & 1));
  out[9] = rng.chance(0.5) ? 0x80 : 0;
  return out;
}

// ------------------------------------------------------------------------------- FPU states
interface FpuState {
  cw: number;
  /** Status word without TOP (ES and B derived when the image is built). */
  sw: number;
  top: number;
  /** Registers in physical order, and which are empty. */
  regs: Bits[];
  empty: boolean[];
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
}

const TRIG = new Set(['fsin', 'fcos', 'fsincos', 'fptan']);
const TRANSCENDENTAL = new Set([...TRIG, 'fpatan', 'f2xm1', 'fyl2x', 'fyl2xp1']);
const FCOMI = /^fu?comip?ST0STi$/;
/** Rows whose results obey precision control. */
const PC_ROW = /^f(add|sub|subr|mul|div|divr|iadd|isub|isubr|imul|idiv|idivr)p?(M|ST)|^fsqrt$/;

/** ST(0)/ST(1) values shaped for the instruction (undefined-domain inputs avoided). */
function operandBits(rng: Rng, name: string, which: 0 | 1): Bits {
  // F2XM1 and FYL2XP1 have undefined results outside their domains: stay inside.
  const domainOnly = which === 0 && (name === 'f2xm1' || name === 'fyl2xp1');
  if (!domainOnly && rng.chance(0.12)) return generalBits(rng);
  const sign = rng.chance(0.5) ? -1 : 1;
  switch (name) {
    case 'fsin': case 'fcos': case 'fsincos': case 'fptan': {
      if (which) break;
      const k = rng.below(10);
      if (k < 6) return bitsOf(rnd(rng, -10, 10));
      if (k < 8) return bitsOf(rnd(rng, -1e6, 1e6));
      return bitsOf(sign * rng.pick([2 ** 63, 2 ** 64, 1e30, 2 ** 62 * 1.5, 0, Math.PI / 2, Math.PI]));
    }
    case 'f2xm1':
      if (which) break;
      if (rng.chance(0.05)) return randomNaN(rng, rng.chance(0.5));
      return rng.chance(0.85) ? bitsOf(rnd(rng, -1, 1)) : bitsOf(sign * rng.pick([0, 1, 0.5, 2 ** -40]));
    case 'fyl2xp1':
      if (which) break;
      if (rng.chance(0.05)) return randomNaN(rng, rng.chance(0.5));
      return rng.chance(0.85) ? bitsOf(rnd(rng, -0.29, 0.29)) : bitsOf(sign * rng.pick([0, 2 ** -40, 0.25]));
    case 'fyl2x':
      if (which) break;
      return rng.chance(0.8) ? bitsOf(Math.abs(valueOf(generalBits(rng)))) : bitsOf(rng.pick([1, 2, 0.5, 1024, 0, -1]));
    case 'fscale':
      if (!which) break;
      return rng.chance(0.7) ? bitsOf(rnd(rng, -70, 70)) : bitsOf(rng.range(-1100, 1100));
    case 'fbstpMbcd':
      if (which) break;
      if (rng.chance(0.4)) return bitsOf(sign * rng.range(0, 2 ** 30) * 2 ** rng.range(0, 29));
      if (rng.chance(0.4)) return bitsOf(sign * rnd(rng, 0, 1e18));
      return bitsOf(sign * (1e18 + rng.pick([-256, -128, 0, 128, 1e3])));
    case 'fistMi16': case 'fistpMi16': case 'fistMi32': case 'fistpMi32': case 'fistpMi64': {
      if (which) break;
      const bits = Number(name.slice(-2));
      const lim = 2 ** (bits - 1);
      return rng.chance(0.5) ? bitsOf(sign * lim + rng.pick([-1, -0.5, 0, 0.5, 1, -1024, 1024, -0.75])) : bitsOf(rnd(rng, -lim, lim));
    }
    case 'frndint':
      if (which) break;
      return rng.chance(0.5) ? bitsOf(sign * (rng.range(0, 100) + rng.pick([0.5, 0.25, 0.75, 0.5000001]))) : bitsOf(randomReal(rng, -5, 60));
    case 'fsqrt':
      if (which) break;
      return rng.chance(0.8) ? bitsOf(Math.abs(valueOf(generalBits(rng)))) : generalBits(rng);
  }
  return generalBits(rng);
}

/** A random FPU state for `row`. */
function randomState(rng: Rng, row: Row): FpuState {
  const pcRow = PC_ROW.test(row.name);
  const pc = pcRow && rng.chance(0.15) ? 0 : 2;
  const rc = rng.chance(0.55) ? 0 : rng.range(1, 3);
  const masks = rng.chance(0.8) ? 0x3f : rng.u32() & 0x3f;
  const cw = 0x40 | masks | (pc << 8) | (rc << 10) | (rng.chance(0.1) ? 0x1000 : 0);
  let sw = 0;
  if (rng.chance(0.3)) sw |= rng.u32() & 0x3f & masks; // sticky flags, masked (no pending #MF)
  if (rng.chance(0.04)) sw |= rng.u32() & 0x3f; // sometimes a pending unmasked exception
  if (rng.chance(0.5)) sw |= rng.u32() & 0x4700; // condition codes
  if (rng.chance(0.05)) sw |= 0x40; // SF
  const top = rng.below(8);
  // How many registers from ST(0) up are valid; sometimes a scattered set.
  const k = rng.below(100);
  const n = k < 5 ? 0 : k < 10 ? 1 : k < 70 ? rng.range(2, 4) : k < 85 ? rng.range(5, 7) : 8;
  const empty = new Array<boolean>(8).fill(true);
  for (let i = 0; i < n; i++) empty[(top + i) & 7] = false;
  if (rng.chance(0.1)) for (let p = 0; p < 8; p++) empty[p] = rng.chance(0.5);
  // D9 D8+i: AMD processors execute it as FSTPNCE (no stack-underflow check, the empty tag is
  // copied); P6 processors, which we model, as FSTP. Only the common behaviour is compared.
  if (row.name === 'fstp1STi') empty[top] = false;
  const regs: Bits[] = [];
  for (let p = 0; p < 8; p++) {
    const i = (p - top) & 7; // ST(i) of this physical register
    regs.push(i <= 1 ? operandBits(rng, row.name, i as 0 | 1) : generalBits(rng));
  }
  return {
    cw, sw, top, regs, empty,
    fip: rng.u32() | 0, fcs: rng.u32() & 0xffff, fop: rng.u32() & 0x7ff, fdp: rng.u32() | 0, fds: rng.u32() & 0xffff,
  };
}

function tagOf(b: Bits): number {
  const e = b[0] & 0x7ff00000;
  if (e === 0x7ff00000) return 2;
  if (e === 0 && ((b[0] & 0xfffff) | b[1]) === 0) return 1;
  return 0;
}

function statusWord(s: FpuState): number {
  let sw = (s.sw & ~0x3880) | (s.top << 11);
  if (sw & 0x3f & ~s.cw) sw |= 0x8080;
  else sw &= ~0x8080;
  return sw;
}

function tagWord(s: FpuState): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= (s.empty[p] ? 3 : tagOf(s.regs[p])) << (2 * p);
  return tw;
}

function le(out: number[], v: number, n: number): void {
  for (let k = 0; k < n; k++) out.push((v >>> (8 * k)) & 0xff);
}

/** The environment in the protected-mode layout (28 or 14 bytes) and, with `regs`, the registers. */
function stateBytes(s: FpuState, o32: boolean, regs: boolean): number[] {
  const b: number[] = [];
  if (o32) {
    le(b, s.cw | 0xffff0000, 4);
    le(b, statusWord(s) | 0xffff0000, 4);
    le(b, tagWord(s) | 0xffff0000, 4);
    le(b, s.fip, 4);
    le(b, s.fcs | (s.fop << 16), 4);
    le(b, s.fdp, 4);
    le(b, s.fds | 0xffff0000, 4);
  } else {
    for (const v of [s.cw, statusWord(s), tagWord(s), s.fip, s.fcs, s.fdp, s.fds]) le(b, v, 2);
  }
  if (regs) for (let i = 0; i < 8; i++) b.push(...f80FromBits(s.regs[(s.top + i) & 7]));
  return b;
}

// ------------------------------------------------------------------------------- memory operands
/** Source operand bytes for the row's memory form, or null for a destination (left as background). */
function memoryOperand(rng: Rng, row: Row, form: Form): number[] | null {
  const name = row.name;
  if (/^(fst|fist|fbstp|fnst|fnsave)/.test(name)) return null;
  const op = row.ops.find((o) => o.startsWith('M'));
  switch (op) {
    case 'Mf32': { const v = f32Bits(rng); return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]; }
    case 'Mf64': {
      const b: number[] = [];
      const v = generalBits(rng);
      le(b, v[1], 4);
      le(b, v[0], 4);
      return b;
    }
    case 'Mf80': return f80Bytes(rng);
    case 'Mi16': { const b: number[] = []; le(b, rng.edge(16), 2); return b; }
    case 'Mi32': { const b: number[] = []; le(b, rng.edge(32), 4); return b; }
    case 'Mi64': return i64Bytes(rng);
    case 'Mbcd': return bcdBytes(rng);
    case 'Mw': { const b: number[] = []; le(b, rng.chance(0.5) ? rng.u32() & 0xffff : 0x37f & ~(rng.u32() & 0xc3f), 2); return b; }
    case 'Menv': return stateBytes(randomState(rng, row), form.osz === 32, false);
    case 'Mstate': return stateBytes(randomState(rng, row), form.osz === 32, true);
    default: return null;
  }
}

/** The x87 row generator: the core pipeline plus an FPU image and a formatted memory operand. */
export const X87_GENERATOR: RowGenerator = {
  handles: (row) => row.fpu === true || row.name === 'wait',
  generate(row: Row, form: Form, ctx: GenContext): OracleCase {
    const b = new CaseBuilder(row, form, ctx);
    return b.build({
      finish(cb) {
        const rng = cb.rng;
        const state = randomState(rng, row);
        if (form.rm === 'mem') {
          const bytes = memoryOperand(rng, row, form);
          if (bytes) cb.pokeBytesAt(cb.memAddr, bytes);
        }
        cb.fpu = Uint8Array.from(stateBytes(state, true, true));
        cb.captureFpu = true;
        if (cb.pageFaultCase && /^(fstpMf80|fbstpMbcd)$/.test(row.name)) {
          // A 10-byte store split into 8 + 2 bytes: Intel writes the first part before the
          // second one faults; a P6 or AMD may not. Which part lands is implementation-specific.
          cb.memIgnore.push({ addr: cb.memAddr, len: 10 });
          cb.note('10-byte store into a not-present page: the part written before the fault is implementation-specific');
        }
      },
    });
  },
};

// ------------------------------------------------------------------------------- VM side
const I_TAG = FPU_TAG >> 2;

function get16(b: ArrayLike<number>, off: number): number {
  return b[off] | (b[off + 1] << 8);
}

function get32(b: ArrayLike<number>, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) | 0;
}

/** Loads a 108-byte FSAVE image (32-bit protected-mode layout) into the VM's x87 state. */
export function loadVmImage(cpu: Cpu, image: Uint8Array): void {
  const s = cpu.s;
  setCw(cpu, get16(image, 0));
  setSw(cpu, get16(image, 4));
  s[FPU_FIP >> 2] = get32(image, 12);
  s[FPU_FCS >> 2] = get16(image, 16);
  s[FPU_FOP >> 2] = get16(image, 18) & 0x7ff;
  s[FPU_FDP >> 2] = get32(image, 20);
  s[FPU_FDS >> 2] = get16(image, 24);
  const rc = (get16(image, 0) >> 10) & 3;
  for (let i = 0; i < 8; i++) {
    const off = 28 + 10 * i;
    loadF80(cpu, st(cpu, i), get32(image, off), get32(image, off + 4), get16(image, off + 8), rc);
  }
  const tw = get16(image, 8);
  let tags = s[I_TAG];
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) === 3) tags |= 3 << (2 * p);
  s[I_TAG] = tags;
}

/** The VM's x87 state as a 108-byte FSAVE image (32-bit protected-mode layout). */
export function readVmImage(cpu: Cpu): Uint8Array {
  const s = cpu.s;
  const b: number[] = [];
  le(b, getCw(cpu) | 0xffff0000, 4);
  le(b, getSw(cpu) | 0xffff0000, 4);
  le(b, s[I_TAG] | 0xffff0000, 4);
  le(b, s[FPU_FIP >> 2], 4);
  le(b, (s[FPU_FCS >> 2] & 0xffff) | (s[FPU_FOP >> 2] << 16), 4);
  le(b, s[FPU_FDP >> 2], 4);
  le(b, (s[FPU_FDS >> 2] & 0xffff) | 0xffff0000, 4);
  for (let i = 0; i < 8; i++) {
    const v = storeF80(cpu, (getTop(cpu) + i) & 7);
    le(b, v.mlo, 4);
    le(b, v.mhi, 4);
    le(b, v.se, 2);
  }
  return Uint8Array.from(b);
}

// ------------------------------------------------------------------------------- comparison
const SW_NAMES: readonly [number, string][] = [
  [0x1, 'IE'], [0x2, 'DE'], [0x4, 'ZE'], [0x8, 'OE'], [0x10, 'UE'], [0x20, 'PE'], [0x40, 'SF'], [0x80, 'ES'],
  [0x100, 'C0'], [0x200, 'C1'], [0x400, 'C2'], [0x3800, 'TOP'], [0x4000, 'C3'], [0x8000, 'B'],
];

const hex = (v: number, w: number): string => '0x' + (v >>> 0).toString(16).padStart(w, '0');

function f80Text(b: ArrayLike<number>, off: number): string {
  let s = get16(b, off + 8).toString(16).padStart(4, '0') + ':';
  for (let k = 7; k >= 0; k--) s += b[off + k].toString(16).padStart(2, '0');
  return s;
}

/** |ST(0)|, |ST(1)| of the initial image (for the trigonometric tolerance). */
function argumentMagnitude(c: OracleCase): number {
  if (!c.fpu) return 0;
  let m = 0;
  for (const i of [0, 1]) {
    const v = valueOf(bitsFromF80(c.fpu, 28 + 10 * i, 0));
    if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  }
  return m;
}

/**
 * Transcendental tolerance: 2^-50 relative, plus for FSIN/FCOS/FSINCOS/FPTAN the effect of an
 * argument error of 2^-62·max(1, |x|) (the hardware's 66-bit π), which FPTAN amplifies by
 * its derivative 1 + tan².
 */
function withinTolerance(n: Bits, v: Bits, arg: number, name: string): boolean {
  if (isNaNBits(n) || isNaNBits(v)) return false;
  const a = valueOf(n);
  const b = valueOf(v);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  const t = Math.max(Math.abs(a), Math.abs(b));
  let tol = 2 ** -50 * t + 2 ** -1070;
  if (TRIG.has(name)) tol += (name === 'fptan' ? 1 + t * t : 1) * 2 ** -62 * Math.max(1, arg);
  return Math.abs(a - b) <= tol;
}

/** In a range-relaxed comparison: equal, adjacent binary64 values, or ±∞ against ±max. */
function closeInRange(n: Bits, v: Bits): boolean {
  if (isNaNBits(n) || isNaNBits(v)) return false;
  const a = valueOf(n);
  const b = valueOf(v);
  if (a === b) return true;
  if (Math.abs(a) === Number.MAX_VALUE || Math.abs(b) === Number.MAX_VALUE) {
    if (Math.sign(a) === Math.sign(b) && (!Number.isFinite(a) || !Number.isFinite(b))) return true;
  }
  if (!Number.isFinite(a) || !Number.isFinite(b) || (n[0] ^ v[0]) < 0) return false;
  // Adjacent: same sign bit and bit patterns one apart (0 and the smallest denormal included).
  const d = ((n[0] & 0x7fffffff) - (v[0] & 0x7fffffff)) * 2 ** 32 + ((n[1] >>> 0) - (v[1] >>> 0));
  return Math.abs(d) <= 1;
}

/**
 * Compares the native and VM FSAVE images after case `c` (see the file overview). A case is
 * compared "range-relaxed" when a native register lies outside the binary64 range or either
 * side raised OE or UE: then OE, UE, PE, C1, ES and B are not compared, tags only as empty or
 * not, and values may differ by one binary64 step (or be ∞ against the largest finite value).
 */
export function compareImages(native: Uint8Array, vm: Uint8Array, c: OracleCase, ex?: Excuse['x87']): string[] {
  if (ex?.all) return [];
  const d: string[] = [];
  const name = c.row.name;
  const transcendental = TRANSCENDENTAL.has(name);
  const ncw = get16(native, 0);
  const rc = (ncw >> 10) & 3;
  const nsw = get16(native, 4);
  const vsw = get16(vm, 4);
  const before = c.fpu ? get16(c.fpu, 4) : 0;
  let relaxed = ((nsw | vsw) & ~before & 0x18) !== 0;
  for (let i = 0; i < 8; i++) if (outOfDoubleRange(native, 28 + 10 * i)) relaxed = true;
  let swMask = 0xffff;
  if (transcendental || FCOMI.test(name)) swMask &= ~0x200;
  if (relaxed) swMask &= ~(0x8 | 0x10 | 0x20 | 0x200 | 0x80 | 0x8000);
  swMask &= ~(ex?.sw ?? 0);
  if ((ncw ^ get16(vm, 0)) & ~(ex?.cw ?? 0)) d.push(`cw: ref ${hex(ncw, 4)}, vm ${hex(get16(vm, 0), 4)}`);
  const sx = (nsw ^ vsw) & swMask;
  if (sx) {
    const names = SW_NAMES.filter(([m]) => sx & m).map(([, n]) => n).join(' ');
    d.push(`sw: ref ${hex(nsw, 4)}, vm ${hex(vsw, 4)} (differ in ${names})`);
  }
  const ntw = get16(native, 8);
  const vtw = get16(vm, 8);
  const emptiness = (tw: number): number => {
    let e = 0;
    for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) === 3) e |= 1 << p;
    return e;
  };
  const twMask = ~(ex?.tw ?? 0) & 0xffff;
  const keptRegs = emptiness(twMask); // registers whose tag is compared (both tag bits kept)
  if (relaxed ? (emptiness(ntw) ^ emptiness(vtw)) & keptRegs : (ntw ^ vtw) & twMask) d.push(`tw: ref ${hex(ntw, 4)}, vm ${hex(vtw, 4)}`);
  const arg = transcendental ? argumentMagnitude(c) : 0;
  for (let i = 0; i < 8; i++) {
    if ((ex?.st ?? 0) & (1 << i)) continue;
    const off = 28 + 10 * i;
    const n = bitsFromF80(native, off, rc);
    const v = bitsFromF80(vm, off, rc);
    if (n[0] === v[0] && n[1] === v[1]) continue;
    if (transcendental && withinTolerance(n, v, arg, name)) continue;
    if (relaxed && closeInRange(n, v)) continue;
    d.push(`st${i}: ref ${f80Text(native, off)}, vm ${f80Text(vm, off)}`);
  }
  return d;
}

/** The oracle's x87 plug-in (loaded by oracle.ts). */
export const x87Plugin: X87Plugin = {
  generators: [X87_GENERATOR],
  loadVm: loadVmImage,
  readVm: readVmImage,
  compare: compareImages,
};
