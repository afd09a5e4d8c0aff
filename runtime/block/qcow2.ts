/**
 * qcow2 images (QEMU's copy-on-write format, versions 2 and 3): reading, writing, and creating
 * overlays over a raw or qcow2 base. Facts from QEMU's qcow2 specification (docs/interop/
 * qcow2.txt); the code is ours.
 *
 * The format in brief: the file is cut into clusters (2^cluster_bits bytes). A guest cluster is
 * found through two tables: the L1 table (in memory here) points to L2 tables (cached as read),
 * whose 64-bit entries hold the host offset of the data cluster plus flags — bit 63 "copied"
 * (reference count exactly 1: writable in place), bit 62 "compressed" (a deflate stream at a
 * byte offset, its length in 512-byte sectors), bit 0 "reads as zeros" (version 3). An entry of
 * 0 is unallocated: the data comes from the backing file, or is zero. Every host cluster in use
 * has a reference count in refcount blocks, found through the refcount table.
 *
 * Writing (copy on write): a write to a cluster that is not allocated-and-copied allocates a new
 * cluster at the end of the file, writes the whole cluster (the old contents — backing, zeros or
 * decompressed — merged with the new bytes), then sets its refcount, and only then points the L2
 * entry at it; a new L2 table is written and refcounted before the L1 entry points at it. So the
 * file is valid after every single write: a process killed at any point leaves at worst leaked
 * clusters (refcount 1, unreferenced), which `qemu-img check` reports as leaks, not corruption.
 * The base image is only ever opened read-only.
 *
 * Limits (BlockError when met): encryption, external data files, extended L2 entries and zstd
 * compression are refused; writing needs refcount widths of 8–64 bits, no internal snapshots and
 * a clean (not dirty) image, and never grows the refcount table — our overlays are created with
 * a table large enough for twice the disk size.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { BlockError, checkRange } from './backend.ts';
import type { BlockBackend, BlockDescription } from './backend.ts';
import { preadFully, pwriteFully, RawImage } from './raw.ts';

const MAGIC = 0x514649fb;
const INCOMPAT_DIRTY = 1n << 0n;
const INCOMPAT_CORRUPT = 1n << 1n;
const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_COMPRESSION_TYPE = 1n << 3n;
const INCOMPAT_EXTENDED_L2 = 1n << 4n;
const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
/** Version 3 header length without optional fields. */
const V3_HEADER_LENGTH = 104;
const V2_HEADER_LENGTH = 72;
/** Bits 9–55 of an L1/L2 entry: the host offset. */
const HI_OFFSET_MASK = 0x00ffffff;
const LO_OFFSET_MASK = 0xfffffe00;
const FLAG_COPIED_HI = 0x80000000;
const FLAG_COMPRESSED_HI = 0x40000000;
const FLAG_ZERO_LO = 1;
const MAX_BACKING_DEPTH = 16;

/** The disk formats the block layer opens. */
export type ImageFormat = 'raw' | 'qcow2';

/** 'qcow2' if the file starts with the qcow2 magic, else 'raw'. */
export function probeFormat(path: string): ImageFormat {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new BlockError(`cannot open ${path}: ${(e as Error).message}`);
  }
  try {
    const b = new Uint8Array(4);
    preadFully(fd, b, 0);
    return new DataView(b.buffer).getUint32(0) === MAGIC ? 'qcow2' : 'raw';
  } finally {
    closeSync(fd);
  }
}

/** Opens `path` as `format` (probed when absent); writable unless `readOnly`. */
export function openImage(path: string, opts: { format?: ImageFormat; readOnly?: boolean } = {}, depth = 0): BlockBackend {
  const format = opts.format ?? probeFormat(path);
  if (format === 'raw') return new RawImage(path, { readOnly: opts.readOnly ?? false });
  return Qcow2Image.open(path, { readOnly: opts.readOnly ?? false }, depth);
}

interface Header {
  version: number;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  incompatible: bigint;
  autoclear: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
}

