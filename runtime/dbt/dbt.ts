/**
 * The translator tier: decides when code is hot, has it translated (translator/translate.ts),
 * instantiates the modules against the shared memory and the hub's helpers, keeps the compiled
 * regions in a cache with a memory budget, and runs them for the run loop.
 *
 * Cache: regions are keyed by physical page and mode (MODE_* bits: everything that changes
 * decoding or semantics) and are valid only for the CS base/limit they were scanned with, so a
 * page mapped at two linear addresses gets two regions. A write to a page holding code drops
 * every region translated from it (the code cache calls `onBlockDropped`); a region that is
 * running when that happens returns after the writing instruction (WR_CODE). Over the memory
 * budget, least recently used regions are evicted until a quarter of the budget is free, so an
 * overflow never throws everything away.
 *
 * Tiers: a block runs in the interpreter until it has executed `threshold` times (counted by
 * the code cache); then the region reachable from it in its page is translated. See
 * runtime/README.md for how the threshold was measured.
 */
import {
  BUDGET, DBT_CHAINS, DBT_INLINE, DBT_INLINE_MAX, DBT_INSN, DBT_NCTL, DBT_REGION, EFLAGS, EIP, EXIT_AFTER, EXIT_EXCEPTION, EXIT_PENDING, EXIT_REQUEST,
  F_RF, F_TF, INHIBIT_IRQ, JUMP_CACHE, JUMP_CACHE_ENTRIES, MODE_CS32, MODE_FLAT, RAM_OFFSET, SEG_CS, TLB_VALID,
  WASM_HUB_NAME, WASM_IMPORT_MODULE, WASM_JUMP_NAME, WASM_MEMORY_NAME, WASM_TABLE_NAME, jumpCacheIndex,
} from '../../translator/abi.ts';
import type { HelperImpls } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { DEFAULT_REGION_LIMITS, formRegion } from '../../translator/scan/region.ts';
import type { RegionLimits } from '../../translator/scan/region.ts';
import type { CodePage, ScannedBlock } from '../../translator/scan/scan-block.ts';
import { formatInsn } from '../../translator/decoder/disasm.ts';
import type { Tracer } from '../trace.ts';
import { hubModule, translateRegions } from '../../translator/translate.ts';
import type { TranslatedModule } from '../../translator/translate.ts';
import { loadWasmBackend } from '../../translator/wasm/backend.ts';
import type { WasmBackend } from '../../translator/wasm/backend.ts';
import type { Block, CodeCache } from '../code-cache.ts';
import { CLASS_INDEX, CLASS_OF_EXIT, TABLE } from '../../translator/isa/table.ts';
import { EXIT_REASONS } from '../../translator/isa/types.ts';
import type { ExitReason } from '../../translator/isa/types.ts';
import { isVmmInline } from '../../translator/emit/table.ts';
import type { CodeCoverage } from './code-coverage.ts';
import type { Cpu } from '../cpu.ts';
import { GuestFault } from '../fault.ts';
import { makeSharedHelpers, runInsn } from './helpers.ts';
import type { DbtPending, SharedHelpers } from './helpers.ts';

/** Default tier-up threshold: executions of a block before its region is translated. */
export const DEFAULT_THRESHOLD = 300;
/** Translations whose inputs are remembered (`recentTranslations`). */
const MAX_RECENT = 64;
/** Most warm blocks remembered per page as extra entries of its next region. */
const MAX_WARM_ENTRIES = 32;
/** Default memory budget of the region cache (estimated bytes). */
export const DEFAULT_CACHE_BUDGET = 64 << 20;

const I_BUDGET = BUDGET >> 2;
/** Most instructions one region entry may run (BUDGET is an int32). */
const MAX_REGION_BUDGET = 0x3fffffff;
const I_EIP = EIP >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_EXIT = EXIT_REQUEST >> 2;
const I_INHIBIT = INHIBIT_IRQ >> 2;
const I_INSN = DBT_INSN >> 2;
const I_NCTL = DBT_NCTL >> 2;
const I_REGION = DBT_REGION >> 2;
const EXIT_INDEX = Object.fromEntries(EXIT_REASONS.map((r, k) => [r, k])) as Record<ExitReason, number>;
const I_CHAINS = DBT_CHAINS >> 2;

