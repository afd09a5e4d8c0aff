/**
 * x87 case generation for the real-CPU oracle: the `x87Plugin` of types.ts (X87Plugin).
 *
 * Every case starts from a random FSAVE image (32-bit protected-mode layout) that both sides
 * load: TOP, a mix of valid and empty registers, random sticky flags and condition codes, and a
 * control word with any rounding control and precision control 64 bits (the FNINIT default),
 * 53 or 24. Registers hold double-extended values: binary64 values (edge-biased: ±0, ±∞,
 * QNaN/SNaN payloads, denormals, small integers, integer-format bounds, values near overflow,
 * shaped per instruction: arguments inside FSIN's and F2XM1's domains, exponent differences for
 * FPREM, ...), most of them widened to a full 64-bit significand, plus values only the 80-bit
 * format has: exponents beyond binary64, extended denormals and pseudo-denormals, the largest
 * and smallest values, and the unsupported encodings (unnormals, pseudo-infinities, pseudo-NaNs).
 * The memory operand, if any, gets a value of its format (reals, integers, BCD, control words,
 * environments, whole states).
 *
 * Comparison (after the instruction): control word, status word (with TOP) and tag word
 * exactly, and every register (empty ones too) bit for bit, as 80-bit values (C1 after the
 * FCOMI family too: AMD leaves it, the SDM says cleared, deviations.ts cpu-x87-fcomi-c1).
 * FIP/FCS/FOP/FDP/FDS are not compared: the native image comes from the kernel's signal frame,
 * whose pointer fields are synthesized from FXSAVE data (CS/SS of the frame, and AMD processors
 * do not save the pointers without a pending exception). test/unit/x87/x87-sequences.test.ts checks
 * them with FNSAVE instead.
 */
import type { Row } from '../../translator/isa/types.ts';
import type { Cpu } from '../../runtime/cpu.ts';
import { FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_TAG } from '../../translator/abi.ts';
import { getCw, getSw, getTop, setCw, setSw, st } from '../../runtime/x87/fpu.ts';
import { loadF80, storeF80 } from '../../runtime/x87/formats.ts';
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

/** 10 bytes of double-extended from sign+exponent and significand words. */
function f80Of(se: number, hi: number, lo: number): number[] {
  const out: number[] = [];
  le(out, lo, 4);
  le(out, hi, 4);
  le(out, se, 2);
  return out;
}

/** A value only the 80-bit format has (or an unsupported encoding, now and then). */
function extendedOnly(rng: Rng): number[] {
  const sign = rng.chance(0.5) ? 0x8000 : 0;
  const hi = rng.u32() | 0x80000000;
  const lo = rng.u32();
  const k = rng.below(100);
  if (k < 30) return f80Of(sign | rng.range(1, 0x7ffe), hi, lo); // any exponent
  if (k < 42) return f80Of(sign | rng.range(0x3fff + 1024, 0x3fff + 1100), hi, lo); // just beyond binary64
  if (k < 54) return f80Of(sign | rng.range(0x3fff - 1100, 0x3fff - 1020), hi, lo);
  if (k < 62) return f80Of(sign | rng.pick([1, 2, 0x7ffe, 0x7ffd]), rng.chance(0.3) ? -1 : hi, rng.chance(0.3) ? -1 : lo); // range ends
  if (k < 74) return f80Of(sign, rng.chance(0.5) ? hi & 0x7fffffff : rng.u32() & 0xff, lo); // denormal
  if (k < 80) return f80Of(sign, hi, lo); // pseudo-denormal
  if (k < 86) return f80Of(sign | rng.range(1, 0x7ffe), hi & 0x7fffffff, lo); // unnormal
  if (k < 90) return f80Of(sign | 0x7fff, 0, 0); // pseudo-infinity
  if (k < 94) return f80Of(sign | 0x7fff, (rng.u32() & 0x7fffffff) | 1, lo); // pseudo-NaN
  return f80Of(sign | 0x7fff, (rng.u32() & 0x3fffffff) | 0x80000000, lo); // SNaN with low payload bits
}

/**
 * An 80-bit value from a binary64 one: mostly widened to a random full 64-bit significand (low
 * 11 bits random; zeros, infinities and NaNs keep theirs).
 */
function widen(rng: Rng, b: Bits, p = 0.6): number[] {
  const out = f80FromBits(b);
  const exp = (out[8] | (out[9] << 8)) & 0x7fff;
  if (exp !== 0 && exp !== 0x7fff && rng.chance(p)) {
    const r = rng.u32();
    out[0] = r & 0xff;
    out[1] = (out[1] & 0xf8) | ((r >>> 8) & 7);
  }
  return out;
}

