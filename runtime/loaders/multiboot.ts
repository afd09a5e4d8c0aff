/**
 * Multiboot v1 loader (the Multiboot Specification 0.6.96): finds the header in the first
 * 8 KiB, loads the kernel either from its ELF32 program headers or, when header flag 16 is set,
 * through the a.out-kludge address fields, places the modules and the information structure,
 * and sets the machine state the specification requires:
 *
 *   EAX = 0x2BADB002, EBX = physical address of the multiboot information structure,
 *   CS = flat 32-bit execute/read code segment, DS/ES/FS/GS/SS = flat read/write data segments,
 *   CR0.PE = 1, CR0.PG = 0, EFLAGS.VM = 0 and IF = 0, A20 enabled (the gate's reset state on the PC).
 *
 * The selectors (0x08 code, 0x10 data), GDTR/IDTR (base 0, limit 0) and ESP (0x80000) are ours;
 * the specification leaves them undefined and a kernel must set its own.
 *
 * Physical layout: the kernel where it asks; then, from the first page boundary after the
 * kernel's end (BSS included), each module page-aligned, then one page-aligned block with the
 * information structure, the command lines, the module list and the memory map.
 *
 * The information structure reports (flags): mem_lower/mem_upper (bit 0: 640 KiB and
 * RAM - 1 MiB: the PC leaves no EBDA for a multiboot kernel, runtime/pc/bios-state.ts), the
 * command line (bit 2), the modules (bit 3), a memory map (bit 6: 0..640 KiB and 1 MiB..RAM
 * available) and the boot loader name (bit 9). No boot device, symbol tables, drives, APM or
 * video information. A header that requires something we do not provide (video mode, flag 2,
 * or any unknown bit 0–15) is refused, as the specification demands.
 */
import { R_EAX, R_EBX } from '../../translator/abi.ts';
import type { Vm } from '../vm.ts';
import { ImageError } from './image-error.ts';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

const F_PAGE_ALIGN = 1 << 0;
const F_MEMORY_INFO = 1 << 1;
const F_VIDEO_MODE = 1 << 2;
const F_AOUT_KLUDGE = 1 << 16;
const SEARCH_LIMIT = 8192;

const INFO_MEMORY = 1 << 0;
const INFO_CMDLINE = 1 << 2;
const INFO_MODS = 1 << 3;
const INFO_MMAP = 1 << 6;
const INFO_LOADER_NAME = 1 << 9;
const INFO_SIZE = 88;

export interface MultibootModule {
  data: Uint8Array;
  /** The module's string (by convention its name followed by arguments). */
  cmdline?: string;
}

export interface MultibootOptions {
  /** Kernel command line (by convention the kernel's name, then its arguments). */
  cmdline?: string;
  modules?: readonly MultibootModule[];
  /** Value of boot_loader_name; default 'wasmvisor'. */
  bootLoaderName?: string;
}

