/**
 * The PC's I/O bus: a 64 Ki-entry port table routing each port to the device that decodes it.
 * Unassigned ports behave like an ISA bus with nothing answering — reads return all ones,
 * writes vanish — and are counted per port for diagnostics (`unassigned`). The only memory
 * beyond RAM on the bus is a firmware ROM (`mapRom`: `-bios`), read-only, and memory-mapped
 * devices (`mapMmio`: the I/O APIC); the local APIC's page is the CPU's own (cpu.ts mmioRead),
 * and there is no HPET. Other MMIO reads return all ones and writes are ignored, also counted.
 *
 * A multi-byte access goes to the device that owns its first port, which splits it as the
 * hardware would (byte-register devices use devices/io.ts's bytePorts).
 */
import type { IoBus } from '../cpu.ts';
import type { PortDevice } from '../devices/io.ts';

/** A memory-mapped device: the physical addresses it decodes, and its accesses. */
export interface MmioDevice {
  claims(phys: number): boolean;
  read(phys: number, size: 1 | 2 | 4): number;
  write(phys: number, size: 1 | 2 | 4, value: number): void;
}

/** At most this many distinct unassigned ports are tracked (the rest are only summed). */
const MAX_TRACKED = 256;

const ones = (size: 1 | 2 | 4): number => (size === 4 ? -1 : (1 << (size * 8)) - 1);

export interface UnassignedAccesses {
  /** Accesses per port ("in 0x2f8", "out 0x3e8"), or per MMIO page. */
  byPort: Map<string, number>;
  total: number;
}

export class PcBus implements IoBus {
  private readonly table: (PortDevice | undefined)[] = new Array(65536);
  readonly unassigned: UnassignedAccesses = { byPort: new Map(), total: 0 };
  private rom: Uint8Array | null = null;
  private romBase = 0;
  private readonly mmio: MmioDevice[] = [];

  /** Adds a memory-mapped device (beyond RAM). */
  mapMmio(dev: MmioDevice): void {
    this.mmio.push(dev);
  }

  /** Maps `image` read-only at physical address `base` (beyond RAM); writes there are ignored. */
  mapRom(base: number, image: Uint8Array): void {
    this.rom = image;
    this.romBase = base >>> 0;
  }

  /** Routes ports `first` .. `first + count - 1` to `dev`. Throws if one is already taken. */
  map(first: number, count: number, dev: PortDevice): void {
    for (let p = first; p < first + count; p++) {
      if (this.table[p]) throw new Error(`port 0x${p.toString(16)} is mapped twice`);
      this.table[p] = dev;
    }
  }

  /** Unroutes ports `first` .. `first + count - 1` that are routed to `dev` (a PCI BAR moving). */
  unmap(first: number, count: number, dev: PortDevice): void {
    for (let p = first; p < first + count; p++) if (this.table[p] === dev) this.table[p] = undefined;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const dev = this.table[port];
    if (dev) return dev.portIn(port, size);
    this.count(`in 0x${port.toString(16)}`);
    return ones(size);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    const dev = this.table[port];
    if (dev) dev.portOut(port, size, value);
    else this.count(`out 0x${port.toString(16)}`);
  }

  mmioRead(phys: number, size: 1 | 2 | 4): number {
    for (const dev of this.mmio) if (dev.claims(phys)) return dev.read(phys, size);
    const rom = this.rom;
    if (rom !== null) {
      const at = (phys >>> 0) - this.romBase;
      if (at >= 0 && at + size <= rom.length) {
        let v = 0;
        for (let k = 0; k < size; k++) v |= rom[at + k] << (8 * k);
        return size === 4 ? v | 0 : v;
      }
    }
    this.count(`mmio read 0x${(phys & ~0xfff).toString(16)}`);
    return ones(size);
  }

  mmioWrite(phys: number, size: 1 | 2 | 4, value: number): void {
    for (const dev of this.mmio) {
      if (dev.claims(phys)) {
        dev.write(phys, size, value);
        return;
      }
    }
    const at = (phys >>> 0) - this.romBase;
    if (this.rom !== null && at >= 0 && at < this.rom.length) return; // ROM
    this.count(`mmio write 0x${(phys & ~0xfff).toString(16)}`);
  }

  private count(key: string): void {
    const u = this.unassigned;
    u.total++;
    const n = u.byPort.get(key);
    if (n !== undefined) u.byPort.set(key, n + 1);
    else if (u.byPort.size < MAX_TRACKED) u.byPort.set(key, 1);
  }
}
