/**
 * Random guest code for the differential tests: single instructions of a given table row with
 * random operand forms (ModRM/SIB, operand and address size, REP), wrapped in a small program
 * that establishes a random register and flag state, optionally sets the flags with a preceding
 * instruction of a known kind, and ends at UD2.
 *
 * Memory operands are steered into a data window (DATA..DATA+0x2000, below 64 KiB so that 16-bit
 * addressing reaches it too); jumps land on the trailing UD2 or skip a filler of one-byte
 * instructions, so every program ends at UD2 (or faults) under any engine.
 */
import { decode } from '../../translator/decoder/decode.ts';
import { TABLE } from '../../translator/isa/table.ts';
import type { Row } from '../../translator/isa/types.ts';

export const CODE = 0x1000;
export const DATA = 0x8000;
export const DATA_SIZE = 0x2000;
export const STACK_TOP = 0x80000;

/** A deterministic PRNG (xorshift32), so failures reproduce from the seed. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number { return this.u32() % n; }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  /** An interesting 32-bit value: boundaries often, random otherwise. */
  value(): number {
    const special = [0, 1, 2, -1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 31, 32, 33, 7, 8, 9, 15, 16, 17];
    return this.chance(0.4) ? this.pick(special) | 0 : this.u32() | 0;
  }
}

export interface Case {
  /** Program bytes (loaded at CODE), ending with UD2. */
  code: number[];
  /** Initial registers EAX..EDI. */
  regs: number[];
  /** Initial EFLAGS (status flags and DF). */
  eflags: number;
  /** Bytes to place in the data window. */
  data: Uint8Array;
  /** The row under test and the decoded length, for messages. */
  row: Row;
  text: string;
  /** Initial value of the dword at COUNTER (looping sequences). */
  counter?: number;
  /** Rows a sequence contains. */
  rows?: Row[];
}

/**
 * Flag-setting instructions that may precede the tested one, as (opcode bytes, uses ModRM with two
 * registers): each records a known lazy kind, except BT, which the interp helper runs (the flags
 * then come from memory).
 */
const FLAG_SETTERS: readonly (readonly number[])[] = [
  [0x01], [0x29], [0x39], [0x21], [0x85], [0x11], [0x19], [0x38], [0x66, 0x39], [0x0f, 0xa3],
];

/** A flag setter on registers the tested instruction does not depend on. */
function flagSetter(rng: Rng, reserved: ReadonlySet<number>): number[] {
  const free = [0, 1, 2, 3, 5, 6, 7].filter((r) => !reserved.has(r));
  if (free.length === 0) return [];
  const a = rng.pick(free);
  const b = rng.int(8);
  switch (rng.int(4)) {
    case 0: return [0x40 + a]; // inc
    case 1: return [0x48 + a]; // dec
    case 2: return [0xd1, 0xe0 | a]; // shl r, 1
    default: return [...rng.pick(FLAG_SETTERS), 0xc0 | (b << 3) | a];
  }
}

const FILLER = [0x40, 0x43, 0x90, 0x46]; // inc eax, inc ebx, nop, inc esi

/** Builds the ModRM (+SIB, displacement) bytes of an instruction; returns base/index setup. */
function modrm(rng: Rng, row: Row, a32: boolean, regs: number[], reserved: Set<number>): number[] {
  const reg = row.reg ?? rng.int(8);
  let mod: number;
  if (row.mod === 'mem') mod = rng.int(3);
  else if (row.mod === 'reg' || row.rm !== undefined || row.ops.includes('Rd')) mod = 3;
  else mod = rng.chance(0.5) ? 3 : rng.int(3);
  if (mod === 3) return [0xc0 | (reg << 3) | (row.rm ?? rng.int(8))];
  const out: number[] = [];
  const target = DATA + 0x400 + rng.int(0x1000);
  if (!a32) {
    // 16-bit forms: [bx+si], [bx+di], [bp+si], [bp+di], [si], [di], [bp]/disp16, [bx].
    const rm = rng.int(8);
    const base = [3, 3, 5, 5, 6, 7, 5, 3][rm];
    const index = [6, 7, 6, 7, -1, -1, -1, -1][rm];
    if (mod === 0 && rm === 6) {
      out.push(rm | (reg << 3), target & 0xff, (target >> 8) & 0xff);
      return out;
    }
    const disp = mod === 1 ? rng.int(256) - 128 : mod === 2 ? rng.int(0x200) - 0x100 : 0;
    const ix = index >= 0 ? rng.int(0x80) : 0;
    if (index >= 0) { regs[index] = (regs[index] & ~0xffff) | ix; reserved.add(index); }
    regs[base] = (regs[base] & ~0xffff) | ((target - disp - ix) & 0xffff);
    reserved.add(base);
    out.push((mod << 6) | (reg << 3) | rm);
    if (mod === 1) out.push(disp & 0xff);
    if (mod === 2) out.push(disp & 0xff, (disp >> 8) & 0xff);
    return out;
  }
  const useSib = rng.chance(0.35);
  let rm = rng.int(8);
  if (useSib) rm = 4;
  else if (rm === 4) rm = 3;
  if (!useSib && mod === 0 && rm === 5) {
    out.push((reg << 3) | 5, target & 0xff, (target >> 8) & 0xff, (target >> 16) & 0xff, target >>> 24);
    return out;
  }
  const disp = mod === 1 ? rng.int(256) - 128 : mod === 2 ? (rng.u32() % 0x400) - 0x200 : 0;
  out.push((mod << 6) | (reg << 3) | rm);
  let rest = target - disp;
  if (useSib) {
    const scale = rng.int(4);
    let index = rng.int(8);
    let base = rng.int(8);
    if (reserved.has(index) || index === base) index = 4;
    if (mod === 0 && base === 5) {
      // disp32 without base.
      if (index !== 4) { const iv = rng.int(0x40); regs[index] = iv; reserved.add(index); rest = target - (iv << scale); }
      out.push((scale << 6) | (index << 3) | 5);
      out.push(rest & 0xff, (rest >> 8) & 0xff, (rest >> 16) & 0xff, rest >>> 24);
      return out;
    }
    if (base === 4 && index === 4) base = 3;
    if (index !== 4) { const iv = rng.int(0x40); regs[index] = iv; reserved.add(index); rest -= iv << scale; }
    regs[base] = rest;
    reserved.add(base);
    out.push((scale << 6) | (index << 3) | base);
  } else {
    regs[rm] = rest;
    reserved.add(rm);
  }
  if (mod === 1) out.push(disp & 0xff);
  if (mod === 2) out.push(disp & 0xff, (disp >> 8) & 0xff, (disp >> 16) & 0xff, disp >>> 24);
  return out;
}

