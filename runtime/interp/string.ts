/**
 * Interpreter handlers: string instructions (SDM vol. 2: MOVS, CMPS, STOS, LODS, SCAS and the
 * REP/REPE/REPNE prefixes). INS/OUTS are port I/O and belong to the VMM.
 *
 * Invariants:
 * - The address size selects SI/DI/CX or ESI/EDI/ECX (16-bit forms wrap at 64 KiB and keep the
 *   upper halves); EFLAGS.DF selects the direction. The source (X operand) uses insn.seg (DS or
 *   the override), the destination (Y operand) is always ES.
 * - A repeated instruction runs a bounded number of iterations per handler call; if it is not
 *   finished it sets `cpu.next = insn.eip`, so it restarts (and interrupts can be taken between
 *   the chunks, as on hardware). Registers are updated after every iteration, so a fault in
 *   iteration k leaves exactly k-1 iterations done and EIP at the instruction.
 * - F2 (REPNE) on MOVS/STOS/LODS repeats like F3, as hardware does; only CMPS/SCAS test ZF
 *   (REPE: continue while ZF = 1; REPNE: while ZF = 0).
 * - Fast paths (REP MOVS/STOS, forward): whole runs that stay inside one 4 KiB page of source
 *   and destination, inside the segment limits and without offset wrap, whose pages have usable
 *   soft-TLB entries, are copied or filled with typed arrays. A page holding cached code or
 *   MMIO has no usable write entry, so such stores go through cpu.write* (code invalidation,
 *   device access). Overlapping forward copies with the destination inside the source repeat
 *   the pattern element by element, exactly like the iterative definition.
 */
import { EFLAGS, F_DF, LFK_SUB, R_EAX, R_ECX, R_EDI, R_ESI, SEG_ES, TLB_VALID } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { P_REP, P_REPNE } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { getZF, setLazy, SIZE_MASK } from '../lazy-flags.ts';
import { getReg, readMem, SZ16, SZ32, SZ8, setReg, vsize, writeMem } from './operands.ts';
import type { HandlerMap } from './types.ts';

const I_EFLAGS = EFLAGS >> 2;
/** Iterations per handler call on the general (element by element) path. */
export const REP_CHUNK = 1024;
/** Bytes per handler call on the typed-array fast paths. */
export const REP_FAST_BYTES = 64 * 1024;

/** Current index register value (SI/DI or ESI/EDI by the address size), unsigned for 16 bits. */
function idx(cpu: Cpu, i: Insn, r: number): number {
  return i.a32 ? cpu.s[r] : cpu.u16[r << 1];
}

/** Advances an index register by `delta` at the address size. */
function advance(cpu: Cpu, i: Insn, r: number, delta: number): void {
  if (i.a32) cpu.s[r] = (cpu.s[r] + delta) | 0;
  else cpu.u16[r << 1] = cpu.u16[r << 1] + delta;
}

/** Element step: +size or -size by DF. */
function step(cpu: Cpu, sz: number): number {
  return cpu.s[I_EFLAGS] & F_DF ? -(1 << sz) : 1 << sz;
}

function repeated(i: Insn): boolean {
  return (i.prefixes & (P_REP | P_REPNE)) !== 0;
}

function getCount(cpu: Cpu, i: Insn): number {
  return i.a32 ? cpu.s[R_ECX] : cpu.u16[R_ECX << 1];
}

function setCount(cpu: Cpu, i: Insn, v: number): void {
  if (i.a32) cpu.s[R_ECX] = v;
  else cpu.u16[R_ECX << 1] = v;
}

// ------------------------------------------------------------------------------ single iterations
function movsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const v = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), n));
  writeMem(cpu, sz, cpu.linWrite(SEG_ES, idx(cpu, i, R_EDI), n), v);
  const d = step(cpu, sz);
  advance(cpu, i, R_ESI, d);
  advance(cpu, i, R_EDI, d);
}

function stosOnce(cpu: Cpu, i: Insn, sz: number): void {
  writeMem(cpu, sz, cpu.linWrite(SEG_ES, idx(cpu, i, R_EDI), 1 << sz), getReg(cpu, sz, R_EAX));
  advance(cpu, i, R_EDI, step(cpu, sz));
}

function lodsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const v = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), 1 << sz));
  setReg(cpu, sz, R_EAX, v);
  advance(cpu, i, R_ESI, step(cpu, sz));
}