export interface DbtOptions {
  /** Translate a block the first time it runs (tests). */
  forceTranslate?: boolean;
  /** Block executions before translation (ignored with forceTranslate). */
  threshold?: number;
  /** Memory budget of the region cache in bytes. */
  cacheBudget?: number;
  /** Region size limits. */
  limits?: RegionLimits;
  /** Validate every module before use (tests). */
  validate?: boolean;
  /** Which successors of the hot block a region takes (see `translate`). */
  regionScope?: 'reachable' | 'executed';
  /**
   * Name region functions after their guest address for host CPU profiles (translator/translate.ts
   * `names`). Default: on when the environment has WASMVISOR_REGION_NAMES=1.
   */
  regionNames?: boolean;
  /** Execution traces (in_asm, out_asm, exec): runtime/trace.ts. */
  tracer?: Tracer | null;
  /**
   * Compile region modules in the background (WebAssembly.compile) and install them when the
   * compile completes: the hot block is interpreted meanwhile. Only for callers that return to
   * the event loop between slices (PcMachine does); default false (synchronous compile).
   */
  asyncCompile?: boolean;
}

/** Statistics of the translator tier (returned by the API, printed by --stats). */
export interface DbtStats {
  /** Regions and blocks translated, guest instructions in them, and how many were emitted inline. */
  regions: number;
  blocks: number;
  insns: number;
  inlineInsns: number;
  modules: number;
  /** Total translation time (scan + emit + Wasm compile + instantiate), milliseconds. */
  translateMs: number;
  /** Entries into compiled code, and block executions that found no compiled code. */
  hits: number;
  misses: number;
  /** Entries made from compiled code's exit by the runtime (no run-loop turn). */
  chained: number;
  /** Entries made by compiled code itself, region to region through the jump cache (abi.ts JUMP_CACHE). */
  direct: number;
  /** Guest faults raised in compiled code and delivered to the guest's handler from the translator tier (no JS throw, no run-loop turn). */
  delivered: number;
  /** Regions dropped because their page was written, and regions evicted by the budget. */
  invalidations: number;
  evictions: number;
  /** Estimated bytes held by live regions, and how many regions are live. */
  cacheBytes: number;
  liveRegions: number;
  /** Exits from compiled code by cause: fault, exception (inline #DE), other (continue). */
  exits: Record<string, number>;
}

/**
 * What one translation was formed from: the code page as the translator saw it (bytes read live
 * from guest memory), the region's entry EIPs, the mode, and the successor filter of the
 * 'executed' region scope. Forming a region again from these gives the same region as long as
 * the page's code has not changed.
 */
export interface TranslationInput {
  readonly page: CodePage;
  readonly entries: readonly number[];
  readonly mode: number;
  readonly accept?: (eip: number) => boolean;
}

/**
 * Everything needed to redo the last translations outside the translator tier, e.g. to measure
 * their cost (runtime/dbt/measure.ts): the remembered inputs (oldest first, at most MAX_RECENT),
 * the region limits and Wasm backend they were translated with, and the imports a module of
 * theirs is instantiated with. Redoing a translation changes nothing in the tier.
 */
export interface TranslationReplay {
  readonly inputs: readonly TranslationInput[];
  readonly limits: RegionLimits;
  readonly backend: WasmBackend;
  /** The import object of a region module (as `translate` uses). */
  imports(): WebAssembly.ModuleImports;
}

/** One compiled region. */
export class CompiledRegion {
  dead = false;
  lastUse = 0;
  constructor(
    readonly fn: (entry: number) => number,
    /** Its slot in the shared region table (abi.ts JUMP_CACHE). */
    readonly slot: number,
    readonly entries: ReadonlyMap<number, number>,
    readonly page: number,
    readonly mode: number,
    readonly eipBase: number,
    readonly csLimit: number,
    readonly bytes: number,
    readonly blockCount: number,
    /** The region's instructions and per-instruction uncounted work (see RegionCode). */
    readonly insns: readonly Insn[],
    readonly doneBefore: Int32Array,
  ) {}
}

/** What a Block's `compiled` slot holds: an entry into a region, or "do not translate". */
interface Entry {
  readonly region: CompiledRegion;
  readonly seg: number;
}
const UNTRANSLATABLE = { untranslatable: true } as const;
/** A Block's `compiled` while a region with it as an entry compiles in the background. */
const COMPILING = { untranslatable: true, compiling: true } as const;

/** A region whose module compiles in the background (asyncCompile), with what installing it needs. */
interface PendingRegion {
  readonly code: TranslatedModule['regions'][number];
  readonly slot: number;
  readonly physPage: number;
  readonly mode: number;
  readonly eipBase: number;
  readonly csLimit: number;
  readonly bytes: number;
  readonly blockCount: number;
  /** pageGen of the page when it was translated: a later drop of the page's blocks discards it. */
  readonly gen: number;
  readonly t0: number;
}

