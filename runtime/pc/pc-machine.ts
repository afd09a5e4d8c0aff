/**
 * The PC machine: a Vm plus the devices a Linux guest needs, wired as on an i440FX/PIIX3 board,
 * and either a firmware image (`bios`, QEMU's `-bios`) run from the reset vector, or the Linux
 * boot protocol / multiboot loader in place of a BIOS, with the state a BIOS leaves
 * (bios-state.ts).
 *
 *   ports 0x20/0xA0, 0x4D0  DualPic  (the Vm's interrupt source; INT wakes the run loop)
 *   ports 0x40–0x43, 0x61   Pit      (IRQ0; channel 2 + port 0x61 for TSC calibration)
 *   ports 0x60, 0x64        I8042    (IRQ1/IRQ12; 0xFE resets the machine)
 *   ports 0x70–0x71         Rtc      (IRQ8; CMOS sizes for `memory`)
 *   ports 0x3F8–0x3FF       Uart16550 COM1 (IRQ4): the console
 *   ports 0x2F8–0x2FF       Uart16550 COM2 (IRQ3): a control line from the host (`controlInput`;
 *                           the default guest reads console size changes from it), output dropped
 *   ports 0xCF8–0xCFF       PciHost  (i440FX + PIIX3; 0xCF9 resets)
 *   ports 0x80, 0x92        SystemPorts (POST, fast A20/reset)
 *   FEE00000h (relocatable) LocalApic (the CPU's; in front of the 8259A pair, LINT0 its virtual wire)
 *   FEC00000h               IoApic   (every ISA IRQ also drives its pin: IRQ0 pin 2, IRQn pin n;
 *                           the PCI functions' INTA# are ISA IRQs, so theirs too; `ioApic`)
 *   ports 0xE9, 0xF4–0xF7   DebugPorts (QEMU's debug console and isa-debug-exit)
 *   ports 0x600–0x60B       AcpiPm   (PM1a event/control blocks, PM timer: ACPI power-off)
 *   port 0x505              PvPanic  (QEMU's pvpanic: the guest reports its kernel panics)
 * and, for a Linux kernel, the ACPI tables that describe the last two and the APICs (acpi-tables.ts).
 * A20 is open when port 92h's gate or the 8042's output-port gate is (the two are ORed, as on
 * PIIX chipsets; QEMU lets the last write win): closed, physical addresses wrap at 1 MiB.
 *
 * With `bios`, the image is mapped read-only just below 4 GiB and its last 128 KiB (or all of a
 * smaller one) are copied to RAM at 0xE0000–0xFFFFF (below 1 MiB RAM stands in for the shadowed
 * ROM, so writes there stick), and the CPU starts at F000:FFF0 in its reset state (EDX = the
 * processor signature).
 *
 * Time: every device reads one Clock (host real time by default). The machine runs the CPU in
 * slices (`step`): after each slice it brings the timers up to date, which raises IRQ0/IRQ8
 * for edges that have passed, and hands the serial output to `onSerialOutput`. When the guest
 * idles in HLT with interrupts on, `step` reports how long until the next timer event, and
 * `run` sleeps until then (or until serial input arrives) instead of spinning.
 *
 * How runs end: the guest powers off (ACPI S5 through PM1a_CNT), halts for good (HLT with
 * IF = 0: nothing can wake the CPU), panics (a pvpanic event, or the kernel's panic line on the
 * console: panic-watch.ts; the run goes on until the panic report is complete, at most
 * PANIC_GRACE_MS, so its console lines are kept), resets (i8042 pulse, port 0x92, 0xCF9 or a
 * triple fault; either the machine reboots — reloads the kernel and continues — or the run
 * ends, per `onReset`), writes to isa-debug-exit (exit code `(v << 1) | 1`), or `stop()` is
 * called.
 */
