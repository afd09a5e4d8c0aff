/**
 * QEMU's `snapshot=on` (and `-snapshot`): the guest's writes go to memory, in chunks copied on
 * first write from the image below, which is opened read-only and never written. What the guest
 * wrote is lost when the machine ends, unless `chunks()` is saved (a whole-machine snapshot can
 * store them and `loadChunks` put them back).
 */
import { BlockError, checkRange } from './backend.ts';
import type { BlockBackend, BlockDescription } from './backend.ts';

/** Chunk size: the copy-on-write unit (a page: the common size of a guest's writes). */
export const OVERLAY_CHUNK = 4096;

export class MemoryOverlay implements BlockBackend {
  readonly size: number;
  readonly readOnly = false;
  readonly base: BlockBackend;
  private readonly map = new Map<number, Uint8Array>();

  constructor(base: BlockBackend) {
    this.base = base;
    this.size = base.size;
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange('read from the snapshot overlay', this.size, offset, dst.length);
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const index = Math.floor(pos / OVERLAY_CHUNK);
      const within = pos - index * OVERLAY_CHUNK;
      const n = Math.min(OVERLAY_CHUNK - within, dst.length - done);
      const chunk = this.map.get(index);
      if (chunk) {
        dst.set(chunk.subarray(within, within + n), done);
        done += n;
        continue;
      }
      // A run of chunks nobody wrote: one read from the base.
      let end = done + n;
      while (end < dst.length && !this.map.has(Math.floor((offset + end) / OVERLAY_CHUNK))) end = Math.min(dst.length, end + OVERLAY_CHUNK);
      this.base.read(pos, dst.subarray(done, end));
      done = end;
    }
  }

  write(offset: number, src: Uint8Array): void {
    checkRange('write to the snapshot overlay', this.size, offset, src.length);
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const index = Math.floor(pos / OVERLAY_CHUNK);
      const within = pos - index * OVERLAY_CHUNK;
      const n = Math.min(OVERLAY_CHUNK - within, src.length - done);
      let chunk = this.map.get(index);
      if (!chunk) {
        chunk = new Uint8Array(OVERLAY_CHUNK);
        if (n !== OVERLAY_CHUNK) {
          const start = index * OVERLAY_CHUNK;
          this.base.read(start, chunk.subarray(0, Math.min(OVERLAY_CHUNK, this.size - start)));
        }
        this.map.set(index, chunk);
      }
      chunk.set(src.subarray(done, done + n), within);
      done += n;
    }
  }

  /** Nothing to make durable: the writes live in memory by design. */
  flush(): void {}

  close(): void {
    this.base.close();
  }

  describe(): BlockDescription {
    return { kind: 'memory-overlay', size: this.size, chunkSize: OVERLAY_CHUNK, chunks: this.map.size, base: this.base.describe() };
  }

  /** The written chunks: [byte offset, OVERLAY_CHUNK bytes], in offset order (the overlay's state). */
  chunks(): [number, Uint8Array][] {
    return [...this.map.entries()].sort((a, b) => a[0] - b[0]).map(([i, c]) => [i * OVERLAY_CHUNK, c]);
  }

  /** Replaces the overlay's contents with `chunks` (as `chunks()` returned them). */
  loadChunks(chunks: readonly (readonly [number, Uint8Array])[]): void {
    this.map.clear();
    for (const [offset, data] of chunks) {
      if (offset % OVERLAY_CHUNK || data.length !== OVERLAY_CHUNK) throw new BlockError(`overlay chunk at ${offset}: not a ${OVERLAY_CHUNK}-byte aligned chunk`);
      this.map.set(offset / OVERLAY_CHUNK, Uint8Array.from(data));
    }
  }
}