/** Slots of the region table when the hub is made (it doubles as regions fill it). */
const INITIAL_TABLE_SLOTS = 256;
/** The region table before the translator is loaded (no region can be installed then). */
const PLACEHOLDER_TABLE = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** `in_asm`: the guest disassembly of a region's blocks. */
function traceBlocks(tracer: Tracer, blocks: readonly ScannedBlock[]): void {
  const lines = [`in_asm region of ${blocks.length} blocks`];
  for (const b of blocks) {
    lines.push(`  block ${hex8(b.eip)} phys ${hex8(b.phys)} (${b.end}):`);
    for (const i of b.insns) lines.push(`    ${hex8(i.eip)}  ${formatInsn(i)}`);
  }
  tracer.line(lines.join('\n'));
}

export class Dbt implements DbtPending {
  pending: unknown = null;
  /**
   * Faults the last run() delivered to the guest itself (deliverFault). Each consumes a unit of
   * budget although it retires no instruction, as in the run loop, so that a handler that
   * faults at once cannot loop without end; run() returns 0 with this set when nothing retired.
   */
  delivered = 0;
  private deliver: ((f: GuestFault) => boolean) | null = null;
  faultK = 0;
  stubRuns = 0;
  stubFault = false;
  readonly stats: DbtStats = {
    regions: 0, blocks: 0, insns: 0, inlineInsns: 0, modules: 0, translateMs: 0, hits: 0, misses: 0, chained: 0, direct: 0, delivered: 0,
    invalidations: 0, evictions: 0, cacheBytes: 0, liveRegions: 0, exits: {},
  };
  readonly forceTranslate: boolean;
  readonly threshold: number;
  readonly cacheBudget: number;
  private readonly limits: RegionLimits;
  private readonly validate: boolean;
  private readonly regionNames: boolean;
  private readonly regionScope: 'reachable' | 'executed';
  private backend: WasmBackend | null = null;
  private loading: Promise<void> | null = null;
  private loadError: unknown = null;
  /** Live regions per physical page number (all modes). */
  private readonly byPage = new Map<number, CompiledRegion[]>();
  /**
   * The shared table of region functions and the region in each slot (slot 0: none). A dropped
   * region's slot waits in `retired` until no compiled code runs (the running region may be the
   * one dropped; DBT_REGION still names it), its jump-cache entries already cleared.
   */
  private table: WebAssembly.Table = PLACEHOLDER_TABLE;
  /** The hub's `jump(slot, entry)` (abi.ts WASM_JUMP_NAME): how JS enters a region that has a slot. */
  private jumpFn: (slot: number, entry: number) => number = () => 0;
  /** The hub's `hub(k, a, b, c)` (abi.ts WASM_HUB_NAME), the one function every region module imports. */
  private hubFn: WebAssembly.ImportValue = null as unknown as WebAssembly.ImportValue;
  /** The region that run() entered from JS (regions without a table slot are entered only so). */
  private entered: CompiledRegion | null = null;
  private readonly slots: (CompiledRegion | null)[] = [null];
  private readonly freeSlots: number[] = [];
  private retired: number[] = [];
  /** Sensitive, privileged and I/O instructions emulated inside compiled code, by EXIT_REASONS index. */
  readonly vmmInline = new Float64Array(EXIT_REASONS.length);
  /** Compiled code's counters of that work (abi.ts DBT_INLINE), moved to `vmmInline` by `harvest`. */
  private readonly inlineWords: Int32Array;
  /** The jump cache (abi.ts JUMP_CACHE), four i32 per entry. */
  private readonly jump: Int32Array;
  /** Whether compiled code may enter regions directly (not while exec traces want every entry). */
  private readonly direct: boolean;
  private chain: (() => Block | null) | null = null;
  /** Times each physical page's regions were invalidated by writes (self-modifying code). */
  private readonly pageWrites: Uint16Array;
  /** Times each physical page's blocks were dropped (asyncCompile discards stale translations). */
  private readonly pageGen: Uint32Array;
  private readonly asyncCompile: boolean;
  /** Region modules compiling in the background. */
  compiling = 0;
  /** A background compile that failed (a translator bug): the next run() throws it. */
  private compileError: unknown = null;
  /** The last translations' inputs (see `recentTranslations`). */
  private readonly recent: TranslationInput[] = [];
  /** Warm blocks (a quarter of the threshold) per physical page, entries of its next region. */
  private readonly warm = new Map<number, Set<Block>>();
  private clock = 0;
  private readonly shared: SharedHelpers;
  private readonly tracer: Tracer | null;