import { EFLAGS, F_IF, R_EDX } from '../../translator/abi.ts';
import { HostClock } from '../devices/clock.ts';
import type { Clock } from '../devices/clock.ts';
import { AcpiPm, PM_BASE, PM_PORTS } from '../devices/acpi-pm.ts';
import { I8042 } from '../devices/i8042.ts';
import { LocalApic } from '../devices/local-apic.ts';
import { IoApic, isaIrqPin } from '../devices/io-apic.ts';
import { PciHost } from '../devices/pci.ts';
import { DualPic } from '../devices/pic.ts';
import { Pit } from '../devices/pit.ts';
import { Rtc } from '../devices/rtc.ts';
import { SystemPorts } from '../devices/system-ports.ts';
import { DebugPorts } from '../devices/debug-ports.ts';
import { PVPANIC_CRASH_LOADED, PVPANIC_PANICKED, PVPANIC_PORT, PvPanic } from '../devices/pvpanic.ts';
import { Uart16550 } from '../devices/uart.ts';
import { MachineHalt } from '../fault.ts';
import { ImageError } from '../loaders/image-error.ts';
import { CPU_SIGNATURE } from '../vmm/cpuid.ts';
import { setTscSource, setWallClock } from '../vmm/msr.ts';
import { loadLinux } from '../loaders/linux.ts';
import { imageFormat } from '../loaders/format.ts';
import { loadMultiboot } from '../loaders/multiboot.ts';
import { EBDA_ADDR } from '../loaders/linux.ts';
import type { LinuxLayout } from '../loaders/linux.ts';
import { Vm } from '../vm.ts';
import type { Engine } from '../vm.ts';
import type { TraceOptions } from '../trace.ts';
import { ACPI_TABLES_ADDR, buildAcpiTables } from './acpi-tables.ts';
import { writeBiosState } from './bios-state.ts';
import { PcBus } from './bus.ts';
import { PanicWatch } from './panic-watch.ts';
import { attachDisks, checkDisks } from './storage.ts';
import type { PcDisk, PcStorage } from './storage.ts';
import type { DmaMemory } from '../devices/dma.ts';
import type { PanicWatchState } from './panic-watch.ts';

export interface PcMachineOptions {
  /** Guest RAM in bytes: a multiple of 4 KiB between 2 MiB and 1792 MiB. Default 128 MiB. */
  memory?: number;
  /** The kernel: a Linux bzImage, or a multiboot v1 image (as `qemu -kernel` accepts). */
  kernel?: Uint8Array;
  /**
   * A firmware image (QEMU's `-bios`): a multiple of 64 KiB, at most 16 MiB; the machine starts
   * at its reset vector instead of loading `kernel` (which must then be absent).
   */
  bios?: Uint8Array;
  /** An initial ramdisk for Linux. */
  initrd?: Uint8Array;
  /** The kernel command line. */
  cmdline?: string;
  /** Execution engine. Default 'dbt'. */
  engine?: Engine;
  /** Translate every block the first time it runs (a testing aid; 'dbt' only). */
  forceTranslate?: boolean;
  /** The time base of all devices (default: host real time). */
  clock?: Clock;
  /** Wall-clock time the RTC starts from, ms since the Unix epoch (default: now). */
  rtcStartMs?: number;
  /**
   * Receives what the guest writes to COM1, after each slice. Returning false (as a stream's
   * `write` does) says the receiver is full: the UART then stops accepting bytes (THRE stays
   * clear) and nothing more is handed over until `outputDrained()` is called.
   */
  onSerialOutput?: (bytes: Uint8Array) => unknown;
  /** Receives what the guest writes to the debug console (port 0xE9); false = full, as above. */
  onDebugOutput?: (bytes: Uint8Array) => unknown;
  /** What a guest reset does: reboot the guest (default, like QEMU) or stop the machine. */
  onReset?: 'reboot' | 'stop';
  /**
   * Recognise a kernel panic by its line on the serial console when the guest does not report
   * it through pvpanic (panic-watch.ts). Default true.
   */
  consolePanic?: boolean;
  /** Guest instructions per slice in `run` (default 50 000). */
  sliceInstructions?: number;
  /**
   * Execution traces, as QEMU's `-d`: the items (`in_asm`, `out_asm`, `exec`, `int`, `exits`;
   * see TRACE_ITEMS) and a function receiving each line. Off by default, at no cost.
   */
  trace?: TraceOptions;
  /** Disks (runtime/pc/storage.ts): open block backends and their interfaces; they outlive reboots. */
  disks?: PcDisk[];
  /**
   * The I/O APIC at FEC00000h and the ACPI MADT that lists it with the local APIC (default
   * true). Off: no I/O APIC and no MADT, so Linux runs the local APIC in virtual-wire mode
   * with the 8259As and the PIT as its tick.
   */
  ioApic?: boolean;
}

