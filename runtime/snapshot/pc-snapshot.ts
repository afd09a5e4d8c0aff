/**
 * Snapshots of the whole PC (runtime/pc): what a file holds, how it is taken from a running
 * machine and how a new machine is made from it. The container (container.ts) gives names,
 * checksums and compression; this file decides the sections:
 *
 *   config        JSON: machine configuration (memory size, the engine it ran on, command
 *                 line, image sizes), the machine clock's time, the CPU-state layout's
 *                 fingerprint, the device list (SnapshotConfig)
 *   cpu.state     the CPU state block of the shared memory, verbatim (translator/abi.ts: all
 *                 registers, segment caches, control/debug registers, descriptor tables, x87,
 *                 SYSENTER MSRs, TSC offset, lazy flags, interrupt shadow and pending-interrupt
 *                 words)
 *   cpu           JSON: the CPU's JS-side state (instruction count, HLT state, event count) and
 *                 kvmclock's MSRs
 *   boot.bios, boot.kernel, boot.initrd   the images the machine booted (those it had), so
 *                 that a guest reset after a restore boots the same again
 *   ram.map       deflate: a bitmap of the 4 KiB pages that are not all zero
 *   ram.0, ram.1, …  deflate: those pages, RAM_CHUNK_PAGES per section (compressed in parallel)
 *   pc            JSON: the machine's own state (pc-machine.ts PcHostState)
 *   dev:<name>    each device's state (devices.ts PC_DEVICES)
 *   dev:virtio-blk.<n>, dev:ide, disk.<k>.*   the disk controllers and snapshot=on overlays;
 *                 config.drives says what each drive is (disks.ts)
 *
 * Not saved, because they are rebuilt as the guest runs: the soft TLB, the code cache, the
 * translator's regions and jump cache, execution statistics (except the instruction count).
 * A snapshot is taken between slices (the run loop yields to the event loop only there), so no
 * instruction is half done; everything is copied synchronously before compression starts, so
 * the machine may run on while the file is compressed.
 */
import * as abi from '../../translator/abi.ts';
import { SEG_GS, STATE_SIZE } from '../../translator/abi.ts';
import { crc32 } from 'node:zlib';
import { HostClock } from '../devices/clock.ts';
import { PcMachine } from '../pc/pc-machine.ts';
import type { PcHostState, PcMachineOptions } from '../pc/pc-machine.ts';
import { ENGINES } from '../vm.ts';
import type { Engine } from '../vm.ts';
import { kvmclockState, setKvmclockState } from '../vmm/msr.ts';
import { jsonOf, jsonSection, readContainer, section, SnapshotError, writeContainer, writeContainerSync } from './container.ts';
import type { SectionInput, Sections } from './container.ts';
import { PC_DEVICES } from './devices.ts';
import { captureDiskSections, captureDriveRecords, checkDiskSections, checkDriveRecords, loadDiskSections, openRecordedDrives } from './disks.ts';
import type { DriveRecord } from './disks.ts';
import { openDrive } from '../block/drive.ts';
import type { PcDisk, PcStorage } from '../pc/storage.ts';

const PAGE = 4096;
const BOOT_IMAGES = ['bios', 'kernel', 'initrd'] as const;
type BootImage = (typeof BOOT_IMAGES)[number];

/** The `config` section. */
export interface SnapshotConfig {
  machine: 'pc';
  /** Guest RAM in bytes. */
  memory: number;
  /** The engine the machine ran on (a restore may choose another: translations are not saved). */
  engine: Engine;
  cmdline: string | null;
  /** Sizes of the boot images (null: not given). */
  images: Record<BootImage, number | null>;
  /** The machine clock's time when the snapshot was taken (ns). */
  clockNs: number;
  /** Instructions executed since the machine was created. */
  instructions: number;
  /** Fingerprint of the CPU state block's layout (abiFingerprint). */
  stateLayout: number;
  /** Device sections, in order. */
  devices: string[];
  /** The disks, in the order they are attached (virtio, then IDE); absent: none (disks.ts). */
  drives?: DriveRecord[];
  /** When it was taken (host wall-clock time, ISO 8601; informational). */
  savedAt: string;
}

/**
 * A CRC-32 of every numeric constant of translator/abi.ts with its name: offsets and sizes of
 * the CPU state block. A build whose layout differs refuses the snapshot instead of loading
 * registers into the wrong fields.
 */
