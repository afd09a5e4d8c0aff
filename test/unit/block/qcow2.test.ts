/**
 * The block layer (runtime/block) against QEMU's own tools (qemu-utils: qemu-img, qemu-io):
 * images qemu-img made (qcow2 v2 and v3, compressed, zero clusters, backing chains) read back
 * as `qemu-img convert -O raw` reads them; overlays we create and write pass `qemu-img check`
 * and convert to the bytes we wrote, with the base's hash unchanged; a writer killed mid-write
 * leaves an image `qemu-img check` accepts (leaks at most) and the base untouched; snapshot=on
 * never writes the image.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDrive } from '../../../runtime/block/drive.ts';
import { MemoryOverlay } from '../../../runtime/block/memory-overlay.ts';
import { openImage, probeFormat, Qcow2Image } from '../../../runtime/block/qcow2.ts';
import { RawImage } from '../../../runtime/block/raw.ts';
import type { BlockBackend } from '../../../runtime/block/backend.ts';

const MIB = 1 << 20;
let dir: string;

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let k = 0; k < n; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 0xff;
  }
  return out;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function readAll(b: BlockBackend): Uint8Array {
  const out = new Uint8Array(b.size);
  // Odd-sized pieces, so reads cross cluster boundaries.
  for (let off = 0; off < b.size; off += 100_003) b.read(off, out.subarray(off, Math.min(b.size, off + 100_003)));
  return out;
}

/** What qemu-img says the image's guest-visible bytes are. */
function qemuConvert(image: string): Uint8Array {
  const out = join(dir, `converted-${Math.random().toString(36).slice(2)}.raw`);
  execFileSync('qemu-img', ['convert', '-O', 'raw', image, out]);
  const data = new Uint8Array(readFileSync(out));
  rmSync(out);
  return data;
}

/** `qemu-img check`: its exit status (0 clean, 2 corrupt, 3 leaks only) and output. */
function qemuCheck(image: string): { status: number; output: string } {
  const r = spawnSync('qemu-img', ['check', image], { encoding: 'utf8' });
  return { status: r.status ?? -1, output: r.stdout + r.stderr };
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmvisor-block-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reading images qemu-img made', () => {
  let raw: string;
  let data: Uint8Array;
  beforeAll(() => {
    // 3 MiB + 1 KiB: not a whole number of clusters.
    data = pattern(3 * MIB + 1024, 7);
    // Some runs of zeros and of repeated bytes, so compression has something to do.
    data.fill(0, MIB, MIB + 300_000);
    data.fill(0x5a, 2 * MIB, 2 * MIB + 200_000);
    raw = join(dir, 'source.raw');
    writeFileSync(raw, data);
  });

  for (const [name, args] of [
    ['qcow2 v3', ['-O', 'qcow2']],
    ['qcow2 v2 (compat=0.10)', ['-O', 'qcow2', '-o', 'compat=0.10']],
    ['qcow2 v3, 4 KiB clusters', ['-O', 'qcow2', '-o', 'cluster_size=4096']],
    ['qcow2 v3, compressed', ['-c', '-O', 'qcow2']],
    ['qcow2 v2, compressed, 512-byte clusters', ['-c', '-O', 'qcow2', '-o', 'compat=0.10,cluster_size=512']],
    ['qcow2 v3, 8-bit refcounts', ['-O', 'qcow2', '-o', 'refcount_bits=8']],
  ] as const) {
    it(`reads ${name} as qemu-img convert does`, () => {
      const img = join(dir, `${name.replace(/\W+/g, '-')}.qcow2`);
      execFileSync('qemu-img', ['convert', ...args, raw, img]);
      expect(probeFormat(img)).toBe('qcow2');
      const q = Qcow2Image.open(img, { readOnly: true });
      try {
        expect(q.size).toBe(data.length);
        expect(equalBytes(readAll(q), qemuConvert(img))).toBe(true);
        expect(equalBytes(readAll(q), data)).toBe(true);
      } finally {
        q.close();
      }
    });
  }

  it('reads zero clusters, a partly written overlay and a two-level backing chain', () => {
    const mid = join(dir, 'mid.qcow2');
    const top = join(dir, 'top.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', raw, '-F', 'raw', mid]);
    execFileSync('qemu-io', ['-c', 'write -P 0xab 100k 70k', '-c', 'write -z 1M 128k', mid]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', mid, '-F', 'qcow2', top]);
    execFileSync('qemu-io', ['-c', 'write -z 64k 64k', '-c', 'write -P 0x11 2000k 5k', '-c', 'write -P 0x22 3M 1k', top]);
    const q = openImage(top, { readOnly: true });
    try {
      expect(q.describe()).toMatchObject({ kind: 'qcow2', version: 3, backing: { kind: 'qcow2', backing: { kind: 'raw' } } });
      const ours = readAll(q);
      expect(equalBytes(ours, qemuConvert(top))).toBe(true);
      // The zero cluster hides the base's data.
      expect(ours.subarray(64 * 1024, 128 * 1024).every((b) => b === 0)).toBe(true);
    } finally {
      q.close();
    }
  });
});