/** An 80-bit memory real: binary64 values, full 64-bit significands, extended-only values. */
function f80Bytes(rng: Rng): number[] {
  if (rng.chance(0.5)) return widen(rng, generalBits(rng));
  if (rng.chance(0.5)) return extendedOnly(rng);
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
  /** Registers in physical order (10 bytes each), and which are empty. */
  regs: number[][];
  empty: boolean[];
  fip: number;
  fcs: number;
  fop: number;
  fdp: number;
  fds: number;
}

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

/** Rows whose ST(0) must stay inside the domain where the SDM defines the result. */
const DOMAIN_ROWS = new Set(['f2xm1', 'fyl2xp1']);

/** A random FPU state for `row`. */
function randomState(rng: Rng, row: Row): FpuState {
  const pcRow = PC_ROW.test(row.name);
  const pc = pcRow ? rng.pick([3, 3, 3, 2, 2, 0]) : rng.chance(0.75) ? 3 : 2;
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
  const regs: number[][] = [];
  for (let p = 0; p < 8; p++) {
    const i = (p - top) & 7; // ST(i) of this physical register
    const inDomain = i === 0 && DOMAIN_ROWS.has(row.name);
    if (!inDomain && rng.chance(0.12)) regs.push(extendedOnly(rng));
    else {
      const v = i <= 1 ? operandBits(rng, row.name, i as 0 | 1) : generalBits(rng);
      // Widening ±1 would leave F2XM1's domain.
      regs.push(widen(rng, v, inDomain && Math.abs(valueOf(v)) === 1 ? 0 : 0.6));
    }
  }
  return {
    cw, sw, top, regs, empty,
    fip: rng.u32() | 0, fcs: rng.u32() & 0xffff, fop: rng.u32() & 0x7ff, fdp: rng.u32() | 0, fds: rng.u32() & 0xffff,
  };
}

/** The tag of an 80-bit encoding (SDM vol. 1, 8.1.7): valid, zero, or special. */
function tagOf(b: readonly number[]): number {
  const exp = (b[8] | (b[9] << 8)) & 0x7fff;
  const j = (b[7] & 0x80) !== 0;
  if (exp === 0) return b.slice(0, 8).some((x) => x !== 0) ? 2 : 1;
  return exp === 0x7fff || !j ? 2 : 0;
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
  if (regs) for (let i = 0; i < 8; i++) b.push(...s.regs[(s.top + i) & 7]);
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
  for (let i = 0; i < 8; i++) {
    const off = 28 + 10 * i;
    loadF80(cpu, st(cpu, i), get32(image, off), get32(image, off + 4), get16(image, off + 8));
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

/**
 * Compares the native and VM FSAVE images after case `c` (see the file overview): control,
 * status and tag words exactly, every register bit for bit; `ex` is what a known deviation of
 * the reference excuses (deviations.ts).
 */
export function compareImages(native: Uint8Array, vm: Uint8Array, _c: OracleCase, ex?: Excuse['x87']): string[] {
  if (ex?.all) return [];
  const d: string[] = [];
  const ncw = get16(native, 0);
  const nsw = get16(native, 4);
  const vsw = get16(vm, 4);
  const swMask = 0xffff & ~(ex?.sw ?? 0);
  if ((ncw ^ get16(vm, 0)) & ~(ex?.cw ?? 0)) d.push(`cw: ref ${hex(ncw, 4)}, vm ${hex(get16(vm, 0), 4)}`);
  const sx = (nsw ^ vsw) & swMask;
  if (sx) {
    const names = SW_NAMES.filter(([m]) => sx & m).map(([, n]) => n).join(' ');
    d.push(`sw: ref ${hex(nsw, 4)}, vm ${hex(vsw, 4)} (differ in ${names})`);
  }
  const ntw = get16(native, 8);
  const vtw = get16(vm, 8);
  if ((ntw ^ vtw) & ~(ex?.tw ?? 0) & 0xffff) d.push(`tw: ref ${hex(ntw, 4)}, vm ${hex(vtw, 4)}`);
  for (let i = 0; i < 8; i++) {
    if ((ex?.st ?? 0) & (1 << i)) continue;
    const off = 28 + 10 * i;
    let same = true;
    for (let k = 0; k < 10; k++) if (native[off + k] !== vm[off + k]) same = false;
    if (!same) d.push(`st${i}: ref ${f80Text(native, off)}, vm ${f80Text(vm, off)}`);
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
