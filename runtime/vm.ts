/**
 * One virtual machine: shared memory, CPU, code cache and the run loop that ties the execution
 * tiers to exception and interrupt delivery. All VM state hangs off a Vm instance, so several
 * VMs can live in one process.
 *
 * The run loop works in slices: `run(budget)` executes up to `budget` guest instructions and
 * returns why it stopped. Between blocks it delivers pending external interrupts (when IF
 * allows and no interrupt shadow is active), single-steps under EFLAGS.TF, and idles on HLT.
 */
import {
  CR, EFLAGS, EIP, EXIT_REQUEST, F_FIXED1, FPU_CW, FPU_TAG, F_IF, F_RF, F_TF, GDTR_LIMIT, IDTR_LIMIT, INHIBIT_IRQ, IRQ_WAITING, LF_OP, MODE, RAM_OFFSET,
  SEG_CS, SEGF_DB, SEGF_G, SEGF_P, SEGF_S, SEGF_USABLE, TLB_VALID,
} from '../translator/abi.ts';
import { Block, CodeCache } from './code-cache.ts';
import { CLASS_NAMES, EXIT_REASONS } from '../translator/isa/types.ts';
import { CodeCoverage } from './dbt/code-coverage.ts';
import { Dbt } from './dbt/dbt.ts';
import type { DbtOptions, DbtStats } from './dbt/dbt.ts';
import { ACC_EXEC, Cpu, EMPTY_BUS } from './cpu.ts';
import type { IoBus } from './cpu.ts';
import { GuestFault, MachineHalt } from './fault.ts';
import { execBlock, stepUncached } from './interpreter.ts';
import { SharedMemory } from './memory.ts';
import { Tracer } from './trace.ts';
import type { TraceOptions } from './trace.ts';
import { deliverException, deliverInterrupt, deliverSingleStep } from './vmm/interrupts.ts';
import { INHIBIT_DEBUG } from './vmm/segments.ts';
import { translateLinear } from './vmm/paging.ts';

/** A source of external interrupts (the PIC, or a test double). */
export interface InterruptSource {
  /** True if an interrupt is waiting to be acknowledged. */
  hasInterrupt(): boolean;
  /** Acknowledges the highest-priority pending interrupt and returns its vector. */
  acknowledge(): number;
}

/** Execution engines: the binary translator ('dbt', interpreting until code is hot) or the interpreter alone. */
export const ENGINES = ['dbt', 'interp'] as const;
export type Engine = (typeof ENGINES)[number];

/** True if `v` names an engine. */
export function isEngine(v: unknown): v is Engine {
  return ENGINES.includes(v as Engine);
}

export interface VmOptions {
  /** Guest RAM in bytes (memory.ts ramSizeProblem: a multiple of 4 KiB, 1 to 1792 MiB). */
  memorySize: number;
  /** Execution engine; default 'interp' until the translator tier is enabled. */
  engine?: Engine;
  /** Translate every block on first execution (tests). Only meaningful with engine 'dbt'. */
  forceTranslate?: boolean;
  /** Translator tuning (tier-up threshold, cache budget, region limits); engine 'dbt' only. */
  dbt?: Omit<DbtOptions, 'forceTranslate' | 'tracer'>;
  io?: IoBus;
  /** Execution traces (runtime/trace.ts); none by default. */
  trace?: TraceOptions;
}

/** Execution statistics of a Vm (the CLI's --stats prints them). */
export interface VmStats {
  engine: Engine;
  /** Guest instructions retired, in total and per class. */
  instructions: number;
  classes: Record<string, number>;
  /** VMM exits by reason (emulated instructions, exceptions). */
  exits: Record<string, number>;
  /** Sensitive, privileged and I/O instructions emulated inside translated code (no exit), by reason. */
  vmmInline: Record<string, number>;
  /** The decoded-block cache. */
  blocks: { live: number; hits: number; misses: number; invalidations: number };
  /** The translator tier (null with engine 'interp'). */
  dbt: DbtStats | null;
}

