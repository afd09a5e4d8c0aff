/**
 * Interpreter handlers: string instructions (SDM vol. 2: MOVS, CMPS, STOS, LODS, SCAS and the
 * REP/REPE/REPNE prefixes). INS/OUTS are port I/O and belong to the VMM.
 *
 * Invariants:
 * - The address size selects SI/DI/CX or ESI/EDI/ECX (16-bit forms wrap at 64 KiB and keep the
 *   upper halves); EFLAGS.DF selects the direction. The source (X operand) uses insn.seg (DS or
 *   the override), the destination (Y operand) is always ES.
 * - A repeated instruction runs in bounded chunks and restarts itself (insn/rep.ts, shared with
 *   INS/OUTS): a fault in iteration k leaves exactly k-1 iterations done, EIP at the instruction.
 * - F2 (REPNE) on MOVS/STOS/LODS repeats like F3, as hardware does; only CMPS/SCAS test ZF
 *   (REPE: continue while ZF = 1; REPNE: while ZF = 0).
 * - Fast paths (REP MOVS/STOS, forward): whole runs that stay inside one 4 KiB page of source
 *   and destination, inside the segment limits and without offset wrap, whose pages have usable
 *   soft-TLB entries, are copied or filled with typed arrays. A page holding cached code or
 *   MMIO has no usable write entry, so such stores go through cpu.write* (code invalidation,
 *   device access). Overlapping forward copies with the destination inside the source repeat
 *   the pattern element by element, exactly like the iterative definition.
 */
import { EFLAGS, F_DF, LFK_SUB, R_EAX, R_EDI, R_ESI, SEG_ES, SIZE_MASK, SZ16, SZ32, SZ8, TLB_VALID } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { setLazy } from '../lazy-flags.ts';
import { advance, idx, repeat, repeated, step } from '../insn/rep.ts';
import { getReg, readMem, setReg, writeMem } from '../insn/operands.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

const I_EFLAGS = EFLAGS >> 2;

// ------------------------------------------------------------------------------ single iterations
function movsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const v = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), n));
  writeMem(cpu, sz, cpu.linWrite(SEG_ES, idx(cpu, i, R_EDI), n), v);
  const d = step(cpu, 1 << sz);
  advance(cpu, i, R_ESI, d);
  advance(cpu, i, R_EDI, d);
}

function stosOnce(cpu: Cpu, i: Insn, sz: number): void {
  writeMem(cpu, sz, cpu.linWrite(SEG_ES, idx(cpu, i, R_EDI), 1 << sz), getReg(cpu, sz, R_EAX));
  advance(cpu, i, R_EDI, step(cpu, 1 << sz));
}

function lodsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const v = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), 1 << sz));
  setReg(cpu, sz, R_EAX, v);
  advance(cpu, i, R_ESI, step(cpu, 1 << sz));
}

/** CMPS: flags of [seg:SI] - [ES:DI]. */
function cmpsOnce(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const a = readMem(cpu, sz, cpu.linRead(i.seg, idx(cpu, i, R_ESI), n));
  const b = readMem(cpu, sz, cpu.linRead(SEG_ES, idx(cpu, i, R_EDI), n));
  setLazy(cpu.s, LFK_SUB, sz, a, b, (a - b) & SIZE_MASK[sz]);
  const d = step(cpu, 1 << sz);
  advance(cpu, i, R_ESI, d);
  advance(cpu, i, R_EDI, d);
}

/** SCAS: flags of accumulator - [ES:DI]. */
function scasOnce(cpu: Cpu, i: Insn, sz: number): void {
  const b = readMem(cpu, sz, cpu.linRead(SEG_ES, idx(cpu, i, R_EDI), 1 << sz));
  const a = getReg(cpu, sz, R_EAX);
  setLazy(cpu.s, LFK_SUB, sz, a, b, (a - b) & SIZE_MASK[sz]);
  advance(cpu, i, R_EDI, step(cpu, 1 << sz));
}

// ------------------------------------------------------------------------------ fast paths
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

/** REP STOS: forward runs filled with typed arrays (see the file overview), else one by one. */
function repStos(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const forward = (cpu.s[I_EFLAGS] & F_DF) === 0;
  repeat(cpu, i, () => stosOnce(cpu, i, sz), {
    bytesPerElement: n,
    fast: (count) => {
      if (!forward) return 0;
      const di = idx(cpu, i, R_EDI);
      const lin = cpu.linWrite(SEG_ES, di, n);
      const k = runLength(cpu, i, SEG_ES, true, di, lin, n, count);
      const h = k ? hostOf(cpu, lin, cpu.writeMask) : -1;
      if (h < 0) return 0;
      fill(cpu, h, sz, getReg(cpu, sz, R_EAX), k);
      advance(cpu, i, R_EDI, k * n);
      return k;
    },
  });
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

/** REP MOVS: forward runs copied with typed arrays (see the file overview), else one by one. */
function repMovs(cpu: Cpu, i: Insn, sz: number): void {
  const n = 1 << sz;
  const forward = (cpu.s[I_EFLAGS] & F_DF) === 0;
  repeat(cpu, i, () => movsOnce(cpu, i, sz), {
    bytesPerElement: n,
    fast: (count) => {
      if (!forward) return 0;
      const si = idx(cpu, i, R_ESI);
      const di = idx(cpu, i, R_EDI);
      // Same order of checks as one iteration: the source read, then the destination write.
      const ls = cpu.linRead(i.seg, si, n);
      const ld = cpu.linWrite(SEG_ES, di, n);
      let k = runLength(cpu, i, i.seg, false, si, ls, n, count);
      if (k) k = Math.min(k, runLength(cpu, i, SEG_ES, true, di, ld, n, k));
      const hs = k ? hostOf(cpu, ls, cpu.readMask) : -1;
      const hd = hs >= 0 ? hostOf(cpu, ld, cpu.writeMask) : -1;
      if (hd < 0) return 0;
      copy(cpu, hd, hs, n, k);
      advance(cpu, i, R_ESI, k * n);
      advance(cpu, i, R_EDI, k * n);
      return k;
    },
  });
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
  if (repeated(i)) repeat(cpu, i, () => lodsOnce(cpu, i, sz));
  else lodsOnce(cpu, i, sz);
}

function cmps(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repeat(cpu, i, () => cmpsOnce(cpu, i, sz), { compare: true });
  else cmpsOnce(cpu, i, sz);
}

function scas(cpu: Cpu, i: Insn, sz: number): void {
  if (repeated(i)) repeat(cpu, i, () => scasOnce(cpu, i, sz), { compare: true });
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