/**
 * Why `step`/`run` returned: 'budget' (the slice ended; step only), 'idle' (halted waiting for
 * an interrupt; step only), 'poweroff', 'reset' (with onReset 'stop'), 'exit' (isa-debug-exit),
 * 'panic' (the guest kernel panicked), 'halt' (HLT with interrupts off: halted for good),
 * 'stopped' (stop() or an abort signal), 'fault' (a guest fault with vm.stopOnFault set).
 */
export type PcStopReason = 'budget' | 'idle' | 'poweroff' | 'reset' | 'exit' | 'panic' | 'halt' | 'stopped' | 'fault';

export interface PcRunResult {
  reason: PcStopReason;
  /** Guest instructions executed by this call. */
  executed: number;
  /** For 'exit': `(value << 1) | 1`. */
  exitCode?: number;
  /** For 'idle': nanoseconds until the next timer event (Infinity: only input can wake it). */
  idleNs?: number;
  detail?: string;
}

export interface RunOptions {
  /** Ends the run with reason 'stopped' when aborted. */
  signal?: AbortSignal;
  /** Ends the run with reason 'stopped' after this many guest instructions. */
  maxInstructions?: number;
}

/** The devices of one PC, recreated on reboot. */
export interface PcDevices {
  bus: PcBus;
  pic: DualPic;
  pit: Pit;
  rtc: Rtc;
  com1: Uart16550;
  com2: Uart16550;
  kbc: I8042;
  pci: PciHost;
  system: SystemPorts;
  pm: AcpiPm;
  pvpanic: PvPanic;
  apic: LocalApic;
  /** The I/O APIC (present but not decoded or described when the `ioApic` option is off). */
  ioapic: IoApic;
  /** The disk controllers (storage.ts). */
  storage: PcStorage;
}

/** The PC's guest RAM: the default, and the least a PC accepts (Linux needs more anyway). */
export const PC_DEFAULT_MEMORY = 128 << 20;
export const PC_MIN_MEMORY = 2 << 20;
const DEFAULT_SLICE = 50_000;
/** `bios` images: a multiple of this, at most BIOS_MAX; the last ISA_BIOS_MAX bytes also below 1 MiB. */
const BIOS_ALIGN = 64 << 10;
const BIOS_MAX = 16 << 20;
const ISA_BIOS_MAX = 128 << 10;
/** Longest sleep of an idle `run` before it looks at the clock again. */
const MAX_IDLE_MS = 50;
/** `run` yields to the host event loop at least this often (ms), so input and signals get in. */
const YIELD_MS = 20;
/** The same while region modules compile in the background: they are installed at a yield. */
const COMPILE_YIELD_MS = 2;

/**
 * How long a panicking guest runs on after the panic began (pvpanic event or panic line), for
 * the rest of its report to reach the console; the end-of-panic line ends the run sooner.
 */
const PANIC_GRACE_MS = 500;

/**
 * Output held back for a full receiver, in bytes, beyond which the CPU stops until the receiver
 * drains: a guest that writes without waiting for THRE (Linux's console after a 10 ms wait per
 * byte) or to the debug console (which has no flow control) waits too. Memory stays bounded.
 */
const HELD_OUTPUT_LIMIT = 4096;

/**
 * The machine's own state beyond the CPU, RAM and devices, as a snapshot saves it
 * (runtime/snapshot/pc-snapshot.ts): reset count, the panic in progress, output held back for
 * a full receiver.
 */
export interface PcHostState {
  resets: number;
  bootIcount: number;
  crashLoaded: number;
  panic: { how: string; atNs: number } | null;
  panicWatch: PanicWatchState;
  serialOut: number[];
  debugOut: number[];
}

/** A guest request that ends the current slice (thrown as MachineHalt from device code). */
type PendingEvent = { reason: 'reset' | 'exit' | 'poweroff'; detail: string; exitCode?: number };