/** Why `run` returned. */
export type StopReason = 'budget' | 'halted' | 'stopped' | 'triple-fault' | 'shutdown' | 'exit' | 'fault';

export interface RunResult {
  reason: StopReason;
  /** Instructions executed in this call. */
  executed: number;
  /** For 'fault' (only with stopOnFault): the fault that ended the run. */
  fault?: GuestFault;
  /** For 'triple-fault' / 'shutdown' / 'exit': a human-readable detail. */
  detail?: string;
}

/**
 * Slots of the fetch cache (direct-mapped by linear EIP): 2^16. The kernel paths of a Linux
 * guest run ~10 000 distinct blocks; with 2^12 slots fork + wait missed 1.23 M times per 1000
 * forks (conflicts; each miss costs two Map lookups, ~0.4 us), with 2^14 294 000, with 2^16
 * 101 000 (host time of the workload 7.3 -> 7.0 -> 6.5 s, one run each).
 */
const FC_BITS = 16;
/** Fetch-cache value for "no block here: run the instruction uncached" (see fetchBlock). */
const UNCACHED = new Block({ eip: 0, phys: -1, insns: [], endEip: 0, classCounts: [], end: 'limit' }, -1);
const FC_SIZE = 1 << FC_BITS;

/**
 * Bytes after the address passed to cpu.onCodeWrite that the write may have changed: every
 * writer notifies once per access of at most 4 bytes (8 leaves a margin for 64-bit stores).
 */
const CODE_WRITE_WINDOW = 8;

const I_EIP = EIP >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_MODE = MODE >> 2;
const I_EXIT = EXIT_REQUEST >> 2;
const I_INHIBIT = INHIBIT_IRQ >> 2;
/** An interrupt was pending while IF = 0: look again as soon as IF is set (translator/abi.ts). */
const I_WAIT = IRQ_WAITING >> 2;

export class Vm {
  readonly mem: SharedMemory;
  readonly cpu: Cpu;
  readonly cache: CodeCache;
  readonly engine: Engine;
  readonly forceTranslate: boolean;
  /** The translator tier (engine 'dbt'), else null. */
  readonly dbt: Dbt | null;
  /** Execution traces (VmOptions.trace), or null. */
  readonly tracer: Tracer | null;
  irq: InterruptSource | null = null;
  /**
   * Return 'fault' from run() instead of delivering guest exceptions: always (oracle tests), or
   * 'without-idt' only while the IDTR limit is 0 (a raw program that has not executed LIDT).
   */
  stopOnFault: boolean | 'without-idt' = false;
  /** Guest instructions executed per class (CLASS_NAMES order). */
  readonly classCounts = new Float64Array(CLASS_NAMES.length);
  /** VMM exits: emulated instructions by EXIT_REASONS index, and exceptions delivered by vector. */
  private readonly exitCounts = new Float64Array(EXIT_REASONS.length);
  private readonly exceptionCounts = new Float64Array(256);
  private stopRequested = false;
  /**
   * The fetch cache: the last block fetched at each linear EIP (direct-mapped), valid while the
   * TLB entry of its page, the mode and the EIP are what they were (so the physical page and the
   * decoding are too) and no block was dropped since (`fcStale`).
   */
  /** Per slot, side by side (one cache line for a probe): linear address, EIP, TLB entry, mode. */
  private readonly fcKey = new Int32Array(FC_SIZE * 4);
  private readonly fcBlock: (Block | null)[] = new Array<Block | null>(FC_SIZE).fill(null);
  private fcStale = false;
  /** Bytes of code pages that hold cached code: writes elsewhere in those pages keep it. */
  private readonly coverage = new CodeCoverage();

