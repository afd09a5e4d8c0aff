/**
 * Test helpers: a synthetic bzImage (boot sector and setup sectors with a protocol 2.15 setup
 * header, then the given protected-mode "kernel"), and nasm assembly of such kernels.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeBzImageOptions {
  setupSects?: number;
  protocol?: number;
  loadflags?: number;
  kernel?: ArrayLike<number>;
  syssize?: number;
  initSize?: number;
  prefAddress?: number;
  cmdlineSize?: number;
  initrdAddrMax?: number;
}

export function fakeBzImage(o: FakeBzImageOptions = {}): Uint8Array {
  const setupSects = o.setupSects ?? 2;
  const kernel = o.kernel ?? [0xf4];
  const img = new Uint8Array((setupSects + 1) * 512 + kernel.length);
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint32(0x1f4, o.syssize ?? Math.ceil(kernel.length / 16), true);
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb;
  img[0x201] = 0x6a; // header ends at 0x26C
  img.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  dv.setUint16(0x206, o.protocol ?? 0x020f, true);
  dv.setUint16(0x20e, 0x300 - 0x200, true); // kernel_version -> 0x300
  img.set(new TextEncoder().encode('6.9.9-fake (test)\0'), 0x300);
  img[0x211] = o.loadflags ?? 0x01;
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, o.initrdAddrMax ?? 0x7fffffff, true);
  dv.setUint32(0x230, 0x1000000, true);
  img[0x234] = 1;
  dv.setUint16(0x236, 0x0004, true);
  dv.setUint32(0x238, o.cmdlineSize ?? 2047, true);
  dv.setBigUint64(0x258, BigInt(o.prefAddress ?? 0x1000000), true);
  dv.setUint32(0x260, o.initSize ?? 0x100000, true);
  img.set(Array.from(kernel), (setupSects + 1) * 512);
  return img;
}

/** Assembles 32-bit code for address 0x100000 (the kernel entry) with nasm into a flat binary. */
export function assembleKernel(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-pc-'));
  try {
    writeFileSync(join(dir, 'k.asm'), `bits 32\norg 0x100000\n${source}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'k.bin'), join(dir, 'k.asm')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'k.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
