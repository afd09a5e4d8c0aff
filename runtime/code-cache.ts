/**
 * The code cache: decoded basic blocks keyed by physical address plus the CPU mode bits, grouped
 * by physical 4 KiB page so that a write to a page drops everything decoded (and translated)
 * from it. Both tiers use it: the interpreter executes a Block's decoded instructions; the
 * translator attaches compiled code to hot Blocks.
 *
 * Invariants:
 * - A block never contains an instruction that crosses its 4 KiB page; such an instruction is
 *   executed uncached (see exec.ts), so one page fully determines a block's bytes.
 * - Every page with a live block is marked in cpu.codePages, so writes to it take the slow path
 *   and reach `invalidatePage`.
 */
import { RAM_OFFSET } from '../translator/abi.ts';
import { MAX_INSN_LEN, decode } from '../translator/decoder/decode.ts';
import type { Insn } from '../translator/decoder/insn.ts';
import { TABLE, endsBlock } from '../translator/isa/table.ts';
import type { Cpu } from './cpu.ts';

/** Longest block the scanner builds, in instructions. */
export const MAX_BLOCK_INSNS = 64;

/** Class ids used in statistics arrays. */
export const CLASS_IDS = { innocuous: 0, control: 1, 'sensitive-non-trapping': 2, privileged: 3, io: 4 } as const;
export const CLASS_NAMES = ['innocuous', 'control', 'sensitive-non-trapping', 'privileged', 'io'] as const;
/** CLASS_OF_ROW[row id] = class id. */
export const CLASS_OF_ROW = Uint8Array.from(TABLE, (r) => CLASS_IDS[r.cls]);

export class Block {
  /** Executions so far (the tier-up counter). */
  execCount = 0;
  /** Compiled code attached by the translator, if any. */
  compiled: unknown = null;
  constructor(
    readonly phys: number,
    readonly mode: number,
    /** CS offset of the first instruction. */
    readonly eip: number,
    readonly insns: readonly Insn[],
    /** CS offset after the last instruction. */
    readonly endEip: number,
  ) {}
}

class Page {
  readonly blocks = new Map<number, Block>();
}

/** Thrown by the scanner's fetcher at the page end; never escapes this module. */
const PAGE_END = { pageEnd: true } as const;

export class CodeCache {
  private readonly pages = new Map<number, Page>();
  blockCount = 0;
  /** Statistics. */
  hits = 0;
  misses = 0;
  invalidations = 0;
  /** Called for every block dropped (the translator releases compiled code). */
  onDrop: (b: Block) => void = () => {};

  constructor(private readonly cpu: Cpu) {}

  /** Key of a block inside its page: page offset and mode bits. */
  private static key(phys: number, mode: number): number {
    return (phys & 0xfff) | (mode << 12);
  }

  lookup(phys: number, mode: number): Block | undefined {
    const page = this.pages.get(phys >>> 12);
    return page?.blocks.get(CodeCache.key(phys, mode));
  }

  /**
   * Decodes a block at CS offset `eip` (physical `phys`) in the current mode and caches it.
   * Returns null if even the first instruction crosses the page or the CS limit: the caller
   * executes that instruction uncached.
   */
  scan(phys: number, eip: number, mode: number, code32: boolean, csLimit: number): Block | null {
    const cpu = this.cpu;
    const pageBase = phys & ~0xfff;
    if (pageBase >= cpu.mem.ramSize) return null; // executing from non-RAM: never cached
    const u8 = cpu.u8;
    const hostBase = RAM_OFFSET + pageBase;
    // Bytes are read straight from the physical page: offset `e` in CS maps to phys + (e - eip).
    const start = phys & 0xfff;
    const fetch = (e: number): number => {
      const off = start + (e - eip);
      if (off >= 0x1000 || (e >>> 0) > csLimit) throw PAGE_END;
      return u8[hostBase + off];
    };
    const insns: Insn[] = [];
    let e = eip;
    for (;;) {
      let insn: Insn;
      try {
        insn = decode(fetch, code32 ? e : e & 0xffff, code32);
      } catch (err) {
        if (err === PAGE_END) break;
        throw err;
      }
      insns.push(insn);
      e = insn.eip + insn.len;
      if (!code32) e &= 0xffff;
      if (endsBlock(TABLE[insn.row]) || insns.length >= MAX_BLOCK_INSNS) break;
      if (start + (e - eip) >= 0x1000) break;
    }
    if (insns.length === 0) return null;
    const block = new Block(phys, mode, eip, insns, e);
    let page = this.pages.get(phys >>> 12);
    if (!page) {
      page = new Page();
      this.pages.set(phys >>> 12, page);
      cpu.markCodePage(phys);
    }
    const key = CodeCache.key(phys, mode);
    const old = page.blocks.get(key);
    if (old) this.onDrop(old);
    else this.blockCount++;
    page.blocks.set(key, block);
    return block;
  }

  /** Drops every block decoded from physical page `phys >>> 12`. */
  invalidatePage(phys: number): void {
    const n = phys >>> 12;
    const page = this.pages.get(n);
    if (!page) return;
    this.pages.delete(n);
    for (const b of page.blocks.values()) this.onDrop(b);
    this.blockCount -= page.blocks.size;
    this.invalidations++;
    this.cpu.unmarkCodePage(phys);
    this.cpu.codeEpoch++;
  }

  /** Drops everything. */
  clear(): void {
    for (const [n, page] of this.pages) {
      for (const b of page.blocks.values()) this.onDrop(b);
      this.cpu.unmarkCodePage(n << 12);
    }
    this.pages.clear();
    this.blockCount = 0;
    this.cpu.codeEpoch++;
  }
}

export { MAX_INSN_LEN };
