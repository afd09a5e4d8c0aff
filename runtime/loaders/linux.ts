/**
 * The Linux/x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst, protocol 2.06+):
 * what `qemu -kernel bzImage -initrd I -append CMDLINE` does, minus the BIOS and the kernel's
 * own real-mode setup code, which this path skips.
 *
 * Steps: parse the bzImage's setup header (at 0x1F1, "HdrS" at 0x202) and check it; place the
 * protected-mode kernel (the file after the (setup_sects + 1) * 512 bytes of real-mode code)
 * at 1 MiB; place the initrd at the top of RAM below initrd_addr_max, page-aligned; build the
 * zero page (struct boot_params) from a copy of the setup header plus what the BIOS would have
 * reported — an e820 memory map, nothing for video (screen_info all zero, so the kernel falls
 * back to the dummy console and console=ttyS0 does the talking), no APM/EDD/EFI; write the
 * command line; and enter the kernel at its 32-bit entry point in flat protected mode:
 * CS = 0x10, DS = ES = SS = 0x18 (FS = GS = 0x18 too) from a GDT in guest memory whose
 * descriptors match the loaded segment caches, ESI = the zero page, EBP = EDI = EBX = 0,
 * IF = 0, paging off.
 *
 * Memory layout below 1 MiB (all of it e820 "usable" RAM except the top 1 KiB):
 *   0x0400  BIOS data area fields a BIOS would set (COM1 base, EBDA segment, base memory size)
 *   0x1000  GDT (4 entries)
 *   0x7000  boot_params (the zero page); the initial ESP sits just below it
 *   0x8000  kernel command line (up to cmdline_size + 1 bytes)
 *   0x9FC00 EBDA (reserved in e820, as SeaBIOS reports it)
 * The e820 map is QEMU+SeaBIOS's without the tables SeaBIOS adds: RAM 0–0x9FC00, reserved
 * 0x9FC00–0x100000 (EBDA, VGA hole, option and system ROM area), RAM from 1 MiB to the end.
 *
 * Every problem with the image or with the fit in RAM is an ImageError whose message says what
 * is wrong and where.
 */
import {
  CR, EFLAGS, F_FIXED1, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, R_EBP, R_EBX, R_EDI, R_ESI, R_ESP,
  SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEGF_DB, SEGF_G, SEGF_USABLE,
} from '../../translator/abi.ts';
import type { Vm } from '../vm.ts';
import { ImageError } from './image-error.ts';

export const KERNEL_LOAD_ADDR = 0x100000;
export const GDT_ADDR = 0x1000;
export const BOOT_PARAMS_ADDR = 0x7000;
export const CMDLINE_ADDR = 0x8000;
export const EBDA_ADDR = 0x9fc00;

/** Boot selectors of the 32-bit protocol (__BOOT_CS, __BOOT_DS). */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;

/** The smallest protocol with everything this loader relies on (cmdline_size is 2.06). */
const MIN_PROTOCOL = 0x0206;
const LOADED_HIGH = 0x01;
/** type_of_loader "undefined" (0xFF): we are not one of the registered boot loaders. */
const LOADER_TYPE = 0xff;

/** e820 entry types. */
export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** The fields of the setup header this loader uses, as parsed from the image. */
export interface BzImageInfo {
  /** Boot protocol version, e.g. 0x020f for 2.15. */
  protocol: number;
  /** Sectors of real-mode setup code after the boot sector (0 in the file means 4). */
  setupSects: number;
  /** File offset of the protected-mode kernel: (setupSects + 1) * 512. */
  kernelOffset: number;
  /** Bytes of protected-mode kernel in the file (everything after the setup code). */
  kernelSize: number;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  xloadflags: number;
  /** Maximum command line length, without the terminating NUL. */
  cmdlineSize: number;
  /** Preferred load address of the decompressed kernel (protocol 2.10+; else 1 MiB). */
  prefAddress: number;
  /** Memory the kernel needs from its load address during decompression (2.10+; else 0). */
  initSize: number;
  /** End of the setup header in the file: 0x202 plus the jump offset at 0x201. */
  headerEnd: number;
  /** The kernel's version string, if the header points at one. */
  version: string | null;
}