const u64 = (dv: DataView, off: number): number => {
  const v = dv.getBigUint64(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BlockError(`qcow2: 64-bit field at ${off} is too large (${v})`);
  return Number(v);
};

function parseHeader(b: Uint8Array, path: string): Header {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== MAGIC) throw new BlockError(`${path} is not a qcow2 image (bad magic)`);
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) throw new BlockError(`${path}: qcow2 version ${version} is not supported (2 and 3 are)`);
  const v3 = version === 3;
  const headerLength = v3 ? dv.getUint32(100) : V2_HEADER_LENGTH;
  return {
    version,
    backingFileOffset: u64(dv, 8),
    backingFileSize: dv.getUint32(16),
    clusterBits: dv.getUint32(20),
    size: u64(dv, 24),
    cryptMethod: dv.getUint32(32),
    l1Size: dv.getUint32(36),
    l1TableOffset: u64(dv, 40),
    refcountTableOffset: u64(dv, 48),
    refcountTableClusters: dv.getUint32(56),
    nbSnapshots: dv.getUint32(60),
    incompatible: v3 ? dv.getBigUint64(72) : 0n,
    autoclear: v3 ? dv.getBigUint64(88) : 0n,
    refcountOrder: v3 ? dv.getUint32(96) : 4,
    headerLength,
    compressionType: v3 && headerLength > V3_HEADER_LENGTH ? b[104] : 0,
  };
}

/** Where a guest cluster's data is. */
type Mapping =
  | { kind: 'unallocated' }
  | { kind: 'zero'; host: number }
  | { kind: 'data'; host: number; copied: boolean }
  | { kind: 'compressed'; host: number; length: number };

export interface CreateQcow2Options {
  /** Virtual disk size in bytes (default: the backing file's). */
  size?: number;
  /** The backing file, as it will be written into the image (relative to the image's directory, or absolute). */
  backingFile?: string;
  /** The backing file's format (default: probed). */
  backingFormat?: ImageFormat;
  /** log2 of the cluster size, 9–21 (default 16: 64 KiB, as qemu-img). */
  clusterBits?: number;
}