export function abiFingerprint(): number {
  const text = Object.entries(abi).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k}=${v as number}`).sort().join(';');
  return crc32(text);
}

/** Copies the machine's complete state into sections (synchronous: the machine must not run meanwhile). */
export function capturePc(pc: PcMachine): SectionInput[] {
  const storage = pc.devices.storage;
  const disks = disksOf(storage);
  const drives = captureDriveRecords(disks);
  const vm = pc.vm;
  const cpu = vm.cpu;
  const boot = pc.bootImages;
  const config: SnapshotConfig = {
    machine: 'pc',
    memory: pc.memory,
    engine: vm.engine,
    cmdline: boot.cmdline,
    images: { bios: boot.bios?.length ?? null, kernel: boot.kernel?.length ?? null, initrd: boot.initrd?.length ?? null },
    clockNs: pc.clock.now(),
    instructions: cpu.icount,
    stateLayout: abiFingerprint(),
    devices: PC_DEVICES.map((d) => d.name),
    ...(drives.length ? { drives } : {}),
    savedAt: new Date().toISOString(),
  };
  const sections: SectionInput[] = [
    jsonSection('config', config),
    { name: 'cpu.state', data: vm.mem.u8.slice(0, STATE_SIZE), compress: false },
    jsonSection('cpu', { icount: cpu.icount, halted: cpu.halted, events: cpu.events, kvmclock: kvmclockState(cpu) }),
  ];
  for (const k of BOOT_IMAGES) {
    const image = boot[k];
    // Stored as they are: kernels and initrds are compressed already (deflate gained 0.4 %).
    // Not copied: the machine never changes them (a reboot loads them again).
    if (image) sections.push({ name: `boot.${k}`, data: image, compress: false });
  }
  const ram = packRam(vm.mem.ram());
  sections.push({ name: 'ram.map', data: ram.map, compress: true });
  ram.chunks.forEach((data, k) => sections.push({ name: `ram.${k}`, data, compress: true }));
  sections.push(jsonSection('pc', pc.hostState));
  for (const d of PC_DEVICES) sections.push({ name: `dev:${d.name}`, data: d.save(pc.devices), compress: false });
  sections.push(...captureDiskSections(disks, storage));
  return sections;
}

/** The machine's drives in attachment order: the virtio functions', then the IDE master's and slave's. */
function disksOf(storage: PcStorage): PcDisk[] {
  const out: PcDisk[] = storage.virtio.map((b) => ({ backend: b.disk, interface: 'virtio' }));
  for (const d of storage.ide?.disks ?? []) if (d) out.push({ backend: d, interface: 'ide' });
  return out;
}

/** Takes a snapshot of the machine: the bytes of a snapshot file. */
export async function savePc(pc: PcMachine): Promise<Uint8Array> {
  return writeContainer(capturePc(pc));
}

/** The same, synchronously. */
export function savePcSync(pc: PcMachine): Uint8Array {
  return writeContainerSync(capturePc(pc));
}

/** Pages per RAM data section: 8 MiB sections are compressed in parallel on libuv's threads. */
export const RAM_CHUNK_PAGES = 2048;

/** RAM without its all-zero pages: which pages are set, and their contents in sections. */
export interface PackedRam {
  /** Bit p set: page p is not all zero and is in `chunks`. */
  map: Uint8Array;
  /** The set pages in order, RAM_CHUNK_PAGES to a chunk (the last one shorter). */
  chunks: Uint8Array[];
}

/** Copies RAM's non-zero pages (a copy: the machine may run on while they are compressed). */
export function packRam(ram: Uint8Array): PackedRam {
  const pages = ram.length / PAGE;
  const words = new Int32Array(ram.buffer, ram.byteOffset, ram.length >> 2);
  const map = new Uint8Array(Math.ceil(pages / 8));
  const set: number[] = [];
  // (A JS loop over the words: ~20 ms for 128 MiB; Buffer.compare per page took ~200 ms.)
  for (let p = 0; p < pages; p++) {
    const end = (p + 1) * (PAGE >> 2);
    for (let w = p * (PAGE >> 2); w < end; w++) {
      if (words[w] !== 0) {
        map[p >> 3] |= 1 << (p & 7);
        set.push(p);
        break;
      }
    }
  }
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < set.length; k += RAM_CHUNK_PAGES) {
    const n = Math.min(RAM_CHUNK_PAGES, set.length - k);
    const chunk = new Uint8Array(n * PAGE);
    for (let i = 0; i < n; i++) {
      const p = set[k + i];
      chunk.set(ram.subarray(p * PAGE, (p + 1) * PAGE), i * PAGE);
    }
    chunks.push(chunk);
  }
  return { map, chunks };
}

/** Pages set in a RAM map of `pages` pages. */
function countPages(map: Uint8Array, pages: number): number {
  let used = 0;
  for (let p = 0; p < pages; p++) if (map[p >> 3] & (1 << (p & 7))) used++;
  return used;
}

/** Writes packed RAM back: every page not in the map becomes zero. Throws SnapshotError if the parts do not fit. */
export function unpackRam(packed: PackedRam, ram: Uint8Array): void {
  const pages = ram.length / PAGE;
  const { map, chunks } = packed;
  if (map.length !== Math.ceil(pages / 8)) throw new SnapshotError(`snapshot corrupt: the RAM page map has ${map.length} bytes, expected ${Math.ceil(pages / 8)}`);
  const used = countPages(map, pages);
  const want = Math.ceil(used / RAM_CHUNK_PAGES);
  if (chunks.length !== want) throw new SnapshotError(`snapshot corrupt: ${chunks.length} RAM sections for ${used} pages, expected ${want}`);
  chunks.forEach((c, k) => {
    const n = Math.min(RAM_CHUNK_PAGES, used - k * RAM_CHUNK_PAGES) * PAGE;
    if (c.length !== n) throw new SnapshotError(`snapshot corrupt: section 'ram.${k}' has ${c.length} bytes, expected ${n}`);
  });
  const words = new Int32Array(ram.buffer, ram.byteOffset, ram.length >> 2);
  let i = 0;
  for (let p = 0; p < pages; p++) {
    if (map[p >> 3] & (1 << (p & 7))) {
      const c = chunks[Math.floor(i / RAM_CHUNK_PAGES)];
      const at = (i % RAM_CHUNK_PAGES) * PAGE;
      ram.set(c.subarray(at, at + PAGE), p * PAGE);
      i++;
    } else {
      // Zeroed only where needed: writing every page of a fresh memory would make the host
      // back all of it (reading untouched pages does not).
      const end = (p + 1) * (PAGE >> 2);
      for (let w = p * (PAGE >> 2); w < end; w++) {
        if (words[w] !== 0) {
          ram.fill(0, p * PAGE, (p + 1) * PAGE);
          break;
        }
      }
    }
  }
}

/** Options of restorePc: the PC's own, less what comes from the snapshot. */
export type RestoreOptions = Omit<PcMachineOptions, 'memory' | 'bios' | 'kernel' | 'initrd' | 'cmdline' | 'rtcStartMs' | 'disks'>;

/** Reads a snapshot's header: throws SnapshotError unless the whole file is sound and fits this build. */
export function snapshotInfo(bytes: Uint8Array): SnapshotConfig {
  return configOf(readContainer(bytes));
}

function configOf(sections: Sections): SnapshotConfig {
  const c = jsonOf(sections, 'config') as Partial<SnapshotConfig> | null;
  const bad = (what: string): never => {
    throw new SnapshotError(`snapshot corrupt: config ${what}`);
  };
  if (typeof c !== 'object' || c === null) return bad('is not an object');
  if (c.machine !== 'pc') bad(`is for machine '${String(c.machine)}', not a PC`);
  if (typeof c.memory !== 'number' || c.memory <= 0 || c.memory % PAGE !== 0) bad('has no valid memory size');
  if (typeof c.engine !== 'string' || !ENGINES.includes(c.engine)) bad('has no valid engine');
  if (typeof c.clockNs !== 'number' || !(c.clockNs >= 0)) bad('has no valid clock time');
  if (typeof c.stateLayout !== 'number') bad('has no CPU state layout');
  if (!Array.isArray(c.devices)) bad('has no device list');
  if (typeof c.images !== 'object' || c.images === null) bad('has no boot image list');
  c.drives = checkDriveRecords(c.drives);
  if (c.stateLayout !== abiFingerprint()) {
    throw new SnapshotError('snapshot does not fit this build: it was taken by a build with a different CPU state layout (translator/abi.ts)');
  }
  const here = PC_DEVICES.map((d) => d.name);
  const missing = here.filter((n) => !c.devices!.includes(n));
  const extra = c.devices!.filter((n) => !here.includes(n));
  if (missing.length || extra.length) {
    throw new SnapshotError(`snapshot does not fit this machine: ${[
      ...extra.map((n) => `device '${n}' is in the snapshot but not on this machine`),
      ...missing.map((n) => `device '${n}' is missing from the snapshot`),
    ].join('; ')}`);
  }
  return c as SnapshotConfig;
}

/**
 * A new machine in the state the snapshot recorded: the CPU about to execute the instruction it
 * would have executed next, the devices mid-conversation, the machine clock going on from the
 * saved time (a HostClock starting there, unless `opts.clock` is given — it must not read
 * earlier than the snapshot's `clockNs`), on `opts.engine` or else the engine the snapshot was
 * taken on. Throws SnapshotError for a truncated, corrupt or
 * mismatched file; nothing of a failed restore survives.
 */
export function restorePc(bytes: Uint8Array, opts: RestoreOptions = {}): PcMachine {
  return restoreSections(readContainer(bytes), opts);
}

/** restorePc from a file already read by readContainer or readContainerAsync (which decompresses in parallel). */
export function restoreSections(sections: Sections, opts: RestoreOptions = {}): PcMachine {
  const config = configOf(sections);
  const images: Partial<Record<BootImage, Uint8Array>> = {};
  for (const k of BOOT_IMAGES) {
    const image = sections.get(`boot.${k}`);
    if ((image?.length ?? null) !== (config.images[k] ?? null)) throw new SnapshotError(`snapshot corrupt: boot image '${k}' does not match the config`);
    if (image) images[k] = image;
  }
  const clock = opts.clock ?? new HostClock(config.clockNs);
  if (clock.now() < config.clockNs) {
    throw new RangeError(`restore: the given clock reads ${clock.now()} ns, before the snapshot's time ${config.clockNs} ns`);
  }
  const records = config.drives ?? [];
  checkDiskSections(sections, records);
  // The image files are checked against the snapshot and opened last, after everything else was
  // found sound; a failure from here on closes them.
  const disks = openRecordedDrives(records, openDrive);
  try {
    const pc = new PcMachine({
      ...opts,
      engine: opts.engine ?? config.engine,
      clock,
      memory: config.memory,
      ...images,
      ...(config.cmdline !== null ? { cmdline: config.cmdline } : {}),
      ...(disks.length ? { disks } : {}),
    });
    loadPcState(pc, sections);
    loadDiskSections(sections, records, disks, pc.devices.storage);
    return pc;
  } catch (e) {
    for (const d of disks) d.backend.close();
    throw e;
  }
}