export class PcMachine {
  readonly vm: Vm;
  readonly clock: Clock;
  readonly memory: number;
  private devs!: PcDevices;
  private layoutValue: LinuxLayout | null = null;
  private readonly opts: PcMachineOptions;
  private serialOut: number[] = [];
  private debugOut: number[] = [];
  private pending: PendingEvent | null = null;
  private stopRequested = false;
  private wake: (() => void) | null = null;
  /** The serial and debug-console receivers said they are full (see onSerialOutput). */
  private serialFull = false;
  private debugFull = false;
  /** Serial output kept for `takeSerialOutput` when no onSerialOutput callback is given. */
  private serialLog: number[] = [];
  /** Resets the guest asked for so far (reboots included). */
  resets = 0;
  /** cpu.icount when the kernel was last loaded (to catch a reset loop). */
  private bootIcount = 0;
  /** The panic in progress: how it was reported and when (clock ns), or null. */
  private panic: { how: string; atNs: number } | null = null;
  private panicWatch = new PanicWatch();
  /** pvpanic CRASH_LOADED events (a crash kernel took over). */
  crashLoaded = 0;

  /** Builds the machine and loads the kernel. Throws ImageError for an unusable image. */
  constructor(opts: PcMachineOptions) {
    if (opts.bios !== undefined) {
      if (opts.kernel !== undefined) throw new ImageError('a kernel cannot be loaded together with a BIOS image (no firmware interface to pass it)');
      const n = opts.bios.length;
      if (n === 0 || n % BIOS_ALIGN !== 0 || n > BIOS_MAX) throw new ImageError(`BIOS image must be a non-empty multiple of 64 KiB, at most 16 MiB (got ${n} bytes)`);
    } else if (opts.kernel === undefined) {
      throw new ImageError('no kernel and no BIOS image given');
    }
    this.opts = opts;
    checkDisks(opts.disks ?? []);
    this.memory = opts.memory ?? PC_DEFAULT_MEMORY;
    this.clock = opts.clock ?? new HostClock();
    this.vm = new Vm({
      memorySize: this.memory,
      ...(opts.engine ? { engine: opts.engine } : {}),
      ...(opts.forceTranslate !== undefined ? { forceTranslate: opts.forceTranslate } : {}),
      ...(opts.trace ? { trace: opts.trace } : {}),
      // run() returns to the event loop between slices, so region modules compile in the background.
      dbt: { asyncCompile: true },
    });
    // The TSC counts the machine clock, as the timers do (and a snapshot restores both).
    setTscSource(this.vm.cpu, () => this.clock.now());
    this.boot();
  }

  /** What was booted (and what a reboot boots again): firmware or kernel, initrd, command line. */
  get bootImages(): { bios: Uint8Array | null; kernel: Uint8Array | null; initrd: Uint8Array | null; cmdline: string | null } {
    const o = this.opts;
    return { bios: o.bios ?? null, kernel: o.kernel ?? null, initrd: o.initrd ?? null, cmdline: o.cmdline ?? null };
  }

  /** The machine's own state for a snapshot (copies; see PcHostState). */
  get hostState(): PcHostState {
    return {
      resets: this.resets, bootIcount: this.bootIcount, crashLoaded: this.crashLoaded,
      panic: this.panic ? { ...this.panic } : null, panicWatch: this.panicWatch.state,
      serialOut: [...this.serialOut], debugOut: [...this.debugOut],
    };
  }

  set hostState(h: PcHostState) {
    this.resets = h.resets;
    this.bootIcount = h.bootIcount;
    this.crashLoaded = h.crashLoaded;
    this.panic = h.panic ? { ...h.panic } : null;
    this.panicWatch.state = h.panicWatch;
    this.serialOut = [...h.serialOut];
    this.debugOut = [...h.debugOut];
  }

  /** The devices (replaced on reboot). */
  get devices(): PcDevices {
    return this.devs;
  }

  /** Where the Linux loader put the kernel, initrd, zero page and command line (null for multiboot). */
  get layout(): LinuxLayout | null {
    return this.layoutValue;
  }