export class Qcow2Image implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly path: string;
  readonly version: number;
  readonly clusterSize: number;
  /** The backing image (opened read-only), or null. */
  readonly backing: BlockBackend | null;
  private fd: number;
  private readonly h: Header;
  private readonly clusterBits: number;
  private readonly l2Entries: number;
  private readonly l1: DataView;
  private readonly l2Cache = new Map<number, DataView>();
  private readonly refcountTable: DataView;
  private readonly refblockCache = new Map<number, DataView>();
  private readonly refcountBits: number;
  private readonly refsPerBlock: number;
  /** The next host cluster to allocate (we only append). */
  private nextFree: number;
  /** The last decompressed cluster (sequential reads of compressed images). */
  private inflated: { host: number; data: Uint8Array } | null = null;

  private constructor(path: string, fd: number, h: Header, readOnly: boolean, backing: BlockBackend | null) {
    this.path = path;
    this.fd = fd;
    this.h = h;
    this.readOnly = readOnly;
    this.backing = backing;
    this.version = h.version;
    this.size = h.size;
    this.clusterBits = h.clusterBits;
    this.clusterSize = 2 ** h.clusterBits;
    this.l2Entries = this.clusterSize / 8;
    const l1 = new Uint8Array(h.l1Size * 8);
    preadFully(fd, l1, h.l1TableOffset);
    this.l1 = new DataView(l1.buffer);
    const rt = new Uint8Array(h.refcountTableClusters * this.clusterSize);
    preadFully(fd, rt, h.refcountTableOffset);
    this.refcountTable = new DataView(rt.buffer);
    this.refcountBits = 1 << h.refcountOrder;
    this.refsPerBlock = (this.clusterSize * 8) / this.refcountBits;
    this.nextFree = Math.ceil(fstatSync(fd).size / this.clusterSize) * this.clusterSize;
  }

  /** Opens a qcow2 image and its backing chain (backing files read-only). */
  static open(path: string, opts: { readOnly?: boolean } = {}, depth = 0): Qcow2Image {
    const readOnly = opts.readOnly ?? false;
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new BlockError(`cannot open ${path}: ${(e as Error).message}`);
    }
    let backing: BlockBackend | null = null;
    try {
      const head = new Uint8Array(4096);
      preadFully(fd, head, 0);
      const h = parseHeader(head, path);
      const problem = refuse(h, readOnly);
      if (problem) throw new BlockError(`${path}: ${problem}`);
      if (!readOnly && h.autoclear !== 0n) {
        // Autoclear features we do not maintain must be cleared by a writer that changes the image.
        pwriteFully(fd, new Uint8Array(8), 88);
      }
      if (h.backingFileOffset !== 0) {
        if (depth >= MAX_BACKING_DEPTH) throw new BlockError(`${path}: backing chain longer than ${MAX_BACKING_DEPTH}`);
        const nameBytes = new Uint8Array(h.backingFileSize);
        preadFully(fd, nameBytes, h.backingFileOffset);
        const name = new TextDecoder().decode(nameBytes);
        const target = isAbsolute(name) ? name : resolve(dirname(path), name);
        const fmt = backingFormatOf(head, h);
        backing = openImage(target, { readOnly: true, ...(fmt ? { format: fmt } : {}) }, depth + 1);
      }
      return new Qcow2Image(path, fd, h, readOnly, backing);
    } catch (e) {
      backing?.close();
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Creates a new, empty qcow2 (version 3, 16-bit refcounts) image at `path`, usually an
   * overlay over `backingFile`. Fails if `path` exists.
   */
  static create(path: string, opts: CreateQcow2Options): void {
    const clusterBits = opts.clusterBits ?? 16;
    if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) throw new BlockError(`qcow2: cluster_bits ${clusterBits} is outside 9–21`);
    const cs = 2 ** clusterBits;
    let size = opts.size;
    let backingFormat = opts.backingFormat;
    if (opts.backingFile !== undefined) {
      const target = isAbsolute(opts.backingFile) ? opts.backingFile : resolve(dirname(path), opts.backingFile);
      backingFormat ??= probeFormat(target);
      if (size === undefined) {
        const b = openImage(target, { format: backingFormat, readOnly: true });
        size = b.size;
        b.close();
      }
    }
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) throw new BlockError('qcow2: a size (or a backing file) is needed');

    // Cluster 0: header, header extensions, backing file name.
    const head = new Uint8Array(cs);
    const dv = new DataView(head.buffer);
    let p = V3_HEADER_LENGTH;
    if (backingFormat !== undefined) {
      const f = new TextEncoder().encode(backingFormat);
      dv.setUint32(p, EXT_BACKING_FORMAT);
      dv.setUint32(p + 4, f.length);
      head.set(f, p + 8);
      p += 8 + ((f.length + 7) & ~7);
    }
    dv.setUint32(p, EXT_END);
    p += 8;
    let backingName: Uint8Array | null = null;
    if (opts.backingFile !== undefined) {
      backingName = new TextEncoder().encode(opts.backingFile);
      if (backingName.length > 1023 || p + backingName.length > cs) throw new BlockError('qcow2: backing file name too long');
      head.set(backingName, p);
    }

    // Metadata layout: header, refcount table, refcount blocks, L1 table.
    const l2Entries = cs / 8;
    const l1Size = Math.ceil(size / (cs * l2Entries));
    const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
    const refsPerBlock = (cs * 8) / 16;
    // Room for twice the disk in data plus its L2 tables, so the table never needs to grow.
    const maxHostClusters = Math.ceil((2 * size) / cs) + 2 * l1Size + 64;
    const rtEntries = Math.ceil(maxHostClusters / refsPerBlock) + 1;
    const rtClusters = Math.ceil((rtEntries * 8) / cs);
    let rbClusters = 1;
    while (rbClusters * refsPerBlock < 1 + rtClusters + rbClusters + l1Clusters) rbClusters++;
    const rtOffset = cs;
    const rbOffset = rtOffset + rtClusters * cs;
    const l1Offset = rbOffset + rbClusters * cs;
    const total = 1 + rtClusters + rbClusters + l1Clusters;

    dv.setUint32(0, MAGIC);
    dv.setUint32(4, 3);
    if (backingName) {
      dv.setBigUint64(8, BigInt(p));
      dv.setUint32(16, backingName.length);
    }
    dv.setUint32(20, clusterBits);
    dv.setBigUint64(24, BigInt(size));
    dv.setUint32(32, 0);
    dv.setUint32(36, l1Size);
    dv.setBigUint64(40, BigInt(l1Offset));
    dv.setBigUint64(48, BigInt(rtOffset));
    dv.setUint32(56, rtClusters);
    dv.setUint32(96, 4);
    dv.setUint32(100, V3_HEADER_LENGTH);

    const rt = new DataView(new ArrayBuffer(rtClusters * cs));
    for (let k = 0; k < rbClusters; k++) rt.setBigUint64(k * 8, BigInt(rbOffset + k * cs));
    const rb = new DataView(new ArrayBuffer(rbClusters * cs));
    for (let c = 0; c < total; c++) rb.setUint16(c * 2, 1);

    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      throw new BlockError(`cannot create ${path}: ${(e as Error).message}`);
    }
    try {
      ftruncateSync(fd, total * cs);
      pwriteFully(fd, new Uint8Array(rb.buffer), rbOffset);
      pwriteFully(fd, new Uint8Array(rt.buffer), rtOffset);
      pwriteFully(fd, head, 0);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(`read from ${this.path}`, this.size, offset, dst.length);
    const cs = this.clusterSize;
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const cluster = Math.floor(pos / cs);
      const within = pos - cluster * cs;
      const n = Math.min(cs - within, dst.length - done);
      this.readFromCluster(this.lookup(cluster), cluster, within, dst.subarray(done, done + n));
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockError(`${this.path} is read-only`);
    checkRange(`write to ${this.path}`, this.size, offset, src.length);
    const cs = this.clusterSize;
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const cluster = Math.floor(pos / cs);
      const within = pos - cluster * cs;
      const n = Math.min(cs - within, src.length - done);
      const piece = src.subarray(done, done + n);
      const m = this.lookup(cluster);
      if (m.kind === 'data' && m.copied) {
        pwriteFully(this.fd, piece, m.host + within);
      } else {
        // Copy on write: the whole new cluster first, then its refcount, then the L2 entry.
        let data = piece;
        if (n !== cs) {
          data = new Uint8Array(cs);
          this.readFromCluster(m, cluster, 0, data);
          data.set(piece, within);
        }
        const host = this.allocate();
        pwriteFully(this.fd, data, host);
        this.addRefcount(host, 1);
        this.setL2Entry(cluster, host);
        if (m.kind === 'data') this.addRefcount(m.host, -1);
        else if (m.kind === 'zero' && m.host !== 0) this.addRefcount(m.host, -1);
        else if (m.kind === 'compressed') {
          for (let c = Math.floor(m.host / cs); c <= Math.floor((m.host + m.length - 1) / cs); c++) this.addRefcount(c * cs, -1);
        }
      }
      done += n;
    }
  }

  flush(): void {
    if (!this.readOnly && this.fd >= 0) fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
    this.backing?.close();
  }

  describe(): BlockDescription {
    return {
      kind: 'qcow2',
      path: this.path,
      readOnly: this.readOnly,
      size: this.size,
      version: this.version,
      clusterSize: this.clusterSize,
      backing: this.backing?.describe() ?? null,
    };
  }

  /** The mapping of guest cluster `cluster`. */
  private lookup(cluster: number): Mapping {
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.h.l1Size) return { kind: 'unallocated' };
    const l2Offset = entryOffset(this.l1, l1Index * 8);
    if (l2Offset === 0) return { kind: 'unallocated' };
    const l2 = this.l2Table(l2Offset);
    const at = (cluster - l1Index * this.l2Entries) * 8;
    const hi = l2.getUint32(at);
    const lo = l2.getUint32(at + 4);
    if (hi & FLAG_COMPRESSED_HI) {
      const x = 62 - (this.clusterBits - 8);
      const e = l2.getBigUint64(at);
      const host = Number(e & ((1n << BigInt(x)) - 1n));
      const sectors = Number((e >> BigInt(x)) & ((1n << BigInt(62 - x)) - 1n));
      return { kind: 'compressed', host, length: (sectors + 1) * 512 - (host % 512) };
    }
    const host = (hi & HI_OFFSET_MASK) * 2 ** 32 + ((lo & LO_OFFSET_MASK) >>> 0);
    if (this.version >= 3 && lo & FLAG_ZERO_LO) return { kind: 'zero', host };
    if (host === 0) return { kind: 'unallocated' };
    return { kind: 'data', host, copied: (hi & FLAG_COPIED_HI) !== 0 };
  }

  /** Fills `dst` with guest cluster `cluster`'s bytes from `within`. */
  private readFromCluster(m: Mapping, cluster: number, within: number, dst: Uint8Array): void {
    switch (m.kind) {
      case 'zero':
        dst.fill(0);
        return;
      case 'data':
        preadFully(this.fd, dst, m.host + within);
        return;
      case 'compressed':
        dst.set(this.inflate(m.host, m.length).subarray(within, within + dst.length));
        return;
      case 'unallocated': {
        const pos = cluster * this.clusterSize + within;
        const b = this.backing;
        if (!b || pos >= b.size) {
          dst.fill(0);
          return;
        }
        const n = Math.min(dst.length, b.size - pos);
        b.read(pos, dst.subarray(0, n));
        dst.fill(0, n);
      }
    }
  }

  private inflate(host: number, length: number): Uint8Array {
    if (this.inflated?.host === host) return this.inflated.data;
    const raw = new Uint8Array(length);
    preadFully(this.fd, raw, host);
    let out: Uint8Array;
    try {
      // The stream may end before the last sector does: stop at its end, tolerate the padding.
      out = inflateRawSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new BlockError(`${this.path}: compressed cluster at ${host}: ${(e as Error).message}`);
    }
    if (out.length < this.clusterSize) {
      const full = new Uint8Array(this.clusterSize);
      full.set(out);
      out = full;
    }
    const data = out.subarray(0, this.clusterSize);
    this.inflated = { host, data };
    return data;
  }

  private l2Table(offset: number): DataView {
    let t = this.l2Cache.get(offset);
    if (!t) {
      const b = new Uint8Array(this.clusterSize);
      preadFully(this.fd, b, offset);
      t = new DataView(b.buffer);
      this.l2Cache.set(offset, t);
    }
    return t;
  }

  /** Points guest cluster `cluster` at `host` (refcount 1: copied), creating its L2 table if needed. */
  private setL2Entry(cluster: number, host: number): void {
    const l1Index = Math.floor(cluster / this.l2Entries);
    if (l1Index >= this.h.l1Size) throw new BlockError(`${this.path}: cluster ${cluster} is beyond the L1 table`);
    let l2Offset = entryOffset(this.l1, l1Index * 8);
    if (l2Offset === 0) {
      const table = new Uint8Array(this.clusterSize);
      l2Offset = this.allocate();
      pwriteFully(this.fd, table, l2Offset);
      this.addRefcount(l2Offset, 1);
      this.l2Cache.set(l2Offset, new DataView(table.buffer));
      setEntry(this.l1, l1Index * 8, l2Offset, true);
      pwriteFully(this.fd, new Uint8Array(this.l1.buffer, l1Index * 8, 8), this.h.l1TableOffset + l1Index * 8);
    } else if (!(this.l1.getUint32(l1Index * 8) & FLAG_COPIED_HI)) {
      throw new BlockError(`${this.path}: L2 table at ${l2Offset} is shared (internal snapshot): not writable`);
    }
    const l2 = this.l2Table(l2Offset);
    const at = (cluster - l1Index * this.l2Entries) * 8;
    setEntry(l2, at, host, true);
    pwriteFully(this.fd, new Uint8Array(l2.buffer, at, 8), l2Offset + at);
  }

  /** Reserves the next host cluster (its refcount is set by the caller). */
  private allocate(): number {
    const host = this.nextFree;
    this.nextFree += this.clusterSize;
    return host;
  }

  /** Adds `delta` to the refcount of the host cluster at `host`, creating its refcount block if needed. */
  private addRefcount(host: number, delta: number): void {
    const cluster = Math.floor(host / this.clusterSize);
    const rtIndex = Math.floor(cluster / this.refsPerBlock);
    if (rtIndex * 8 >= this.refcountTable.byteLength) throw new BlockError(`${this.path}: the refcount table is full (growing it is not supported)`);
    let blockOffset = entryOffset(this.refcountTable, rtIndex * 8);
    let block: DataView;
    if (blockOffset === 0) {
      // A new refcount block; it counts itself when it lies in its own range, else the block
      // of its range counts it first (so a crash leaves a leak, never a missing refcount).
      blockOffset = this.allocate();
      block = new DataView(new ArrayBuffer(this.clusterSize));
      const self = Math.floor(blockOffset / this.clusterSize);
      if (Math.floor(self / this.refsPerBlock) === rtIndex) this.setRef(block, self - rtIndex * this.refsPerBlock, 1);
      else this.addRefcount(blockOffset, 1);
      this.setRef(block, cluster - rtIndex * this.refsPerBlock, delta);
      pwriteFully(this.fd, new Uint8Array(block.buffer), blockOffset);
      this.refblockCache.set(blockOffset, block);
      setEntry(this.refcountTable, rtIndex * 8, blockOffset, false);
      pwriteFully(this.fd, new Uint8Array(this.refcountTable.buffer, rtIndex * 8, 8), this.h.refcountTableOffset + rtIndex * 8);
      return;
    }
    block = this.refblock(blockOffset);
    const index = cluster - rtIndex * this.refsPerBlock;
    const v = this.getRef(block, index) + delta;
    if (v < 0) throw new BlockError(`${this.path}: refcount of cluster ${cluster} would go below zero`);
    this.setRef(block, index, v);
    const bytes = this.refcountBits / 8;
    pwriteFully(this.fd, new Uint8Array(block.buffer, index * bytes, bytes), blockOffset + index * bytes);
  }

  private refblock(offset: number): DataView {
    let b = this.refblockCache.get(offset);
    if (!b) {
      const bytes = new Uint8Array(this.clusterSize);
      preadFully(this.fd, bytes, offset);
      b = new DataView(bytes.buffer);
      this.refblockCache.set(offset, b);
    }
    return b;
  }

  private getRef(b: DataView, i: number): number {
    switch (this.refcountBits) {
      case 8: return b.getUint8(i);
      case 16: return b.getUint16(i * 2);
      case 32: return b.getUint32(i * 4);
      default: return Number(b.getBigUint64(i * 8));
    }
  }

  private setRef(b: DataView, i: number, v: number): void {
    switch (this.refcountBits) {
      case 8: b.setUint8(i, v); break;
      case 16: b.setUint16(i * 2, v); break;
      case 32: b.setUint32(i * 4, v); break;
      default: b.setBigUint64(i * 8, BigInt(v));
    }
  }
}

