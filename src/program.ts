/**
 * The public `Program`: a raw flat 32-bit program image run on a bare virtual CPU — no PC, no
 * firmware, no devices — again and again from the same initial registers, with its statistics
 * and the translator's cost. This is what the workload benchmark (bench/) drives, and what an
 * embedder measuring its own guest code needs. Validated options, TSDoc on every export; library
 * code never prints and never exits the process.
 */
import { EFLAGS, EIP, IDTR_BASE, IDTR_LIMIT, INHIBIT_IRQ, LF_NONE, LF_OP } from '../translator/abi.ts';
import { measureTranslation } from '../runtime/dbt/measure.ts';
import { getEflags } from '../runtime/lazy-flags.ts';
import { Vm } from '../runtime/vm.ts';
import { ramSizeProblem } from '../runtime/memory.ts';
import { checkTrace } from '../runtime/trace.ts';
import type { TraceOptions } from '../runtime/trace.ts';
import { ENGINES, isEngine } from '../runtime/vm.ts';
import type { Engine } from '../runtime/vm.ts';

/** Options of {@link Program.create}. */
export interface ProgramOptions {
  /** The flat binary: raw 32-bit code and data, as `nasm -f bin` writes it. Must not be empty. */
  image: Uint8Array;
  /** Physical (= linear) address the image is loaded at. Default 0x1000 (nasm `org 0x1000`). */
  loadAddress?: number;
  /** Initial EIP. Default: `loadAddress`. */
  entry?: number;
  /** Initial ESP (the stack grows down from it). Default: `memory` (the top of RAM). */
  stack?: number;
  /** Guest RAM in bytes: a multiple of 4 KiB between 1 MiB and 1792 MiB. Default 16 MiB. */
  memory?: number;
  /** Execution engine. Default 'dbt'. */
  engine?: Engine;
  /** Translate every block the first time it runs instead of when it is hot ('dbt' only). */
  forceTranslate?: boolean;
  /** Execution traces, as QEMU's `-d` (items and a line sink; see {@link TRACE_ITEMS}). Off by default. */
  trace?: TraceOptions;
}

/** Options of {@link Program.run}. */
export interface ProgramRunOptions {
  /**
   * Stop with reason 'limit' after this many guest instructions (a positive integer). Default:
   * no limit — `run` returns only when the program halts or faults.
   */
  maxInstructions?: number;
}

/** Options of {@link Program.measureTranslation}. */
export interface MeasureTranslationOptions {
  /** Blocks to translate in total over the measured rounds (at least 6 rounds run). Default 3000. */
  minBlocks?: number;
}

/** The general registers, EIP and EFLAGS, as unsigned 32-bit numbers. */
export interface Registers {
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
  eip: number;
  eflags: number;
}

/** How one {@link Program.run} ended. */
export interface ProgramRun {
  /**
   * 'halted': the program executed HLT (the normal end). 'limit': `maxInstructions` were executed.
   * 'fault': the program raised an exception while it had no interrupt descriptor table (a run
   * starts with an IDTR limit of 0), with EIP at the faulting instruction; or, after it loaded
   * one with LIDT, the delivery failed so badly that the processor would shut down (a triple
   * fault: vector -1). A program that loads an IDT handles its exceptions itself.
   */
  reason: 'halted' | 'limit' | 'fault';
  /** Guest instructions executed in this run. */
  instructions: number;
  /** The registers when the run ended. */
  registers: Registers;
  /** For 'fault': the exception vector, its error code if it has one, and e.g. '#GP(0x0)'. */
  fault?: { vector: number; errorCode?: number; description: string };
}

/** Execution statistics of a program, cumulative over all its runs. */
export interface ProgramStats {
  /** Guest instructions executed. */
  instructions: number;
  /** Guest instructions by virtualization class. */
  instructionsByClass: Record<string, number>;
  /** VMM exits (emulated sensitive, privileged and I/O instructions) by reason. */
  exits: Record<string, number>;
  /** Sensitive, privileged and I/O instructions translated code emulated itself, without an exit, by reason. */
  vmmInline: Record<string, number>;
  /**
   * The translator, when the engine is 'dbt' (absent otherwise): regions and guest blocks
   * translated, and the milliseconds spent translating them (region forming, Wasm emission,
   * compilation and instantiation) as it happened during the runs.
   */
  translator?: { regions: number; blocks: number; translateMs: number };
}

