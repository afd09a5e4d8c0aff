/**
 * Stack frames of privilege transitions (SDM vol. 3, 5.8.5 and 6.12.1): far CALL, call gates and
 * interrupt/exception delivery push a whole frame onto a stack that may not be the current one
 * (the inner stack named by the TSS). The frame is checked slot by slot against that segment's
 * limit (expand-down aware, 16/32-bit wrap by its B bit) before the first byte is written, so a
 * limit violation changes nothing.
 *
 * Writes to an inner stack are made with the privilege of the new CPL: implicit supervisor
 * accesses when that CPL is 0..2 (so a CPL-3 caller's page rights do not apply).
 */
import { R_ESP, SEG_SS, SEGF_DB } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { descBase, descLimit, loadedFlags } from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { writeSys } from './paging.ts';

/** A stack segment's cached descriptor fields (not necessarily the current SS). */
export interface StackSeg {
  base: number;
  /** Byte-granular limit, unsigned. */
  limit: number;
  /** SEG_FLAGS format. */
  flags: number;
}

/** The current SS. */
export function currentStack(cpu: Cpu): StackSeg {
  return { base: cpu.segBase(SEG_SS), limit: cpu.segLimit(SEG_SS), flags: cpu.segFlags(SEG_SS) };
}

/** The stack a checked SS descriptor describes. */
export function stackOfDescriptor(d: Descriptor): StackSeg {
  return { base: descBase(d), limit: descLimit(d), flags: loadedFlags(d) };
}

/** True if bytes `off`..`off+n-1` lie inside the (data) segment `st`. */
function inLimits(st: StackSeg, off: number, n: number): boolean {
  if (st.flags & 0x04) {
    // expand-down: valid offsets are limit+1 .. 0xFFFF (or 0xFFFFFFFF with B set)
    const top = st.flags & SEGF_DB ? 0xffffffff : 0xffff;
    return off > st.limit && off + n - 1 <= top;
  }
  return off + n - 1 <= st.limit;
}

/**
 * Faults with `vector`(`code`) unless `n` slots of `size` bytes below `esp` all lie inside the
 * stack segment `st`.
 */
export function checkFrame(st: StackSeg, esp: number, n: number, size: 2 | 4, vector: number, code: number): void {
  const mask = st.flags & SEGF_DB ? -1 : 0xffff;
  for (let k = 1; k <= n; k++) {
    if (!inLimits(st, ((esp - k * size) & mask) >>> 0, size)) fault(vector, code);
  }
}

/**
 * Writes `values` (the first lands at the highest address) as `size`-byte slots below `esp` on
 * `st` (already checked by checkFrame). Returns the new ESP (on a 16-bit stack only SP changes).
 */
export function writeFrame(cpu: Cpu, st: StackSeg, esp: number, values: readonly number[], size: 2 | 4, supervisor: boolean): number {
  const mask = st.flags & SEGF_DB ? -1 : 0xffff;
  const n = values.length;
  for (let k = 0; k < n; k++) {
    const lin = (st.base + (((esp - (k + 1) * size) & mask) >>> 0)) | 0;
    const v = values[k];
    if (supervisor) writeSys(cpu, lin, size, size === 4 ? v | 0 : v & 0xffff);
    else if (size === 4) cpu.write32(lin, v);
    else cpu.write16(lin, v & 0xffff);
  }
  return mask === -1 ? (esp - n * size) | 0 : (esp & ~0xffff) | ((esp - n * size) & 0xffff);
}

/** checkFrame then writeFrame. */
export function pushFrame(
  cpu: Cpu, st: StackSeg, esp: number, values: readonly number[], size: 2 | 4, supervisor: boolean,
  vector: number, code: number,
): number {
  checkFrame(st, esp, values.length, size, vector, code);
  return writeFrame(cpu, st, esp, values, size, supervisor);
}

/**
 * ESP after loading a stack pointer `sp` for a stack of width `b32`: a 16-bit stack keeps the
 * upper half of the current ESP (as hardware does on a return to a 16-bit stack).
 */
export function mergeSp(cpu: Cpu, sp: number, b32: boolean): number {
  return b32 ? sp | 0 : (cpu.s[R_ESP] & ~0xffff) | (sp & 0xffff);
}