/** Why an image cannot be opened (as asked), or null. */
function refuse(h: Header, readOnly: boolean): string | null {
  if (h.clusterBits < 9 || h.clusterBits > 21) return `cluster_bits ${h.clusterBits} is outside 9–21`;
  if (h.cryptMethod !== 0) return 'encrypted images are not supported';
  if (h.incompatible & INCOMPAT_CORRUPT) return 'the image is marked corrupt (repair it with qemu-img check -r all)';
  if (h.incompatible & INCOMPAT_DATA_FILE) return 'external data files are not supported';
  if (h.incompatible & INCOMPAT_EXTENDED_L2) return 'extended L2 entries are not supported';
  if (h.incompatible & INCOMPAT_COMPRESSION_TYPE && h.compressionType !== 0) return `compression type ${h.compressionType} is not supported (only deflate)`;
  const known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION_TYPE | INCOMPAT_EXTENDED_L2;
  if (h.incompatible & ~known) return `unknown incompatible features 0x${h.incompatible.toString(16)}`;
  if (h.refcountOrder > 6) return `refcount_order ${h.refcountOrder} is invalid`;
  if (!readOnly) {
    if (h.incompatible & INCOMPAT_DIRTY) return 'the image is dirty (lazy refcounts): run qemu-img check -r all, or open it read-only';
    if (h.nbSnapshots > 0) return 'images with internal snapshots are opened read-only only (use an overlay)';
    if (h.refcountOrder < 3) return `writing needs refcounts of 8 bits or more (this image has ${1 << h.refcountOrder})`;
  }
  return null;
}

