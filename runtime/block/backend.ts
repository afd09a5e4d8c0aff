/**
 * The block layer's one interface: a disk the devices read and write by byte offset, backed by
 * a file (raw.ts), a qcow2 image (qcow2.ts) or an in-memory overlay over either
 * (memory-overlay.ts, QEMU's `snapshot=on`). Everything here is synchronous — positioned reads
 * and writes on a file descriptor — so a device completes a request inside the guest's I/O
 * instruction and nothing is read into memory ahead of need.
 *
 * Durability contract (issue 14, "nothing lost"): `write` returns after the bytes are in the
 * host file (the OS's page cache: they survive the death of this process); `flush` makes them
 * durable (fdatasync). Devices report a guest write complete only after `write` returned, and a
 * guest flush complete only after `flush` returned.
 */

/** A serializable description of a backend (for snapshots and diagnostics). */
export type BlockDescription =
  | { kind: 'raw'; path: string; readOnly: boolean; size: number }
  | { kind: 'qcow2'; path: string; readOnly: boolean; size: number; version: number; clusterSize: number; backing: BlockDescription | null }
  | { kind: 'memory-overlay'; size: number; chunkSize: number; chunks: number; base: BlockDescription };

export interface BlockBackend {
  /** The virtual disk's size in bytes. */
  readonly size: number;
  /** Writes throw BlockError. */
  readonly readOnly: boolean;
  /** Fills `dst` from the disk at `offset` (bytes past the end read as zeros). */
  read(offset: number, dst: Uint8Array): void;
  /** Writes `src` at `offset`; the range must lie inside the disk. */
  write(offset: number, src: Uint8Array): void;
  /** Makes every completed write durable. */
  flush(): void;
  /** Flushes and releases the file handles; the backend is unusable afterwards. */
  close(): void;
  /** What this backend is, as plain data. */
  describe(): BlockDescription;
}

/** A failed or refused block operation (bad image, write to a read-only disk, I/O error). */
export class BlockError extends Error {}

/** Throws BlockError unless [offset, offset + length) lies inside a disk of `size` bytes. */
export function checkRange(what: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > size) {
    throw new BlockError(`${what}: range ${offset}+${length} is outside the disk (${size} bytes)`);
  }
}
