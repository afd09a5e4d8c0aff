/**
 * Segment selectors and descriptors (SDM vol. 3, 3.4 and 3.5; gates in 5.8.3 and 6.11; the TSS
 * descriptor in 7.2.2): fetching a descriptor from the GDT or LDT with the table-limit check,
 * decoding base, limit and attributes into the segment-cache format of translator/abi.ts
 * (SEG_FLAGS), and the descriptor writes the processor itself makes (accessed and busy bits).
 *
 * Descriptor-table reads and writes are implicit supervisor accesses (readSys/writeSys): they
 * succeed at CPL 3 on supervisor pages. A descriptor is handled as its two raw dwords `lo`/`hi`
 * plus the linear address it was read from, so callers can test any field without re-reading.
 *
 * Error codes for selector faults have the selector's index and TI bit and a zero RPL field:
 * `sel & 0xfffc`. The EXT bit is added by the event-delivery code (interrupts.ts) for faults
 * raised while an external event or exception is being delivered.
 */
import {
  GDTR_BASE, GDTR_LIMIT, LDTR_BASE, LDTR_LIMIT, LDTR_FLAGS, SEGF_ACCESSED, SEGF_USABLE,
} from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { readSys, writeSys } from './paging.ts';

/** A descriptor as read from a table: its two dwords and its linear address. */
export interface Descriptor {
  /** Low dword: limit 15..0 and base 15..0 (or a gate's offset 15..0 and selector). */
  lo: number;
  /** High dword: base 23..16, type, S, DPL, P, limit 19..16, AVL, D/B, G, base 31..24. */
  hi: number;
  /** Linear address of the descriptor (for the accessed/busy bit writes). */
  addr: number;
}

// System-descriptor types (S = 0), SDM vol. 3 table 3-2.
export const SYS_TSS16_AVAIL = 0x1;
export const SYS_LDT = 0x2;
export const SYS_TSS16_BUSY = 0x3;
export const SYS_CALL_GATE16 = 0x4;
export const SYS_TASK_GATE = 0x5;
export const SYS_INT_GATE16 = 0x6;
export const SYS_TRAP_GATE16 = 0x7;
export const SYS_TSS32_AVAIL = 0x9;
export const SYS_TSS32_BUSY = 0xb;
export const SYS_CALL_GATE32 = 0xc;
export const SYS_INT_GATE32 = 0xe;
export const SYS_TRAP_GATE32 = 0xf;

/** The busy bit within a TSS descriptor's type field (hi bit 9). */
export const TSS_BUSY_BIT = 0x200;

/** True for a null selector: index 0 in the GDT, whatever the RPL. */
export function isNullSel(sel: number): boolean {
  return (sel & 0xfffc) === 0;
}

/** Error code for a fault that names a selector (RPL bits cleared). */
export function selError(sel: number): number {
  return sel & 0xfffc;
}

/**
 * Reads the descriptor that `sel` references. Raises `vector`(selector) if the index lies beyond
 * the table limit, or if TI selects the LDT while LDTR is null. The caller checks for null
 * selectors first where they are legal or have their own error.
 */
export function fetchDescriptor(cpu: Cpu, sel: number, vector: number): Descriptor {
  const s = cpu.s;
  let base: number;
  let limit: number;
  if (sel & 4) {
    if (!(s[LDTR_FLAGS >> 2] & SEGF_USABLE)) fault(vector, selError(sel));
    base = s[LDTR_BASE >> 2];
    limit = s[LDTR_LIMIT >> 2] >>> 0;
  } else {
    base = s[GDTR_BASE >> 2];
    limit = s[GDTR_LIMIT >> 2] >>> 0;
  }
  const index = sel & 0xfff8;
  if (index + 7 > limit) fault(vector, selError(sel));
  const addr = (base + index) | 0;
  const lo = readSys(cpu, addr, 4);
  const hi = readSys(cpu, (addr + 4) | 0, 4);
  return { lo, hi, addr };
}