  constructor(
    private readonly cpu: Cpu,
    private readonly cache: CodeCache,
    private readonly coverage: CodeCoverage,
    readonly classCounts: Float64Array,
    opts: DbtOptions = {},
  ) {
    this.forceTranslate = opts.forceTranslate ?? false;
    this.threshold = this.forceTranslate ? 0 : opts.threshold ?? DEFAULT_THRESHOLD;
    this.cacheBudget = opts.cacheBudget ?? DEFAULT_CACHE_BUDGET;
    this.limits = opts.limits ?? DEFAULT_REGION_LIMITS;
    this.validate = opts.validate ?? false;
    this.regionNames = opts.regionNames ?? (typeof process !== 'undefined' && process.env?.WASMVISOR_REGION_NAMES === '1');
    this.regionScope = opts.regionScope ?? 'executed';
    this.tracer = opts.tracer ?? null;
    this.shared = makeSharedHelpers(cpu, this);
    this.pageWrites = new Uint16Array(cpu.codePages.length);
    this.pageGen = new Uint32Array(cpu.codePages.length);
    this.asyncCompile = (opts.asyncCompile ?? false) && !this.forceTranslate;
    if (EXIT_REASONS.length > DBT_INLINE_MAX) throw new Error('translator/abi.ts: DBT_INLINE has too few counters');
    this.inlineWords = new Int32Array(cpu.mem.buffer, DBT_INLINE, EXIT_REASONS.length);
    this.inlineWords.fill(0);
    this.jump = new Int32Array(cpu.mem.buffer, JUMP_CACHE, JUMP_CACHE_ENTRIES * 4);
    this.jump.fill(0);
    this.direct = !this.tracer?.exec;
  }

  currentDead(): boolean {
    const r = this.slots[this.cpu.s[I_REGION]];
    return r !== null && r !== undefined && r.dead;
  }

  /** True once binaryen is loaded and translation can happen. */
  get ready(): boolean {
    return this.backend !== null;
  }

  /** Loads the Wasm backend (binaryen); idempotent. */
  load(): Promise<void> {
    if (!this.loading) {
      this.loading = loadWasmBackend().then((b) => {
        const cpu = this.cpu;
        const s = cpu.s;
        // interp(k): instruction k of the running region (DBT_REGION names it; a region without
        // a slot stores 0 there and runs only when entered from JS).
        const impls: HelperImpls = {
          ...this.shared,
          interp: (k) => {
            const r = this.slots[s[I_REGION]] ?? (this.entered as CompiledRegion);
            return runInsn(cpu, this, r.insns[k], k);
          },
        };
        const hub = new WebAssembly.Module(hubModule(b, INITIAL_TABLE_SLOTS, this.regionNames) as Uint8Array<ArrayBuffer>);
        const exports = new WebAssembly.Instance(hub, { [WASM_IMPORT_MODULE]: { ...impls, [WASM_MEMORY_NAME]: cpu.mem.memory } }).exports;
        this.table = exports[WASM_TABLE_NAME] as WebAssembly.Table;
        this.hubFn = exports[WASM_HUB_NAME] as WebAssembly.ImportValue;
        this.jumpFn = exports[WASM_JUMP_NAME] as (slot: number, entry: number) => number;
        this.backend = b;
      }, (e: unknown) => { this.loadError = e; throw e; });
    }
    return this.loading;
  }

  // ------------------------------------------------------------------ running compiled code
  /**
   * Runs compiled code for block `b` if there is (or now should be) some, with at most
   * `budget` instructions. Returns the instructions executed; 0 means "interpret this block".
   * Throws the guest fault (or other throwable) that ended the run, with the state exact.
   */
  run(b: Block, budget: number): number {
    this.delivered = 0;
    if (this.compileError !== null) throw this.compileError;
    let entry = this.entryFor(b);
    if (entry === null || budget < b.insns.length) {
      this.stats.misses++;
      return 0;
    }
    const cpu = this.cpu;
    const s = cpu.s;
    if (this.retired.length) this.recycleSlots();
    let total = 0;
    let from = b;
    for (;;) {
      if (this.direct && from.mode & MODE_FLAT) this.noteJump(from, entry);
      const delivered = this.delivered;
      const n = this.enter(entry, budget - total - delivered);
      total += n;
      // Chaining: when the region left for a block that has compiled code and nothing needs
      // the run loop (interrupt or stop request, shadow, TF/RF, HLT, budget), enter that code
      // directly: a region exit then costs a fetch-cache probe, not a loop turn. After a fault
      // delivered to the guest (see deliverFault) that block is the handler's.
      const spent = total + this.delivered;
      if ((n === 0 && this.delivered === delivered) || spent >= budget || s[I_EXIT] !== 0 || s[I_INHIBIT] !== 0 ||
        cpu.halted || (s[I_EFLAGS] & (F_TF | F_RF)) !== 0 || this.chain === null) break;
      const next = this.chain();
      if (next === null || budget - spent < next.insns.length) break;
      const c = next.compiled as Entry | typeof UNTRANSLATABLE | null;
      if (c === null || 'untranslatable' in c || c.region.dead) break;
      entry = c;
      from = next;
      this.stats.chained++;
    }
    return total;
  }

