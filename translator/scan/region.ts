/**
 * The region former: from one or more hot entry points in a physical page, collects the blocks of
 * that page reachable by direct jumps, fall-throughs and call-return sites (design.md §6: v86
 * compiles a page plus its direct successors; we stay inside one page, as Blink does, so that a
 * write to the page invalidates exactly the regions built from it).
 *
 * A jump into the middle of a scanned block starts a new block there; the earlier block is then
 * cut short so that it ends where the new one starts and falls through into it ('join'), and no
 * instruction is translated twice (a loop head reached by fall-through is the common case).
 * Blocks are returned in address order so that most fall-through edges become fall-through in
 * the emitted code.
 */
import type { Insn } from '../decoder/insn.ts';
import { TABLE } from '../isa/table.ts';
import { classCountsOf, pageOffsetOf, scanBlock } from './scan-block.ts';
import type { CodePage, ScannedBlock } from './scan-block.ts';

export interface RegionLimits {
  /** Most blocks in one region. */
  readonly maxBlocks: number;
  /** Most guest instructions in one region (bounds compile time: ~5-10 us per instruction). */
  readonly maxInsns: number;
}

export const DEFAULT_REGION_LIMITS: RegionLimits = { maxBlocks: 160, maxInsns: 1200 };

/**
 * Rows after which execution does not continue at the next instruction, or only after an event
 * (HLT: whatever follows it is usually padding or data, and an interrupt returns through the run
 * loop anyway).
 */
const NO_FALLTHROUGH: ReadonlySet<string> = new Set([
  'jmpJb', 'jmpJz', 'jmpEv', 'ret', 'retIw', 'jmpAp', 'jmpMp', 'retf', 'retfIw', 'iret', 'ud2', 'invalid', 'tooLong', 'hlt',
]);

/** The target CS offset of a relative (Jb/Jz) transfer, or null for other instructions. */
export function directTarget(insn: Insn, code32: boolean): number | null {
  const row = TABLE[insn.row];
  if (row.ops[0] !== 'Jb' && row.ops[0] !== 'Jz') return null;
  const next = code32 ? insn.eip + insn.len : (insn.eip + insn.len) & 0xffff;
  const t = next + insn.imm;
  return insn.o32 ? t | 0 : t & 0xffff;
}

/** True if execution may continue after the block's last instruction (incl. a call's return). */
export function fallsThrough(block: ScannedBlock): boolean {
  const last = block.insns[block.insns.length - 1];
  return !NO_FALLTHROUGH.has(TABLE[last.row].name);
}

/** Successor entry points of a block that lie inside `page`. */
export function successors(page: CodePage, block: ScannedBlock): number[] {
  const out: number[] = [];
  const last = block.insns[block.insns.length - 1];
  const t = directTarget(last, page.code32);
  if (t !== null && pageOffsetOf(page, t) >= 0 && t >>> 0 <= page.csLimit) out.push(t);
  if (fallsThrough(block) && pageOffsetOf(page, block.endEip) >= 0) out.push(block.endEip);
  return out;
}

/**
 * Scans the region reachable from `entries` (CS offsets in `page`). The entries themselves are
 * always included if they scan; successors are added breadth-first within the limits, and only
 * if `accept` approves them (the runtime passes "has executed before", so that cold paths and
 * bytes that merely follow code are not translated). `blockAt` gives the block at an entry point
 * of the page: the runtime passes its code cache, which holds the blocks it already scanned.
 */
export function formRegion(
  page: CodePage, entries: readonly number[], limits: RegionLimits = DEFAULT_REGION_LIMITS,
  accept: (eip: number) => boolean = () => true,
  blockAt: (eip: number) => ScannedBlock | null = (eip) => scanBlock(page, eip),
): ScannedBlock[] {
  const byEip = new Map<number, ScannedBlock>();
  const queue: number[] = [...entries];
  let insns = 0;
  for (let q = 0; q < queue.length; q++) {
    const eip = queue[q];
    if (byEip.has(eip)) continue;
    const isEntry = q < entries.length;
    if (!isEntry && (byEip.size >= limits.maxBlocks || insns >= limits.maxInsns)) continue;
    const b = blockAt(eip);
    if (!b) continue;
    byEip.set(eip, b);
    insns += b.insns.length;
    for (const s of successors(page, b)) if (!byEip.has(s) && accept(s)) queue.push(s);
  }
  const blocks = [...byEip.values()].sort((a, b) => (a.eip >>> 0) - (b.eip >>> 0));
  return blocks.map((b) => joinAt(b, byEip));
}

/** `b` cut short before its first instruction (after the first) that starts another block. */
function joinAt(b: ScannedBlock, starts: ReadonlyMap<number, ScannedBlock>): ScannedBlock {
  const insns = b.insns;
  for (let k = 1; k < insns.length; k++) {
    if (!starts.has(insns[k].eip)) continue;
    const kept = insns.slice(0, k);
    return { eip: b.eip, phys: b.phys, insns: kept, endEip: insns[k].eip, classCounts: classCountsOf(kept), end: 'join' };
  }
  return b;
}
