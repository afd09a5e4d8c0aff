/**
 * The disks' part of a PC snapshot (pc-snapshot.ts calls it): what each drive is, proof that
 * its image files are the ones the snapshot was taken against, the disk controllers' state, and
 * the contents of `snapshot=on` overlays (which exist nowhere else).
 *
 *   config.drives        one DriveRecord per drive, in the machine's order: interface, image
 *                        file (absolute path), format, readonly, snapshot=on, and the identity
 *                        of every file the drive reads (the image and its backing chain)
 *   dev:virtio-blk.<n>   JSON: the n-th virtio-blk function's transport state (virtio-pci.ts)
 *   dev:ide              JSON: the IDE channel's state (ide.ts), when there are IDE disks
 *   disk.<k>.map         deflate: for a snapshot=on drive k, the indices (u32 LE) of the
 *                        OVERLAY_CHUNK-byte chunks the guest wrote, ascending
 *   disk.<k>.0, .1, …    deflate: those chunks, OVERLAY_SECTION_CHUNKS to a section
 *
 * Controllers: requests complete synchronously inside the guest's I/O instruction (block/
 * backend.ts), so between two slices there is no request in flight in the host; what a guest
 * can be in the middle of — an IDE PIO block half transferred, a virtqueue's progress — is in
 * the devices' plain `state`, which is saved whole.
 *
 * Image identity: the size, the modification time (ns) and a SHA-256 of the first MiB of each
 * file. A restore refuses a drive whose file is missing or differs in any of them: a base
 * image changed under a snapshot=on overlay, or a writable image the guest (or anyone) wrote
 * after the snapshot, no longer matches the guest's page cache in the snapshot's RAM, and
 * continuing would corrupt the guest's file system. So a snapshot of a machine with a writable
 * drive can be restored only until that image is written again (the machine that took it
 * running on, or a first restore running on, both change it) — as QEMU's migration to a file
 * leaves keeping external images consistent to the user, except that here a mismatch is
 * caught. Drives with snapshot=on (or readonly=on) keep the snapshot restorable any number of
 * times. Limits: a change that keeps the size and resets the modification time beyond the
 * first MiB goes unnoticed; the time has the file system's resolution.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { BlockBackend, BlockDescription } from '../block/backend.ts';
import type { DriveInterface, DriveSpec } from '../block/drive.ts';
import { MemoryOverlay, OVERLAY_CHUNK } from '../block/memory-overlay.ts';
import type { ImageFormat } from '../block/qcow2.ts';
import type { PcDisk, PcStorage } from '../pc/storage.ts';
import { section, SnapshotError } from './container.ts';
import type { SectionInput, Sections } from './container.ts';
import { loadPlain } from './devices.ts';

/** Overlay chunks per data section (8 MiB: compressed in parallel like RAM). */
export const OVERLAY_SECTION_CHUNKS = 2048;
/** Bytes at the start of an image file that the identity hashes. */
const HEAD_BYTES = 1 << 20;

/** How a file looked when the snapshot was taken. */
export interface FileIdentity {
  path: string;
  size: number;
  /** Modification time in ns since the epoch (a decimal string: it exceeds 2^53). */
  mtimeNs: string;
  /** SHA-256 (hex) of the first min(size, 1 MiB) bytes. */
  head: string;
}

/** One drive as the snapshot records it (enough to open it again as DriveSpec). */
export interface DriveRecord {
  interface: DriveInterface;
  file: string;
  format: ImageFormat;
  readOnly: boolean;
  snapshot: boolean;
  /** The image file first, then its backing files. */
  files: FileIdentity[];
}