const DEFAULT_LOAD_ADDRESS = 0x1000;
const DEFAULT_MEMORY = 16 << 20;
const DEFAULT_MIN_BLOCKS = 3000;
const REG_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const I_EIP = EIP >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_LF_OP = LF_OP >> 2;
const I_INHIBIT = INHIBIT_IRQ >> 2;
const I_IDTR_BASE = IDTR_BASE >> 2;
const I_IDTR_LIMIT = IDTR_LIMIT >> 2;

const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

function checkKeys(where: string, opts: object, known: readonly string[]): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new TypeError(`${where}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
}

function optionsObject(where: string, opts: unknown): object {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new TypeError(`${where}: options must be an object`);
  return opts;
}

function validate(opts: ProgramOptions): void {
  const w = 'Program.create';
  optionsObject(w, opts);
  checkKeys(w, opts, ['image', 'loadAddress', 'entry', 'stack', 'memory', 'engine', 'forceTranslate', 'trace']);
  if (opts.trace !== undefined) checkTrace(w, opts.trace);
  if (!(opts.image instanceof Uint8Array)) throw new TypeError(`${w}: \`image\` must be a Uint8Array`);
  if (opts.image.length === 0) throw new RangeError(`${w}: \`image\` is empty`);
  for (const k of ['loadAddress', 'entry', 'stack'] as const) {
    if (opts[k] !== undefined && !isU32(opts[k])) throw new RangeError(`${w}: \`${k}\` must be an integer in 0..0xFFFFFFFF (got ${String(opts[k])})`);
  }
  const mem = opts.memory ?? DEFAULT_MEMORY;
  const problem = ramSizeProblem(mem);
  if (problem) throw new RangeError(`${w}: memory ${problem}`);
  const load = opts.loadAddress ?? DEFAULT_LOAD_ADDRESS;
  if (load + opts.image.length > mem) {
    throw new RangeError(`${w}: the image (${opts.image.length} bytes at 0x${load.toString(16)}) does not fit in ${mem} bytes of RAM`);
  }
  if (opts.engine !== undefined && !isEngine(opts.engine)) throw new TypeError(`${w}: engine must be ${ENGINES.map((e) => `'${e}'`).join(' or ')}`);
  if (opts.forceTranslate !== undefined && typeof opts.forceTranslate !== 'boolean') throw new TypeError(`${w}: \`forceTranslate\` must be a boolean`);
  if (opts.forceTranslate && opts.engine === 'interp') throw new TypeError(`${w}: forceTranslate needs engine 'dbt'`);
}

/**
 * A raw flat 32-bit program on a bare virtual CPU: protected mode, paging off, CPL 0, flat 4 GiB
 * code and data segments (selectors 0x08 and 0x10), interrupts disabled, no interrupt descriptor
 * table and no devices (port reads return all ones, writes are ignored). The image is loaded once;
 * each {@link Program.run} starts again from the initial registers — EAX..EDI (ESP = `stack`,
 * the others 0), EFLAGS = 0x2, EIP = `entry` — and runs until HLT. Memory (the program's data,
 * and code it rewrote), segment and control registers and the x87 state are left as the previous
 * run left them; translations and decoded blocks are kept, as on a running machine, so later runs
 * measure warm code.
 *
 * ```ts
 * const p = await Program.create({ image, loadAddress: 0x1000, engine: 'dbt' });
 * const r = p.run();                      // { reason: 'halted', instructions, registers }
 * console.log(r.registers.eax, p.stats().translator);
 * console.log(p.measureTranslation(), 'us per translated block, steady state');
 * ```
 */
export class Program {
  /** The engine the program runs on. */
  readonly engine: Engine;
  private readonly vm: Vm;
  private readonly entry: number;
  private readonly regs0: Int32Array;
  private readonly flags0: number;

  private constructor(vm: Vm, entry: number) {
    this.vm = vm;
    this.engine = vm.engine;
    this.entry = entry;
    const s = vm.cpu.s;
    this.regs0 = s.slice(0, REG_NAMES.length);
    this.flags0 = getEflags(s);
  }

  /**
   * Creates the virtual CPU, loads the image and (for 'dbt') the translator. Throws a TypeError
   * or RangeError naming the problem for an unknown option or a bad value.
   */
  static async create(opts: ProgramOptions): Promise<Program> {
    validate(opts);
    const memory = opts.memory ?? DEFAULT_MEMORY;
    const load = opts.loadAddress ?? DEFAULT_LOAD_ADDRESS;
    const entry = opts.entry ?? load;
    const vm = new Vm({ memorySize: memory, engine: opts.engine ?? 'dbt', forceTranslate: opts.forceTranslate ?? false, ...(opts.trace ? { trace: opts.trace } : {}) });
    // No IDT until the program loads one: report an exception rather than deliver it through
    // whatever bytes are at 0 (each run starts with an IDTR limit of 0).
    vm.stopOnFault = 'without-idt';
    await vm.prepare();
    vm.resetFlat32(entry | 0, (opts.stack ?? memory) | 0);
    vm.writePhys(load, opts.image);
    return new Program(vm, entry | 0);
  }