  /** Fresh devices, the kernel loaded, the CPU at its entry point. */
  private boot(): void {
    const bus = new PcBus();
    const pic = new DualPic();
    const apic = new LocalApic(this.clock, pic);
    const ioapic = new IoApic(apic);
    const withIoApic = this.opts.ioApic ?? true;
    if (withIoApic) {
      // Each ISA IRQ reaches the I/O APIC as well: IRQ0 (the PIT) on pin 2, as on PC boards and
      // QEMU, the ISA slot's IRQ2 as IRQ9 (the 8259A's rewiring), the rest on their own pins.
      pic.onIrqLine = (line, level) => ioapic.setIrq(isaIrqPin(line), level);
      apic.onLevelEoi = (vector) => ioapic.eoi(vector);
      apic.ioExtInt = () => ioapic.extIntOpen();
      ioapic.onExtIntChange = () => this.vm.notifyInterrupt();
      bus.mapMmio(ioapic);
    }
    const pit = new Pit(this.clock, pic);
    const rtc = new Rtc(this.clock, pic, { memorySize: this.memory, ...(this.opts.rtcStartMs !== undefined ? { startTimeMs: this.opts.rtcStartMs } : {}) });
    const com1 = new Uart16550(pic, 4);
    const com2 = new Uart16550(pic, 3);
    const kbc = new I8042(pic);
    const pci = new PciHost();
    const system = new SystemPorts();
    const pm = new AcpiPm(this.clock);
    const pvpanic = new PvPanic();
    bus.map(0x20, 2, pic.ports);
    bus.map(0xa0, 2, pic.ports);
    bus.map(0x4d0, 2, pic.ports);
    bus.map(0x40, 4, pit.ports);
    bus.map(0x61, 1, pit.ports);
    bus.map(0x60, 1, kbc.ports);
    bus.map(0x64, 1, kbc.ports);
    bus.map(0x70, 2, rtc.ports);
    bus.map(0x3f8, 8, com1.ports);
    bus.map(0x2f8, 8, com2.ports);
    bus.map(0xcf8, 8, pci);
    for (const p of [0x80, 0x92]) bus.map(p, 1, system);
    bus.map(PM_BASE, PM_PORTS, pm);
    bus.map(PVPANIC_PORT, 1, pvpanic);
    const debug = new DebugPorts();
    debug.mapOn(bus);

    pic.onInterrupt = () => this.vm.notifyInterrupt();
    apic.onInterrupt = () => this.vm.notifyInterrupt();
    const cpu = this.vm.cpu;
    const a20 = (): void => cpu.setA20(system.a20 || kbc.a20);
    system.onA20 = a20;
    kbc.onA20 = a20;
    a20();
    const tracer = this.vm.tracer;
    if (tracer?.post) system.onPost = (code) => tracer.postCode(code);
    com1.onTransmit = (b) => this.serialOut.push(b);
    com1.txReady = () => !this.serialFull;
    debug.onOutput = (b) => this.debugOut.push(b);
    const reset = (source: string) => (): never => this.halt({ reason: 'reset', detail: `reset by ${source}` });
    kbc.onReset = reset('the keyboard controller');
    pci.onReset = reset('the reset control register (0xCF9)');
    system.onReset = reset('port 0x92');
    debug.onExit = (code) => this.halt({ reason: 'exit', detail: `isa-debug-exit: exit code ${code}`, exitCode: code });
    pm.onPowerOff = () => this.halt({ reason: 'poweroff', detail: 'ACPI S5 (soft off) through PM1a_CNT' });
    pvpanic.onEvent = (events) => {
      // Also after the console line was seen: the device is the exact report.
      if (events & PVPANIC_PANICKED) this.panic = { how: 'pvpanic', atNs: this.panic?.atNs ?? this.clock.now() };
      if (events & PVPANIC_CRASH_LOADED) this.crashLoaded++;
    };
    this.panic = null;
    this.panicWatch = new PanicWatch();

    // IRQ0 is edge-triggered: a PIT tick is still pending while the master's IRR bit 0 is set.
    // After every acknowledge the PIT may raise a tick it owes (see devices/pit.ts).
    // Through the I/O APIC (pin 2 unmasked), the tick waits in the local APIC's IRR instead.
    pit.requestPending = () => {
      const vector = withIoApic ? ioapic.messageVector(2) : -1;
      return vector >= 0 ? apic.requested(vector) : (pic.state.master.irr & 1) !== 0;
    };
    // kvmclock's wall-clock time (vmm/msr.ts) is the RTC's, to the nanosecond.
    setWallClock(this.vm.cpu, () => rtc.state.baseSeconds * 1000 + (this.clock.now() - rtc.state.baseNs) / 1e6);

    const storage = attachDisks(this.opts.disks ?? [], { pci, io: bus, pic, mem: this.dma });
    this.devs = { bus, pic, pit, rtc, com1, com2, kbc, pci, system, pm, pvpanic, apic, ioapic, storage };
    cpu.io = bus;
    cpu.apic = apic;
    // The local APIC takes interrupts first; the 8259A's come through its LINT0 (ExtINT).
    this.vm.irq = {
      hasInterrupt: () => apic.hasInterrupt(),
      acknowledge: () => {
        const vector = apic.acknowledge();
        pit.update();
        return vector;
      },
    };
    this.bootIcount = cpu.icount;
    const bios = this.opts.bios;
    if (bios) {
      // QEMU's -bios: the image just below 4 GiB, its last 128 KiB also below 1 MiB.
      bus.mapRom(-bios.length >>> 0, bios);
      this.vm.resetReal();
      const low = bios.subarray(Math.max(0, bios.length - ISA_BIOS_MAX));
      this.vm.writePhys(0x100000 - low.length, low);
      cpu.s[R_EDX] = CPU_SIGNATURE;
      this.layoutValue = null;
      return;
    }
    const k = this.opts.kernel!;
    const wallClockMs = rtc.state.baseSeconds * 1000 + (this.clock.now() - rtc.state.baseNs) / 1e6;
    const biosState = (lowMemoryEnd: number): void => {
      writeBiosState(this.vm, { lowMemoryEnd, wallClockMs, out: (port, v) => bus.portOut(port, 1, v) });
      apic.setBiosState();
    };
    // Like `qemu -kernel`: a bzImage boots by the Linux boot protocol, anything else with a
    // multiboot v1 header by multiboot (the initrd, if any, becomes its one module).
    if (imageFormat(k) === 'multiboot') {
      loadMultiboot(this.vm, k, {
        ...(this.opts.cmdline !== undefined ? { cmdline: this.opts.cmdline } : {}),
        ...(this.opts.initrd ? { modules: [{ data: this.opts.initrd }] } : {}),
      });
      biosState(0xa0000); // the multiboot information reports 640 KiB of lower memory
      this.layoutValue = null;
      return;
    }
    this.layoutValue = loadLinux(this.vm, {
      kernel: k,
      ...(this.opts.initrd ? { initrd: this.opts.initrd } : {}),
      ...(this.opts.cmdline !== undefined ? { cmdline: this.opts.cmdline } : {}),
    });
    // Where a BIOS would have left them (e820-reserved; the loader zeroed the area).
    this.vm.writePhys(ACPI_TABLES_ADDR, buildAcpiTables(ACPI_TABLES_ADDR, { apic: withIoApic }).bytes);
    biosState(EBDA_ADDR);
  }