/** Where the header was found and what it says. */
export interface MultibootHeader {
  offset: number;
  flags: number;
  /** The a.out-kludge fields (meaningful when flags bit 16 is set). */
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/** A loaded kernel: its entry point and the physical range it occupies (BSS included). */
interface LoadedKernel {
  entry: number;
  start: number;
  end: number;
}

const u32 = (b: Uint8Array, off: number): number =>
  (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
const u16 = (b: Uint8Array, off: number): number => b[off] | (b[off + 1] << 8);
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** Finds a valid multiboot header (magic + flags + checksum = 0, 4-byte aligned, first 8 KiB). */
export function findMultibootHeader(image: Uint8Array): MultibootHeader | null {
  const end = Math.min(image.length, SEARCH_LIMIT) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (u32(image, off) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = u32(image, off + 4);
    if (((MULTIBOOT_HEADER_MAGIC + flags + u32(image, off + 8)) >>> 0) !== 0) continue;
    const field = (k: number): number => (off + 12 + 4 * k + 4 <= image.length ? u32(image, off + 12 + 4 * k) : 0);
    return {
      offset: off, flags,
      headerAddr: field(0), loadAddr: field(1), loadEndAddr: field(2), bssEndAddr: field(3), entryAddr: field(4),
    };
  }
  return null;
}

/**
 * Loads a multiboot v1 kernel with its modules into `vm` and sets the entry state.
 * Throws ImageError with a user-facing message for anything it cannot load.
 */
export function loadMultiboot(vm: Vm, image: Uint8Array, opts: MultibootOptions = {}): void {
  const h = findMultibootHeader(image);
  if (!h) throw new ImageError('not a multiboot v1 image: no valid header in the first 8 KiB');
  const unknown = h.flags & 0xffff & ~(F_PAGE_ALIGN | F_MEMORY_INFO | F_VIDEO_MODE);
  if (unknown) throw new ImageError(`multiboot header requires unknown features (flags ${hex(unknown)})`);
  if (h.flags & F_VIDEO_MODE) throw new ImageError('multiboot header requires a video mode (flag 2); this machine has no display');
  const ram = vm.mem.ramSize;
  vm.resetFlat32(0, 0x80000);
  const kernel = h.flags & F_AOUT_KLUDGE ? loadAout(vm, image, h) : loadElf(vm, image);

  // Modules, then the information block, each page-aligned after the kernel.
  let next = pageUp(kernel.end);
  const mods: { start: number; end: number; cmdline: string }[] = [];
  for (const [k, m] of (opts.modules ?? []).entries()) {
    const start = next;
    if (start + m.data.length > ram) throw new ImageError(`multiboot module ${k + 1} (${m.data.length} bytes) does not fit in RAM`);
    vm.writePhys(start, m.data);
    mods.push({ start, end: start + m.data.length, cmdline: m.cmdline ?? '' });
    next = pageUp(start + m.data.length);
  }
  const info = next;
  const enc = new TextEncoder();
  const block: number[] = new Array(INFO_SIZE).fill(0);
  const put32 = (off: number, v: number): void => {
    for (let k = 0; k < 4; k++) block[off + k] = (v >>> (8 * k)) & 0xff;
  };
  const addString = (s: string): number => {
    const at = info + block.length;
    block.push(...enc.encode(s), 0);
    return at;
  };
  const align4 = (): void => {
    while (block.length & 3) block.push(0);
  };
  put32(0, INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_LOADER_NAME);
  put32(4, 640);
  put32(8, (ram >>> 10) - 1024);
  put32(16, addString(opts.cmdline ?? ''));
  put32(64, addString(opts.bootLoaderName ?? 'wasmvisor'));
  const modStrings = mods.map((m) => addString(m.cmdline));
  align4();
  put32(20, mods.length);
  put32(24, info + block.length);
  for (const [k, m] of mods.entries()) {
    const at = block.length;
    block.push(...new Array(16).fill(0));
    put32(at, m.start);
    put32(at + 4, m.end);
    put32(at + 8, modStrings[k]);
  }
  const mmap: [number, number, number][] = [[0, 0xa0000, 1], [0x100000, ram - 0x100000, 1]];
  put32(48, info + block.length);
  for (const [base, len, type] of mmap) {
    const at = block.length;
    block.push(...new Array(24).fill(0));
    put32(at, 20); // size of the entry, not counting this field
    put32(at + 4, base);
    put32(at + 12, len);
    put32(at + 20, type);
  }
  put32(44, mmap.length * 24);
  if (info + block.length > ram) throw new ImageError('multiboot kernel and modules leave no room for the boot information in RAM');
  vm.writePhys(info, block);

  const cpu = vm.cpu;
  cpu.eip = kernel.entry;
  cpu.s[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
  cpu.s[R_EBX] = info;
}

function pageUp(v: number): number {
  return Math.ceil(v / 4096) * 4096;
}

function checkRange(vm: Vm, what: string, start: number, end: number): void {
  if (start < 0 || end > vm.mem.ramSize || end < start) {
    throw new ImageError(`${what} (${hex(start)}..${hex(end)}) does not fit in ${vm.mem.ramSize >>> 20} MiB of RAM`);
  }
}

/** Flag 16: load a flat image as the header's address fields describe (spec 3.1.3). */
function loadAout(vm: Vm, image: Uint8Array, h: MultibootHeader): LoadedKernel {
  if (h.offset + 32 > image.length) throw new ImageError('multiboot header is truncated (a.out kludge fields missing)');
  if (h.loadAddr > h.headerAddr) throw new ImageError('multiboot header: load_addr is above header_addr');
  const fileStart = h.offset - (h.headerAddr - h.loadAddr);
  if (fileStart < 0) throw new ImageError('multiboot header: header_addr - load_addr points before the start of the file');
  const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (image.length - fileStart) : h.loadEndAddr;
  if (loadEnd < h.loadAddr) throw new ImageError('multiboot header: load_end_addr is below load_addr');
  const size = loadEnd - h.loadAddr;
  if (fileStart + size > image.length) {
    throw new ImageError(`multiboot image is truncated: the header asks for ${size} bytes from offset ${fileStart}, the file has ${image.length}`);
  }
  const bssEnd = h.bssEndAddr === 0 ? loadEnd : h.bssEndAddr;
  if (bssEnd < loadEnd) throw new ImageError('multiboot header: bss_end_addr is below load_end_addr');
  checkRange(vm, 'multiboot kernel', h.loadAddr, bssEnd);
  vm.writePhys(h.loadAddr, image.subarray(fileStart, fileStart + size));
  if (bssEnd > loadEnd) vm.writePhys(loadEnd, new Uint8Array(bssEnd - loadEnd));
  if (h.entryAddr < h.loadAddr || h.entryAddr >= bssEnd) {
    throw new ImageError(`multiboot entry ${hex(h.entryAddr)} is outside the loaded image`);
  }
  return { entry: h.entryAddr, start: h.loadAddr, end: bssEnd };
}

/** ELF32 executable: PT_LOAD segments at their physical addresses (p_paddr). */
function loadElf(vm: Vm, image: Uint8Array): LoadedKernel {
  if (image.length < 52 || u32(image, 0) !== 0x464c457f) {
    throw new ImageError('multiboot image is neither ELF nor marked for the a.out kludge (header flag 16)');
  }
  if (image[4] !== 1) throw new ImageError('multiboot ELF image is not 32-bit (ELFCLASS32)');
  if (image[5] !== 1) throw new ImageError('multiboot ELF image is not little-endian');
  if (u16(image, 16) !== 2) throw new ImageError('multiboot ELF image is not an executable (ET_EXEC)');
  if (u16(image, 18) !== 3) throw new ImageError('multiboot ELF image is not for i386 (EM_386)');
  let entry = u32(image, 24);
  const phoff = u32(image, 28);
  const phentsize = u16(image, 42);
  const phnum = u16(image, 44);
  if (phentsize < 32 || phoff + phnum * phentsize > image.length) throw new ImageError('multiboot ELF program headers are truncated');
  let start = Infinity;
  let end = 0;
  let entryFixed = false;
  for (let k = 0; k < phnum; k++) {
    const ph = phoff + k * phentsize;
    if (u32(image, ph) !== 1) continue; // PT_LOAD
    const offset = u32(image, ph + 4);
    const vaddr = u32(image, ph + 8);
    const paddr = u32(image, ph + 12);
    const filesz = u32(image, ph + 16);
    const memsz = u32(image, ph + 20);
    if (filesz > memsz) throw new ImageError(`multiboot ELF segment ${k}: p_filesz exceeds p_memsz`);
    if (offset + filesz > image.length) throw new ImageError(`multiboot ELF segment ${k} is truncated`);
    checkRange(vm, `multiboot ELF segment ${k}`, paddr, paddr + memsz);
    vm.writePhys(paddr, image.subarray(offset, offset + filesz));
    if (memsz > filesz) vm.writePhys(paddr + filesz, new Uint8Array(memsz - filesz));
    start = Math.min(start, paddr);
    end = Math.max(end, paddr + memsz);
    // A kernel linked at a virtual address other than its load address: its entry point is
    // virtual; enter at the physical address of the same byte (as GRUB does).
    if (!entryFixed && entry >= vaddr && entry < vaddr + memsz) {
      entry = paddr + (entry - vaddr);
      entryFixed = true;
    }
  }
  if (end === 0) throw new ImageError('multiboot ELF image has no loadable segment');
  if (!entryFixed) throw new ImageError(`multiboot ELF entry ${hex(entry)} is outside every loadable segment`);
  return { entry, start, end };
}