/** Like fetchDescriptor but for a selector that must reference the GDT (TSS, LDT, task gates). */
export function fetchGdtDescriptor(cpu: Cpu, sel: number, vector: number): Descriptor {
  if (sel & 4) fault(vector, selError(sel));
  return fetchDescriptor(cpu, sel, vector);
}

// ------------------------------------------------------------------------------ field access
/** The 32-bit base address. */
export function descBase(d: Descriptor): number {
  return (d.lo >>> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000);
}

/** The byte-granular limit (G expanded), unsigned. */
export function descLimit(d: Descriptor): number {
  const raw = (d.lo & 0xffff) | (d.hi & 0xf0000);
  return d.hi & 0x800000 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

/** Attributes in the SEG_FLAGS format (access byte, AVL/L/DB/G) with SEGF_USABLE set. */
export function descFlags(d: Descriptor): number {
  return ((d.hi >>> 8) & 0xf0ff) | SEGF_USABLE;
}

/** The descriptor privilege level. */
export function descDpl(d: Descriptor): number {
  return (d.hi >>> 13) & 3;
}

/** The P bit. */
export function descPresent(d: Descriptor): boolean {
  return (d.hi & 0x8000) !== 0;
}

/** S = 1: a code or data segment (else a system descriptor or gate). */
export function descIsSegment(d: Descriptor): boolean {
  return (d.hi & 0x1000) !== 0;
}

/** The 4-bit type field. */
export function descType(d: Descriptor): number {
  return (d.hi >>> 8) & 0xf;
}

/** A code segment (S = 1, type bit 3). */
export function descIsCode(d: Descriptor): boolean {
  return (d.hi & 0x1800) === 0x1800;
}

/** A data segment (S = 1, type bit 3 clear). */
export function descIsData(d: Descriptor): boolean {
  return (d.hi & 0x1800) === 0x1000;
}

/** A conforming code segment. */
export function descIsConforming(d: Descriptor): boolean {
  return (d.hi & 0x1c00) === 0x1c00;
}

/** A writable data segment (the only kind SS may hold). */
export function descIsWritableData(d: Descriptor): boolean {
  return (d.hi & 0x1a00) === 0x1200;
}

/** Data, or code with the readable bit: what DS/ES/FS/GS may hold. */
export function descIsReadable(d: Descriptor): boolean {
  return descIsData(d) || (d.hi & 0x1a00) === 0x1a00;
}

/** The system type of a descriptor (S = 0), or -1 for a code/data segment. */
export function descSysType(d: Descriptor): number {
  return d.hi & 0x1000 ? -1 : (d.hi >>> 8) & 0xf;
}

/** A gate's target selector. */
export function gateSelector(d: Descriptor): number {
  return d.lo >>> 16;
}

/** A gate's target offset (16 bits for the 16-bit gate types, whose type bit 3 is clear). */
export function gateOffset(d: Descriptor): number {
  return d.hi & 0x800 ? (d.lo & 0xffff) | (d.hi & 0xffff0000) : d.lo & 0xffff;
}

/** A call gate's parameter count (dwords or words to copy). */
export function gateParamCount(d: Descriptor): number {
  return d.hi & 0x1f;
}

// ------------------------------------------------------------------------------ processor writes
/**
 * Sets the accessed bit in the descriptor in memory (the processor does this on every segment
 * load of a descriptor whose bit is clear) and in `d`.
 */
export function markAccessed(cpu: Cpu, d: Descriptor): void {
  if (d.hi & 0x100) return;
  d.hi |= 0x100;
  writeSys(cpu, (d.addr + 5) | 0, 1, (d.hi >>> 8) & 0xff);
}

/** Sets or clears the busy bit of a TSS descriptor in memory and in `d`. */
export function setTssBusy(cpu: Cpu, d: Descriptor, busy: boolean): void {
  d.hi = busy ? d.hi | TSS_BUSY_BIT : d.hi & ~TSS_BUSY_BIT;
  writeSys(cpu, (d.addr + 5) | 0, 1, (d.hi >>> 8) & 0xff);
}

/** SEG_FLAGS of a loaded code/data descriptor, with the accessed bit that the load set. */
export function loadedFlags(d: Descriptor): number {
  return descFlags(d) | SEGF_ACCESSED;
}