describe('overlays we create', () => {
  it('writes only the overlay; qemu-img check is clean and convert gives the bytes the writer saw', () => {
    const base = join(dir, 'base.raw');
    writeFileSync(base, pattern(5 * MIB, 99));
    const before = sha(base);
    const overlay = join(dir, 'overlay.qcow2');
    // 512-byte clusters: many L2 tables and refcount blocks get created along the way.
    Qcow2Image.create(overlay, { backingFile: 'base.raw', backingFormat: 'raw', clusterBits: 9 });
    const expected = new Uint8Array(readFileSync(base));
    const q = Qcow2Image.open(overlay);
    const writes: [number, number][] = [[0, 512], [1000, 3000], [65_536 * 3 + 17, 200_000], [5 * MIB - 700, 700], [2 * MIB, MIB], [1000, 10]];
    writes.forEach(([off, len], k) => {
      const bytes = pattern(len, 1000 + k);
      q.write(off, bytes);
      expected.set(bytes, off);
    });
    expect(equalBytes(readAll(q), expected)).toBe(true);
    q.close();
    expect(sha(base)).toBe(before);
    const check = qemuCheck(overlay);
    expect(check.status, check.output).toBe(0);
    expect(equalBytes(qemuConvert(overlay), expected)).toBe(true);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', overlay], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 5 * MIB, 'backing-filename': 'base.raw', 'backing-filename-format': 'raw' });
  });

  it('overlays a compressed qcow2 base; writing into a compressed image frees its clusters cleanly', () => {
    const src = join(dir, 'c-src.raw');
    writeFileSync(src, pattern(2 * MIB, 5));
    const base = join(dir, 'c-base.qcow2');
    execFileSync('qemu-img', ['convert', '-c', '-O', 'qcow2', src, base]);
    const before = sha(base);
    const overlay = join(dir, 'c-overlay.qcow2');
    Qcow2Image.create(overlay, { backingFile: base });
    const q = openImage(overlay);
    const expected = new Uint8Array(readFileSync(src));
    const bytes = pattern(150_000, 77);
    q.write(300_001, bytes);
    expected.set(bytes, 300_001);
    q.close();
    expect(sha(base)).toBe(before);
    expect(qemuCheck(overlay).status).toBe(0);
    expect(equalBytes(qemuConvert(overlay), expected)).toBe(true);

    // The compressed image itself, written in place (its compressed clusters replaced).
    const w = Qcow2Image.open(base);
    w.write(65_536 + 100, bytes);
    w.close();
    const check = qemuCheck(base);
    expect(check.status, check.output).toBe(0);
    const direct = new Uint8Array(readFileSync(src));
    direct.set(bytes, 65_536 + 100);
    expect(equalBytes(qemuConvert(base), direct)).toBe(true);
  });

  it('a writer killed in the middle of writes leaves the base untouched and the overlay checkable', async () => {
    const base = join(dir, 'kill-base.raw');
    writeFileSync(base, pattern(8 * MIB, 3));
    const before = sha(base);
    const overlay = join(dir, 'kill-overlay.qcow2');
    Qcow2Image.create(overlay, { backingFile: base, backingFormat: 'raw', clusterBits: 12 });
    const script = join(dir, 'writer.ts');
    writeFileSync(
      script,
      `import { Qcow2Image } from ${JSON.stringify(join(process.cwd(), 'runtime/block/qcow2.ts'))};\n` +
        `const q = Qcow2Image.open(${JSON.stringify(overlay)});\n` +
        'const b = new Uint8Array(7000).fill(0x3c);\nlet n = 0;\n' +
        'for (;;) { q.write((n * 48_271) % (8 * 1024 * 1024 - 7000), b); if (++n === 200) process.stdout.write("writing\\n"); }\n',
    );
    // tsx as a loader of this node process (the tsx command would run the script in a child
    // process that SIGKILL on the wrapper does not reach).
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(sha(base)).toBe(before);
    const check = qemuCheck(overlay);
    // 0: clean; 3: leaked clusters only (allocated, not yet referenced when the process died).
    expect([0, 3], check.output).toContain(check.status);
    // And our reader agrees with qemu-img on what the guest would see.
    const q = openImage(overlay, { readOnly: true });
    expect(equalBytes(readAll(q), qemuConvert(overlay))).toBe(true);
    q.close();
  }, 60_000);
});

describe('drives', () => {
  it('snapshot=on keeps writes in memory: the image is never written', () => {
    const img = join(dir, 'snap.raw');
    writeFileSync(img, pattern(MIB, 11));
    const before = sha(img);
    const d = openDrive({ file: img, snapshot: true });
    expect(d).toBeInstanceOf(MemoryOverlay);
    const bytes = pattern(10_000, 12);
    d.write(5000, bytes);
    const back = new Uint8Array(10_000);
    d.read(5000, back);
    expect(equalBytes(back, bytes)).toBe(true);
    expect((d as MemoryOverlay).chunks().map(([o]) => o)).toEqual([4096, 8192, 12288]);
    d.flush();
    d.close();
    expect(sha(img)).toBe(before);
  });

  it('readonly=on refuses writes; raw reads past nothing and writes land in the file', () => {
    const img = join(dir, 'plain.raw');
    writeFileSync(img, new Uint8Array(64 * 1024));
    const ro = openDrive({ file: img, readOnly: true });
    expect(() => ro.write(0, new Uint8Array(512))).toThrow(/read-only/);
    ro.close();
    const rw = new RawImage(img);
    rw.write(512, pattern(1024, 4));
    expect(() => rw.write(64 * 1024 - 100, new Uint8Array(512))).toThrow(/outside the disk/);
    rw.flush();
    expect(equalBytes(new Uint8Array(readFileSync(img)).subarray(512, 1536), pattern(1024, 4))).toBe(true);
    rw.close();
  });
});