  /**
   * Records in the jump cache that compiled code may enter `e` for block `b` (flat mode: the
   * linear address is the EIP), valid while the soft-TLB entry of its page stays as it is now.
   */
  private noteJump(b: Block, e: Entry): void {
    const eip = b.eip;
    const tlb = this.cpu.tlb[eip >>> 12];
    if (e.region.slot === 0 || (tlb & this.cpu.readMask) !== TLB_VALID) return;
    const k = jumpCacheIndex(eip) << 2;
    const j = this.jump;
    j[k] = eip;
    j[k + 1] = tlb;
    j[k + 2] = b.mode | (b.insns.length << 8);
    j[k + 3] = (e.region.slot << 16) | e.seg;
  }

  /** Clears every jump-cache entry into the region in `slot`. */
  private forgetJumps(slot: number): void {
    const j = this.jump;
    for (let k = 3; k < j.length; k += 4) {
      if (j[k] >>> 16 === slot) j[k - 3] = j[k - 2] = j[k - 1] = j[k] = 0;
    }
  }

  /** Makes the slots of dropped regions free again (no compiled code is running). */
  private recycleSlots(): void {
    for (const slot of this.retired) {
      this.slots[slot] = null;
      this.table.set(slot, null);
      this.freeSlots.push(slot);
    }
    this.retired = [];
  }

