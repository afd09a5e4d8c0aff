/**
 * The bare-metal test machine: a Vm, RAM, and the debug bus (debug console on port 0xE9,
 * isa-debug-exit on 0xF4) — no BIOS, no PIC, no timer. It runs the project's own nasm test
 * images (test/system/) and any other raw or multiboot v1 image, the way
 *
 *   qemu-system-i386 -nodefaults -display none -no-reboot -m <RAM>
 *     -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon file:OUT -kernel IMAGE
 *
 * runs a multiboot image, so the two can be compared output for output
 * (test/system/compare-qemu.sh).
 *
 * A run ends when the guest writes to isa-debug-exit ('exit'), triple-faults, executes HLT with
 * nothing that could wake it ('halted': IF = 0, or no interrupt source attached), or reaches the
 * instruction limit ('limit'). With an interrupt source attached (see `setup`) and IF = 1, a
 * halted CPU sleeps (1 ms at a time, without spinning) until the source has an interrupt or
 * `haltTimeoutMs` passes.
 */
import type { Engine, StopReason, VmStats } from '../vm.ts';
import { Vm } from '../vm.ts';
import { ImageError } from '../loaders/image-error.ts';
import { imageFormat } from '../loaders/format.ts';
import { loadMultiboot } from '../loaders/multiboot.ts';
import type { MultibootModule } from '../loaders/multiboot.ts';
import { loadRaw } from '../loaders/raw.ts';
import type { RawImageOptions } from '../loaders/raw.ts';
import { DebugBus } from './bus.ts';
import { EFLAGS, F_IF } from '../../translator/abi.ts';

export interface BareMetalOptions {
  /** 'auto' (default): multiboot if a multiboot header is found, else raw. */
  format?: 'auto' | 'multiboot' | 'raw';
  /** Guest RAM in bytes; default 32 MiB. */
  memorySize?: number;
  engine?: Engine;
  forceTranslate?: boolean;
  /** Raw images: load address, entry and mode (default: a boot sector at 0x7C00, real mode). */
  raw?: RawImageOptions;
  /** Multiboot command line (convention: image name, then arguments). */
  cmdline?: string;
  modules?: readonly MultibootModule[];
  /** Stop after this many guest instructions (reason 'limit'); default 2e9. */
  maxInstructions?: number;
  /** How long a halted CPU with IF = 1 and an interrupt source waits for an interrupt; default 10 s. */
  haltTimeoutMs?: number;
  /** Receives each byte written to the debug console as it is written. */
  onOutput?: (byte: number) => void;
  /**
   * Called after loading, before running: attach devices (bus.attach) or an interrupt source
   * (vm.irq). It may return a tick function, which the machine then calls between short slices
   * of execution and while the CPU sleeps in HLT, for devices that advance with time (a PIT).
   */
  setup?: (vm: Vm, bus: DebugBus) => (() => void) | void;
}

export type BareMetalStop = Exclude<StopReason, 'budget' | 'fault'> | 'limit';

/** The Vm's statistics (instructions, classes, VMM exits, blocks, translator) and the run time. */
export interface BareMetalStats extends VmStats {
  /** Wall-clock time of the run in milliseconds. */
  ms: number;
}

export interface BareMetalResult {
  /**
   * (v << 1) | 1 for a write of v to isa-debug-exit, else null. A process exit status keeps the
   * low 8 bits, as QEMU's does.
   */
  exitCode: number | null;
  /** Everything written to the debug console (bytes as Latin-1 characters). */
  output: string;
  reason: BareMetalStop;
  detail?: string;
  stats: BareMetalStats;
}

const SLICE = 1_000_000;
/** Slice length when a device tick function must run between slices. */
const TICK_SLICE = 20_000;

