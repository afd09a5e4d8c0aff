/**
 * The Linux boot protocol loader: setup-header parsing and its error messages on corrupt or
 * truncated images, the memory image it builds (kernel, initrd, zero page with e820, command
 * line, GDT) and the CPU state at the 32-bit entry — checked in full, and by running a tiny
 * "kernel" that reads its boot parameters. The real Debian bzImage is parsed when the guest
 * cache holds it (src/guest builds it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, GDTR_BASE, GDTR_LIMIT, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from '../../../translator/abi.ts';
import { ImageError } from '../../../runtime/loaders/image-error.ts';
import { BOOT_PARAMS_ADDR, buildE820, CMDLINE_ADDR, GDT_ADDR, loadLinux, parseBzImage } from '../../../runtime/loaders/linux.ts';
import { Vm } from '../../../runtime/vm.ts';
import { defaultCacheDir } from '../../../src/guest/build.ts';
import { fakeBzImage } from '../../devices/fake-bzimage.ts';

function loadError(image: Uint8Array, ram = 64 << 20, extra: { initrd?: Uint8Array; cmdline?: string } = {}): string {
  const vm = new Vm({ memorySize: ram });
  try {
    loadLinux(vm, { kernel: image, ...extra });
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return (e as Error).message;
  }
  throw new Error('expected an ImageError');
}

describe('parseBzImage', () => {
  it('reads the header fields of a synthetic image', () => {
    const info = parseBzImage(fakeBzImage({ kernel: new Array(100).fill(0x90) }));
    expect(info).toEqual({
      protocol: 0x020f, setupSects: 2, kernelOffset: 1536, kernelSize: 100, loadflags: 1, code32Start: 0x100000,
      initrdAddrMax: 0x7fffffff, kernelAlignment: 0x1000000, relocatable: true, xloadflags: 4, cmdlineSize: 2047,
      prefAddress: 0x1000000, initSize: 0x100000, headerEnd: 0x26c, version: '6.9.9-fake (test)',
    });
  });

  it('treats setup_sects = 0 as 4', () => {
    const img = fakeBzImage({ setupSects: 4 });
    img[0x1f1] = 0;
    expect(parseBzImage(img).kernelOffset).toBe(5 * 512);
  });

  it('explains what is wrong with bad or truncated images', () => {
    expect(loadError(new Uint8Array(100))).toBe('not a bzImage: the file is 100 bytes, too short for a boot sector and setup header (at least 1024)');
    const noMagic = fakeBzImage();
    noMagic[0x202] = 0x4d;
    expect(loadError(noMagic)).toBe('not a bzImage: missing HdrS magic at 0x202 (found 0x5372644d)');
    const noFlag = fakeBzImage();
    noFlag[0x1fe] = 0;
    expect(loadError(noFlag)).toBe('not a bzImage: missing boot flag 0xAA55 at 0x1FE (found 0xaa00)');
    expect(loadError(fakeBzImage({ protocol: 0x0204 }))).toBe('unsupported kernel: boot protocol 2.04 is older than 2.06 (Linux 2.6.22)');
    expect(loadError(fakeBzImage({ loadflags: 0 }))).toMatch(/^unsupported kernel: a zImage/);
    const full = fakeBzImage({ kernel: new Array(4096).fill(0) });
    expect(loadError(full.subarray(0, 1000))).toMatch(/^not a bzImage: the file is 1000 bytes/);
    expect(loadError(full.subarray(0, 1536))).toBe('truncated bzImage: the setup code needs 1536 bytes (setup_sects = 2 at 0x1F1) but the file has 1536');
    expect(loadError(full.subarray(0, 3000))).toBe('truncated bzImage: the header (syssize at 0x1F4) says the protected-mode kernel is 4096 bytes, but only 1464 follow the setup code');
  });

  it('refuses what does not fit: command line, RAM for the kernel, RAM for the initrd', () => {
    expect(loadError(fakeBzImage({ cmdlineSize: 8 }), 64 << 20, { cmdline: 'console=ttyS0' })).toBe(
      'kernel command line is 13 bytes; this kernel accepts at most 8 (cmdline_size at 0x238)',
    );
    expect(loadError(fakeBzImage({ initSize: 0x2000000 }), 32 << 20)).toBe(
      'guest RAM too small: this kernel needs memory up to 48.0 MiB to boot (init_size 0x2000000 at 0x1000000); the guest has 32.0 MiB',
    );
    expect(loadError(fakeBzImage(), 20 << 20, { initrd: new Uint8Array(4 << 20) })).toBe(
      'guest RAM too small: the initrd (4.0 MiB) must lie between the kernel\'s end at 17.0 MiB and 20.0 MiB; give the guest at least 21.0 MiB',
    );
  });
});

describe('loadLinux', () => {
  it('builds the memory image and the 32-bit entry state of the boot protocol', () => {
    const ram = 64 << 20;
    const vm = new Vm({ memorySize: ram });
    const kernel = Array.from({ length: 300 }, (_, k) => (k * 7) & 0xff);
    const image = fakeBzImage({ kernel });
    const initrd = Uint8Array.from({ length: 10000 }, (_, k) => k & 0xff);
    const layout = loadLinux(vm, { kernel: image, initrd, cmdline: 'console=ttyS0 quiet' });
    // The initrd at the top of RAM, page-aligned.
    const initrdAddr = ram - 12288;
    expect(layout).toMatchObject({ kernelAddr: 0x100000, entry: 0x100000, initrdAddr, initrdSize: 10000, bootParamsAddr: 0x7000, cmdlineAddr: 0x8000, gdtAddr: 0x1000 });
    expect(Array.from(vm.readPhys(0x100000, 300))).toEqual(kernel);
    expect(vm.readPhys(initrdAddr, 10000)).toEqual(initrd);
    expect(new TextDecoder().decode(vm.readPhys(CMDLINE_ADDR, 20))).toBe('console=ttyS0 quiet\0');

    // The zero page: header copied, loader fields set, e820 as SeaBIOS reports it.
    const bp = vm.readPhys(BOOT_PARAMS_ADDR, 4096);
    const dv = new DataView(bp.buffer);
    expect(bp.subarray(0x1f1, 0x210)).toEqual(image.subarray(0x1f1, 0x210));
    expect(bp.subarray(0x212, 0x214)).toEqual(image.subarray(0x212, 0x214));
    expect(bp.subarray(0x22c, 0x26c)).toEqual(image.subarray(0x22c, 0x26c));
    expect(bp[0x210]).toBe(0xff);
    expect(bp[0x211]).toBe(0x01);
    expect(dv.getUint32(0x214, true)).toBe(0x100000);
    expect(dv.getUint32(0x218, true)).toBe(initrdAddr);
    expect(dv.getUint32(0x21c, true)).toBe(10000);
    expect(dv.getUint32(0x228, true)).toBe(CMDLINE_ADDR);
    expect(dv.getUint32(0x1e0, true)).toBe(63 * 1024);
    expect(bp.subarray(0, 0x40).every((b) => b === 0)).toBe(true); // screen_info: no video
    expect(bp[0x1e8]).toBe(3);
    const e820 = [0, 1, 2].map((k) => [Number(dv.getBigUint64(0x2d0 + 20 * k, true)), Number(dv.getBigUint64(0x2d8 + 20 * k, true)), dv.getUint32(0x2e0 + 20 * k, true)]);
    expect(e820).toEqual([[0, 0x9fc00, 1], [0x9fc00, 0x60400, 2], [0x100000, ram - 0x100000, 1]]);
    expect(buildE820(ram)).toEqual(e820.map(([addr, size, type]) => ({ addr, size, type })));
    expect(bp.subarray(0x2d0 + 60, 0x1000).every((b) => b === 0)).toBe(true);
    // BIOS data area.
    const bda = vm.readPhys(0x400, 0x20);
    expect([bda[0] | (bda[1] << 8), bda[0x0e] | (bda[0x0f] << 8), bda[0x13] | (bda[0x14] << 8)]).toEqual([0x3f8, 0x9fc0, 639]);

    // GDT and the CPU state.
    expect(Array.from(vm.readPhys(GDT_ADDR, 32))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
    ]);
    const cpu = vm.cpu;
    const s = cpu.s;
    expect(Array.from(s.subarray(0, 8))).toEqual([0, 0, 0, 0, 0x7000, 0, 0x7000, 0]);
    expect(cpu.eip).toBe(0x100000);
    expect(s[EFLAGS >> 2]).toBe(0x2);
    expect(s[CR >> 2]).toBe(0x11);
    expect([s[GDTR_BASE >> 2], s[GDTR_LIMIT >> 2]]).toEqual([0x1000, 31]);
    expect([cpu.segSel(SEG_CS), cpu.segBase(SEG_CS), cpu.segLimit(SEG_CS), cpu.segFlags(SEG_CS)]).toEqual([0x10, 0, 0xffffffff, 0x1c09b]);
    for (const seg of [SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS]) {
      expect([cpu.segSel(seg), cpu.segBase(seg), cpu.segLimit(seg), cpu.segFlags(seg)]).toEqual([0x18, 0, 0xffffffff, 0x1c093]);
    }
  });

  it('enters the kernel so that it can read its boot parameters', () => {
    // mov eax,[esi+0x202] ; mov ebx,[esi+0x228] ; mov ecx,cs ; mov edx,ss ; mov edi,[ebx] ; hlt
    const code = [0x8b, 0x86, 0x02, 0x02, 0x00, 0x00, 0x8b, 0x9e, 0x28, 0x02, 0x00, 0x00, 0x8c, 0xc9, 0x8c, 0xd2, 0x8b, 0x3b, 0xf4];
    const vm = new Vm({ memorySize: 32 << 20 });
    loadLinux(vm, { kernel: fakeBzImage({ kernel: code, initSize: 0x10000 }), cmdline: 'root' });
    vm.stopOnFault = true;
    const r = vm.run(100);
    expect(r.reason).toBe('halted');
    expect(Array.from(vm.cpu.s.subarray(0, 8)).map((v) => v >>> 0)).toEqual([0x53726448, 0x10, 0x18, 0x8000, 0x7000, 0, 0x7000, 0x746f6f72]);
  });

  const cached = join(defaultCacheDir(), 'vmlinuz');
  it.skipIf(!existsSync(cached))('parses the Debian 686 bzImage from the guest cache', () => {
    const image = new Uint8Array(readFileSync(cached));
    const info = parseBzImage(image);
    expect(info.protocol).toBeGreaterThanOrEqual(0x020f);
    expect(info.relocatable).toBe(true);
    expect(info.prefAddress).toBe(0x1000000);
    expect(info.cmdlineSize).toBe(2047);
    expect(info.version).toMatch(/^6\.1\.0-\d+-686 /);
    expect(info.kernelOffset + info.kernelSize).toBe(image.length);
    const vm = new Vm({ memorySize: 128 << 20 });
    const layout = loadLinux(vm, { kernel: image, initrd: new Uint8Array(1 << 20), cmdline: 'console=ttyS0' });
    expect(layout.initrdAddr).toBe((128 << 20) - (1 << 20));
    expect(vm.readPhys(0x100000, 64)).toEqual(image.subarray(info.kernelOffset, info.kernelOffset + 64));
    // Too little RAM for its 16 MiB load address plus init_size.
    expect(loadError(image, 24 << 20)).toMatch(/^guest RAM too small: this kernel needs memory up to 32\.\d MiB/);
  });
});