  constructor(opts: VmOptions) {
    this.mem = new SharedMemory(opts.memorySize);
    this.cpu = new Cpu(this.mem, translateLinear);
    this.cpu.io = opts.io ?? EMPTY_BUS;
    this.cache = new CodeCache(this.cpu);
    this.cpu.onCodeWrite = (phys) => {
      if (!this.coverage.overlaps(phys, CODE_WRITE_WINDOW)) return;
      this.cache.invalidatePage(phys);
      this.coverage.clearPage(phys);
    };
    const tracer = opts.trace && opts.trace.items.length ? new Tracer(opts.trace) : null;
    this.tracer = tracer;
    const cpu = this.cpu;
    this.cpu.onExit = tracer?.exits
      ? (exit) => {
        this.exitCounts[exit]++;
        tracer.exit(EXIT_REASONS[exit], cpu.segSel(SEG_CS), cpu.eip);
      }
      : (exit) => this.exitCounts[exit]++;
    if (tracer?.int) this.cpu.onEvent = (kind, vector, code) => tracer.event(kind, vector, code, cpu.segSel(SEG_CS), cpu.eip, cpu.s[(CR >> 2) + 2]);
    this.engine = opts.engine ?? 'interp';
    this.forceTranslate = opts.forceTranslate ?? false;
    this.dbt = this.engine === 'dbt'
      ? new Dbt(this.cpu, this.cache, this.coverage, this.classCounts, { ...opts.dbt, forceTranslate: this.forceTranslate, tracer })
      : null;
    const dbt = this.dbt;
    this.cache.onDrop = dbt
      ? (b) => { this.fcStale = true; dbt.onBlockDropped(b); }
      : () => { this.fcStale = true; };
    dbt?.setChain(() => {
      const b = this.cachedBlock();
      return b === UNCACHED ? null : b;
    });
    dbt?.setDeliver((f) => {
      if (this.stopsOnFault()) return false;
      this.exceptionCounts[f.vector & 0xff]++;
      deliverException(this.cpu, f);
      return true;
    });
    this.resetReal();
  }

  /** Power-on state (SDM vol. 3, 9.1.1): real mode, CS:IP = F000:FFF0 with CS base FFFF0000. */
  resetReal(): void {
    const s = this.cpu.s;
    s.fill(0, 0, 0x1000 >> 2);
    s[I_EFLAGS] = F_FIXED1;
    s[LF_OP >> 2] = 0;
    s[CR >> 2] = 0x60000010; // CR0: CD, NW, ET
    s[GDTR_LIMIT >> 2] = 0xffff; // GDTR and IDTR: base 0, limit FFFFh (SDM table 9-1)
    s[IDTR_LIMIT >> 2] = 0xffff;
    const data = SEGF_USABLE | SEGF_P | SEGF_S | 0x03; // read/write, accessed
    for (let seg = 0; seg < 6; seg++) this.cpu.setSegment(seg, 0, 0, 0xffff, data);
    this.cpu.setSegment(SEG_CS, 0xf000, 0xffff0000 | 0, 0xffff, SEGF_USABLE | SEGF_P | SEGF_S | 0x0b);
    s[I_EIP] = 0xfff0;
    s[FPU_CW >> 2] = 0x37f; // as after FNINIT
    s[FPU_TAG >> 2] = 0xffff;
    this.cpu.halted = false;
    this.discardCaches();
    this.cpu.refreshMode();
  }

  /**
   * Drops everything derived from guest memory and the mode — the soft TLB, the fetch cache,
   * decoded blocks, coverage and translations — so that state written behind the VM's back (a
   * reset, a restored snapshot) is seen afresh; they refill as the guest runs.
   */
  discardCaches(): void {
    this.fcStale = true;
    this.cpu.flushTlb(false);
    this.dbt?.clear();
    this.coverage.clear();
    this.cache.clear();
  }

  /**
   * A convenient start state for tests and multiboot: protected mode, paging off, CPL 0, flat
   * 4 GiB 32-bit code and data segments (selectors 0x08 code, 0x10 data), IF clear.
   */
  resetFlat32(eip: number, esp: number): void {
    this.resetReal();
    const s = this.cpu.s;
    s[CR >> 2] = 0x00000011; // PE, ET
    const code = SEGF_USABLE | SEGF_P | SEGF_S | 0x0b | SEGF_DB | SEGF_G;
    const data = SEGF_USABLE | SEGF_P | SEGF_S | 0x03 | SEGF_DB | SEGF_G;
    for (let seg = 0; seg < 6; seg++) this.cpu.setSegment(seg, 0x10, 0, 0xffffffff | 0, data);
    this.cpu.setSegment(SEG_CS, 0x08, 0, 0xffffffff | 0, code);
    s[I_EIP] = eip;
    s[4] = esp;
    this.cpu.refreshMode();
  }

