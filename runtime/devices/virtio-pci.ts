/**
 * The legacy (virtio 0.9.5, "transitional") virtio PCI transport: one I/O BAR holding the common
 * registers and the device's configuration, split virtqueues in the legacy layout, and an INTx
 * interrupt with an ISR register that is cleared by reading it. Linux's virtio_pci binds it
 * through its legacy path (device IDs 0x1000–0x103F, subsystem ID = virtio device type). Facts
 * from the virtio 1.x specification, §4.1.4.8 (legacy interfaces) and §2.7 (split virtqueues).
 *
 *   BAR0 + 0x00  u32 device features       0x0C  u16 queue size (read-only)
 *          0x04  u32 driver features       0x0E  u16 queue select
 *          0x08  u32 queue PFN (4 KiB)     0x10  u16 queue notify
 *          0x12  u8  device status         0x13  u8  ISR (read clears; bit 0 = used buffers)
 *          0x14  device configuration (no MSI-X)
 *
 * Requests complete synchronously inside the guest's notify write: the device walks the
 * available ring, hands each descriptor chain (indirect tables included) to the device model,
 * fills the used ring, and raises the interrupt unless the driver asked for none. All state is
 * in one plain object (`state`).
 */
import { dmaView } from './dma.ts';
import type { DmaMemory } from './dma.ts';
import type { IrqSink, PortDevice } from './io.ts';

/** VIRTIO_F_RING_INDIRECT_DESC (§2.7.5.3): descriptor tables in guest memory. */
export const VIRTIO_F_INDIRECT_DESC = 1 << 28;
/** Bytes of common registers before the device configuration (legacy, no MSI-X). */
const CONFIG_OFFSET = 0x14;
const QUEUE_ALIGN = 4096;
const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

/** One buffer of a descriptor chain: guest physical address, length, device-writable or not. */
export interface VirtioBuffer {
  addr: number;
  len: number;
  write: boolean;
}

/** The device model behind the transport. */
export interface VirtioDeviceModel {
  /** Device feature bits (the low 32: legacy). */
  readonly features: number;
  /** Number of virtqueues. */
  readonly queues: number;
  /** The device configuration bytes (read by the driver at BAR0 + 0x14). */
  config(): Uint8Array;
  /** Handles one descriptor chain of queue `queue`; returns the bytes written into device-writable buffers. */
  request(queue: number, chain: VirtioBuffer[]): number;
  /** The driver reset the device. */
  reset(): void;
}

export interface VirtqueueState {
  /** Guest physical page number of the ring (0: not set up). */
  pfn: number;
  size: number;
  /** The next available-ring index to take. */
  lastAvail: number;
}

export interface VirtioPciState {
  driverFeatures: number;
  queueSelect: number;
  status: number;
  isr: number;
  queues: VirtqueueState[];
}

export class VirtioPciLegacy implements PortDevice {
  readonly state: VirtioPciState;
  /** Requests handled (diagnostics). */
  requests = 0;

  constructor(
    private readonly model: VirtioDeviceModel,
    private readonly mem: DmaMemory,
    private readonly irq: IrqSink,
    private readonly irqLine: number,
    queueSize = 256,
  ) {
    this.state = { driverFeatures: 0, queueSelect: 0, status: 0, isr: 0, queues: Array.from({ length: model.queues }, () => ({ pfn: 0, size: queueSize, lastAvail: 0 })) };
  }