/** CMPS: flags of [seg:SI] - [ES:DI]. */
function cmpsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const a = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), n));
  const b = readMem(cpu, sz, cpu.linRead(SEG_ES, idx(cpu, i, R_EDI), n));
  setLazy(cpu.s, LFK_SUB, sz, a, b, (a - b) & SIZE_MASK[sz]);
  const d = step(cpu, sz);
  advance(cpu, i, R_ESI, d);
  advance(cpu, i, R_EDI, d);
}

/** SCAS: flags of accumulator - [ES:DI]. */
function scasOnce(cpu: Cpu, i: Insn, sz: number): void {
  const b = readMem(cpu, sz, cpu.linRead(SEG_ES, idx(cpu, i, R_EDI), 1 << sz));
  const a = getReg(cpu, sz, R_EAX);
  setLazy(cpu.s, LFK_SUB, sz, a, b, (a - b) & SIZE_MASK[sz]);
  advance(cpu, i, R_EDI, step(cpu, sz));
}

// ------------------------------------------------------------------------------ repeat drivers
/** REP for the instructions that do not test ZF (LODS, and MOVS/STOS off the fast path). */
function repSimple(cpu: Cpu, i: Insn, sz: number, once: (cpu: Cpu, i: Insn, sz: number) => void): void {
  let count = getCount(cpu, i);
  for (let k = 0; count !== 0; k++) {
    if (k === REP_CHUNK) {
      cpu.next = i.eip;
      return;
    }
    once(cpu, i, sz);
    count = i.a32 ? (count - 1) | 0 : count - 1;
    setCount(cpu, i, count);
  }
}

/** REPE/REPNE for CMPS and SCAS: stop when the count reaches 0 or ZF fails the prefix's test. */
function repCompare(cpu: Cpu, i: Insn, sz: number, once: (cpu: Cpu, i: Insn, sz: number) => void): void {
  const whileZero = (i.prefixes & P_REP) !== 0;
  let count = getCount(cpu, i);
  for (let k = 0; count !== 0; k++) {
    if (k === REP_CHUNK) {
      cpu.next = i.eip;
      return;
    }
    once(cpu, i, sz);
    count = i.a32 ? (count - 1) | 0 : count - 1;
    setCount(cpu, i, count);
    if (getZF(cpu.s) !== whileZero) return;
  }
}

/**
 * How many whole elements of `n` bytes, starting at offset `off` of segment `seg`, can be
 * accessed as one run: limited by `count`, the 4 KiB page of the linear address `lin`, the
 * segment's valid range and (16-bit addressing) the 64 KiB offset wrap. 0 if less than two.
 */
function runLength(cpu: Cpu, i: Insn, seg: number, write: boolean, off: number, lin: number, n: number, count: number): number {
  let k = Math.floor((0x1000 - (lin & 0xfff)) / n);
  if (count >>> 0 < k) k = count >>> 0;
  const o = off >>> 0;
  const hi = write ? cpu.segWrHi[seg] : cpu.segRdHi[seg];
  const lo = write ? cpu.segWrLo[seg] : cpu.segRdLo[seg];
  const end = i.a32 ? 0x100000000 : 0x10000;
  let room = Math.floor((Math.min(hi + 1, end) - o) / n);
  if (o < lo) room = 0;
  if (room < k) k = room;
  return k < 2 ? 0 : k;
}

/** Host address of `lin` if its page has a usable TLB entry under `mask`, else -1. */
function hostOf(cpu: Cpu, lin: number, mask: number): number {
  const e = cpu.tlb[lin >>> 12];
  return (e & mask) === TLB_VALID ? ((e & ~0xfff) ^ lin) >>> 0 : -1;
}

function repStos(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const forward = (cpu.s[I_EFLAGS] & F_DF) === 0;
  let count = getCount(cpu, i);
  let bytes = 0;
  let slow = 0;
  while (count !== 0) {
    if (slow === REP_CHUNK || bytes >= REP_FAST_BYTES) {
      cpu.next = i.eip;
      return;
    }
    if (forward) {
      const di = idx(cpu, i, R_EDI);
      const lin = cpu.linWrite(SEG_ES, di, n);
      const k = runLength(cpu, i, SEG_ES, true, di, lin, n, count);
      const h = k ? hostOf(cpu, lin, cpu.writeMask) : -1;
      if (h >= 0) {
        fill(cpu, h, sz, getReg(cpu, sz, R_EAX), k);
        advance(cpu, i, R_EDI, k * n);
        count = i.a32 ? (count - k) | 0 : count - k;
        setCount(cpu, i, count);
        bytes += k * n;
        continue;
      }
    }
    stosOnce(cpu, i, sz);
    count = i.a32 ? (count - 1) | 0 : count - 1;
    setCount(cpu, i, count);
    slow++;
  }
}