/** Puts the saved state into a machine of the same configuration (restorePc made it). */
function loadPcState(pc: PcMachine, sections: Sections): void {
  const vm = pc.vm;
  const cpu = vm.cpu;
  const state = section(sections, 'cpu.state');
  if (state.length !== STATE_SIZE) throw new SnapshotError(`snapshot corrupt: section 'cpu.state' has ${state.length} bytes, expected ${STATE_SIZE}`);
  const host = jsonOf(sections, 'cpu') as { icount?: unknown; halted?: unknown; events?: unknown; kvmclock?: Record<string, unknown> } | null;
  const kv = host?.kvmclock;
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!host || !num(host.icount) || typeof host.halted !== 'boolean' || !num(host.events) || !kv ||
    !num(kv.systemMsr) || !num(kv.wallMsr) || !num(kv.tscTimestamp) || !num(kv.systemTime)) {
    throw new SnapshotError("snapshot corrupt: section 'cpu' is malformed");
  }
  const map = section(sections, 'ram.map');
  const chunks: Uint8Array[] = [];
  for (let k = 0; sections.has(`ram.${k}`); k++) chunks.push(sections.get(`ram.${k}`)!);
  unpackRam({ map, chunks }, vm.mem.ram());
  vm.mem.u8.set(state, 0);
  cpu.icount = host.icount;
  cpu.halted = host.halted;
  cpu.events = host.events;
  setKvmclockState(cpu, { systemMsr: kv.systemMsr, wallMsr: kv.wallMsr, tscTimestamp: kv.tscTimestamp, systemTime: kv.systemTime });
  for (const d of PC_DEVICES) d.load(pc.devices, section(sections, `dev:${d.name}`));
  for (const d of PC_DEVICES) d.afterLoad?.(pc.devices);
  pc.hostState = checkHostState(jsonOf(sections, 'pc'));
  // Nothing derived from the old memory or mode survives: TLB, decoded blocks, translations.
  vm.discardCaches();
  for (let seg = 0; seg <= SEG_GS; seg++) cpu.refreshSegment(seg);
  cpu.refreshMode();
}

function checkHostState(v: unknown): PcHostState {
  const h = v as Partial<PcHostState> | null;
  const nums = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === 'number');
  const w = h?.panicWatch;
  if (!h || typeof h.resets !== 'number' || typeof h.bootIcount !== 'number' || typeof h.crashLoaded !== 'number' ||
    !(h.panic === null || (typeof h.panic === 'object' && typeof h.panic.how === 'string' && typeof h.panic.atNs === 'number')) ||
    !w || typeof w.text !== 'string' || !(w.reason === null || typeof w.reason === 'string') || typeof w.ended !== 'boolean' ||
    !nums(h.serialOut) || !nums(h.debugOut)) {
    throw new SnapshotError("snapshot corrupt: section 'pc' is malformed");
  }
  return h as PcHostState;
}
