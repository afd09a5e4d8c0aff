/**
 * The block scanner: decodes one basic block of guest code from a physical page in a given CPU
 * mode, and classifies each instruction by its table class (design.md §2).
 *
 * A block ends after a control transfer, after a row that must end a block (`endsBlock`: far
 * transfers, mode and IF changes, segment loads, rows that always fault), at the 4 KiB page end,
 * at the CS limit, or at MAX_BLOCK_INSNS. An instruction that would cross the page end is not
 * part of any block (the runtime executes it uncached), so one physical page fully determines the
 * bytes of every block scanned from it.
 *
 * The one scanner of the project: the runtime's code cache keeps what it returns (the interpreter
 * executes those blocks, and the translator's region former takes them from the cache instead of
 * decoding again).
 *
 * Pure: the caller passes the memory view and the page's placement; nothing here reads CPU state.
 */
import { decode } from '../decoder/decode.ts';
import type { Insn } from '../decoder/insn.ts';
import { CLASS_OF_ROW, TABLE, endsBlock } from '../isa/table.ts';
import { CLASS_NAMES } from '../isa/types.ts';

/** Longest block the scanner builds, in instructions. */
export const MAX_BLOCK_INSNS = 64;

/**
 * Where a page of guest code sits: bytes come from `u8[hostPage + offset]`, and the instruction at
 * page offset `o` has CS offset `eipBase + o` (constant within a page for a given CS base and
 * linear-to-physical mapping).
 */
export interface CodePage {
  readonly u8: Uint8Array;
  /** Host (shared-memory) address of the page's first byte. */
  readonly hostPage: number;
  /** Guest physical address of the page's first byte. */
  readonly physPage: number;
  /** CS offset of the page's first byte (may be "negative" for pages below CS base: wraps). */
  readonly eipBase: number;
  /** CS limit (byte-granular, unsigned). */
  readonly csLimit: number;
  /** CS.D: 32-bit code. */
  readonly code32: boolean;
}

export interface ScannedBlock {
  /** CS offset of the first instruction. */
  readonly eip: number;
  /** Guest physical address of the first instruction. */
  readonly phys: number;
  readonly insns: readonly Insn[];
  /** CS offset after the last instruction (wrapped to 16 bits in 16-bit code). */
  readonly endEip: number;
  /** Instructions per class, indexed by the table's CLASS_INDEX. */
  readonly classCounts: readonly number[];
  /**
   * Why the block ended: a control transfer, a row that ends blocks, the instruction limit, the
   * page end, or (regions only, scan/region.ts) the start of another block of the region.
   */
  readonly end: 'control' | 'ends' | 'limit' | 'page' | 'join';
}

/** Thrown by the fetcher at the page end or CS limit; never escapes this module. */
const STOP = { stop: true } as const;

/** Page offset of CS offset `eip`, or -1 if it is not inside the page. */
export function pageOffsetOf(page: CodePage, eip: number): number {
  const off = (eip - page.eipBase) | 0;
  return off >= 0 && off < 0x1000 ? off : -1;
}

/**
 * Scans the block at CS offset `eip` (which must lie in `page`). Returns null if not even the
 * first instruction fits in the page and under the CS limit.
 */
export function scanBlock(page: CodePage, eip: number, maxInsns = MAX_BLOCK_INSNS): ScannedBlock | null {
  const start = pageOffsetOf(page, eip);
  if (start < 0) return null;
  const { u8, hostPage, eipBase, csLimit, code32 } = page;
  const fetch = (e: number): number => {
    const off = (e - eipBase) | 0;
    if (off < 0 || off >= 0x1000 || (e >>> 0) > csLimit) throw STOP;
    return u8[hostPage + off];
  };
  const insns: Insn[] = [];
  const counts = new Array<number>(CLASS_NAMES.length).fill(0);
  let e = eip;
  let end: ScannedBlock['end'] = 'limit';
  for (;;) {
    let insn: Insn;
    try {
      insn = decode(fetch, e, code32);
    } catch (err) {
      if (err === STOP) { end = 'page'; break; }
      throw err;
    }
    insns.push(insn);
    const row = TABLE[insn.row];
    counts[CLASS_OF_ROW[insn.row]]++;
    e = code32 ? (insn.eip + insn.len) | 0 : (insn.eip + insn.len) & 0xffff;
    if (endsBlock(row)) { end = row.cls === 'control' ? 'control' : 'ends'; break; }
    if (insns.length >= maxInsns) break;
    const off = (e - eipBase) | 0;
    // Stop at the page end, and at a 16-bit wrap (which leaves the page's EIP range).
    if (off < 0 || off >= 0x1000) { end = 'page'; break; }
  }
  if (insns.length === 0) return null;
  return { eip, phys: page.physPage + start, insns, endEip: e, classCounts: counts, end };
}

/** Per-class instruction counts of `insns` (CLASS_INDEX order). */
export function classCountsOf(insns: readonly Insn[]): number[] {
  const counts = new Array<number>(CLASS_NAMES.length).fill(0);
  for (const i of insns) counts[CLASS_OF_ROW[i.row]]++;
  return counts;
}