/** Loads `image` into `vm` by format. Throws ImageError for an unusable image. */
export function loadBareMetalImage(vm: Vm, image: Uint8Array, opts: BareMetalOptions = {}): 'multiboot' | 'raw' {
  const format = opts.format ?? 'auto';
  const isMultiboot = format === 'multiboot' || (format === 'auto' && imageFormat(image) === 'multiboot');
  if (isMultiboot) {
    loadMultiboot(vm, image, { ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}), ...(opts.modules ? { modules: opts.modules } : {}) });
    return 'multiboot';
  }
  if (format === 'auto' && (opts.cmdline !== undefined || opts.modules?.length)) {
    throw new ImageError('a command line or modules need a multiboot image, and this image has no multiboot header');
  }
  loadRaw(vm, image, opts.raw ?? {});
  return 'raw';
}

/** Sleeps the calling thread for `ms` milliseconds without spinning. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function latin1(bytes: readonly number[]): string {
  let s = '';
  for (let k = 0; k < bytes.length; k += 4096) s += String.fromCharCode(...bytes.slice(k, k + 4096));
  return s;
}

/**
 * A loaded bare-metal machine. `run` executes the image to its end; with engine 'dbt', call
 * `prepare` first so that the translator is loaded before the first instruction (otherwise the
 * dbt engine interprets until its background load completes).
 */
export class BareMetalMachine {
  readonly vm: Vm;
  readonly bus = new DebugBus();
  private readonly tick: (() => void) | null;

  /** Loads `image`. Throws ImageError for an unusable image. */
  constructor(image: Uint8Array, private readonly opts: BareMetalOptions = {}) {
    if (opts.onOutput) this.bus.onOutput = opts.onOutput;
    this.vm = new Vm({
      memorySize: opts.memorySize ?? 32 << 20,
      ...(opts.engine ? { engine: opts.engine } : {}),
      ...(opts.forceTranslate !== undefined ? { forceTranslate: opts.forceTranslate } : {}),
      io: this.bus,
    });
    loadBareMetalImage(this.vm, image, opts);
    this.tick = opts.setup?.(this.vm, this.bus) ?? null;
  }

  /** Loads what the engine needs (binaryen for 'dbt'). */
  prepare(): Promise<void> {
    return this.vm.prepare();
  }

  /** Runs until the guest exits, halts for good, triple-faults or reaches the instruction limit. */
  run(): BareMetalResult {
    const { vm, bus, tick, opts } = this;
    const slice = tick ? TICK_SLICE : SLICE;
    const limit = opts.maxInstructions ?? 2e9;
    const haltTimeout = opts.haltTimeoutMs ?? 10_000;
    const t0 = performance.now();
    let reason: BareMetalStop;
    let detail: string | undefined;
    for (;;) {
      const left = limit - vm.cpu.icount;
      if (left <= 0) {
        reason = 'limit';
        break;
      }
      const r = vm.run(Math.min(slice, left));
      tick?.();
      if (r.reason === 'budget') continue;
      if (r.reason === 'halted' && vm.irq && vm.cpu.s[EFLAGS >> 2] & F_IF) {
        const until = performance.now() + haltTimeout;
        while (!vm.irq.hasInterrupt() && performance.now() < until) {
          sleep(1);
          tick?.();
        }
        if (vm.irq.hasInterrupt()) {
          vm.notifyInterrupt();
          continue;
        }
      }
      reason = r.reason === 'fault' ? 'stopped' : r.reason;
      detail = r.detail;
      break;
    }
    const result: BareMetalResult = {
      exitCode: bus.exitCode,
      output: latin1(bus.output),
      reason,
      stats: { ...vm.stats(), ms: performance.now() - t0 },
    };
    if (detail !== undefined) result.detail = detail;
    return result;
  }
}

/**
 * Loads and runs a bare-metal image to its end, synchronously (engine 'dbt' interprets until
 * its translator has loaded in the background; use runBareMetalAsync to translate from the
 * start). Throws ImageError for an unusable image.
 */
export function runBareMetal(image: Uint8Array, opts: BareMetalOptions = {}): BareMetalResult {
  return new BareMetalMachine(image, opts).run();
}

/** Like runBareMetal, after loading the engine (the translator for 'dbt'). */
export async function runBareMetalAsync(image: Uint8Array, opts: BareMetalOptions = {}): Promise<BareMetalResult> {
  const m = new BareMetalMachine(image, opts);
  await m.prepare();
  return m.run();
}