function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (v >>> (8 * k)) & 0xff);
}

/** A random single-instruction case for `row`, or null if this row cannot be generated. */
export function genCase(rng: Rng, row: Row): Case | null {
  if (row.op < 0) return null;
  const regs = Array.from({ length: 8 }, () => rng.value());
  regs[4] = STACK_TOP - 0x100 - 4 * rng.int(16);
  const reserved = new Set<number>([4]);
  const isString = row.rep !== undefined;
  const prefixes: number[] = [];
  const o16 = row.osz === true && rng.chance(0.3);
  if (o16) prefixes.push(0x66);
  const a16 = (row.modrm || isString || row.asz === true) && !row.ops.includes('Rd') && rng.chance(0.12);
  if (a16) prefixes.push(0x67);
  if (isString && rng.chance(0.7)) prefixes.push(row.rep === 'repe' && rng.chance(0.5) ? 0xf2 : 0xf3);
  const bytes: number[] = [...prefixes];
  if (row.map === '0f') bytes.push(0x0f);
  bytes.push(row.plusReg ? row.op + rng.int(8) : row.op);
  const modrmAt = bytes.length;
  if (row.modrm) bytes.push(...modrm(rng, row, !a16, regs, reserved));
  const o32 = !o16;
  const fillerLen = rng.int(4);
  for (const o of row.ops) {
    switch (o) {
      case 'Ib': case 'Ibs': bytes.push(rng.int(256)); break;
      case 'Iw': bytes.push(...le(rng.int(0x40) * (rng.chance(0.5) ? 1 : 4), 2)); break;
      case 'Iz': case 'Iv': bytes.push(...le(rng.value(), o32 ? 4 : 2)); break;
      case 'Jb': bytes.push(fillerLen); break;
      case 'Jz': bytes.push(...le(fillerLen, o32 ? 4 : 2)); break;
      case 'Ob': case 'Ov': bytes.push(...le(DATA + 0x400 + rng.int(0x1000), a16 ? 2 : 4)); break;
      default: break;
    }
  }
  if (isString) {
    // Index registers into the window (both directions stay inside), a small count.
    regs[6] = (regs[6] & (a16 ? ~0xffff : 0)) | (DATA + 0x800 + rng.int(0x800));
    regs[7] = (regs[7] & (a16 ? ~0xffff : 0)) | (DATA + 0x800 + rng.int(0x800));
    if (!a16 && rng.chance(0.3)) regs[7] = regs[6] + rng.int(9) - 4; // overlapping copies
    regs[1] = (regs[1] & (a16 ? ~0xffff : 0)) | rng.pick([0, 1, 2, 3, 7, 16, 40, 100]);
  }
  const name = row.name;
  let targetReg = -1;
  if (name === 'jmpEv' || name === 'callEv') {
    if ((bytes[modrmAt] & 0xc0) !== 0xc0) return null; // register forms only
    targetReg = bytes[modrmAt] & 7;
    if (targetReg === 4) return null;
    reserved.add(targetReg);
  }
  if (name.startsWith('loop') || name === 'jcxz') { regs[1] = rng.pick([0, 1, 2, 0x10000, 0x10001, rng.value()]); reserved.add(1); }
  if (isString) { reserved.add(1); reserved.add(6); reserved.add(7); }
  // Preamble: maybe a flag setter in the same block (it never touches the registers the tested
  // instruction's addresses or targets depend on).
  const pre: number[] = rng.chance(0.6) ? flagSetter(rng, reserved) : [];
  // Control transfers get their targets: the UD2 after the filler.
  const insnStart = CODE + pre.length + (name === 'ret' || name === 'retIw' ? (o16 ? 4 : 5) : 0);
  const end = insnStart + bytes.length + fillerLen;
  const body: number[] = [];
  if (name === 'ret' || name === 'retIw') body.push(...(o16 ? [0x66, 0x68, ...le(end, 2)] : [0x68, ...le(end, 4)]));
  if (targetReg >= 0) regs[targetReg] = end;
  body.push(...bytes);
  for (let k = 0; k < fillerLen; k++) body.push(rng.pick(FILLER));
  const code = [...pre, ...body, 0x0f, 0x0b];
  // Sanity: the tested instruction decodes to this row with this length.
  const at = pre.length + body.length - fillerLen - bytes.length;
  const d = decode((e) => code[e - CODE] ?? 0, CODE + at, true);
  if (TABLE[d.row] !== row || d.len !== bytes.length) return null;
  const data = new Uint8Array(DATA_SIZE);
  for (let k = 0; k < data.length; k++) data[k] = rng.int(256);
  const eflags = (rng.u32() & 0x8d5) | (rng.chance(0.25) ? 0x400 : 0) | 2;
  const text = code.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { code, regs, eflags, data, row, text };
}

