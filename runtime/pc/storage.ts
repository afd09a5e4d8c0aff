/**
 * The PC's disks: each drive's backend (runtime/block) behind the controller its interface names,
 * wired as a BIOS would leave them on an i440FX/PIIX3 board.
 *
 *   virtio  virtio-blk PCI functions 00:03.0, 00:04.0, …: I/O BAR at 0xC000 + 0x40·n, INTA#
 *           wired to IRQ 11, 10, 5, 7 (one line each; set level-triggered in the ELCR, as a
 *           BIOS does for PCI interrupts). Linux names them /dev/vda, /dev/vdb, …
 *
 * The backends belong to the machine and outlive reboots; the controllers are rebuilt at each
 * boot around them.
 */
import type { BlockBackend } from '../block/backend.ts';
import type { DriveInterface } from '../block/drive.ts';
import type { DmaMemory } from '../devices/dma.ts';
import type { PciHost, PortMapper } from '../devices/pci.ts';
import type { DualPic } from '../devices/pic.ts';
import { VirtioBlk } from '../devices/virtio-blk.ts';

/** A drive as the machine takes it: an open backend and its interface. */
export interface PcDisk {
  backend: BlockBackend;
  interface: DriveInterface;
}

/** ISA IRQs of the virtio-blk functions, in order (the PCI interrupts a BIOS hands out). */
export const VIRTIO_BLK_IRQS = [11, 10, 5, 7] as const;
const VIRTIO_FIRST_SLOT = 3;
const VIRTIO_IO_BASE = 0xc000;
const VIRTIO_IO_STRIDE = 0x40;

export interface PcStorage {
  virtio: VirtioBlk[];
}

/** Throws unless the machine can attach `disks`. */
export function checkDisks(disks: readonly PcDisk[]): void {
  const virtio = disks.filter((d) => d.interface === 'virtio').length;
  if (virtio > VIRTIO_BLK_IRQS.length) throw new RangeError(`at most ${VIRTIO_BLK_IRQS.length} virtio disks (got ${virtio})`);
  for (const d of disks) if (d.interface !== 'virtio') throw new RangeError(`disk interface '${d.interface}' is not supported`);
}

/** Creates the controllers for `disks` and puts them on the PCI bus, the port bus and the PIC. */
export function attachDisks(disks: readonly PcDisk[], m: { pci: PciHost; io: PortMapper; pic: DualPic; mem: DmaMemory }): PcStorage {
  checkDisks(disks);
  const virtio: VirtioBlk[] = [];
  for (const d of disks.filter((x) => x.interface === 'virtio')) {
    const n = virtio.length;
    const irq = VIRTIO_BLK_IRQS[n];
    const blk = new VirtioBlk(d.backend, m.mem, m.pic, irq, `wasmvisor-vd${String.fromCharCode(0x61 + n)}`);
    m.pci.addFunction(blk.pciFunction(VIRTIO_FIRST_SLOT + n, VIRTIO_IO_BASE + VIRTIO_IO_STRIDE * n, irq), m.io);
    setLevelTriggered(m.pic, irq);
    virtio.push(blk);
  }
  return { virtio };
}

/** Marks ISA IRQ `irq` level-triggered in the PIIX ELCR (0x4D0/0x4D1), as a BIOS does for PCI lines. */
function setLevelTriggered(pic: DualPic, irq: number): void {
  const chip = irq < 8 ? pic.state.master : pic.state.slave;
  chip.elcr |= 1 << (irq & 7);
}