  /** Bytes the BAR decodes: the registers and the configuration, rounded up to a power of two. */
  barSize(): number {
    let n = 4;
    while (n < CONFIG_OFFSET + this.model.config().length) n *= 2;
    return n;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const s = this.state;
    if (port >= CONFIG_OFFSET) {
      const c = this.model.config();
      let v = 0;
      for (let k = 0; k < size; k++) v |= (c[port - CONFIG_OFFSET + k] ?? 0) << (8 * k);
      return size === 4 ? v >>> 0 : v;
    }
    const q = s.queues[s.queueSelect];
    switch (port) {
      case 0x00: return this.model.features >>> 0;
      case 0x04: return s.driverFeatures >>> 0;
      case 0x08: return q?.pfn ?? 0;
      case 0x0c: return q?.size ?? 0;
      case 0x0e: return s.queueSelect;
      case 0x12: return s.status;
      case 0x13: {
        const v = s.isr;
        s.isr = 0;
        this.irq.setIrq(this.irqLine, false);
        return v;
      }
      default: return 0;
    }
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    const s = this.state;
    switch (port) {
      case 0x04: s.driverFeatures = value & this.model.features; break;
      case 0x08: {
        const q = s.queues[s.queueSelect];
        if (q) {
          q.pfn = value >>> 0;
          q.lastAvail = 0;
        }
        break;
      }
      case 0x0e: s.queueSelect = value & 0xffff; break;
      case 0x10: this.notify(value & 0xffff); break;
      case 0x12:
        s.status = value & 0xff;
        if (s.status === 0) this.reset();
        break;
      default: break;
    }
    void size;
  }

  private reset(): void {
    const s = this.state;
    s.driverFeatures = 0;
    s.queueSelect = 0;
    s.isr = 0;
    for (const q of s.queues) {
      q.pfn = 0;
      q.lastAvail = 0;
    }
    this.irq.setIrq(this.irqLine, false);
    this.model.reset();
  }

  /** Processes every new available buffer of queue `index`. */
  private notify(index: number): void {
    const q = this.state.queues[index];
    if (!q || q.pfn === 0) return;
    const n = q.size;
    const desc = q.pfn * QUEUE_ALIGN;
    const avail = desc + 16 * n;
    const used = Math.ceil((avail + 6 + 2 * n) / QUEUE_ALIGN) * QUEUE_ALIGN;
    const ring = dmaView(this.mem, desc, used + 6 + 8 * n - desc);
    const dv = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
    const availIdx = dv.getUint16(avail - desc + 2, true);
    let done = 0;
    while (q.lastAvail !== availIdx) {
      const head = dv.getUint16(avail - desc + 4 + 2 * (q.lastAvail % n), true);
      let written = 0;
      try {
        written = this.model.request(index, this.chain(dv, n, head));
      } catch (e) {
        // A malformed chain (outside RAM, looping): returned unused, as a device that gives up on it.
        if (!(e instanceof RangeError)) throw e;
      }
      const usedIdx = dv.getUint16(used - desc + 2, true);
      const slot = used - desc + 4 + 8 * (usedIdx % n);
      dv.setUint32(slot, head, true);
      dv.setUint32(slot + 4, written, true);
      dv.setUint16(used - desc + 2, (usedIdx + 1) & 0xffff, true);
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      done++;
      this.requests++;
    }
    if (!done) return;
    this.mem.written(used, 6 + 8 * n);
    if (!(dv.getUint16(avail - desc, true) & AVAIL_F_NO_INTERRUPT)) {
      this.state.isr |= 1;
      this.irq.setIrq(this.irqLine, true);
    }
  }

  /** The buffers of the chain starting at descriptor `head` (following one indirect table). */
  private chain(ring: DataView, n: number, head: number): VirtioBuffer[] {
    const out: VirtioBuffer[] = [];
    let table = ring;
    let tableSize = n;
    let i = head;
    for (let guard = 0; guard <= n + 1024; guard++) {
      if (i >= tableSize) throw new RangeError(`virtqueue: descriptor index ${i} out of range`);
      const at = 16 * i;
      const addr = Number(table.getBigUint64(at, true));
      const len = table.getUint32(at + 8, true);
      const flags = table.getUint16(at + 12, true);
      const next = table.getUint16(at + 14, true);
      if (flags & DESC_F_INDIRECT && table === ring) {
        const t = dmaView(this.mem, addr, len);
        table = new DataView(t.buffer, t.byteOffset, t.byteLength);
        tableSize = Math.floor(len / 16);
        i = 0;
        continue;
      }
      out.push({ addr, len, write: (flags & DESC_F_WRITE) !== 0 });
      if (!(flags & DESC_F_NEXT)) return out;
      i = next;
    }
    throw new RangeError('virtqueue: descriptor chain loops');
  }
}