  /** Asks a running `run` to return at the next block boundary (callable from device code). */
  requestStop(): void {
    this.stopRequested = true;
    this.cpu.s[I_EXIT] = 1;
  }

  /** Signals that an interrupt source may have something pending. */
  notifyInterrupt(): void {
    this.cpu.s[I_EXIT] = 1;
  }

  /** Sensitive, privileged and I/O instructions translated code emulated itself, by reason (EXIT_REASONS). */
  get vmmInline(): Record<string, number> {
    const out: Record<string, number> = {};
    const dbt = this.dbt;
    if (!dbt) return out;
    dbt.harvest();
    EXIT_REASONS.forEach((r, k) => {
      if (dbt.vmmInline[k]) out[r] = dbt.vmmInline[k];
    });
    return out;
  }

  /** VMM exits that occurred, by reason: the names the table rows declare (EXIT_REASONS), and `exception N`. */
  get exits(): Record<string, number> {
    const out: Record<string, number> = {};
    EXIT_REASONS.forEach((r, k) => {
      if (this.exitCounts[k]) out[r] = this.exitCounts[k];
    });
    this.exceptionCounts.forEach((n, v) => {
      if (n) out[`exception ${v}`] = n;
    });
    return out;
  }

  /**
   * Loads what the engine needs asynchronously (the translator's binaryen for engine 'dbt').
   * Without it the dbt engine interprets until the load, started in the background, completes;
   * force-translate mode requires it.
   */
  async prepare(): Promise<void> {
    await this.dbt?.load();
  }

  /** Executes up to `budget` instructions. */
  run(budget: number): RunResult {
    const r = this.runSlice(budget);
    this.dbt?.harvest();
    return r;
  }

