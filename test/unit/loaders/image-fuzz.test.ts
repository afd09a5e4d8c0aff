/**
 * Bad input gets a clear error, never a host crash: random, truncated and bit-flipped kernel
 * images (bzImage and multiboot v1) through the PC machine's loader. Every outcome must be a
 * machine that loaded, or an ImageError with a one-line message; any other exception fails.
 */
import { describe, expect, it } from 'vitest';
import { PcMachine } from '../../../runtime/pc/pc-machine.ts';
import { ImageError } from '../../../runtime/loaders/image-error.ts';

/** Small deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** A plausible bzImage skeleton (boot protocol 2.15 header, 4 setup sectors, a tiny kernel). */
function bzImage(r: () => number): Uint8Array {
  const img = new Uint8Array(5 * 512 + 4096);
  for (let k = 0; k < img.length; k++) img[k] = r() & 0xff;
  img[0x1f1] = 4; // setup_sects
  img.set([0x55, 0xaa], 0x1fe);
  img.set([0x48, 0x64, 0x72, 0x53], 0x202); // HdrS
  img[0x206] = 0x0f; img[0x207] = 0x02; // version 2.15
  img[0x211] = 0x01; // loadflags: LOADED_HIGH
  return img;
}

/** A plausible multiboot v1 a.out-kludge image. */
function multiboot(r: () => number): Uint8Array {
  const img = new Uint8Array(8192);
  for (let k = 0; k < img.length; k++) img[k] = r() & 0xff;
  const dv = new DataView(img.buffer);
  const flags = 0x00010003;
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  dv.setUint32(12, 0x100000, true); // header_addr
  dv.setUint32(16, 0x100000, true); // load_addr
  dv.setUint32(20, 0, true); // load_end_addr: whole file
  dv.setUint32(24, 0, true); // bss_end_addr
  dv.setUint32(28, 0x100020, true); // entry
  return img;
}

function tryLoad(kernel: Uint8Array, initrd?: Uint8Array): 'loaded' | 'rejected' {
  try {
    new PcMachine({ memory: 16 << 20, kernel, ...(initrd ? { initrd } : {}), cmdline: 'console=ttyS0' });
    return 'loaded';
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    expect(e.message.length).toBeGreaterThan(10);
    expect(e.message).not.toContain('\n    at ');
    return 'rejected';
  }
}

describe('kernel images from hell', () => {
  it('rejects empty, tiny and random files with an ImageError', () => {
    const r = rng(1);
    expect(tryLoad(new Uint8Array(0))).toBe('rejected');
    expect(tryLoad(Uint8Array.of(0x4d, 0x5a))).toBe('rejected');
    for (let n = 0; n < 200; n++) {
      const img = new Uint8Array(r() % 20000);
      for (let k = 0; k < img.length; k++) img[k] = r() & 0xff;
      expect(tryLoad(img)).toBe('rejected');
    }
  });

  it('survives truncated and bit-flipped bzImage and multiboot images', () => {
    const r = rng(2);
    const outcomes = { loaded: 0, rejected: 0 };
    for (let n = 0; n < 300; n++) {
      const base = n % 2 ? bzImage(r) : multiboot(r);
      let img: Uint8Array;
      const mode = r() % 3;
      if (mode === 0) img = base.subarray(0, r() % base.length);
      else {
        img = base.slice();
        const flips = 1 + (r() % 16);
        // Flip bits inside the headers, where the loaders look.
        for (let f = 0; f < flips; f++) img[r() % 0x240] ^= 1 << (r() % 8);
        if (mode === 2) img = img.subarray(0, Math.max(0, img.length - (r() % 4096)));
      }
      outcomes[tryLoad(img, n % 5 === 0 ? new Uint8Array(r() % 100000) : undefined)]++;
    }
    // Both outcomes occur: the generator makes loadable images as well as broken ones.
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(outcomes.loaded).toBeGreaterThan(0);
  });
});
