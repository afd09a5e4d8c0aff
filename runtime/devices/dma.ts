/**
 * Guest RAM as devices that do DMA see it: the bytes at a physical address, and a report of
 * what the device wrote there, so that translated code in those pages is dropped (a program
 * read from a disk into a page that held code must not run the old code).
 */
export interface DmaMemory {
  /** Guest RAM, physical address 0 at index 0. */
  readonly ram: Uint8Array;
  /** The device wrote [addr, addr + length). */
  written(addr: number, length: number): void;
}

/** A guest physical range as a view of RAM; throws RangeError when it is not all RAM. */
export function dmaView(mem: DmaMemory, addr: number, length: number): Uint8Array {
  if (addr < 0 || length < 0 || addr + length > mem.ram.length) throw new RangeError(`DMA to 0x${addr.toString(16)}+${length}: outside guest RAM`);
  return mem.ram.subarray(addr, addr + length);
}