  private runSlice(budget: number): RunResult {
    const cpu = this.cpu;
    const s = cpu.s;
    const start = cpu.icount;
    let executed: number;
    while ((executed = cpu.icount - start) < budget) {
      if (s[I_EXIT] !== 0) {
        s[I_EXIT] = 0;
        if (this.stopRequested) {
          this.stopRequested = false;
          return { reason: 'stopped', executed };
        }
        if (this.irq?.hasInterrupt()) {
          if (s[I_EFLAGS] & F_IF && s[I_INHIBIT] === 0) {
            cpu.halted = false;
            try {
              deliverInterrupt(cpu, this.irq.acknowledge());
            } catch (e) {
              const r = this.handleThrow(e, executed);
              if (r) return r;
              budget--; // see below: a delivered exception consumes budget
            }
          } else if (s[I_INHIBIT] !== 0) {
            s[I_EXIT] = 1; // the shadow ends after one instruction: look again then
          } else {
            // IF = 0: nothing can be taken until something sets IF (STI, POPF, IRET, a task
            // switch); while IRQ_WAITING is set, each of those requests the run loop. Look again
            // then, rather than at every boundary (compiled loops would leave at every back edge).
            s[I_WAIT] = 1;
          }
        }
      }
      if (s[I_WAIT] !== 0 && s[I_EFLAGS] & F_IF) {
        s[I_WAIT] = 0;
        s[I_EXIT] = 1;
        continue;
      }
      if (cpu.halted) return { reason: 'halted', executed };
      // RF only suppresses instruction breakpoints (not modelled) for one instruction; an
      // interrupt taken just above still saw it set, as on hardware (SDM 17.3.1.1).
      if (s[I_EFLAGS] & F_RF) s[I_EFLAGS] &= ~F_RF;
      try {
        // An interrupt shadow (STI, MOV SS) or TF: run exactly one instruction, then look again.
        const shadow = s[I_INHIBIT];
        const tf = (s[I_EFLAGS] & F_TF) !== 0;
        const single = shadow !== 0 || tf;
        const events = cpu.events;
        const b = this.fetchBlock();
        if (b) {
          // Compiled code first (it returns 0 when it has none for b or too little budget).
          let n = 0;
          if (!single && this.dbt !== null) {
            n = this.dbt.run(b, budget - executed);
            // Faults compiled code delivered itself consume budget, as in handleThrow's callers.
            if (this.dbt.delivered !== 0) {
              budget -= this.dbt.delivered;
              n = -1;
            }
          }
          if (n === 0) {
            if (this.tracer?.exec) this.tracer.execBlock(cpu.segSel(SEG_CS), b.eip, b.phys, 'interp');
            execBlock(cpu, b, single ? 1 : budget - executed, this.classCounts);
          }
        } else {
          stepUncached(cpu, this.classCounts);
        }
        if (single) {
          // The shadow that covered this instruction ends; a new one it opened (STI; MOV SS) stays.
          if (shadow !== 0 && s[I_INHIBIT] === shadow) s[I_INHIBIT] = 0;
          s[I_EXIT] = 1;
          // TF as it was before the instruction decides the trap (POPF setting TF traps only
          // after the next one). No trap if the instruction delivered an event itself (INT n
          // clears TF on entry) or opened a MOV SS shadow, which holds debug traps back too.
          if (tf && cpu.events === events && !(s[I_INHIBIT] & INHIBIT_DEBUG)) deliverSingleStep(cpu);
        }
      } catch (e) {
        const r = this.handleThrow(e, cpu.icount - start);
        if (r) return r;
        // Each delivered exception consumes one unit of budget although it retires no
        // instruction: a handler that faults at once (e.g. an IVT entry at FFFF:FFFF, whose
        // fetch crosses the CS limit) loops through deliveries alone, and run() must return.
        budget--;
      }
    }
    return { reason: 'budget', executed: cpu.icount - start };
  }

  private stopsOnFault(): boolean {
    const v = this.stopOnFault;
    return v === true || (v === 'without-idt' && this.cpu.s[IDTR_LIMIT >> 2] === 0);
  }

  private handleThrow(e: unknown, executed: number): RunResult | null {
    const cpu = this.cpu;
    if (e instanceof GuestFault) {
      if (this.stopsOnFault()) return { reason: 'fault', executed, fault: e };
      this.exceptionCounts[e.vector & 0xff]++;
      try {
        deliverException(cpu, e);
        return null;
      } catch (e2) {
        if (e2 instanceof MachineHalt) return { reason: e2.reason, executed, detail: e2.detail };
        throw e2;
      }
    }
    if (e instanceof MachineHalt) return { reason: e.reason, executed, detail: e.detail };
    throw e;
  }

  /** The block at CS:EIP in the current mode, decoding it on a miss; null = run uncached. */
  private fetchBlock(): Block | null {
    const cpu = this.cpu;
    const s = cpu.s;
    const eip = s[I_EIP];
    const csLimit = cpu.segLimit(SEG_CS);
    if (eip >>> 0 > csLimit) throw new GuestFault(13, 0);
    const lin = (cpu.segBase(SEG_CS) + eip) | 0;
    const cached = this.cachedBlock();
    if (cached !== null) {
      if (cached === UNCACHED) return null;
      this.cache.hits++;
      cached.execCount++;
      return cached;
    }
    const b = this.lookupBlock(eip, lin, csLimit);
    const e = cpu.tlb[lin >>> 12];
    if ((e & cpu.readMask) === TLB_VALID) {
      // Remembered either way: a block, or that this instruction runs uncached (it crosses its
      // page), so that a hot one is not scanned for a block again each time. Anything that
      // could change the answer changes the TLB entry or the mode, or drops blocks (fcStale).
      const slot = (lin ^ (lin >>> FC_BITS)) & (FC_SIZE - 1);
      const k = slot << 2;
      const key = this.fcKey;
      key[k] = lin;
      key[k + 1] = eip;
      key[k + 2] = e;
      key[k + 3] = s[I_MODE];
      this.fcBlock[slot] = b ?? UNCACHED;
    }
    return b;
  }

