/**
 * The public `Machine`: a PC (runtime/pc) behind a small, validated, asynchronous API — create
 * it from options, start it, talk to its serial console through streams, wait for output,
 * stop it, read statistics. Library code never prints and never exits the process.
 */
import { PassThrough } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { PC_DEFAULT_MEMORY, PC_MIN_MEMORY, PcMachine } from '../runtime/pc/pc-machine.ts';
import { ramSizeProblem } from '../runtime/memory.ts';
import { ENGINES } from '../runtime/vm.ts';
import { checkTrace } from '../runtime/trace.ts';
import type { PcMachineOptions, PcRunResult } from '../runtime/pc/pc-machine.ts';
import { checkDrives, openDisks } from './drives.ts';
import type { DriveSpec } from './drives.ts';
import { readContainerAsync } from '../runtime/snapshot/container.ts';
import { restoreSections, savePc } from '../runtime/snapshot/pc-snapshot.ts';

export type { Engine } from '../runtime/vm.ts';

/** Options of {@link Machine.create}: the PC's own, less those the Machine sets itself. */
export type MachineOptions = Pick<
  PcMachineOptions,
  'memory' | 'kernel' | 'bios' | 'initrd' | 'cmdline' | 'engine' | 'forceTranslate' | 'onReset' | 'trace' | 'consolePanic'
> & {
  /**
   * Disks: image files (raw or qcow2), each on virtio-blk (`/dev/vda`, … the default) or IDE
   * (`/dev/sda`, …), optionally read-only or with its writes kept in memory (`snapshot`).
   */
  drives?: DriveSpec[];
};

/**
 * Options of {@link Machine.restore}: how to run the restored machine. Memory, kernel, initrd,
 * command line and drives come from the snapshot; the engine defaults to the one it was taken on.
 */
export type RestoreOptions = Pick<PcMachineOptions, 'engine' | 'forceTranslate' | 'onReset' | 'trace' | 'consolePanic'>;

/**
 * Process exit codes, one per way a run can end: {@link MachineExit.exitCode} and the CLI's
 * exit status. isa-debug-exit gives `(v << 1) | 1` (odd, as QEMU); every code of ours is even
 * or above 123, so none is mistaken for another (README.md, "Exit codes").
 */
export const EXIT_CODES = {
  /** The guest powered the machine off (ACPI S5 through PM1a_CNT). */
  poweroff: 0,
  /** CLI only: a bad command line or an unusable input file; nothing ran. */
  usage: 2,
  /** Something failed on the host side (an internal error, the guest build). */
  hostError: 70,
  /** The guest reset the machine (a triple fault, a reset port) and resets end the run (onReset 'stop', `-no-reboot`). */
  reset: 100,
  /** The guest kernel panicked (pvpanic, or its panic line on the console). */
  panic: 102,
  /** The CPU halted with interrupts off: nothing can wake it. */
  halt: 104,
  /** CLI only: `--timeout` expired (as `timeout(1)`). */
  timeout: 124,
  /** {@link Machine.stop} ended the run: 128 + SIGTERM, as for a process stopped from outside. */
  stopped: 143,
  /** CLI only: killed by signal N gives `signalBase + N` (SIGINT 130, SIGTERM 143, SIGHUP 129). */
  signalBase: 128,
} as const;

/** Why a machine's run ended (each has its own exit code, see {@link EXIT_CODES}). */
export type ExitReason = 'poweroff' | 'exit' | 'reset' | 'panic' | 'halt' | 'stopped' | 'error';

/** How a machine's run ended. */
export interface MachineExit {
  /**
   * 'poweroff' (ACPI power-off), 'exit' (isa-debug-exit port), 'reset' (with onReset 'stop'),
   * 'panic' (the guest kernel panicked), 'halt' (the CPU halted with interrupts off, for
   * good), 'stopped' ({@link Machine.stop}), or 'error' (a host-side failure).
   */
  reason: ExitReason;
  /**
   * Process-style exit code: the isa-debug-exit value `(v << 1) | 1`, else the reason's
   * entry in {@link EXIT_CODES}.
   */
  exitCode: number;
  /** Human-readable detail. */
  detail?: string;
}

