/**
 * A writer for the "newc" cpio format (the SVR4 portable format with no CRC), the format the
 * Linux kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/
 * buffer-format.rst).
 *
 * Each entry is a 110-byte ASCII header ("070701" and thirteen 8-digit hex fields), the NUL-
 * terminated path name padded to a 4-byte boundary, then the data padded to a 4-byte boundary.
 * The archive ends with an entry named "TRAILER!!!". Writing the archive ourselves (rather than
 * collecting files on the host disk) lets us add device nodes such as /dev/console without root,
 * and makes the output byte-for-byte reproducible: every timestamp is the fixed `mtime`, every
 * owner is root, and inode numbers are assigned in insertion order.
 */

/** File type bits of st_mode. */
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** One archive member. Paths are relative ("bin/sh"), never starting with "/". */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

/**
 * Builds an uncompressed newc archive from `entries`, in the given order (parents must come
 * before their children, as the kernel creates them in archive order).
 */
export function writeCpio(entries: readonly CpioEntry[], mtime = 0): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => {
    chunks.push(b);
    size += b.length;
  };
  const pad4 = (): void => {
    const r = size & 3;
    if (r) push(new Uint8Array(4 - r));
  };
  const enc = new TextEncoder();
  let ino = 1;
  const member = (path: string, mode: number, data: Uint8Array, rdevMajor = 0, rdevMinor = 0, nlink = 1): void => {
    if (path.startsWith('/') || path.length === 0) throw new Error(`cpio: path must be relative and non-empty: "${path}"`);
    const name = enc.encode(path + '\0');
    const fields = [ino++, mode, 0, 0, nlink, mtime, data.length, 0, 0, rdevMajor, rdevMinor, name.length, 0];
    const header = '070701' + fields.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
    push(enc.encode(header));
    push(name);
    pad4();
    if (data.length) {
      push(data);
      pad4();
    }
  };
  const empty = new Uint8Array(0);
  for (const e of entries) {
    switch (e.kind) {
      case 'dir':
        member(e.path, S_IFDIR | (e.mode ?? 0o755), empty, 0, 0, 2);
        break;
      case 'file':
        member(e.path, S_IFREG | (e.mode ?? 0o644), e.data);
        break;
      case 'symlink':
        member(e.path, S_IFLNK | 0o777, enc.encode(e.target));
        break;
      case 'chardev':
        member(e.path, S_IFCHR | (e.mode ?? 0o600), empty, e.major, e.minor);
        break;
    }
  }
  ino = 0;
  member('TRAILER!!!', 0, empty, 0, 0, 1);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
