/**
 * The bare-metal machine and its loaders: the debug bus (0xE9, 0xF4, unassigned ports), raw
 * images in real and flat 32-bit mode, multiboot v1 through the a.out kludge and ELF (layout,
 * boot information, entry state), the errors for unusable images, and how runs end.
 */
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, SEG_CS, SEG_SS } from '../../../translator/abi.ts';
import { ImageError } from '../../../runtime/loaders/image-error.ts';
import { loadMultiboot } from '../../../runtime/loaders/multiboot.ts';
import { DebugBus } from '../../../runtime/bare/bus.ts';
import { loadBareMetalImage, runBareMetal } from '../../../runtime/bare/bare-machine.ts';
import { Vm } from '../../../runtime/vm.ts';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];

/** Flat 32-bit code: print "ok" on 0xE9, then write AL=3 to 0xF4. */
const PRINT_OK_EXIT3 = [0xb0, 0x6f, 0xe6, 0xe9, 0xb0, 0x6b, 0xe6, 0xe9, 0xb0, 0x03, 0xe6, 0xf4, 0xf4];

/** A multiboot image using the a.out kludge: header at offset 0, loaded at `load`, then code. */
function aoutImage(code: number[], load = 0x100000, bssExtra = 0x100, flags = 0x00010003): Uint8Array {
  const headerSize = 32;
  const fileEnd = load + headerSize + code.length;
  const header = [
    ...le32(0x1badb002), ...le32(flags), ...le32((-(0x1badb002 + flags)) >>> 0),
    ...le32(load), ...le32(load), ...le32(fileEnd), ...le32(fileEnd + bssExtra), ...le32(load + headerSize),
  ];
  return Uint8Array.from([...header, ...code]);
}

/** A minimal ELF32 executable with one PT_LOAD (vaddr `vaddr`, paddr `paddr`) and a multiboot header. */
function elfImage(code: number[], vaddr: number, paddr: number, memExtra = 0x40): Uint8Array {
  const mb = [...le32(0x1badb002), ...le32(3), ...le32((-(0x1badb002 + 3)) >>> 0)];
  const body = [...mb, ...code];
  const off = 52 + 32;
  const ehdr = [
    0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ...le16(2), ...le16(3), ...le32(1), ...le32(vaddr + off + mb.length), ...le32(52), ...le32(0), ...le32(0),
    ...le16(52), ...le16(32), ...le16(1), ...le16(40), ...le16(0), ...le16(0),
  ];
  const phdr = [...le32(1), ...le32(0), ...le32(vaddr), ...le32(paddr), ...le32(off + body.length), ...le32(off + body.length + memExtra), ...le32(7), ...le32(0x1000)];
  return Uint8Array.from([...ehdr, ...phdr, ...body]);
}