  /**
   * Runs the program from its initial registers until it halts, faults or reaches
   * `maxInstructions`. Synchronous: it runs on the calling thread.
   */
  run(opts: ProgramRunOptions = {}): ProgramRun {
    checkKeys('Program.run', optionsObject('Program.run', opts), ['maxInstructions']);
    const max = opts.maxInstructions ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`Program.run: maxInstructions must be a positive integer (got ${String(max)})`);
    const vm = this.vm;
    const s = vm.cpu.s;
    s.set(this.regs0, 0);
    s[I_EFLAGS] = this.flags0;
    s[I_LF_OP] = LF_NONE;
    s[I_INHIBIT] = 0;
    s[I_EIP] = this.entry;
    s[I_IDTR_BASE] = 0;
    s[I_IDTR_LIMIT] = 0;
    vm.cpu.halted = false;
    const r = vm.run(max);
    const out: ProgramRun = { reason: 'halted', instructions: r.executed, registers: this.registers() };
    switch (r.reason) {
      case 'halted': break;
      case 'budget': out.reason = 'limit'; break;
      case 'fault': {
        const f = r.fault;
        out.reason = 'fault';
        out.fault = f
          ? { vector: f.vector, ...(f.errorCode >= 0 ? { errorCode: f.errorCode } : {}), description: f.toString() }
          : { vector: -1, description: 'unknown fault' };
        break;
      }
      case 'triple-fault':
      case 'shutdown':
        out.reason = 'fault';
        out.fault = { vector: -1, description: `${r.reason === 'shutdown' ? 'shutdown' : 'triple fault'}${r.detail ? `: ${r.detail}` : ''}` };
        break;
      default:
        // Not reachable with this setup (no devices, no stop requests).
        throw new Error(`Program.run: the VM stopped with '${r.reason}'${r.detail ? `: ${r.detail}` : ''}`);
    }
    return out;
  }

  /** The current registers (after a run: as it left them). */
  registers(): Registers {
    const s = this.vm.cpu.s;
    const r = {} as Registers;
    REG_NAMES.forEach((n, k) => { r[n] = s[k] >>> 0; });
    r.eip = s[I_EIP] >>> 0;
    r.eflags = getEflags(s) >>> 0;
    return r;
  }

  /** Copies `length` bytes of guest RAM from physical `address` (a RangeError outside RAM). */
  readMemory(address: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length) || address < 0 || length < 0 || address + length > this.vm.mem.ramSize) {
      throw new RangeError(`Program.readMemory: ${String(address)}+${String(length)} is not a range of guest RAM (0..${this.vm.mem.ramSize})`);
    }
    return this.vm.readPhys(address, length);
  }

  /** Statistics over all runs so far. */
  stats(): ProgramStats {
    const v = this.vm.stats();
    const out: ProgramStats = { instructions: v.instructions, instructionsByClass: v.classes, exits: v.exits, vmmInline: v.vmmInline };
    if (v.dbt) out.translator = { regions: v.dbt.regions, blocks: v.dbt.blocks, translateMs: v.dbt.translateMs };
    return out;
  }

  /**
   * The steady-state translation cost, in microseconds per guest block: the regions translated
   * last (up to 64) are translated again, round after round, without installing anything, until
   * `minBlocks` blocks have been translated (at least 6 rounds); the result is the median over
   * the second half of the rounds. It excludes what the in-run time
   * (`stats().translator.translateMs`) includes: V8 compiling the translator itself lazily during
   * a process's first few thousand translations, GC, and other processes. Null with engine
   * 'interp', or before anything has been translated. Takes roughly `minBlocks` x the result.
   */
  measureTranslation(opts: MeasureTranslationOptions = {}): number | null {
    checkKeys('Program.measureTranslation', optionsObject('Program.measureTranslation', opts), ['minBlocks']);
    const n = opts.minBlocks ?? DEFAULT_MIN_BLOCKS;
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Program.measureTranslation: minBlocks must be a positive integer (got ${String(n)})`);
    return this.vm.dbt ? measureTranslation(this.vm.dbt, n) : null;
  }
}