  /**
   * The block at CS:EIP if the fetch cache has it (no translation, no decoding, never faults;
   * the caller has checked EIP against the CS limit), else null.
   */
  private cachedBlock(): Block | null {
    const cpu = this.cpu;
    const s = cpu.s;
    if (this.fcStale) {
      this.fcBlock.fill(null);
      this.fcStale = false;
      return null;
    }
    const eip = s[I_EIP];
    if (eip >>> 0 > cpu.segLimit(SEG_CS)) return null;
    const lin = (cpu.segBase(SEG_CS) + eip) | 0;
    const slot = (lin ^ (lin >>> FC_BITS)) & (FC_SIZE - 1);
    const b = this.fcBlock[slot];
    if (b === null) return null;
    const k = slot << 2;
    const key = this.fcKey;
    if (key[k] !== lin || key[k + 1] !== eip || key[k + 2] !== cpu.tlb[lin >>> 12] || key[k + 3] !== s[I_MODE]) return null;
    return b;
  }

  /** The block at CS:EIP through the TLB and the code cache, decoding it on a miss. */
  private lookupBlock(eip: number, lin: number, csLimit: number): Block | null {
    const cpu = this.cpu;
    const s = cpu.s;
    const e = cpu.tlb[lin >>> 12];
    let host: number;
    if ((e & cpu.readMask) === TLB_VALID) host = ((e & ~0xfff) ^ lin) >>> 0;
    else {
      host = cpu.translate(cpu, lin, ACC_EXEC);
      if (host < 0) return null;
    }
    const phys = host - RAM_OFFSET;
    const mode = s[I_MODE];
    const b = this.cache.lookup(phys, mode);
    if (b && b.eip === eip) {
      this.cache.hits++;
      b.execCount++;
      return b;
    }
    this.cache.misses++;
    const nb = this.cache.scan(phys, eip, mode, cpu.code32, csLimit);
    if (nb) {
      let len = 0;
      for (const i of nb.insns) len += i.len;
      this.coverage.add(phys, len);
      this.dbt?.onBlockScanned(nb);
    }
    return nb;
  }

  /** Copies bytes into guest physical memory. */
  writePhys(addr: number, bytes: ArrayLike<number>): void {
    if (addr < 0 || addr + bytes.length > this.mem.ramSize) {
      throw new RangeError(`physical range 0x${addr.toString(16)}+${bytes.length} is outside guest RAM`);
    }
    this.mem.u8.set(bytes, RAM_OFFSET + addr);
    for (let p = addr >>> 12; p <= (addr + bytes.length - 1) >>> 12; p++) this.cache.invalidatePage(p << 12);
  }

  /** Reads bytes from guest physical memory. */
  readPhys(addr: number, length: number): Uint8Array {
    if (addr < 0 || addr + length > this.mem.ramSize) {
      throw new RangeError(`physical range 0x${addr.toString(16)}+${length} is outside guest RAM`);
    }
    return this.mem.u8.slice(RAM_OFFSET + addr, RAM_OFFSET + addr + length);
  }

  /** A snapshot of the execution statistics. */
  stats(): VmStats {
    this.dbt?.harvest();
    const c = this.cache;
    return {
      engine: this.engine,
      instructions: this.cpu.icount,
      classes: this.classStats(),
      exits: this.exits,
      vmmInline: this.vmmInline,
      blocks: { live: c.blockCount, hits: c.hits, misses: c.misses, invalidations: c.invalidations },
      dbt: this.dbt ? { ...this.dbt.stats, exits: { ...this.dbt.stats.exits } } : null,
    };
  }

  /** Instructions per class, by name. */
  classStats(): Record<string, number> {
    return Object.fromEntries(CLASS_NAMES.map((n, k) => [n, this.classCounts[k]]));
  }
}