export interface LinuxLoadOptions {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline?: string;
}

/** Where everything went: for diagnostics and tests. */
export interface LinuxLayout {
  info: BzImageInfo;
  kernelAddr: number;
  entry: number;
  initrdAddr: number;
  initrdSize: number;
  bootParamsAddr: number;
  cmdlineAddr: number;
  gdtAddr: number;
  e820: E820Entry[];
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The setup header's magic "HdrS" at 0x202 (boot protocol 2.00 and later). */
const HDRS = 0x53726448;
const HDRS_AT = 0x202;

/** True if `image` carries the bzImage setup-header magic (loaders/format.ts). */
export function hasBzImageMagic(image: Uint8Array): boolean {
  return image.length >= HDRS_AT + 4 && new DataView(image.buffer, image.byteOffset, image.byteLength).getUint32(HDRS_AT, true) === HDRS;
}

/**
 * Parses and checks a bzImage's setup header. Throws ImageError naming the first problem
 * (too short, no boot flag, no "HdrS" magic, an old protocol, a zImage, truncated kernel).
 */
export function parseBzImage(image: Uint8Array): BzImageInfo {
  if (image.length < 0x400) {
    throw new ImageError(`not a bzImage: the file is ${image.length} bytes, too short for a boot sector and setup header (at least 1024)`);
  }
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const u8 = (o: number): number => image[o];
  const u16 = (o: number): number => dv.getUint16(o, true);
  const u32 = (o: number): number => dv.getUint32(o, true);
  if (!hasBzImageMagic(image)) {
    throw new ImageError(`not a bzImage: missing HdrS magic at 0x202 (found ${hex(u32(HDRS_AT))})`);
  }
  if (u16(0x1fe) !== 0xaa55) {
    throw new ImageError(`not a bzImage: missing boot flag 0xAA55 at 0x1FE (found ${hex(u16(0x1fe))})`);
  }
  const protocol = u16(0x206);
  const pv = `${protocol >> 8}.${(protocol & 0xff).toString().padStart(2, '0')}`;
  if (protocol < MIN_PROTOCOL) {
    throw new ImageError(`unsupported kernel: boot protocol ${pv} is older than 2.06 (Linux 2.6.22)`);
  }
  const loadflags = u8(0x211);
  if (!(loadflags & LOADED_HIGH)) {
    throw new ImageError('unsupported kernel: a zImage (loaded low, LOADED_HIGH clear in loadflags at 0x211); only bzImage is supported');
  }
  const headerEnd = 0x202 + u8(0x201);
  const setupSects = u8(0x1f1) || 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (image.length <= kernelOffset) {
    throw new ImageError(`truncated bzImage: the setup code needs ${kernelOffset} bytes (setup_sects = ${setupSects} at 0x1F1) but the file has ${image.length}`);
  }
  // The whole rest of the file is loaded (as QEMU does); syssize, rounded up to 16 bytes by the
  // kernel build, only tells whether the file was cut short.
  const kernelSize = image.length - kernelOffset;
  const syssize = u32(0x1f4) * 16;
  if (syssize > kernelSize + 15) {
    throw new ImageError(`truncated bzImage: the header (syssize at 0x1F4) says the protected-mode kernel is ${syssize} bytes, but only ${kernelSize} follow the setup code`);
  }
  const v = u16(0x20e);
  let version: string | null = null;
  if (v !== 0 && v + 0x200 < image.length) {
    const start = v + 0x200;
    let end = start;
    while (end < image.length && end < start + 256 && image[end] !== 0) end++;
    version = new TextDecoder('latin1').decode(image.subarray(start, end));
  }
  const hasPref = protocol >= 0x020a && headerEnd >= 0x264;
  return {
    protocol,
    setupSects,
    kernelOffset,
    kernelSize,
    loadflags,
    code32Start: u32(0x214),
    initrdAddrMax: u32(0x22c),
    kernelAlignment: u32(0x230),
    relocatable: u8(0x234) !== 0,
    xloadflags: protocol >= 0x020c ? u16(0x236) : 0,
    cmdlineSize: u32(0x238),
    prefAddress: hasPref ? Number(dv.getBigUint64(0x258, true)) : KERNEL_LOAD_ADDR,
    initSize: hasPref ? u32(0x260) : 0,
    headerEnd,
    version,
  };
}

/** The e820 map for `ramSize` bytes of RAM (see the file overview). */
export function buildE820(ramSize: number): E820Entry[] {
  return [
    { addr: 0, size: EBDA_ADDR, type: E820_RAM },
    { addr: EBDA_ADDR, size: KERNEL_LOAD_ADDR - EBDA_ADDR, type: E820_RESERVED },
    { addr: KERNEL_LOAD_ADDR, size: ramSize - KERNEL_LOAD_ADDR, type: E820_RAM },
  ];
}

/** A flat 4 GiB descriptor: base 0, limit 0xFFFFF pages, G = 1, D/B = 1, the given access byte. */
function flatDescriptor(access: number): [number, number] {
  return [0x0000ffff, 0x00cf0000 | (access << 8)];
}

/**
 * Loads a bzImage (and optional initrd and command line) into `vm` and sets the CPU up at the
 * kernel's 32-bit entry point. Throws ImageError if the image is unusable or does not fit.
 */
export function loadLinux(vm: Vm, opts: LinuxLoadOptions): LinuxLayout {
  const info = parseBzImage(opts.kernel);
  const ram = vm.mem.ramSize;
  const cmdline = opts.cmdline ?? '';
  const initrd = opts.initrd ?? new Uint8Array(0);
  const mib = (v: number): string => `${(v / (1 << 20)).toFixed(1)} MiB`;

  // The command line: ASCII, within cmdline_size.
  const cmdBytes = new TextEncoder().encode(cmdline);
  if (cmdBytes.length > info.cmdlineSize) {
    throw new ImageError(`kernel command line is ${cmdBytes.length} bytes; this kernel accepts at most ${info.cmdlineSize} (cmdline_size at 0x238)`);
  }
  if (CMDLINE_ADDR + cmdBytes.length + 1 > EBDA_ADDR) throw new ImageError('kernel command line does not fit below the EBDA');

  // Memory the kernel occupies while it boots: its image at 1 MiB, and the area it decompresses
  // into, init_size bytes from its preferred address (LOAD_PHYSICAL_ADDR; 1 MiB before 2.10).
  const kernelEnd = Math.max(KERNEL_LOAD_ADDR + info.kernelSize, info.prefAddress + info.initSize);
  if (kernelEnd > ram) {
    throw new ImageError(`guest RAM too small: this kernel needs memory up to ${mib(kernelEnd)} to boot (init_size ${hex(info.initSize)} at ${hex(info.prefAddress)}); the guest has ${mib(ram)}`);
  }

  // The initrd at the top of RAM below initrd_addr_max, page-aligned.
  let initrdAddr = 0;
  if (initrd.length > 0) {
    const top = Math.min(ram, info.initrdAddrMax + 1);
    initrdAddr = Math.floor((top - initrd.length) / 4096) * 4096;
    if (initrdAddr < kernelEnd) {
      throw new ImageError(`guest RAM too small: the initrd (${mib(initrd.length)}) must lie between the kernel's end at ${mib(kernelEnd)} and ${mib(top)}; give the guest at least ${mib(kernelEnd + initrd.length + 4096)}`);
    }
  }

  vm.resetReal();
  const zero = new Uint8Array(KERNEL_LOAD_ADDR);
  vm.writePhys(0, zero);

  // BIOS data area and EBDA, as a PC BIOS leaves them.
  const bda = new DataView(new ArrayBuffer(0x20));
  bda.setUint16(0x00, 0x3f8, true); // 0x400: COM1 base port
  bda.setUint16(0x0e, EBDA_ADDR >> 4, true); // 0x40E: EBDA segment
  bda.setUint16(0x13, EBDA_ADDR >> 10, true); // 0x413: base memory in KiB (639)
  vm.writePhys(0x400, new Uint8Array(bda.buffer));
  vm.writePhys(EBDA_ADDR, [1]); // EBDA size in KiB

  // The kernel and initrd.
  vm.writePhys(KERNEL_LOAD_ADDR, opts.kernel.subarray(info.kernelOffset, info.kernelOffset + info.kernelSize));
  if (initrd.length > 0) vm.writePhys(initrdAddr, initrd);
  vm.writePhys(CMDLINE_ADDR, [...cmdBytes, 0]);

  // The zero page: the setup header copied from the image, then what the loader fills in.
  const bp = new Uint8Array(4096);
  const bpv = new DataView(bp.buffer);
  bp.set(opts.kernel.subarray(0x1f1, info.headerEnd), 0x1f1);
  bp[0x210] = LOADER_TYPE; // type_of_loader
  bp[0x211] = info.loadflags & ~0x40 & ~0x20; // KEEP_SEGMENTS and QUIET clear: the kernel loads its own
  bpv.setUint32(0x214, KERNEL_LOAD_ADDR, true); // code32_start
  bpv.setUint32(0x218, initrdAddr, true); // ramdisk_image
  bpv.setUint32(0x21c, initrd.length, true); // ramdisk_size
  bpv.setUint32(0x228, CMDLINE_ADDR, true); // cmd_line_ptr
  bpv.setUint32(0x1e0, Math.floor((ram - KERNEL_LOAD_ADDR) / 1024), true); // alt_mem_k
  const e820 = buildE820(ram);
  bp[0x1e8] = e820.length;
  e820.forEach((e, k) => {
    const o = 0x2d0 + 20 * k;
    bpv.setBigUint64(o, BigInt(e.addr), true);
    bpv.setBigUint64(o + 8, BigInt(e.size), true);
    bpv.setUint32(o + 16, e.type, true);
  });
  vm.writePhys(BOOT_PARAMS_ADDR, bp);

  // A GDT whose boot descriptors match the segment caches loaded below (accessed bits set).
  const gdt = new DataView(new ArrayBuffer(32));
  const [cLo, cHi] = flatDescriptor(0x9b);
  const [dLo, dHi] = flatDescriptor(0x93);
  gdt.setUint32(BOOT_CS, cLo, true);
  gdt.setUint32(BOOT_CS + 4, cHi, true);
  gdt.setUint32(BOOT_DS, dLo, true);
  gdt.setUint32(BOOT_DS + 4, dHi, true);
  vm.writePhys(GDT_ADDR, new Uint8Array(gdt.buffer));

  // Flat 32-bit protected mode, paging off, interrupts off.
  const cpu = vm.cpu;
  const s = cpu.s;
  s[CR >> 2] = 0x00000011; // PE, ET
  s[EFLAGS >> 2] = F_FIXED1;
  s[GDTR_BASE >> 2] = GDT_ADDR;
  s[GDTR_LIMIT >> 2] = 31;
  s[IDTR_BASE >> 2] = 0;
  s[IDTR_LIMIT >> 2] = 0;
  const codeFlags = SEGF_USABLE | 0x9b | SEGF_DB | SEGF_G;
  const dataFlags = SEGF_USABLE | 0x93 | SEGF_DB | SEGF_G;
  for (const seg of [SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS]) cpu.setSegment(seg, BOOT_DS, 0, 0xffffffff | 0, dataFlags);
  cpu.setSegment(SEG_CS, BOOT_CS, 0, 0xffffffff | 0, codeFlags);
  for (let r = 0; r < 8; r++) s[r] = 0;
  s[R_ESI] = BOOT_PARAMS_ADDR;
  s[R_EBP] = 0;
  s[R_EDI] = 0;
  s[R_EBX] = 0;
  s[R_ESP] = BOOT_PARAMS_ADDR;
  cpu.eip = KERNEL_LOAD_ADDR;
  cpu.refreshMode();

  return {
    info, kernelAddr: KERNEL_LOAD_ADDR, entry: KERNEL_LOAD_ADDR, initrdAddr, initrdSize: initrd.length,
    bootParamsAddr: BOOT_PARAMS_ADDR, cmdlineAddr: CMDLINE_ADDR, gdtAddr: GDT_ADDR, e820,
  };
}
