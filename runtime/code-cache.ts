/**
 * The code cache: decoded basic blocks keyed by physical address plus the CPU mode bits, grouped
 * by physical 4 KiB page so that a write to a page drops everything decoded (and translated)
 * from it. Both tiers use it: the interpreter executes a Block's decoded instructions; the
 * translator attaches compiled code to hot Blocks.
 *
 * Invariants:
 * - A block never contains an instruction that crosses its 4 KiB page; such an instruction is
 *   executed uncached (interpreter.ts), so one page fully determines a block's bytes.
 * - Blocks come from the one scanner, translator/scan/scan-block.ts.
 * - Every page with a live block is marked in cpu.codePages, so writes to it take the slow path
 *   and reach `invalidatePage`.
 */
import { RAM_OFFSET } from '../translator/abi.ts';
import type { Insn } from '../translator/decoder/insn.ts';
import { scanBlock } from '../translator/scan/scan-block.ts';
import type { ScannedBlock } from '../translator/scan/scan-block.ts';
import type { Cpu } from './cpu.ts';

/** A scanned block (translator/scan/scan-block.ts) as the cache keeps it, with its run-time state. */
export class Block implements ScannedBlock {
  /** Executions so far (the tier-up counter). */
  execCount = 0;
  /** Compiled code attached by the translator, if any. */
  compiled: unknown = null;
  readonly eip: number;
  readonly phys: number;
  readonly insns: readonly Insn[];
  readonly endEip: number;
  readonly classCounts: readonly number[];
  readonly end: ScannedBlock['end'];
  constructor(
    scanned: ScannedBlock,
    /** The CPU mode bits it was scanned in (abi.ts MODE_*): part of the cache key. */
    readonly mode: number,
  ) {
    this.eip = scanned.eip;
    this.phys = scanned.phys;
    this.insns = scanned.insns;
    this.endEip = scanned.endEip;
    this.classCounts = scanned.classCounts;
    this.end = scanned.end;
  }
}

class Page {
  readonly blocks = new Map<number, Block>();
}

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
    const physPage = phys & ~0xfff;
    if (physPage >= cpu.mem.ramSize) return null; // executing from non-RAM: never cached
    const eipBase = (eip - (phys & 0xfff)) | 0;
    const scanned = scanBlock({ u8: cpu.u8, hostPage: RAM_OFFSET + physPage, physPage, eipBase, csLimit, code32 }, eip);
    if (!scanned) return null;
    const block = new Block(scanned, mode);
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

  /**
   * The block at CS offset `eip` (physical `phys`) in `mode`: the cached one if it was scanned at
   * that CS offset (the interpreter's rule too), else a new scan, cached. The translator's region
   * former takes its blocks from here, so no instruction is decoded twice.
   */
  blockAt(phys: number, eip: number, mode: number, code32: boolean, csLimit: number): Block | null {
    const b = this.lookup(phys, mode);
    return b && b.eip === eip ? b : this.scan(phys, eip, mode, code32, csLimit);
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
