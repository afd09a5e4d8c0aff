/**
 * Raw (flat binary) images: the bytes are copied to one physical address and entered there,
 * either in real mode, as a BIOS enters a boot sector (CS:IP = 0000:7C00 for the default
 * address, DL = 0 for the first floppy, SS:SP = 0000:7C00), or in flat 32-bit protected mode
 * (the state of Vm.resetFlat32: CPL 0, paging off, 4 GiB code selector 0x08 and data 0x10,
 * IF = 0).
 *
 * There is no BIOS: the interrupt vector table is all zeros and no BIOS services exist, so a
 * real-mode image must install whatever handlers it uses.
 */
import { R_EDX, SEG_CS, SEG_SS } from '../../translator/abi.ts';
import type { Vm } from '../vm.ts';
import { ImageError } from './image-error.ts';

export interface RawImageOptions {
  /** Physical load address; default 0x7C00 (a boot sector). */
  address?: number;
  /** Physical entry address; default the load address. */
  entry?: number;
  /** 'real' (default) or 'flat32'. */
  mode?: 'real' | 'flat32';
  /** Initial ESP for 'flat32'; default the load address (the stack grows down below the image). */
  stack?: number;
}

/** Loads `image` and sets the CPU to enter it. Throws ImageError if it does not fit. */
export function loadRaw(vm: Vm, image: Uint8Array, opts: RawImageOptions = {}): void {
  const address = opts.address ?? 0x7c00;
  const entry = opts.entry ?? address;
  const mode = opts.mode ?? 'real';
  const ram = vm.mem.ramSize;
  if (image.length === 0) throw new ImageError('raw image is empty');
  if (!Number.isInteger(address) || address < 0 || address + image.length > ram) {
    throw new ImageError(`raw image (${image.length} bytes at 0x${address.toString(16)}) does not fit in ${ram >>> 20} MiB of RAM`);
  }
  if (!Number.isInteger(entry) || entry < 0 || entry >= ram) {
    throw new ImageError(`raw image entry 0x${entry.toString(16)} is outside RAM`);
  }
  if (mode === 'flat32') {
    vm.resetFlat32(entry, opts.stack ?? address);
    vm.writePhys(address, image);
    return;
  }
  if (entry > 0xfffff) throw new ImageError(`real-mode entry 0x${entry.toString(16)} is above 1 MiB`);
  vm.resetReal();
  vm.writePhys(address, image);
  const cpu = vm.cpu;
  // CS:IP as a BIOS would choose it: segment 0 when the entry is in the first 64 KiB.
  const cs = entry < 0x10000 ? 0 : (entry >>> 4) & 0xf000;
  const csFlags = cpu.segFlags(SEG_CS);
  cpu.setSegment(SEG_CS, cs, cs << 4, 0xffff, csFlags);
  cpu.eip = entry - (cs << 4);
  cpu.setSegment(SEG_SS, 0, 0, 0xffff, cpu.segFlags(SEG_SS));
  cpu.s[4] = 0x7c00;
  cpu.s[R_EDX] = 0;
  cpu.refreshMode();
}