  /** Ends the current instruction's slice at once (called from device callbacks). */
  private halt(e: PendingEvent): never {
    this.pending = e;
    throw new MachineHalt(e.reason === 'reset' ? 'shutdown' : 'exit', e.detail);
  }

  /** Guest RAM for the disk controllers' DMA: writes there drop translated code in the pages. */
  private get dma(): DmaMemory {
    const vm = this.vm;
    return (this.dmaMemory ??= {
      ram: vm.mem.ram(),
      written: (addr, length) => {
        for (let p = addr >>> 12; p <= (addr + length - 1) >>> 12; p++) vm.cache.invalidatePage(p << 12);
      },
    });
  }

  private dmaMemory: DmaMemory | null = null;

  /** Makes every disk write so far durable (the backends' flush). */
  flushDisks(): void {
    for (const d of this.opts.disks ?? []) d.backend.flush();
  }

  /** Flushes and closes the disks' backends (the machine must not run afterwards). */
  closeDisks(): void {
    for (const d of this.opts.disks ?? []) d.backend.close();
  }

  /** Resets the whole machine: new devices, the kernel reloaded, the CPU at its entry point. */
  reboot(): void {
    this.flushOutput();
    this.boot();
  }

  /** Queues bytes (or a string, as UTF-8) as input on the serial console. */
  serialInput(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.devs.com1.receive(bytes);
    this.wake?.();
  }