/** Execution statistics of a machine. */
export interface MachineStats {
  /** Guest instructions executed. */
  instructions: number;
  /** Guest instructions by virtualization class. */
  instructionsByClass: Record<string, number>;
  /**
   * VMM exits by reason: sensitive, privileged and I/O instructions emulated by the VMM after
   * leaving translated code (or in the interpreter), and exceptions (`exception N`).
   */
  exits: Record<string, number>;
  /** Sensitive, privileged and I/O instructions translated code emulated itself, without an exit, by reason. */
  vmmInline: Record<string, number>;
  /** Code cache: blocks decoded, lookups that hit and missed, pages invalidated. */
  cache: { blocks: number; hits: number; misses: number; invalidations: number };
  /** Translator statistics when the engine is 'dbt' (absent otherwise). */
  translator?: Record<string, number>;
  /** Guest resets so far. */
  resets: number;
  /** Wall-clock seconds since start(). */
  seconds: number;
}

/** Options of {@link Machine.waitFor}. */
export interface WaitOptions {
  /** Reject after this many milliseconds (default: wait forever). */
  timeoutMs?: number;
}

/** How much console output `waitFor` remembers (a match must lie within it). */
const WAIT_WINDOW = 1 << 20;

function validate(opts: MachineOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('Machine.create: options object required');
  const known = new Set(['memory', 'kernel', 'bios', 'initrd', 'cmdline', 'engine', 'forceTranslate', 'onReset', 'trace', 'consolePanic']);
  known.add('drives');
  for (const k of Object.keys(opts)) if (!known.has(k)) throw new TypeError(`Machine.create: unknown option '${k}'`);
  if (opts.drives !== undefined) checkDrives('Machine.create', opts.drives);
  if (opts.bios !== undefined) {
    if (!(opts.bios instanceof Uint8Array)) throw new TypeError('Machine.create: `bios` must be a Uint8Array');
    const other = (['kernel', 'initrd', 'cmdline'] as const).filter((k) => opts[k] !== undefined);
    if (other.length) throw new TypeError(`Machine.create: \`bios\` runs the firmware from the reset vector and excludes ${other.map((k) => `\`${k}\``).join(', ')}`);
  } else if (!(opts.kernel instanceof Uint8Array)) throw new TypeError('Machine.create: `kernel` must be a Uint8Array');
  if (opts.initrd !== undefined && !(opts.initrd instanceof Uint8Array)) throw new TypeError('Machine.create: `initrd` must be a Uint8Array');
  if (opts.cmdline !== undefined && typeof opts.cmdline !== 'string') throw new TypeError('Machine.create: `cmdline` must be a string');
  if (opts.engine !== undefined && !ENGINES.includes(opts.engine)) throw new TypeError(`Machine.create: engine must be ${ENGINES.map((e) => `'${e}'`).join(' or ')}`);
  if (opts.onReset !== undefined && opts.onReset !== 'reboot' && opts.onReset !== 'stop') throw new TypeError(`Machine.create: onReset must be 'reboot' or 'stop'`);
  if (opts.trace !== undefined) checkTrace('Machine.create', opts.trace);
  if (opts.consolePanic !== undefined && typeof opts.consolePanic !== 'boolean') throw new TypeError('Machine.create: `consolePanic` must be a boolean');
  const problem = ramSizeProblem(opts.memory ?? PC_DEFAULT_MEMORY, PC_MIN_MEMORY);
  if (problem) throw new RangeError(`Machine.create: memory ${problem}`);
}

function validateRestore(bytes: Uint8Array, opts: RestoreOptions): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('Machine.restore: the snapshot must be a Uint8Array');
  if (typeof opts !== 'object' || opts === null) throw new TypeError('Machine.restore: options must be an object');
  const known = new Set(['engine', 'forceTranslate', 'onReset', 'trace', 'consolePanic']);
  for (const k of Object.keys(opts)) {
    if (!known.has(k)) {
      const fromSnapshot = ['memory', 'kernel', 'initrd', 'cmdline', 'drives'].includes(k) ? ` (the snapshot holds the ${k})` : '';
      throw new TypeError(`Machine.restore: unknown option '${k}'${fromSnapshot}`);
    }
  }
  if (opts.engine !== undefined && !ENGINES.includes(opts.engine)) throw new TypeError(`Machine.restore: engine must be ${ENGINES.map((e) => `'${e}'`).join(' or ')}`);
  if (opts.onReset !== undefined && opts.onReset !== 'reboot' && opts.onReset !== 'stop') throw new TypeError(`Machine.restore: onReset must be 'reboot' or 'stop'`);
  if (opts.trace !== undefined) checkTrace('Machine.restore', opts.trace);
  if (opts.consolePanic !== undefined && typeof opts.consolePanic !== 'boolean') throw new TypeError('Machine.restore: `consolePanic` must be a boolean');
}

/**
 * A virtual PC running a Linux guest.
 *
 * ```ts
 * const m = await Machine.create({ kernel, initrd, cmdline: 'console=ttyS0' });
 * m.serial.output.pipe(process.stdout);
 * await m.start();
 * await m.waitFor('# ');
 * m.serial.input.write('uname -a\n');
 * ```
 */
export class Machine {
  /**
   * The serial console (COM1): guest output, and input to the guest. The output stream has
   * backpressure: while nobody reads it and its buffers are full, the guest's UART holds THRE
   * clear and the guest waits (nothing is dropped). Call `serial.output.resume()` to discard it
   * when only {@link waitFor} and {@link consoleText} are used.
   */
  readonly serial: { readonly output: Readable; readonly input: Writable };
  /** What the guest writes to the debug console port 0xE9 (QEMU's `-debugcon`). */
  readonly debugConsole: Readable = new PassThrough();
  /** Resolves when the machine stops running, for whatever reason. */
  readonly exited: Promise<MachineExit>;

  private readonly pc: PcMachine;
  private readonly out = new PassThrough();
  private readonly inp = new PassThrough();
  private text = '';
  private textBase = 0;
  private waiters: { re: RegExp; from: number; resolve: (s: string) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout }[] = [];
  private running: Promise<void> | null = null;
  private resolveExit!: (e: MachineExit) => void;
  private exitInfo: MachineExit | null = null;
  private startedAt = 0;

  private constructor(pc: PcMachine) {
    this.pc = pc;
    this.serial = { output: this.out, input: this.inp };
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.inp.on('data', (chunk: Buffer) => this.pc.serialInput(new Uint8Array(chunk)));
  }

  /**
   * Creates a machine and loads its kernel (it does not run yet). Rejects with a clear error for
   * bad options or an unusable kernel image.
   */
  static async create(opts: MachineOptions): Promise<Machine> {
    validate(opts);
    const engine = opts.engine ?? 'dbt';
    return Machine.around((hooks) => new PcMachine({
      ...hooks,
      memory: opts.memory ?? PC_DEFAULT_MEMORY,
      ...(opts.bios ? { bios: opts.bios } : { kernel: opts.kernel }),
      ...(opts.initrd ? { initrd: opts.initrd } : {}),
      ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}),
      ...(opts.drives?.length ? { disks: openDisks(opts.drives) } : {}),
      engine,
      forceTranslate: opts.forceTranslate ?? false,
      onReset: opts.onReset ?? 'reboot',
      ...(opts.trace ? { trace: opts.trace } : {}),
      ...(opts.consolePanic !== undefined ? { consolePanic: opts.consolePanic } : {}),
    }));
  }

  /**
   * A machine in the state a snapshot ({@link saveState}) recorded, not running yet: `start()`
   * continues the guest where it was (its console output so far is not replayed). Its drives
   * are reopened from the image paths the snapshot records; an image that changed since the
   * snapshot (runtime/snapshot/disks.ts) is refused. Rejects with a `SnapshotError` for a
   * truncated, corrupt or mismatched snapshot or a changed image (nothing ran), and with a
   * TypeError for bad options.
   */
  static async restore(bytes: Uint8Array, opts: RestoreOptions = {}): Promise<Machine> {
    validateRestore(bytes, opts);
    // Decompressed in parallel on libuv's threads; everything is checked before a machine is built.
    const sections = await readContainerAsync(bytes);
    return Machine.around((hooks) => restoreSections(sections, {
      ...hooks,
      ...(opts.engine ? { engine: opts.engine } : {}),
      forceTranslate: opts.forceTranslate ?? false,
      onReset: opts.onReset ?? 'reboot',
      ...(opts.trace ? { trace: opts.trace } : {}),
      ...(opts.consolePanic !== undefined ? { consolePanic: opts.consolePanic } : {}),
    }));
  }

  /** A Machine around the PC `make` builds with the Machine's output hooks. */
  private static async around(make: (hooks: Pick<PcMachineOptions, 'onSerialOutput' | 'onDebugOutput'>) => PcMachine): Promise<Machine> {
    let self: Machine | null = null;
    const pc = make({
      // Backpressure: a full stream (nobody reading) holds the guest's output back.
      onSerialOutput: (bytes) => self?.onOutput(bytes),
      onDebugOutput: (bytes) => self?.onDebugOutput(bytes),
    });
    // Load the translator (binaryen) now, so that the guest starts on the chosen engine.
    await pc.vm.prepare();
    self = new Machine(pc);
    return self;
  }

  /**
   * A snapshot of the whole machine — CPU, RAM (all-zero pages skipped, the rest compressed),
   * devices, the kernel and initrd it booted — as the bytes of a snapshot file, for
   * {@link Machine.restore} (here or in another process) or `wasmvisor run --restore FILE`.
   * Works while the machine runs (the state is taken between two slices of guest instructions,
   * then compressed while the guest goes on) and after it stopped. Format: runtime/README.md.
   */
  async saveState(): Promise<Uint8Array> {
    return savePc(this.pc);
  }

  /** Starts the guest running in the background; resolves once it is running. */
  async start(): Promise<void> {
    if (this.exitInfo) throw new Error(`Machine.start: the machine has already stopped (${this.exitInfo.reason}); create a new one`);
    if (this.running) throw new Error('Machine.start: already started');
    this.startedAt = performance.now();
    this.running = this.pc.run().then(
      (r) => this.finish(exitOf(r)),
      (e: unknown) => this.finish({ reason: 'error', exitCode: EXIT_CODES.hostError, detail: e instanceof Error ? e.message : String(e) }),
    );
  }

  /** Stops the guest (if running) and resolves when it has stopped. */
  async stop(): Promise<MachineExit> {
    if (this.running && !this.exitInfo) this.pc.stop();
    else if (!this.exitInfo) this.finish({ reason: 'stopped', exitCode: EXIT_CODES.stopped });
    return this.exited;
  }

  /** Sends text or bytes to the serial console. */
  write(data: string | Uint8Array): void {
    this.pc.serialInput(data);
  }

  /**
   * Tells the guest the console's new size: the line `ROWS COLS` on COM2, the machine's control
   * line. The default guest's console shell runs a small agent that applies it to its terminal
   * (`stty rows … cols …`, which signals SIGWINCH to the foreground job); other guests ignore it.
   */
  resizeConsole(rows: number, cols: number): void {
    for (const [name, v] of [['rows', rows], ['cols', cols]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 9999) throw new RangeError(`Machine.resizeConsole: ${name} must be an integer from 1 to 9999 (got ${v})`);
    }
    this.pc.controlInput(`${rows} ${cols}\n`);
  }

  /**
   * Resolves with the matched text when the console output (from now on, or including what was
   * printed before if `fromStart`) matches `pattern`; rejects on timeout or if the machine stops.
   */
  waitFor(pattern: string | RegExp, opts: WaitOptions & { fromStart?: boolean } = {}): Promise<string> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const from = opts.fromStart ? this.textBase : this.textBase + this.text.length;
    return new Promise((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { re, from, resolve, reject };
      if (opts.timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`waitFor(${re}): timed out after ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.waiters.push(w);
      this.checkWaiters();
      if (this.exitInfo && this.waiters.includes(w)) this.rejectWaiters();
    });
  }

  /** Console output so far (the last MiB). */
  consoleText(): string {
    return this.text;
  }

  /** Execution statistics. */
  stats(): MachineStats {
    const v = this.pc.vm.stats();
    const out: MachineStats = {
      instructions: v.instructions,
      instructionsByClass: v.classes,
      exits: v.exits,
      vmmInline: v.vmmInline,
      cache: { blocks: v.blocks.live, hits: v.blocks.hits, misses: v.blocks.misses, invalidations: v.blocks.invalidations },
      resets: this.pc.resets,
      seconds: this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0,
    };
    if (v.dbt) {
      const { exits, ...rest } = v.dbt;
      out.translator = { ...rest };
      for (const [k, n] of Object.entries(exits)) out.translator[`exits from compiled code: ${k}`] = n;
    }
    return out;
  }

  /** Whether a 'drain' listener is waiting to tell the PC its output can flow again. */
  private drainPending = false;

  /** Calls pc.outputDrained() once `stream` drains. */
  private whenDrained(stream: PassThrough): false {
    if (!this.drainPending) {
      this.drainPending = true;
      stream.once('drain', () => {
        this.drainPending = false;
        this.pc.outputDrained();
      });
    }
    return false;
  }

  private onDebugOutput(bytes: Uint8Array): boolean {
    const s = this.debugConsole as PassThrough;
    return s.write(Buffer.from(bytes)) || this.whenDrained(s);
  }

  private onOutput(bytes: Uint8Array): boolean {
    const more = this.out.write(Buffer.from(bytes));
    this.text += Buffer.from(bytes).toString('latin1');
    if (this.text.length > 2 * WAIT_WINDOW) {
      const cut = this.text.length - WAIT_WINDOW;
      this.text = this.text.slice(cut);
      this.textBase += cut;
    }
    this.checkWaiters();
    return more || this.whenDrained(this.out);
  }

  private checkWaiters(): void {
    if (!this.waiters.length) return;
    this.waiters = this.waiters.filter((w) => {
      const start = Math.max(0, w.from - this.textBase);
      const m = w.re.exec(this.text.slice(start));
      if (!m) return true;
      if (w.timer) clearTimeout(w.timer);
      w.resolve(m[0]);
      return false;
    });
  }

  private rejectWaiters(): void {
    const why = this.exitInfo ? `${this.exitInfo.reason}${this.exitInfo.detail ? ': ' + this.exitInfo.detail : ''}` : 'stopped';
    for (const w of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new Error(`waitFor(${w.re}): the machine stopped (${why})`));
    }
    this.waiters = [];
  }

  private finish(e: MachineExit): void {
    if (this.exitInfo) return;
    this.exitInfo = e;
    // Every write the guest saw completed becomes durable, and the image files are released.
    this.pc.closeDisks();
    this.out.end();
    (this.debugConsole as PassThrough).end();
    this.rejectWaiters();
    this.resolveExit(e);
  }
}

function exitOf(r: PcRunResult): MachineExit {
  const detail = r.detail !== undefined ? { detail: r.detail } : {};
  switch (r.reason) {
    case 'poweroff': return { reason: 'poweroff', exitCode: EXIT_CODES.poweroff, ...detail };
    case 'exit': return { reason: 'exit', exitCode: r.exitCode ?? 1, ...detail };
    case 'reset': return { reason: 'reset', exitCode: EXIT_CODES.reset, ...detail };
    case 'panic': return { reason: 'panic', exitCode: EXIT_CODES.panic, ...detail };
    case 'halt': return { reason: 'halt', exitCode: EXIT_CODES.halt, ...detail };
    case 'fault': return { reason: 'error', exitCode: EXIT_CODES.hostError, ...detail };
    default: return { reason: 'stopped', exitCode: EXIT_CODES.stopped, ...detail };
  }
}
