/**
 * A raw disk image: the file's bytes are the disk's bytes. Positioned, synchronous reads and
 * writes on one file descriptor (fs.readSync/writeSync with a position), so an image of tens of
 * GiB costs no memory; `flush` is fdatasync. Reads past the end of the file (a disk whose size
 * is not a multiple of the sector) return zeros.
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { BlockError, checkRange } from './backend.ts';
import type { BlockBackend, BlockDescription } from './backend.ts';

/** Reads exactly `dst.length` bytes at `pos` (zeros past the end of the file). */
export function preadFully(fd: number, dst: Uint8Array, pos: number): void {
  let done = 0;
  while (done < dst.length) {
    const n = readSync(fd, dst, done, dst.length - done, pos + done);
    if (n === 0) {
      dst.fill(0, done);
      return;
    }
    done += n;
  }
}

/** Writes all of `src` at `pos`. */
export function pwriteFully(fd: number, src: Uint8Array, pos: number): void {
  let done = 0;
  while (done < src.length) done += writeSync(fd, src, done, src.length - done, pos + done);
}

export class RawImage implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly path: string;
  private fd: number;

  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    this.path = path;
    this.readOnly = opts.readOnly ?? false;
    try {
      this.fd = openSync(path, this.readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new BlockError(`cannot open ${path}: ${(e as Error).message}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(this.fd);
      throw new BlockError(`${path} is not a regular file`);
    }
    this.size = st.size;
  }

  read(offset: number, dst: Uint8Array): void {
    checkRange(`read from ${this.path}`, this.size, offset, dst.length);
    preadFully(this.fd, dst, offset);
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockError(`${this.path} is read-only`);
    checkRange(`write to ${this.path}`, this.size, offset, src.length);
    pwriteFully(this.fd, src, offset);
  }

  flush(): void {
    if (!this.readOnly) fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  describe(): BlockDescription {
    return { kind: 'raw', path: this.path, readOnly: this.readOnly, size: this.size };
  }
}