/** Rows whose control flow a sequence cannot contain (their targets come from registers or the stack). */
const SEQ_EXCLUDED = new Set(['ret', 'retIw', 'jmpEv', 'callEv', 'popf', 'iret']);

/** One instruction of `row` for a sequence: memory operands absolute (inside the window), jumps of 0. */
function seqInsn(rng: Rng, row: Row): number[] | null {
  if (row.op < 0 || SEQ_EXCLUDED.has(row.name) || row.rep !== undefined) return null;
  const bytes: number[] = [];
  const o16 = row.osz === true && rng.chance(0.25);
  if (o16) bytes.push(0x66);
  if (row.map === '0f') bytes.push(0x0f);
  bytes.push(row.plusReg ? row.op + rng.int(8) : row.op);
  if (row.modrm) {
    const reg = row.reg ?? rng.int(8);
    const memOk = row.mod !== 'reg' && row.rm === undefined;
    const regOk = row.mod !== 'mem';
    if (memOk && (!regOk || rng.chance(0.4))) {
      bytes.push((reg << 3) | 5, ...le(DATA + 0x400 + rng.int(0x1000), 4));
    } else {
      bytes.push(0xc0 | (reg << 3) | (row.rm ?? rng.int(8)));
    }
  }
  for (const o of row.ops) {
    switch (o) {
      case 'Ib': case 'Ibs': bytes.push(rng.int(256)); break;
      case 'Iw': bytes.push(...le(rng.int(0x40), 2)); break;
      case 'Iz': case 'Iv': bytes.push(...le(rng.value(), o16 ? 2 : 4)); break;
      case 'Jb': bytes.push(0); break;
      case 'Jz': bytes.push(...le(0, o16 ? 2 : 4)); break;
      case 'Ob': case 'Ov': bytes.push(...le(DATA + 0x400 + rng.int(0x1000), 4)); break;
      default: break;
    }
  }
  const d = decode((e) => bytes[e] ?? 0, 0, true);
  return TABLE[d.row] === row && d.len === bytes.length ? bytes : null;
}

/** Address of the loop counter of looping sequences (outside the data window). */
export const COUNTER = DATA - 0x100;

/**
 * A random straight-line sequence of `n` instructions drawn from `rows`, optionally wrapped in a
 * loop counted in memory (`dec dword [COUNTER]; jnz top`), so that the translator's loops, block
 * dispatch and flag fusion across instructions are exercised.
 */
export function genSequence(rng: Rng, rows: readonly Row[], n: number, loop: boolean): Case {
  const body: number[] = [];
  const used: Row[] = [];
  while (used.length < n) {
    const row = rng.pick(rows);
    const b = seqInsn(rng, row);
    if (!b) continue;
    body.push(...b);
    used.push(row);
  }
  let code = body;
  if (loop) {
    const tail = [0xff, 0x0d, ...le(COUNTER, 4)]; // dec dword [COUNTER]
    const back = -(body.length + tail.length + 2);
    code = back >= -128 ? [...body, ...tail, 0x75, back & 0xff] : [...body, ...tail, 0x0f, 0x85, ...le(back - 4, 4)];
  }
  code = [...code, 0x0f, 0x0b];
  const regs = Array.from({ length: 8 }, () => rng.value());
  regs[4] = STACK_TOP - 0x100;
  const data = new Uint8Array(DATA_SIZE);
  for (let k = 0; k < data.length; k++) data[k] = rng.int(256);
  const iterations = 2 + rng.int(20);
  const eflags = (rng.u32() & 0x8d5) | 2;
  const text = code.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { code, regs, eflags, data, row: rows[0], text, counter: loop ? iterations : undefined, rows: used };
}