function readU32(vm: Vm, addr: number): number {
  const b = vm.readPhys(addr, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
function readStr(vm: Vm, addr: number): string {
  let s = '';
  for (let a = addr; ; a++) {
    const c = vm.readPhys(a, 1)[0];
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
}

describe('debug bus', () => {
  it('collects 0xE9 output, reads 0xE9 back as 0xE9, ends the run on 0xF4 with (v << 1) | 1', () => {
    const bus = new DebugBus();
    const seen: number[] = [];
    bus.onOutput = (b) => seen.push(b);
    bus.portOut(0xe9, 1, 0x41);
    bus.portOut(0xe9, 2, 0x4342);
    expect(bus.output).toEqual([0x41, 0x42]);
    expect(seen).toEqual([0x41, 0x42]);
    expect(bus.portIn(0xe9, 1)).toBe(0xe9);
    expect(() => bus.portOut(0xf5, 4, 0x80000001)).toThrow();
    expect(bus.exitCode).toBe(0x00000003);
  });

  it('unassigned ports read as all ones; attached devices take their ports', () => {
    const bus = new DebugBus();
    expect([bus.portIn(0x60, 1), bus.portIn(0x60, 2), bus.portIn(0x60, 4)]).toEqual([0xff, 0xffff, -1]);
    const log: string[] = [];
    bus.attach(0x60, 2, { portIn: (p) => p + 1, portOut: (p, _s, v) => { log.push(`${p}=${v}`); } });
    expect(bus.portIn(0x61, 1)).toBe(0x62);
    bus.portOut(0x60, 1, 5);
    expect(log).toEqual(['96=5']);
    expect(bus.portIn(0x62, 1)).toBe(0xff);
  });
});

describe('raw images', () => {
  it('flat32: runs at the load address and reports output, exit code and stats', () => {
    const r = runBareMetal(Uint8Array.from(PRINT_OK_EXIT3), { format: 'raw', raw: { address: 0x10000, mode: 'flat32' } });
    expect(r.output).toBe('ok');
    expect(r.reason).toBe('exit');
    expect(r.exitCode).toBe(7);
    expect(r.stats.instructions).toBe(5);
    expect(r.stats.exits.io).toBe(3);
  });

  it('real mode: a boot sector at 0000:7C00 with SS:SP = 0000:7C00, DL = 0', () => {
    const vm = new Vm({ memorySize: 1 << 20 });
    loadBareMetalImage(vm, Uint8Array.from([0xb0, 0x21, 0xe6, 0xe9, 0xf4]), { format: 'raw' });
    const c = vm.cpu;
    expect([c.segSel(SEG_CS), c.eip, c.segSel(SEG_SS), c.s[4], c.s[2] & 0xff]).toEqual([0, 0x7c00, 0, 0x7c00, 0]);
    expect(c.cr0 & 1).toBe(0);
    const r = runBareMetal(Uint8Array.from([0xb0, 0x21, 0xe6, 0xe9, 0xf4]), { format: 'raw' });
    expect([r.output, r.reason, r.exitCode]).toEqual(['!', 'halted', null]);
  });

  it('a HLT with IF = 0 ends the run as halted; a loop ends at the instruction limit', () => {
    expect(runBareMetal(Uint8Array.from([0xfa, 0xf4]), { format: 'raw', raw: { mode: 'flat32', address: 0x1000 } }).reason).toBe('halted');
    const loop = runBareMetal(Uint8Array.from([0xeb, 0xfe]), { format: 'raw', raw: { mode: 'flat32', address: 0x1000 }, maxInstructions: 1000 });
    expect(loop.reason).toBe('limit');
    expect(loop.stats.instructions).toBe(1000);
  });

  it('rejects images that do not fit, with an ImageError', () => {
    expect(() => runBareMetal(new Uint8Array(0), { format: 'raw' })).toThrow(ImageError);
    expect(() => runBareMetal(new Uint8Array(4096), { format: 'raw', memorySize: 1 << 20, raw: { address: 0xfff800 } })).toThrow(/does not fit/);
    expect(() => runBareMetal(new Uint8Array(16), { cmdline: 'x' })).toThrow(/multiboot/);
  });
});

describe('multiboot v1', () => {
  it('a.out kludge: loads at load_addr, zeroes the BSS, enters at entry_addr with the spec state', () => {
    const vm = new Vm({ memorySize: 16 << 20 });
    vm.writePhys(0x100000 + 32 + PRINT_OK_EXIT3.length, new Uint8Array(0x100).fill(0xcc));
    loadMultiboot(vm, aoutImage(PRINT_OK_EXIT3), { cmdline: 'kernel a=1', modules: [{ data: Uint8Array.from([1, 2, 3]), cmdline: 'm1 x' }] });
    const c = vm.cpu;
    expect(c.eip).toBe(0x100020);
    expect(c.s[0] >>> 0).toBe(0x2badb002);
    expect(c.s[CR >> 2] & 0x80000001).toBe(1);
    expect(c.s[EFLAGS >> 2] & 0x20200).toBe(0);
    expect(c.code32).toBe(true);
    expect(c.segBase(SEG_CS)).toBe(0);
    expect(c.segLimit(SEG_CS)).toBe(0xffffffff);
    expect(Array.from(vm.readPhys(0x100020 + PRINT_OK_EXIT3.length, 0x100)).every((b) => b === 0)).toBe(true);

    const info = c.s[3] >>> 0;
    expect(info % 4096).toBe(0);
    expect(readU32(vm, info)).toBe(0x24d);
    expect([readU32(vm, info + 4), readU32(vm, info + 8)]).toEqual([640, 15 * 1024]);
    expect(readStr(vm, readU32(vm, info + 16))).toBe('kernel a=1');
    expect(readStr(vm, readU32(vm, info + 64))).toBe('wasmvisor');
    expect(readU32(vm, info + 20)).toBe(1);
    const mod = readU32(vm, info + 24);
    const [start, end] = [readU32(vm, mod), readU32(vm, mod + 4)];
    expect(start % 4096).toBe(0);
    expect(start).toBeGreaterThanOrEqual(0x100000 + 32 + PRINT_OK_EXIT3.length + 0x100);
    expect(end - start).toBe(3);
    expect(Array.from(vm.readPhys(start, 3))).toEqual([1, 2, 3]);
    expect(readStr(vm, readU32(vm, mod + 8))).toBe('m1 x');
    const mmap = readU32(vm, info + 48);
    expect(readU32(vm, info + 44)).toBe(48);
    const entries = [0, 24].map((o) => [readU32(vm, mmap + o), readU32(vm, mmap + o + 4), readU32(vm, mmap + o + 12), readU32(vm, mmap + o + 20)]);
    expect(entries).toEqual([[20, 0, 0xa0000, 1], [20, 0x100000, 15 << 20, 1]]);
  });

  it('runs an a.out-kludge image end to end', () => {
    const r = runBareMetal(aoutImage(PRINT_OK_EXIT3));
    expect([r.output, r.reason, r.exitCode]).toEqual(['ok', 'exit', 7]);
  });

  it('ELF: loads PT_LOAD at p_paddr and translates a virtual entry point to its physical address', () => {
    const img = elfImage(PRINT_OK_EXIT3, 0xc0100000, 0x100000);
    const r = runBareMetal(img);
    expect([r.output, r.reason, r.exitCode]).toEqual(['ok', 'exit', 7]);
    const vm = new Vm({ memorySize: 16 << 20 });
    loadMultiboot(vm, img);
    expect(vm.cpu.eip).toBe(0x100000 + 84 + 12);
  });

  it('refuses what it cannot honour, with messages for the user', () => {
    const vm = new Vm({ memorySize: 16 << 20 });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(64), /no valid header/],
      [aoutImage(PRINT_OK_EXIT3, 0x100000, 0x100, 0x00010007), /video mode/],
      [aoutImage(PRINT_OK_EXIT3, 0x100000, 0x100, 0x00010013), /unknown features/],
      [aoutImage(PRINT_OK_EXIT3, 0x100000, 0x100, 0x00000003), /neither ELF nor/],
      [aoutImage(PRINT_OK_EXIT3, 0x2000000), /does not fit/],
      [aoutImage(PRINT_OK_EXIT3).subarray(0, 40), /truncated/],
      [elfImage(PRINT_OK_EXIT3, 0x100000, 0x100000).map((b, k) => (k === 4 ? 2 : b)), /not 32-bit/],
      [elfImage(PRINT_OK_EXIT3, 0x100000, 0x100000).map((b, k) => (k === 18 ? 0x3e : b)), /not for i386/],
    ];
    for (const [img, msg] of cases) {
      let err: unknown = null;
      try {
        loadMultiboot(vm, img);
      } catch (e) {
        err = e;
      }
      expect(err, String(msg)).toBeInstanceOf(ImageError);
      expect((err as Error).message).toMatch(msg);
    }
  });
});