  /** Queues bytes as input on COM2, the host's control line to the guest. */
  controlInput(data: string | Uint8Array): void {
    this.devs.com2.receive(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.wake?.();
  }

  /** Returns (and clears) the serial output collected when no onSerialOutput callback is set. */
  takeSerialOutput(): Uint8Array {
    const out = Uint8Array.from(this.serialLog);
    this.serialLog = [];
    return out;
  }

  private panicDetail(): string {
    const why = this.panicWatch.reason;
    const how = this.panic?.how === 'pvpanic' ? 'reported through pvpanic' : 'recognised on the console';
    return `${why ? `"Kernel panic - not syncing: ${why}", ` : ''}${how}`;
  }

  /** Asks a running `run` (or the current `step`) to return with reason 'stopped'. */
  stop(): void {
    this.stopRequested = true;
    this.vm.requestStop();
    this.wake?.();
  }

  /** Brings the timers up to date (raising their IRQs); call after time passed outside `step`. */
  updateDevices(): void {
    this.devs.pit.update();
    this.devs.rtc.update();
    this.devs.apic.update();
  }

  /** Nanoseconds from now until the next timer interrupt, or Infinity. */
  nextEventNs(): number {
    const next = Math.min(this.devs.pit.nextEventNs(), this.devs.rtc.nextEventNs(), this.devs.apic.nextEventNs());
    return Math.max(0, next - this.clock.now());
  }

  /**
   * The receivers can take output again (after onSerialOutput/onDebugOutput returned false):
   * the held output goes out at the next slice, and the UART's THRE rises.
   */
  outputDrained(): void {
    this.serialFull = false;
    this.debugFull = false;
    this.devs.com1.txReadyChanged();
    this.wake?.();
  }

  /** Output held back for a full receiver has reached HELD_OUTPUT_LIMIT: the CPU must wait. */
  private outputStalled(): boolean {
    return (this.serialFull && this.serialOut.length >= HELD_OUTPUT_LIMIT) || (this.debugFull && this.debugOut.length >= HELD_OUTPUT_LIMIT);
  }

  /** Hands output to the receivers; `force` also to full ones (the run is over: nothing is dropped). */
  private flushOutput(force = false): void {
    if (this.serialOut.length && (!this.serialFull || force)) {
      const bytes = Uint8Array.from(this.serialOut);
      this.serialOut = [];
      if (this.opts.consolePanic ?? true) {
        this.panicWatch.feed(bytes);
        if (this.panicWatch.reason !== null) this.panic ??= { how: 'console', atNs: this.clock.now() };
      }
      if (this.opts.onSerialOutput) {
        if (this.opts.onSerialOutput(bytes) === false) this.serialFull = true;
      } else for (const b of bytes) this.serialLog.push(b);
    }
    if (this.debugOut.length && (!this.debugFull || force)) {
      const bytes = Uint8Array.from(this.debugOut);
      this.debugOut = [];
      if (this.opts.onDebugOutput?.(bytes) === false) this.debugFull = true;
    }
  }

  /**
   * Runs one slice of at most `budget` guest instructions, then updates the timers and flushes
   * output. Never sleeps. A reset with onReset 'reboot' reboots and reports 'budget'.
   */
  step(budget = this.opts.sliceInstructions ?? DEFAULT_SLICE): PcRunResult {
    const vm = this.vm;
    this.pending = null;
    const r = vm.run(budget);
    // Set by device callbacks during the run (TypeScript cannot see that).
    const pending = this.pending as PendingEvent | null;
    this.updateDevices();
    this.flushOutput();
    const executed = r.executed;
    if (this.stopRequested) {
      this.stopRequested = false;
      return { reason: 'stopped', executed };
    }
    if (this.panic) {
      // A panicking guest runs on until its report is complete (or it halts, resets, idles
      // long enough): the end of the report ends the run, whatever the guest does next.
      const done = this.panicWatch.ended || r.reason !== 'budget' || this.clock.now() - this.panic.atNs >= PANIC_GRACE_MS * 1e6;
      if (done) return { reason: 'panic', executed, detail: this.panicDetail() };
    }
    switch (r.reason) {
      case 'budget':
        return { reason: 'budget', executed };
      case 'stopped':
        return { reason: 'stopped', executed };
      case 'fault':
        return { reason: 'fault', executed, detail: String(r.fault) };
      case 'halted': {
        // No NMI source on this machine: with IF = 0 nothing can wake the CPU.
        if (!(vm.cpu.s[EFLAGS >> 2] & F_IF)) return { reason: 'halt', executed, detail: 'the CPU halted with interrupts disabled' };
        if (this.devs.apic.hasInterrupt()) return { reason: 'budget', executed };
        return { reason: 'idle', executed, idleNs: this.nextEventNs() };
      }
      case 'exit':
        if (pending?.reason === 'exit') return { reason: 'exit', executed, exitCode: pending.exitCode!, detail: pending.detail };
        if (pending?.reason === 'poweroff') return { reason: 'poweroff', executed, detail: pending.detail };
        return { reason: 'exit', executed, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
      default: {
        // A triple fault (or shutdown) resets a PC; so do the reset lines of the devices.
        const detail = pending?.reason === 'reset' ? pending.detail : `reset by a ${r.reason}${r.detail ? `: ${r.detail}` : ''}`;
        this.resets++;
        if ((this.opts.onReset ?? 'reboot') === 'stop') return { reason: 'reset', executed, detail };
        // A kernel that resets before completing one instruction would reboot forever.
        if (vm.cpu.icount === this.bootIcount) return { reason: 'reset', executed, detail: `${detail} (reset loop: no instruction completed since boot)` };
        this.reboot();
        return { reason: 'budget', executed, detail };
      }
    }
  }

  /**
   * Runs until the guest powers off, exits, resets (with onReset 'stop'), faults (stopOnFault),
   * or the run is stopped. Sleeps while the guest idles; yields to the event loop regularly.
   */
  async run(opts: RunOptions = {}): Promise<PcRunResult> {
    const start = this.vm.cpu.icount;
    let lastYield = performance.now();
    const onAbort = (): void => this.stop();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (opts.signal?.aborted) return this.finalResult({ reason: 'stopped', executed: 0 }, start);
        let budget = this.opts.sliceInstructions ?? DEFAULT_SLICE;
        if (opts.maxInstructions !== undefined) {
          const left = opts.maxInstructions - (this.vm.cpu.icount - start);
          if (left <= 0) return this.finalResult({ reason: 'stopped', executed: 0, detail: 'instruction limit' }, start);
          budget = Math.min(budget, left);
        }
        if (this.outputStalled()) {
          // Flow control the guest did not wait for: stop the CPU until the receiver drains.
          await this.sleep(MAX_IDLE_MS);
          if (this.stopRequested) {
            this.stopRequested = false;
            return this.finalResult({ reason: 'stopped', executed: 0 }, start);
          }
          lastYield = performance.now();
          continue;
        }
        const r = this.step(budget);
        if (r.reason === 'budget') {
          if (performance.now() - lastYield >= (this.vm.dbt?.compiling ? COMPILE_YIELD_MS : YIELD_MS)) {
            await yieldToHost();
            lastYield = performance.now();
          }
          continue;
        }
        if (r.reason === 'idle') {
          await this.sleep(Math.min(MAX_IDLE_MS, (r.idleNs ?? Infinity) / 1e6));
          lastYield = performance.now();
          continue;
        }
        return this.finalResult(r, start);
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The result of a run that ended: all held output handed over, the count since `start`. */
  private finalResult(r: PcRunResult, start: number): PcRunResult {
    this.flushOutput(true);
    return { ...r, executed: this.vm.cpu.icount - start };
  }

  /** Sleeps `ms` (at least until the next timer tick) or until input, drained output or stop() wakes it. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Instruction and exit counts, and accesses to unassigned ports (diagnostics). */
  stats(): { instructions: number; exits: Record<string, number>; unassigned: Record<string, number>; resets: number } {
    return {
      instructions: this.vm.cpu.icount,
      exits: { ...this.vm.exits },
      unassigned: Object.fromEntries(this.devs.bus.unassigned.byPort),
      resets: this.resets,
    };
  }
}

/** Lets the host's event loop run (I/O callbacks, timers) before continuing. */
function yieldToHost(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
