/**
 * virtio-blk (virtio 1.x specification §5.2) over the legacy PCI transport (virtio-pci.ts):
 * what Linux's virtio_blk sees as /dev/vda. One request queue; requests are a 16-byte header
 * (type, reserved, sector), data buffers, and a status byte the device writes last. Reads go
 * from the block backend straight into guest RAM, writes straight from it, so no copy of the
 * data is made. Types: IN, OUT, FLUSH (VIRTIO_BLK_F_FLUSH: the backend's flush, i.e. fdatasync),
 * GET_ID (the serial number); anything else is answered UNSUPP. A failed backend operation is
 * answered IOERR. A write is reported done only after the backend wrote it to the host file.
 */
import { BlockError } from '../block/backend.ts';
import type { BlockBackend } from '../block/backend.ts';
import { dmaView } from './dma.ts';
import type { DmaMemory } from './dma.ts';
import type { IrqSink } from './io.ts';
import { VIRTIO_F_INDIRECT_DESC, VirtioPciLegacy } from './virtio-pci.ts';
import type { VirtioBuffer, VirtioDeviceModel } from './virtio-pci.ts';
import type { PciFunctionSpec } from './pci.ts';

const SECTOR = 512;
// Feature bits (§5.2.3).
const F_SEG_MAX = 1 << 2;
const F_RO = 1 << 5;
const F_BLK_SIZE = 1 << 6;
const F_FLUSH = 1 << 9;
// Request types and status values (§5.2.6).
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;
/** Segments per request the driver may use (the queue size less header and status). */
const SEG_MAX = 254;
const QUEUE_SIZE = 256;
const ID_BYTES = 20;

/** The PCI identity of a transitional virtio block device (§4.1.2.3). */
const PCI_VENDOR = 0x1af4;
const PCI_DEVICE_LEGACY_BLOCK = 0x1001;
const VIRTIO_ID_BLOCK = 2;
const PCI_CLASS_STORAGE_SCSI = 0x010000;

export class VirtioBlk implements VirtioDeviceModel {
  readonly features: number;
  readonly queues = 1;
  readonly transport: VirtioPciLegacy;
  /** Requests by type (diagnostics). */
  readonly counts = { read: 0, write: 0, flush: 0, other: 0, errors: 0 };
  private readonly cfg: Uint8Array;

  constructor(
    readonly disk: BlockBackend,
    private readonly mem: DmaMemory,
    irq: IrqSink,
    irqLine: number,
    private readonly serial = 'wasmvisor-disk',
  ) {
    this.features = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | VIRTIO_F_INDIRECT_DESC | (disk.readOnly ? F_RO : 0);
    // virtio_blk_config: capacity (u64, sectors), size_max, seg_max, geometry (4 bytes), blk_size.
    this.cfg = new Uint8Array(24);
    const dv = new DataView(this.cfg.buffer);
    dv.setBigUint64(0, BigInt(Math.floor(disk.size / SECTOR)), true);
    dv.setUint32(12, SEG_MAX, true);
    dv.setUint32(20, SECTOR, true);
    this.transport = new VirtioPciLegacy(this, mem, irq, irqLine, QUEUE_SIZE);
  }

  /** The PCI function to add at 00:`device`.0, with its I/O BAR at `ioBase`. */
  pciFunction(device: number, ioBase: number, irqLine: number): PciFunctionSpec {
    return {
      device,
      fn: 0,
      vendor: PCI_VENDOR,
      deviceId: PCI_DEVICE_LEGACY_BLOCK,
      classCode: PCI_CLASS_STORAGE_SCSI,
      revision: 0,
      subsystemVendor: PCI_VENDOR,
      subsystemId: VIRTIO_ID_BLOCK,
      ioBars: [{ index: 0, size: this.transport.barSize(), base: ioBase, regs: this.transport }],
      interrupt: { pin: 1, line: irqLine },
    };
  }

  config(): Uint8Array {
    return this.cfg;
  }

  reset(): void {}

  request(_queue: number, chain: VirtioBuffer[]): number {
    const status = chain[chain.length - 1];
    if (!status || !status.write || status.len < 1) throw new RangeError('virtio-blk: request without a status byte');
    const header = this.gather(chain.filter((b) => !b.write), 16);
    if (header.length < 16) throw new RangeError('virtio-blk: short request header');
    const hv = new DataView(header.buffer, header.byteOffset, 16);
    const type = hv.getUint32(0, true);
    const sector = Number(hv.getBigUint64(8, true));
    // The data buffers: readable ones after the header (OUT), writable ones before the status (IN).
    const dataOut = this.skip(chain.filter((b) => !b.write), 16);
    const dataIn = chain.slice(0, -1).filter((b) => b.write);
    let written = 0;
    let st = S_OK;
    try {
      switch (type) {
        case T_IN: {
          this.counts.read++;
          let pos = sector * SECTOR;
          for (const b of dataIn) {
            this.disk.read(pos, dmaView(this.mem, b.addr, b.len));
            this.mem.written(b.addr, b.len);
            pos += b.len;
            written += b.len;
          }
          break;
        }
        case T_OUT: {
          this.counts.write++;
          let pos = sector * SECTOR;
          for (const b of dataOut) {
            this.disk.write(pos, dmaView(this.mem, b.addr, b.len));
            pos += b.len;
          }
          break;
        }
        case T_FLUSH:
          this.counts.flush++;
          this.disk.flush();
          break;
        case T_GET_ID: {
          this.counts.other++;
          const id = new Uint8Array(ID_BYTES);
          id.set(new TextEncoder().encode(this.serial).subarray(0, ID_BYTES));
          let off = 0;
          for (const b of dataIn) {
            const n = Math.min(b.len, ID_BYTES - off);
            dmaView(this.mem, b.addr, n).set(id.subarray(off, off + n));
            this.mem.written(b.addr, n);
            off += n;
            written += b.len;
          }
          break;
        }
        default:
          this.counts.other++;
          st = S_UNSUPP;
      }
    } catch (e) {
      if (!(e instanceof BlockError) && !(e instanceof RangeError)) throw e;
      this.counts.errors++;
      st = S_IOERR;
    }
    dmaView(this.mem, status.addr + status.len - 1, 1)[0] = st;
    this.mem.written(status.addr + status.len - 1, 1);
    return written + 1;
  }

  /** The first `n` bytes of the buffers' concatenation. */
  private gather(bufs: VirtioBuffer[], n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    for (const b of bufs) {
      if (off >= n) break;
      const k = Math.min(b.len, n - off);
      out.set(dmaView(this.mem, b.addr, k), off);
      off += k;
    }
    return out.subarray(0, off);
  }

  /** The buffers' concatenation without its first `n` bytes. */
  private skip(bufs: VirtioBuffer[], n: number): VirtioBuffer[] {
    const out: VirtioBuffer[] = [];
    let left = n;
    for (const b of bufs) {
      if (left >= b.len) {
        left -= b.len;
        continue;
      }
      out.push({ addr: b.addr + left, len: b.len - left, write: b.write });
      left = 0;
    }
    return out;
  }
}