  private allocSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.slots.length;
    if (slot > 0xffff) return 0;
    this.slots.push(null);
    if (slot >= this.table.length) this.table.grow(this.table.length);
    return slot;
  }

  /**
   * Moves compiled code's VMM-work counters into `vmmInline` and the class counts: a region
   * counts every instruction it ran inline as innocuous or control, these were sensitive,
   * privileged or I/O. The run loop calls it after each slice, so the counts are exact whenever
   * anyone reads them.
   */
  harvest(): void {
    const w = this.inlineWords;
    const classes = this.classCounts;
    for (let r = 0; r < w.length; r++) {
      if (w[r] === 0) continue;
      const n = w[r] >>> 0;
      w[r] = 0;
      this.vmmInline[r] += n;
      classes[CLASS_INDEX.innocuous] -= n;
      classes[CLASS_OF_EXIT[r]] += n;
    }
  }

  /** Hands the Dbt the run loop's fetch cache: the block at CS:EIP if cached, else null. */
  setChain(next: () => Block | null): void {
    this.chain = next;
  }

  /** Runs one region from `entry` with `budget`; returns the instructions it executed. */
  private enter(entry: Entry, budget: number): number {
    this.stats.hits++;
    const region = entry.region;
    if (this.tracer?.exec) this.tracer.execBlock(this.cpu.segSel(SEG_CS), this.cpu.eip, (region.page << 12) + ((this.cpu.eip - region.eipBase) & 0xfff), 'dbt');
    region.lastUse = ++this.clock;
    this.entered = region;
    const cpu = this.cpu;
    const s = cpu.s;
    // BUDGET is an int32 in the state block: a slice of 2^31 or more would wrap negative (the
    // region would exit at once and under-count); a region never runs anywhere near that long.
    if (budget > MAX_REGION_BUDGET) budget = MAX_REGION_BUDGET;
    s[I_BUDGET] = budget;
    s[I_NCTL] = 0;
    const runs0 = this.stubRuns;
    let code: number;
    let last: CompiledRegion;
    try {
      // Through the hub's `jump`: one exported function for every region, so JS calls one
      // Wasm function (V8 gives each export its own JS-to-Wasm wrapper, generic until it is hot).
      code = region.slot ? this.jumpFn(region.slot, entry.seg) : region.fn(entry.seg);
    } finally {
      // The region that returned: the one entered, or the last one it entered directly.
      last = this.slots[s[I_REGION]] ?? region;
      s[I_REGION] = 0;
      if (s[I_CHAINS] !== 0) {
        this.stats.direct += s[I_CHAINS];
        s[I_CHAINS] = 0;
      }
    }
    let executed = budget - s[I_BUDGET];
    if (code === EXIT_PENDING) {
      // A helper threw for instruction faultK: the instructions before it in its segment ran.
      executed += last.doneBefore[this.faultK];
      s[I_EIP] = last.insns[this.faultK].eip;
    } else if (code === EXIT_AFTER) {
      // Instruction k wrote into this region's code: it and those before it in its segment ran.
      const k = s[I_INSN];
      const i = last.insns[k];
      executed += last.doneBefore[k] + 1;
      s[I_EIP] = last.mode & MODE_CS32 ? (i.eip + i.len) | 0 : (i.eip + i.len) & 0xffff;
    }
    const inline = executed - (this.stubRuns - runs0);
    const nctl = s[I_NCTL];
    cpu.icount += inline;
    this.classCounts[CLASS_INDEX.innocuous] += inline - nctl;
    this.classCounts[CLASS_INDEX.control] += nctl;
    if (code === EXIT_PENDING) {
      this.countExit('fault');
      // A fault on a VMM row's fast path (emit/vmm.ts): VMM work done in translated code.
      const i = last.insns[this.faultK];
      if (!this.stubFault && isVmmInline(i)) this.vmmInline[EXIT_INDEX[TABLE[i.row].exit as ExitReason]]++;
      const p = this.pending;
      this.pending = null;
      if (!(p instanceof GuestFault) || !this.deliverFault(p)) throw p;
      return executed;
    }
    if (code & EXIT_EXCEPTION) {
      this.countExit('exception');
      const f = new GuestFault(code & 0xff);
      if (!this.deliverFault(f)) throw f;
    }
    return executed;
  }

  /**
   * Delivers a guest fault raised in compiled code through the run loop's handler (the IDT,
   * counted as the run loop counts it) without unwinding to the run loop: run() then enters the
   * handler's compiled code directly. False when the handler declines (stopOnFault): the caller
   * throws the fault. A triple fault's MachineHalt propagates from here.
   */
  private deliverFault(f: GuestFault): boolean {
    if (this.deliver === null || !this.deliver(f)) return false;
    this.delivered++;
    this.stats.delivered++;
    return true;
  }

  /** Hands the Dbt the run loop's fault delivery (see deliverFault). */
  setDeliver(deliver: (f: GuestFault) => boolean): void {
    this.deliver = deliver;
  }

  private countExit(reason: string): void {
    this.stats.exits[reason] = (this.stats.exits[reason] ?? 0) + 1;
  }

  /**
   * The compiled entry for `b`, translating its region if it is hot enough. Entries are attached
   * to blocks when a region is compiled (and when a block is decoded later), so a block without
   * one needs no search unless the region it had was dropped.
   */
  private entryFor(b: Block): Entry | null {
    const c = b.compiled as Entry | typeof UNTRANSLATABLE | null;
    if (c !== null) {
      if ('untranslatable' in c) return null;
      if (!c.region.dead) return c;
      b.compiled = null;
      const found = this.lookup(b);
      if (found) {
        b.compiled = found;
        return found;
      }
    }
    const threshold = this.thresholdFor(b.phys >>> 12);
    if (b.execCount < threshold) {
      // Warm blocks join the next region translated in their page, so that a loop nest ends up
      // in one module (module creation is the largest fixed cost of a translation).
      if (b.execCount === threshold >> 2) this.noteWarm(b);
      return null;
    }
    if (!this.backend) {
      if (this.forceTranslate) {
        throw new Error("engine 'dbt' with forceTranslate: await vm.prepare() (loads the translator) before run()");
      }
      if (this.loadError === null) void this.load().catch(() => {});
      return null;
    }
    const e = this.translate(b);
    if (e !== null && 'compiling' in e) {
      if (b.compiled === null) b.compiled = COMPILING;
      return null;
    }
    b.compiled = e ?? UNTRANSLATABLE;
    return e;
  }

  /**
   * The tier-up threshold for a page: code that keeps rewriting itself (a page invalidated again
   * and again) backs off exponentially, so a self-modifying loop is not retranslated at every
   * iteration (cf. Adams & Agesen's adaptive translation of instructions that keep trapping).
   */
  private thresholdFor(page: number): number {
    const n = page < this.pageWrites.length ? this.pageWrites[page] : 0;
    if (n < 2) return this.threshold;
    return Math.max(this.threshold, 64) * 2 ** Math.min(n - 1, 20);
  }

  /** A block the code cache just decoded: give it its entry if a live region has one. */
  onBlockScanned(b: Block): void {
    const found = this.lookup(b);
    if (found) b.compiled = found;
  }

  private noteWarm(b: Block): void {
    const page = b.phys >>> 12;
    let set = this.warm.get(page);
    if (!set) this.warm.set(page, (set = new Set()));
    if (set.size < MAX_WARM_ENTRIES) set.add(b);
  }

  /** A live region of b's page and mode, scanned with b's CS placement, that has b as an entry. */
  private lookup(b: Block): Entry | null {
    const list = this.byPage.get(b.phys >>> 12);
    if (!list) return null;
    const eipBase = (b.eip - (b.phys & 0xfff)) | 0;
    const csLimit = this.cpu.segLimit(SEG_CS);
    for (const r of list) {
      if (r.dead || r.mode !== b.mode || r.eipBase !== eipBase || r.csLimit !== csLimit) continue;
      const seg = r.entries.get(b.eip);
      if (seg !== undefined) return { region: r, seg };
    }
    return null;
  }

  // ------------------------------------------------------------------ translation
  private translate(b: Block): Entry | typeof COMPILING | null {
    const backend = this.backend as WasmBackend;
    const cpu = this.cpu;
    const t0 = performance.now();
    const physPage = b.phys & ~0xfff;
    const eipBase = (b.eip - (b.phys & 0xfff)) | 0;
    const csLimit = cpu.segLimit(SEG_CS);
    const page: CodePage = {
      u8: cpu.u8, hostPage: RAM_OFFSET + physPage, physPage, eipBase, csLimit, code32: cpu.code32,
    };
    // Successors: only blocks that have run before in this mode and CS placement ('executed',
    // the default), or everything statically reachable in the page ('reachable': modules ~1.5x
    // as large, whose compile cost and slower tier-up the kernel's lukewarm paths do not repay;
    // see runtime/README.md).
    const mode = b.mode;
    const accept = this.regionScope === 'reachable' ? undefined : (eip: number): boolean => {
      const known = this.cache.lookup(physPage + ((eip - eipBase) & 0xfff), mode);
      return known !== undefined && known.eip === eip;
    };
    // Entries: the hot block, and warm blocks of the page that are still current in the code
    // cache, in the same mode and CS placement, without compiled code.
    const entries = [b.eip];
    const warm = this.warm.get(physPage >>> 12);
    if (warm) {
      for (const w of warm) {
        if (w === b || w.mode !== mode || w.compiled !== null || this.cache.lookup(w.phys, mode) !== w) continue;
        if (((w.eip - (w.phys & 0xfff)) | 0) !== eipBase) continue;
        entries.push(w.eip);
      }
      this.warm.delete(physPage >>> 12);
    }
    const blockAt = (eip: number): Block | null => this.cache.blockAt(physPage + ((eip - eipBase) & 0xfff), eip, mode, page.code32, csLimit);
    const blocks = formRegion(page, entries, this.limits, accept, blockAt);
    if (blocks.length === 0) return null;
    if (this.recent.length >= MAX_RECENT) this.recent.shift();
    this.recent.push({ page: { ...page, u8: cpu.u8 }, entries, mode, accept });
    for (const blk of blocks) {
      let len = 0;
      for (const i of blk.insns) len += i.len;
      this.coverage.add(blk.phys, len);
    }
    const tracer = this.tracer;
    if (tracer?.inAsm) traceBlocks(tracer, blocks);
    const slot = this.allocSlot();
    const mod = translateRegions(backend, [{ blocks, mode: b.mode, slot }], { validate: this.validate, text: tracer?.outAsm === true, names: this.regionNames });
    if (mod.text !== undefined) tracer?.line(`out_asm region at ${hex8(physPage)} (${blocks.length} blocks)\n${mod.text.trimEnd()}`);
    const code = mod.regions[0];
    // Estimated footprint: V8's machine code is a few times the Wasm size, plus the metadata.
    const bytes = mod.bytes.length * 4 + blocks.length * 256 + code.insns.length * 64;
    const job: PendingRegion = {
      code, slot, physPage, mode, eipBase, csLimit, bytes, blockCount: blocks.length, gen: this.pageGen[physPage >>> 12], t0,
    };
    if (this.asyncCompile) {
      // The entries wait as COMPILING (interpreted, not translated again) until `install`.
      for (const eip of code.entries.keys()) {
        const blk = this.entryBlock(job, eip);
        if (blk && blk.compiled === null) blk.compiled = COMPILING;
      }
      this.compiling++;
      this.stats.translateMs += performance.now() - t0;
      WebAssembly.compile(mod.bytes as Uint8Array<ArrayBuffer>).then(
        (module) => { this.compiling--; this.install(job, module); },
        (e: unknown) => { this.compiling--; this.abandon(job); this.compileError ??= e; },
      );
      return COMPILING;
    }
    const region = this.install(job, new WebAssembly.Module(mod.bytes as Uint8Array<ArrayBuffer>));
    const seg = code.entries.get(b.eip);
    return region === null || seg === undefined ? null : { region, seg };
  }

  /**
   * Instantiates a translated region's module and puts the region in service: in the table, the
   * page's list, and the `compiled` slot of its entry blocks. Null (and nothing installed) when
   * the page's blocks were dropped since the translation (only possible with asyncCompile).
   */
  private install(job: PendingRegion, module: WebAssembly.Module): CompiledRegion | null {
    const t0 = performance.now();
    const page = job.physPage >>> 12;
    if (this.pageGen[page] !== job.gen) {
      this.abandon(job);
      return null;
    }
    const code = job.code;
    const instance = new WebAssembly.Instance(module, { [WASM_IMPORT_MODULE]: this.imports() });
    const fn = instance.exports[code.exportName] as (entry: number) => number;
    const region = new CompiledRegion(fn, job.slot, code.entries, page, job.mode, job.eipBase, job.csLimit, job.bytes, job.blockCount, code.insns, code.doneBefore);
    this.insert(region);
    // Attach the region's entries to the decoded blocks that already exist.
    for (const [eip, seg] of code.entries) {
      const blk = this.entryBlock(job, eip);
      if (blk && (blk.compiled === null || blk.compiled === COMPILING)) blk.compiled = { region, seg };
    }
    const st = this.stats;
    st.regions++;
    st.modules++;
    st.blocks += job.blockCount;
    st.insns += code.insnCount;
    st.inlineInsns += code.inlineCount;
    // Synchronous: everything since translate began; in the background: this part only.
    st.translateMs += performance.now() - (this.asyncCompile ? t0 : job.t0);
    return region;
  }

  /** A translation that will not be installed: its slot is free again, its entries may translate anew. */
  private abandon(job: PendingRegion): void {
    if (job.slot) this.freeSlots.push(job.slot);
    for (const eip of job.code.entries.keys()) {
      const blk = this.entryBlock(job, eip);
      if (blk && blk.compiled === COMPILING) blk.compiled = null;
    }
  }

  /** The code cache's current block at entry `eip` of a translated region, if it has one. */
  private entryBlock(job: PendingRegion, eip: number): Block | null {
    const blk = this.cache.lookup(job.physPage + ((eip - job.eipBase) & 0xfff), job.mode);
    return blk && blk.eip === eip ? blk : null;
  }

  /** What every region module imports (abi.ts WASM_HUB_NAME). */
  private imports(): WebAssembly.ModuleImports {
    return { [WASM_MEMORY_NAME]: this.cpu.mem.memory, [WASM_HUB_NAME]: this.hubFn };
  }

  // ------------------------------------------------------------------ the region cache
  private insert(r: CompiledRegion): void {
    if (r.slot) {
      this.slots[r.slot] = r;
      this.table.set(r.slot, r.fn);
    }
    let list = this.byPage.get(r.page);
    if (!list) this.byPage.set(r.page, (list = []));
    list.push(r);
    r.lastUse = ++this.clock;
    this.stats.cacheBytes += r.bytes;
    this.stats.liveRegions++;
    if (this.stats.cacheBytes > this.cacheBudget) this.evict(r);
  }

  private drop(r: CompiledRegion): void {
    if (r.dead) return;
    r.dead = true;
    if (r.slot) {
      this.forgetJumps(r.slot);
      this.retired.push(r.slot);
    }
    this.stats.cacheBytes -= r.bytes;
    this.stats.liveRegions--;
  }

  /**
   * Evicts least recently used regions until a quarter of the budget is free, never `keep` (the
   * region just installed, about to be entered: a region larger than three quarters of the
   * budget used to evict itself, and entering its emptied table slot trapped).
   */
  private evict(keep: CompiledRegion): void {
    const all: CompiledRegion[] = [];
    for (const list of this.byPage.values()) all.push(...list);
    all.sort((a, b) => a.lastUse - b.lastUse);
    const target = this.cacheBudget * 0.75;
    for (const r of all) {
      if (this.stats.cacheBytes <= target) break;
      if (r === keep) continue;
      this.drop(r);
      this.stats.evictions++;
    }
    for (const [k, list] of this.byPage) {
      const live = list.filter((r) => !r.dead);
      if (live.length) this.byPage.set(k, live);
      else this.byPage.delete(k);
    }
  }

  /** The code cache dropped `b` (its page was written, or the cache was cleared). */
  onBlockDropped(b: Block): void {
    const page = b.phys >>> 12;
    this.pageGen[page]++;
    this.warm.delete(page);
    const list = this.byPage.get(page);
    if (!list) return;
    if (page < this.pageWrites.length && this.pageWrites[page] < 0xffff) this.pageWrites[page]++;
    // Every mode's regions of the page: the bytes changed for all of them.
    for (const r of list) {
      if (!r.dead) this.stats.invalidations++;
      this.drop(r);
    }
    this.byPage.delete(page);
  }

  /**
   * The inputs of the last translations (up to MAX_RECENT, oldest first) with what redoing them
   * needs, or null before binaryen is loaded or before anything was translated. The tier keeps
   * them for measuring: runtime/dbt/measure.ts translates them again to time the steady state.
   */
  recentTranslations(): TranslationReplay | null {
    const backend = this.backend;
    if (!backend || this.recent.length === 0) return null;
    return { inputs: this.recent, limits: this.limits, backend, imports: () => this.imports() };
  }

  /** Drops every region and forgets page history (reset). */
  clear(): void {
    for (const list of this.byPage.values()) for (const r of list) this.drop(r);
    this.byPage.clear();
    this.pageWrites.fill(0);
    this.warm.clear();
  }
}