/** The backing format named in the header extensions, or undefined. */
function backingFormatOf(head: Uint8Array, h: Header): ImageFormat | undefined {
  if (h.version < 3) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let p = h.headerLength;
  while (p + 8 <= head.length) {
    const type = dv.getUint32(p);
    const len = dv.getUint32(p + 4);
    if (type === EXT_END) break;
    if (type === EXT_BACKING_FORMAT) {
      const name = new TextDecoder().decode(head.subarray(p + 8, p + 8 + len));
      if (name === 'raw' || name === 'qcow2') return name;
      throw new BlockError(`backing format '${name}' is not supported (raw and qcow2 are)`);
    }
    p += 8 + ((len + 7) & ~7);
  }
  return undefined;
}

/** The host offset (bits 9–55) of the 64-bit entry at `at`. */
function entryOffset(t: DataView, at: number): number {
  return (t.getUint32(at) & HI_OFFSET_MASK) * 2 ** 32 + ((t.getUint32(at + 4) & LO_OFFSET_MASK) >>> 0);
}

/** Writes a table entry: `offset`, with the copied flag (L1/L2) or without (refcount table). */
function setEntry(t: DataView, at: number, offset: number, copied: boolean): void {
  const hi = Math.floor(offset / 2 ** 32);
  t.setUint32(at, (hi | (copied ? FLAG_COPIED_HI : 0)) >>> 0);
  t.setUint32(at + 4, offset >>> 0);
}