/** The identity of the file at `path` now. Throws SnapshotError if it cannot be read. */
export function fileIdentity(path: string): FileIdentity {
  let st;
  let fd: number;
  try {
    st = statSync(path, { bigint: true });
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SnapshotError(`disk image ${path} cannot be read: ${(e as Error).message}`);
  }
  try {
    const head = new Uint8Array(Math.min(Number(st.size), HEAD_BYTES));
    let done = 0;
    while (done < head.length) {
      const n = readSync(fd, head, done, head.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return { path, size: Number(st.size), mtimeNs: st.mtimeNs.toString(), head: createHash('sha256').update(head.subarray(0, done)).digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** The record of a drive from its open backend. */
function recordOf(disk: PcDisk): DriveRecord {
  let d: BlockDescription = disk.backend.describe();
  let snapshot = false;
  let readOnly: boolean;
  if (d.kind === 'memory-overlay') {
    snapshot = true;
    readOnly = false;
    d = d.base;
  } else {
    readOnly = d.readOnly;
  }
  if (d.kind === 'memory-overlay') throw new Error('snapshot: an overlay over an overlay is not a drive');
  const files: FileIdentity[] = [];
  for (let x: BlockDescription | null = d; x; x = x.kind === 'qcow2' ? x.backing : null) {
    if (x.kind === 'memory-overlay') throw new Error('snapshot: an overlay in a backing chain is not a drive');
    files.push(fileIdentity(resolve(x.path)));
  }
  return { interface: disk.interface, file: resolve(d.path), format: d.kind, readOnly, snapshot, files };
}

/** The drives' records; writable images are flushed first, so the file the identity describes is complete. */
export function captureDriveRecords(disks: readonly PcDisk[]): DriveRecord[] {
  for (const d of disks) if (!d.backend.readOnly && !(d.backend instanceof MemoryOverlay)) d.backend.flush();
  return disks.map(recordOf);
}

/** The sections of the controllers and the overlays (copies: the machine may run on). */
export function captureDiskSections(disks: readonly PcDisk[], storage: PcStorage): SectionInput[] {
  const out: SectionInput[] = [];
  const json = (name: string, v: unknown): SectionInput => ({ name, data: new TextEncoder().encode(JSON.stringify(v)), compress: false });
  storage.virtio.forEach((blk, n) => out.push(json(`dev:virtio-blk.${n}`, blk.transport.state)));
  if (storage.ide) out.push(json('dev:ide', storage.ide.state));
  disks.forEach((d, k) => {
    if (!(d.backend instanceof MemoryOverlay)) return;
    const chunks = d.backend.chunks();
    const map = new Uint8Array(chunks.length * 4);
    const mv = new DataView(map.buffer);
    chunks.forEach(([offset], i) => mv.setUint32(i * 4, offset / OVERLAY_CHUNK, true));
    out.push({ name: `disk.${k}.map`, data: map, compress: true });
    for (let s = 0; s * OVERLAY_SECTION_CHUNKS < chunks.length; s++) {
      const part = chunks.slice(s * OVERLAY_SECTION_CHUNKS, (s + 1) * OVERLAY_SECTION_CHUNKS);
      const data = new Uint8Array(part.length * OVERLAY_CHUNK);
      part.forEach(([, c], i) => data.set(c, i * OVERLAY_CHUNK));
      out.push({ name: `disk.${k}.${s}`, data, compress: true });
    }
  });
  return out;
}

const INTERFACES: readonly string[] = ['virtio', 'ide'];
const FORMATS: readonly string[] = ['raw', 'qcow2'];

/** Checks the config's `drives` field (absent in snapshots of machines without disks). */
export function checkDriveRecords(v: unknown): DriveRecord[] {
  if (v === undefined) return [];
  const bad = (what: string): never => {
    throw new SnapshotError(`snapshot corrupt: config drives ${what}`);
  };
  if (!Array.isArray(v)) return bad('is not a list');
  v.forEach((r: unknown, k) => {
    const d = r as Partial<DriveRecord> | null;
    if (typeof d !== 'object' || d === null) return bad(`[${k}] is not an object`);
    if (!INTERFACES.includes(d.interface as string) || typeof d.file !== 'string' || !FORMATS.includes(d.format as string) ||
      typeof d.readOnly !== 'boolean' || typeof d.snapshot !== 'boolean' || !Array.isArray(d.files) || d.files.length < 1 ||
      !d.files.every((f: Partial<FileIdentity> | null) => typeof f === 'object' && f !== null && typeof f.path === 'string' &&
        typeof f.size === 'number' && typeof f.mtimeNs === 'string' && /^\d+$/.test(f.mtimeNs) && typeof f.head === 'string')) {
      bad(`[${k}] is malformed`);
    }
  });
  return v as DriveRecord[];
}

/** Why the file no longer matches its identity, or null. */
function changed(want: FileIdentity): string | null {
  let now: FileIdentity;
  try {
    now = fileIdentity(want.path);
  } catch (e) {
    return (e as Error).message;
  }
  const what: string[] = [];
  if (now.size !== want.size) what.push(`size ${want.size} -> ${now.size} bytes`);
  if (now.mtimeNs !== want.mtimeNs) what.push(`modified at ${isoOf(now.mtimeNs)}, the snapshot expects ${isoOf(want.mtimeNs)}`);
  if (now.head !== want.head) what.push('its first MiB differs');
  return what.length ? `${want.path} changed since the snapshot was taken (${what.join('; ')})` : null;
}

const isoOf = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

/**
 * Opens the recorded drives after checking every image file against its identity. Throws
 * SnapshotError for a missing or changed file (nothing stays open).
 */
export function openRecordedDrives(records: readonly DriveRecord[], open: (spec: DriveSpec) => BlockBackend): PcDisk[] {
  const problems: string[] = [];
  for (const r of records) for (const f of r.files) {
    const why = changed(f);
    if (why) problems.push(why);
  }
  if (problems.length) {
    throw new SnapshotError(`snapshot cannot be restored: its disk images must be as they were when it was taken — ${problems.join('; ')}. ` +
      'The guest\'s cached view of a changed disk would not match it (restore from a snapshot taken with snapshot=on or read-only drives to keep it restorable)');
  }
  const out: PcDisk[] = [];
  try {
    for (const r of records) {
      out.push({ backend: open({ file: r.file, format: r.format, if: r.interface, readOnly: r.readOnly, snapshot: r.snapshot }), interface: r.interface });
    }
  } catch (e) {
    for (const d of out) d.backend.close();
    throw e instanceof SnapshotError ? e : new SnapshotError(`snapshot cannot be restored: a disk image does not open: ${(e as Error).message}`);
  }
  return out;
}

/** Checks the controller and overlay sections against the drives (before a machine is built). */
export function checkDiskSections(sections: Sections, records: readonly DriveRecord[]): void {
  const virtio = records.filter((r) => r.interface === 'virtio').length;
  const ide = records.some((r) => r.interface === 'ide');
  const expected = new Set<string>();
  for (let n = 0; n < virtio; n++) expected.add(`dev:virtio-blk.${n}`);
  if (ide) expected.add('dev:ide');
  for (const name of expected) section(sections, name);
  records.forEach((r, k) => {
    const prefix = `disk.${k}.`;
    if (!r.snapshot) {
      if ([...sections.keys()].some((n) => n.startsWith(prefix))) throw new SnapshotError(`snapshot corrupt: overlay sections for drive ${k}, which has no overlay`);
      return;
    }
    overlayChunks(sections, k, records[k]);
  });
  for (const name of sections.keys()) {
    if ((name.startsWith('dev:virtio-blk.') || name === 'dev:ide') && !expected.has(name)) throw new SnapshotError(`snapshot corrupt: section '${name}' has no drive`);
    const m = /^disk\.(\d+)\./.exec(name);
    if (m && Number(m[1]) >= records.length) throw new SnapshotError(`snapshot corrupt: section '${name}' has no drive`);
  }
}

/** The overlay of drive k from its sections: [byte offset, chunk] pairs. Throws SnapshotError if they do not fit. */
function overlayChunks(sections: Sections, k: number, r: DriveRecord): [number, Uint8Array][] {
  const map = section(sections, `disk.${k}.map`);
  if (map.length % 4) throw new SnapshotError(`snapshot corrupt: section 'disk.${k}.map' has ${map.length} bytes, not a multiple of 4`);
  const count = map.length / 4;
  const mv = new DataView(map.buffer, map.byteOffset, map.byteLength);
  const limit = Math.ceil(r.files[0].size / OVERLAY_CHUNK);
  const out: [number, Uint8Array][] = [];
  let last = -1;
  for (let i = 0; i < count; i++) {
    const index = mv.getUint32(i * 4, true);
    if (index <= last || index >= limit) throw new SnapshotError(`snapshot corrupt: section 'disk.${k}.map' lists chunk ${index} out of order or past the disk's end`);
    last = index;
    const s = Math.floor(i / OVERLAY_SECTION_CHUNKS);
    const data = section(sections, `disk.${k}.${s}`);
    const want = Math.min(OVERLAY_SECTION_CHUNKS, count - s * OVERLAY_SECTION_CHUNKS) * OVERLAY_CHUNK;
    if (data.length !== want) throw new SnapshotError(`snapshot corrupt: section 'disk.${k}.${s}' has ${data.length} bytes, expected ${want}`);
    const at = (i % OVERLAY_SECTION_CHUNKS) * OVERLAY_CHUNK;
    out.push([index * OVERLAY_CHUNK, data.subarray(at, at + OVERLAY_CHUNK)]);
  }
  if (sections.has(`disk.${k}.${Math.ceil(count / OVERLAY_SECTION_CHUNKS)}`)) throw new SnapshotError(`snapshot corrupt: drive ${k} has more overlay sections than its map lists chunks for`);
  return out;
}

/** Puts the controllers' state and the overlays' contents into a machine built with the recorded drives. */
export function loadDiskSections(sections: Sections, records: readonly DriveRecord[], disks: readonly PcDisk[], storage: PcStorage): void {
  const json = (name: string): unknown => {
    try {
      return JSON.parse(new TextDecoder().decode(section(sections, name))) as unknown;
    } catch (e) {
      if (e instanceof SnapshotError) throw e;
      throw new SnapshotError(`snapshot corrupt: section '${name}' is not valid JSON`);
    }
  };
  storage.virtio.forEach((blk, n) => loadPlain(blk.transport.state, json(`dev:virtio-blk.${n}`), `virtio-blk.${n}`));
  if (storage.ide) loadPlain(storage.ide.state, json('dev:ide'), 'ide');
  records.forEach((r, k) => {
    if (!r.snapshot) return;
    const overlay = disks[k].backend;
    if (!(overlay instanceof MemoryOverlay)) throw new Error(`restore: drive ${k} was opened without its overlay`);
    overlay.loadChunks(overlayChunks(sections, k, r));
  });
}
