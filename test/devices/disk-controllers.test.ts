/**
 * The disk controllers through their ports, as a driver programs them: virtio-blk over the
 * legacy virtio PCI transport (found by PCI configuration, a split virtqueue set up in guest
 * RAM, direct and indirect descriptors; virtio 1.x §4.1.4.8, §2.7, §5.2) and the PIIX IDE
 * channel (software reset signature, IDENTIFY DEVICE, PIO data-in/data-out with 28- and 48-bit
 * addresses, FLUSH CACHE; ATA/ATAPI-7). Data is checked in the image file itself.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockError } from '../../runtime/block/backend.ts';
import { RawImage } from '../../runtime/block/raw.ts';
import { PciHost } from '../../runtime/devices/pci.ts';
import { DualPic } from '../../runtime/devices/pic.ts';
import { PcBus } from '../../runtime/pc/bus.ts';
import { attachDisks } from '../../runtime/pc/storage.ts';
import type { PcDisk } from '../../runtime/pc/storage.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmvisor-disks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => (k * 31 + seed * 7 + (k >> 8)) & 0xff);
}

function machine(disks: { size: number; interface: 'virtio' | 'ide'; readOnly?: boolean }[]) {
  const bus = new PcBus();
  const pic = new DualPic();
  const pci = new PciHost();
  bus.map(0xcf8, 8, pci);
  const ram = new Uint8Array(1 << 20);
  const written: number[] = [];
  const files: string[] = [];
  const pcDisks: PcDisk[] = disks.map((d, k) => {
    const file = join(dir, `disk-${Math.random().toString(36).slice(2)}-${k}.raw`);
    writeFileSync(file, new Uint8Array(d.size));
    files.push(file);
    return { backend: new RawImage(file, { readOnly: d.readOnly ?? false }), interface: d.interface };
  });
  const storage = attachDisks(pcDisks, { pci, io: bus, pic, mem: { ram, written: (a) => written.push(a) } });
  const cfg = (dev: number, fn: number, off: number): number => {
    bus.portOut(0xcf8, 4, (0x80000000 | (dev << 11) | (fn << 8) | off) | 0);
    return bus.portIn(0xcfc, 4) >>> 0;
  };
  const irq = (line: number): boolean => ((line < 8 ? pic.state.master.lines : pic.state.slave.lines) & (1 << (line & 7))) !== 0;
  return { bus, pic, pci, ram, written, files, storage, cfg, irq, dv: new DataView(ram.buffer) };
}

describe('virtio-blk (legacy virtio PCI)', () => {
  it('is found on the PCI bus, takes requests through its virtqueue, and writes through to the file', () => {
    const m = machine([{ size: 64 * 1024, interface: 'virtio' }]);
    expect(m.cfg(3, 0, 0)).toBe(0x10011af4);
    expect(m.cfg(3, 0, 0x2c)).toBe(0x00021af4); // subsystem: virtio device type 2 (block)
    const bar = m.cfg(3, 0, 0x10);
    expect(bar & 1).toBe(1);
    const io = bar & ~3;
    expect(m.cfg(3, 0, 0x3c) & 0xffff).toBe(0x010b); // INTA#, IRQ 11
    // Sizing the BAR: all ones read back as the size mask.
    m.bus.portOut(0xcf8, 4, 0x80001810 | 0);
    m.bus.portOut(0xcfc, 4, -1);
    const mask = m.bus.portIn(0xcfc, 4) >>> 0;
    expect(mask & 0xffff).toBe(0xffc1);
    m.bus.portOut(0xcfc, 4, io | 1);

    const features = m.bus.portIn(io, 4) >>> 0;
    expect(features & (1 << 9)).not.toBe(0); // VIRTIO_BLK_F_FLUSH
    expect(features & (1 << 5)).toBe(0); // not read-only
    expect(m.bus.portIn(io + 0x14, 4) + m.bus.portIn(io + 0x18, 4) * 2 ** 32).toBe(128); // capacity in sectors
    m.bus.portOut(io + 0x12, 1, 1 | 2);
    m.bus.portOut(io + 0x04, 4, features);
    m.bus.portOut(io + 0x0e, 2, 0);
    const qsize = m.bus.portIn(io + 0x0c, 2);
    expect(qsize).toBe(256);
    const ringBase = 0x10000;
    m.bus.portOut(io + 0x08, 4, ringBase >> 12);
    m.bus.portOut(io + 0x12, 1, 1 | 2 | 4);
    const desc = ringBase;
    const avail = desc + 16 * qsize;
    const used = Math.ceil((avail + 6 + 2 * qsize) / 4096) * 4096;
    const dv = m.dv;
    const setDesc = (table: number, i: number, addr: number, len: number, flags: number, next: number): void => {
      dv.setBigUint64(table + 16 * i, BigInt(addr), true);
      dv.setUint32(table + 16 * i + 8, len, true);
      dv.setUint16(table + 16 * i + 12, flags, true);
      dv.setUint16(table + 16 * i + 14, next, true);
    };
    let availIdx = 0;
    const submit = (head: number): { len: number; status: number } => {
      dv.setUint16(avail + 4 + 2 * (availIdx % qsize), head, true);
      availIdx++;
      dv.setUint16(avail + 2, availIdx, true);
      const usedBefore = dv.getUint16(used + 2, true);
      m.bus.portOut(io + 0x10, 2, 0);
      expect(dv.getUint16(used + 2, true)).toBe(usedBefore + 1);
      expect(dv.getUint32(used + 4 + 8 * (usedBefore % qsize), true)).toBe(head);
      return { len: dv.getUint32(used + 4 + 8 * (usedBefore % qsize) + 4, true), status: -1 };
    };
    const header = (at: number, type: number, sector: number): void => {
      dv.setUint32(at, type, true);
      dv.setUint32(at + 4, 0, true);
      dv.setBigUint64(at + 8, BigInt(sector), true);
    };

    // A write of two sectors at sector 3: header, data, status (direct descriptors).
    const data = bytes(1024, 1);
    header(0x20000, 1, 3);
    m.ram.set(data, 0x21000);
    m.ram[0x22000] = 0xff;
    setDesc(desc, 0, 0x20000, 16, 1, 1);
    setDesc(desc, 1, 0x21000, 1024, 1, 2);
    setDesc(desc, 2, 0x22000, 1, 2, 0);
    expect(submit(0).len).toBe(1);
    expect(m.ram[0x22000]).toBe(0);
    expect(new Uint8Array(readFileSync(m.files[0])).subarray(3 * 512, 5 * 512)).toEqual(data);
    // The interrupt: ISR bit 0, IRQ 11 up; reading the ISR clears both.
    expect(m.irq(11)).toBe(true);
    expect(m.bus.portIn(io + 0x13, 1)).toBe(1);
    expect(m.irq(11)).toBe(false);
    expect(m.bus.portIn(io + 0x13, 1)).toBe(0);

    // A read of the same sectors through an indirect table, into two buffers.
    const table = 0x23000;
    header(0x20000, 0, 3);
    setDesc(table, 0, 0x20000, 16, 1, 1);
    setDesc(table, 1, 0x24000, 600, 1 | 2, 2);
    setDesc(table, 2, 0x25000, 424, 1 | 2, 3);
    setDesc(table, 3, 0x22000, 1, 2, 0);
    setDesc(desc, 5, table, 64, 4, 0);
    m.ram[0x22000] = 0xff;
    expect(submit(5).len).toBe(1025);
    expect(m.ram[0x22000]).toBe(0);
    expect(m.ram.subarray(0x24000, 0x24000 + 600)).toEqual(data.subarray(0, 600));
    expect(m.ram.subarray(0x25000, 0x25000 + 424)).toEqual(data.subarray(600));
    // Pages the device wrote are reported (translated code there must go).
    expect(m.written).toContain(0x24000);

    // Flush, an unknown request type, and a read past the end.
    for (const [type, sector, status] of [[4, 0, 0], [99, 0, 2], [0, 127, 1]] as const) {
      header(0x20000, type, sector);
      setDesc(desc, 7, 0x20000, 16, 1, 8);
      setDesc(desc, 8, 0x24000, 1024, 1 | 2, 9);
      setDesc(desc, 9, 0x22000, 1, 2, 0);
      if (type === 4) setDesc(desc, 7, 0x20000, 16, 1, 9);
      submit(7);
      expect(m.ram[0x22000], `type ${type}`).toBe(status);
    }
    // With VRING_AVAIL_F_NO_INTERRUPT the device does not interrupt.
    m.bus.portIn(io + 0x13, 1);
    dv.setUint16(avail, 1, true);
    header(0x20000, 4, 0);
    setDesc(desc, 7, 0x20000, 16, 1, 9);
    submit(7);
    expect(m.irq(11)).toBe(false);
    // Reset (status 0) forgets the queue.
    m.bus.portOut(io + 0x12, 1, 0);
    expect(m.bus.portIn(io + 0x08, 4)).toBe(0);
  });

  it('offers VIRTIO_BLK_F_RO for a read-only drive and fails its writes with IOERR', () => {
    const m = machine([{ size: 8192, interface: 'virtio', readOnly: true }]);
    const io = m.cfg(3, 0, 0x10) & ~3;
    expect(m.bus.portIn(io, 4) & (1 << 5)).not.toBe(0);
    expect(m.storage.virtio[0].disk.readOnly).toBe(true);
  });
});

describe('PIIX IDE, primary channel', () => {
  it('resets to the ATA signature, identifies, and moves sectors in and out by PIO', () => {
    const size = 2 * 1024 * 1024;
    const m = machine([{ size, interface: 'ide' }]);
    expect(m.cfg(1, 1, 0)).toBe(0x70108086);
    expect(m.cfg(1, 1, 8) >>> 8).toBe(0x010180);
    const { bus } = m;
    const status = (): number => bus.portIn(0x1f7, 1);
    // Software reset through device control.
    bus.portOut(0x3f6, 1, 0x04);
    expect(bus.portIn(0x3f6, 1) & 0x80).toBe(0x80);
    bus.portOut(0x3f6, 1, 0x00);
    expect([bus.portIn(0x1f2, 1), bus.portIn(0x1f3, 1), bus.portIn(0x1f4, 1), bus.portIn(0x1f5, 1)]).toEqual([1, 1, 0, 0]);
    expect(status()).toBe(0x50);
    // No slave: the selected device reads as absent.
    bus.portOut(0x1f6, 1, 0xb0);
    expect(status()).toBe(0);
    bus.portOut(0x1f6, 1, 0xa0);

    // IDENTIFY DEVICE.
    bus.portOut(0x1f7, 1, 0xec);
    expect(m.irq(14)).toBe(true);
    expect(bus.portIn(0x3f6, 1) & 0x08).toBe(0x08);
    expect(m.irq(14)).toBe(true);
    expect(status() & 0x08).toBe(0x08);
    expect(m.irq(14)).toBe(false);
    const id = Array.from({ length: 256 }, () => bus.portIn(0x1f0, 2));
    expect(status()).toBe(0x50);
    expect(id[60] | (id[61] << 16)).toBe(size / 512);
    expect(id[100] | (id[101] << 16)).toBe(size / 512);
    expect(id[83] & 0x0400).toBe(0x0400); // 48-bit addresses
    const model = id.slice(27, 47).map((w) => String.fromCharCode(w >> 8, w & 0xff)).join('').trim();
    expect(model).toBe('WASMVISOR HARDDISK');

    // WRITE SECTORS (LBA28): 2 sectors at LBA 5, one DRQ block each.
    const data = bytes(1024, 9);
    bus.portOut(0x1f6, 1, 0xe0);
    bus.portOut(0x1f2, 1, 2);
    bus.portOut(0x1f3, 1, 5);
    bus.portOut(0x1f4, 1, 0);
    bus.portOut(0x1f5, 1, 0);
    bus.portOut(0x1f7, 1, 0x30);
    expect(status() & 0x08).toBe(0x08);
    expect(m.irq(14)).toBe(false); // no interrupt before the first data-out block
    for (let k = 0; k < 256; k++) bus.portOut(0x1f0, 2, data[2 * k] | (data[2 * k + 1] << 8));
    expect(m.irq(14)).toBe(true);
    expect(status() & 0x08).toBe(0x08);
    for (let k = 256; k < 512; k++) bus.portOut(0x1f0, 2, data[2 * k] | (data[2 * k + 1] << 8));
    expect(m.irq(14)).toBe(true);
    expect(status()).toBe(0x50);
    expect(new Uint8Array(readFileSync(m.files[0])).subarray(5 * 512, 7 * 512)).toEqual(data);

    // READ SECTORS EXT: the same two sectors by a 48-bit address (high bytes written first).
    for (const [port, hob, cur] of [[0x1f2, 0, 2], [0x1f3, 0, 5], [0x1f4, 0, 0], [0x1f5, 0, 0]]) {
      bus.portOut(port, 1, hob);
      bus.portOut(port, 1, cur);
    }
    bus.portOut(0x1f6, 1, 0x40);
    bus.portOut(0x1f7, 1, 0x24);
    const back = new Uint8Array(1024);
    for (let k = 0; k < 512; k++) {
      if (k % 256 === 0) expect(status() & 0x08, `DRQ before block ${k / 256}`).toBe(0x08);
      const w = bus.portIn(0x1f0, 2);
      back[2 * k] = w & 0xff;
      back[2 * k + 1] = w >> 8;
    }
    expect(back).toEqual(data);
    expect(status()).toBe(0x50);

    // FLUSH CACHE EXT, then a command it does not know (IDENTIFY PACKET DEVICE) is aborted.
    // The first interrupt goes unacknowledged (no status read): the next command's interrupt
    // must still be a new edge for the PIC (IRQ 14 is edge-triggered).
    bus.portOut(0x1f7, 1, 0xe7);
    expect(m.irq(14)).toBe(true);
    m.pic.state.slave.irr = 0;
    bus.portOut(0x1f7, 1, 0xea);
    expect(m.irq(14)).toBe(true);
    expect(m.pic.state.slave.irr & (1 << 6)).not.toBe(0);
    expect(status()).toBe(0x50);
    bus.portOut(0x1f7, 1, 0xa1);
    expect(status()).toBe(0x51);
    expect(bus.portIn(0x1f1, 1)).toBe(0x04);
    // A read beyond the disk: IDNF.
    bus.portOut(0x1f6, 1, 0xe0);
    bus.portOut(0x1f2, 1, 1);
    bus.portOut(0x1f3, 1, 0);
    bus.portOut(0x1f4, 1, 0x10);
    bus.portOut(0x1f5, 1, 0);
    bus.portOut(0x1f7, 1, 0x20);
    expect(status() & 0x01).toBe(1);
  });

  it('honours FLUSH CACHE and FLUSH CACHE EXT with the backend\'s flush, after the data written before them, and aborts when it fails', () => {
    const m = machine([{ size: 64 * 1024, interface: 'ide' }]);
    const { bus } = m;
    const disk = m.storage.ide!.disks[0]!;
    const log: string[] = [];
    const write = disk.write.bind(disk);
    const flush = disk.flush.bind(disk);
    disk.write = (offset, src) => {
      log.push(`write ${offset}`);
      write(offset, src);
    };
    disk.flush = () => {
      log.push('flush');
      flush();
    };
    bus.portOut(0x1f6, 1, 0xe0);
    bus.portOut(0x1f2, 1, 1);
    bus.portOut(0x1f3, 1, 3);
    bus.portOut(0x1f4, 1, 0);
    bus.portOut(0x1f5, 1, 0);
    bus.portOut(0x1f7, 1, 0x30);
    for (let k = 0; k < 256; k++) bus.portOut(0x1f0, 2, 0x1234);
    bus.portOut(0x1f7, 1, 0xe7);
    expect(bus.portIn(0x1f7, 1)).toBe(0x50);
    bus.portOut(0x1f7, 1, 0xea);
    expect(bus.portIn(0x1f7, 1)).toBe(0x50);
    expect(log).toEqual(['write 1536', 'flush', 'flush']);
    expect(m.storage.ide!.counts.flush).toBe(2);
    disk.flush = () => {
      throw new BlockError('fdatasync: EIO');
    };
    bus.portOut(0x1f7, 1, 0xe7);
    expect(m.irq(14)).toBe(true);
    expect(bus.portIn(0x1f7, 1)).toBe(0x51);
    expect(bus.portIn(0x1f1, 1)).toBe(0x04);
  });

  it('moves sectors by bus-master DMA through a descriptor table (READ/WRITE DMA, 28- and 48-bit)', () => {
    const m = machine([{ size: 256 * 1024, interface: 'ide' }]);
    const { bus, dv, ram } = m;
    // BAR4: the bus-master registers, I/O, decoded where the BIOS put them; bus mastering on.
    const bar4 = m.cfg(1, 1, 0x20);
    expect(bar4 & 1).toBe(1);
    const bm = bar4 & ~3;
    expect(m.cfg(1, 1, 0x04) & 0x05).toBe(0x05);
    // IDENTIFY: DMA supported, multiword DMA 0-2 with mode 2 selected; SET FEATURES selects mode 1.
    bus.portOut(0x1f6, 1, 0xa0);
    bus.portOut(0x1f7, 1, 0xec);
    let id = Array.from({ length: 256 }, () => bus.portIn(0x1f0, 2));
    expect(id[49] & 0x0100).toBe(0x0100);
    expect(id[63]).toBe(0x0407);
    bus.portOut(0x1f1, 1, 0x03);
    bus.portOut(0x1f2, 1, 0x21);
    bus.portOut(0x1f7, 1, 0xef);
    expect(bus.portIn(0x1f7, 1)).toBe(0x50);
    bus.portOut(0x1f7, 1, 0xec);
    id = Array.from({ length: 256 }, () => bus.portIn(0x1f0, 2));
    expect(id[63]).toBe(0x0207);
    bus.portOut(0x1f2, 1, 0x45); // Ultra DMA 5: not offered
    bus.portOut(0x1f1, 1, 0x03);
    bus.portOut(0x1f7, 1, 0xef);
    expect(bus.portIn(0x1f7, 1)).toBe(0x51);

    // WRITE DMA of 3 sectors at LBA 7 from two regions (1000 + 536 bytes); the table at 0x8000.
    const data = bytes(1536, 5);
    ram.set(data.subarray(0, 1000), 0x10000);
    ram.set(data.subarray(1000), 0x20000);
    const prd = (at: number, entries: [number, number, boolean][]): void => entries.forEach(([addr, len, end], k) => {
      dv.setUint32(at + 8 * k, addr, true);
      dv.setUint32(at + 8 * k + 4, (len & 0xffff) | (end ? 0x80000000 : 0), true);
    });
    prd(0x8000, [[0x10000, 1000, false], [0x20000, 536, true]]);
    bus.portOut(bm + 4, 4, 0x8000);
    bus.portOut(bm, 1, 0x00); // direction: from memory
    bus.portOut(bm + 2, 1, 0x06); // clear interrupt and error
    const lba28 = (lba: number, n: number): void => {
      bus.portOut(0x1f6, 1, 0xe0 | ((lba >> 24) & 0xf));
      bus.portOut(0x1f2, 1, n);
      bus.portOut(0x1f3, 1, lba & 0xff);
      bus.portOut(0x1f4, 1, (lba >> 8) & 0xff);
      bus.portOut(0x1f5, 1, (lba >> 16) & 0xff);
    };
    lba28(7, 3);
    bus.portOut(0x1f7, 1, 0xca);
    expect(m.irq(14)).toBe(false); // nothing moves before the start bit
    expect(bus.portIn(0x3f6, 1) & 0x80).toBe(0x80);
    bus.portOut(bm, 1, 0x01);
    expect(m.irq(14)).toBe(true);
    expect(bus.portIn(bm + 2, 1) & 0x07).toBe(0x04); // interrupt, not active, no error
    bus.portOut(bm, 1, 0x00);
    expect(bus.portIn(0x1f7, 1)).toBe(0x50);
    expect(m.irq(14)).toBe(false);
    expect(new Uint8Array(readFileSync(m.files[0])).subarray(7 * 512, 10 * 512)).toEqual(data);
    bus.portOut(bm + 2, 1, 0x04);
    expect(bus.portIn(bm + 2, 1) & 0x04).toBe(0);

    // READ DMA EXT of the same sectors, start bit first, into one region through a table longer
    // than the transfer: the data arrives, the bus master stays active, the pages are reported.
    for (const [port, hob, cur] of [[0x1f2, 0, 3], [0x1f3, 0, 7], [0x1f4, 0, 0], [0x1f5, 0, 0]]) {
      bus.portOut(port, 1, hob);
      bus.portOut(port, 1, cur);
    }
    bus.portOut(0x1f6, 1, 0x40);
    prd(0x8100, [[0x30000, 0, true]]); // 0 = 64 KiB
    bus.portOut(bm + 4, 4, 0x8100);
    bus.portOut(bm, 1, 0x09); // start, into memory
    bus.portOut(0x1f7, 1, 0x25);
    expect(m.irq(14)).toBe(true);
    expect(bus.portIn(bm + 2, 1) & 0x07).toBe(0x05);
    expect(ram.subarray(0x30000, 0x30000 + 1536)).toEqual(data);
    expect(m.written).toContain(0x30000);
    bus.portOut(bm, 1, 0x08);
    expect(bus.portIn(bm + 2, 1) & 0x01).toBe(0);
    expect(bus.portIn(0x1f7, 1)).toBe(0x50);

    // A table shorter than the transfer, and a direction that does not match: errors.
    bus.portOut(bm + 2, 1, 0x06);
    prd(0x8200, [[0x30000, 512, true]]);
    bus.portOut(bm + 4, 4, 0x8200);
    lba28(0, 2);
    bus.portOut(0x1f7, 1, 0xc8);
    bus.portOut(bm, 1, 0x09);
    expect(bus.portIn(bm + 2, 1) & 0x07).toBe(0x06);
    expect(bus.portIn(0x1f7, 1) & 0x01).toBe(1);
    bus.portOut(bm, 1, 0x00);
    bus.portOut(bm + 2, 1, 0x06);
    lba28(0, 1);
    bus.portOut(0x1f7, 1, 0xc8); // a read, with the bus master set to read from memory
    bus.portOut(bm, 1, 0x01);
    expect(bus.portIn(bm + 2, 1) & 0x07).toBe(0x06);
    expect(bus.portIn(0x1f7, 1) & 0x01).toBe(1);
  });
});