/** Stores `k` copies of the `sz`-sized value `v` at host address `h`. */
function fill(cpu: Cpu, h: number, sz: number, v: number, k: number): void {
  if (sz === SZ8) cpu.u8.fill(v, h, h + k);
  else if (sz === SZ16 && (h & 1) === 0) cpu.u16.fill(v, h >>> 1, (h >>> 1) + k);
  else if (sz === SZ32 && (h & 3) === 0) cpu.i32.fill(v, h >>> 2, (h >>> 2) + k);
  else {
    const dv = cpu.dv;
    const n = 1 << sz;
    for (let j = 0; j < k; j++) {
      if (sz === SZ16) dv.setUint16(h + j * n, v, true);
      else dv.setInt32(h + j * n, v, true);
    }
  }
}

function repMovs(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const forward = (cpu.s[I_EFLAGS] & F_DF) === 0;
  let count = getCount(cpu, i);
  let bytes = 0;
  let slow = 0;
  while (count !== 0) {
    if (slow === REP_CHUNK || bytes >= REP_FAST_BYTES) {
      cpu.next = i.eip;
      return;
    }
    if (forward) {
      const si = idx(cpu, i, R_ESI);
      const di = idx(cpu, i, R_EDI);
      // Same order of checks as one iteration: the source read, then the destination write.
      const ls = cpu.linRead(i.seg, si, n);
      const ld = cpu.linWrite(SEG_ES, di, n);
      let k = runLength(cpu, i, i.seg, false, si, ls, n, count);
      if (k) k = Math.min(k, runLength(cpu, i, SEG_ES, true, di, ld, n, k));
      const hs = k ? hostOf(cpu, ls, cpu.readMask) : -1;
      const hd = hs >= 0 ? hostOf(cpu, ld, cpu.writeMask) : -1;
      if (hd >= 0) {
        copy(cpu, hd, hs, n, k);
        advance(cpu, i, R_ESI, k * n);
        advance(cpu, i, R_EDI, k * n);
        count = i.a32 ? (count - k) | 0 : count - k;
        setCount(cpu, i, count);
        bytes += k * n;
        continue;
      }
    }
    movsOnce(cpu, i, sz);
    count = i.a32 ? (count - 1) | 0 : count - 1;
    setCount(cpu, i, count);
    slow++;
  }
}

/**
 * Copies `k` elements of `n` bytes from host `hs` to host `hd` in ascending order. When the
 * destination starts inside the source run, the iterative definition re-reads bytes it has just
 * written, so copy element by element; otherwise a memmove gives the same bytes.
 */
function copy(cpu: Cpu, hd: number, hs: number, n: number, k: number): void {
  const len = k * n;
  const u8 = cpu.u8;
  if (hd <= hs || hd >= hs + len) {
    u8.copyWithin(hd, hs, hs + len);
    return;
  }
  if (n === 1) {
    for (let j = 0; j < len; j++) u8[hd + j] = u8[hs + j];
    return;
  }
  const dv = cpu.dv;
  for (let j = 0; j < len; j += n) {
    if (n === 2) dv.setUint16(hd + j, dv.getUint16(hs + j, true), true);
    else dv.setInt32(hd + j, dv.getInt32(hs + j, true), true);
  }
}

function movs(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repMovs(cpu, i, sz);
  else movsOnce(cpu, i, sz);
}

function stos(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repStos(cpu, i, sz);
  else stosOnce(cpu, i, sz);
}

function lods(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repSimple(cpu, i, sz, lodsOnce);
  else lodsOnce(cpu, i, sz);
}

function cmps(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repCompare(cpu, i, sz, cmpsOnce);
  else cmpsOnce(cpu, i, sz);
}

function scas(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repCompare(cpu, i, sz, scasOnce);
  else scasOnce(cpu, i, sz);
}

export const STRING_HANDLERS: HandlerMap = {
  movsb: (cpu, i) => movs(cpu, i, SZ8),
  movsv: (cpu, i) => movs(cpu, i, vsize(i)),
  cmpsb: (cpu, i) => cmps(cpu, i, SZ8),
  cmpsv: (cpu, i) => cmps(cpu, i, vsize(i)),
  stosb: (cpu, i) => stos(cpu, i, SZ8),
  stosv: (cpu, i) => stos(cpu, i, vsize(i)),
  lodsb: (cpu, i) => lods(cpu, i, SZ8),
  lodsv: (cpu, i) => lods(cpu, i, vsize(i)),
  scasb: (cpu, i) => scas(cpu, i, SZ8),
  scasv: (cpu, i) => scas(cpu, i, vsize(i)),
};
