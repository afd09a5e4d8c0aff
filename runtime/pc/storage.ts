/**
 * The PC's disks: each drive's backend (runtime/block) behind the controller its interface names,
 * wired as a BIOS would leave them on an i440FX/PIIX3 board.
 *
 *   virtio  virtio-blk PCI functions 00:03.0, 00:04.0, …: I/O BAR at 0xC000 + 0x40·n, INTA#
 *           wired to IRQ 11, 10, 5, 7 (one line each; set level-triggered in the ELCR, as a
 *           BIOS does for PCI interrupts). Linux names them /dev/vda, /dev/vdb, …
 *   ide     the PIIX3 IDE function 00:01.1 in compatibility mode: primary channel master and
 *           slave (ports 0x1F0–0x1F7, 0x3F6, IRQ 14), PIO and bus-master DMA (BAR4 at 0xC100).
 *           Linux's ata_piix + sd_mod name them /dev/sda, /dev/sdb. Present only when there are
 *           IDE disks.
 *
 * The backends belong to the machine and outlive reboots; the controllers are rebuilt at each
 * boot around them.
 */
import type { BlockBackend } from '../block/backend.ts';
import type { DriveInterface } from '../block/drive.ts';
import type { DmaMemory } from '../devices/dma.ts';
import type { PciHost, PortMapper } from '../devices/pci.ts';
import type { DualPic } from '../devices/pic.ts';
import { IDE_CMD_BASE, IDE_CTL_PORT, IdeChannel } from '../devices/ide.ts';
import { VirtioBlk } from '../devices/virtio-blk.ts';

/** A drive as the machine takes it: an open backend and its interface. */
export interface PcDisk {
  backend: BlockBackend;
  interface: DriveInterface;
}

/** ISA IRQs of the virtio-blk functions, in order (the PCI interrupts a BIOS hands out). */
export const VIRTIO_BLK_IRQS = [11, 10, 5, 7] as const;
/** The PCI device number of the first virtio-blk function (the next ones follow). */
export const VIRTIO_FIRST_SLOT = 3;
const VIRTIO_IO_BASE = 0xc000;
const VIRTIO_IO_STRIDE = 0x40;

/** IDE disks: the primary channel's master and slave. */
const IDE_MAX = 2;

export interface PcStorage {
  virtio: VirtioBlk[];
  ide: IdeChannel | null;
}

/** Throws unless the machine can attach disks with these interfaces. */
export function checkDisks(disks: readonly Pick<PcDisk, 'interface'>[]): void {
  const virtio = disks.filter((d) => d.interface === 'virtio').length;
  if (virtio > VIRTIO_BLK_IRQS.length) throw new RangeError(`at most ${VIRTIO_BLK_IRQS.length} virtio disks (got ${virtio})`);
  const ide = disks.filter((d) => d.interface === 'ide').length;
  if (ide > IDE_MAX) throw new RangeError(`at most ${IDE_MAX} IDE disks (got ${ide})`);
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
  const ideDisks = disks.filter((x) => x.interface === 'ide').map((d) => d.backend);
  let ide: IdeChannel | null = null;
  if (ideDisks.length) {
    ide = new IdeChannel(ideDisks, m.pic, m.mem);
    m.pci.addFunction(ide.pciFunction(), m.io);
    m.io.map(IDE_CMD_BASE, 8, ide.commandPorts);
    m.io.map(IDE_CTL_PORT, 1, ide.controlPort);
  }
  return { virtio, ide };
}

/** Marks ISA IRQ `irq` level-triggered in the PIIX ELCR (0x4D0/0x4D1), as a BIOS does for PCI lines. */
function setLevelTriggered(pic: DualPic, irq: number): void {
  const chip = irq < 8 ? pic.state.master : pic.state.slave;
  chip.elcr |= 1 << (irq & 7);
}
