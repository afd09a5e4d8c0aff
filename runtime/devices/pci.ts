/**
 * PCI configuration mechanism #1 (ports 0xCF8 address, 0xCFC–0xCFF data; PCI Local Bus
 * Specification 2.1, 3.2.2.3.2) with an i440FX-like host bridge at 00:00.0 and a PIIX3-like
 * PCI-to-ISA bridge at 00:01.0, plus the PIIX3 reset control register at port 0xCF9.
 *
 * Why PCI at all, with no PCI devices: the Debian 686 kernel (PCI_GOANY) probes for a
 * configuration mechanism and, finding none, logs "PCI: Fatal: No config space access function
 * found" at KERN_ERR — visible even with `quiet`. It then boots fine without PCI (QEMU's
 * PCI-less `-M isapc` shows the kernel needs nothing from it), so this is only the smallest bus
 * that makes the kernel's probe succeed the way it does on QEMU's `-M pc` (i440FX + PIIX3): two
 * bridges, no BARs, no interrupts. Also the place for 0xCF9, the reset register Linux's
 * `reboot=pci` (and its fallback chain) uses.
 *
 * Devices add functions of their own (`addFunction`: virtio-blk, the PIIX IDE controller) with
 * I/O BARs, which are decoded on the port bus wherever the command register's I/O enable and the
 * BAR put them (preassigned as a BIOS would, so Linux keeps them), and an interrupt pin wired to
 * an ISA IRQ that the Interrupt Line register names (and the DSDT's _PRT, pc/acpi-tables.ts); the
 * board drives that IRQ on the 8259As and the I/O APIC alike.
 *
 * Config space: the identity registers are read-only; the command register, cache line size,
 * latency timer, interrupt line and the device-specific area 0x40–0xFF are plain read/write
 * storage; BARs keep their size bits zero. Absent functions read all ones. All state lives in
 * one plain object (`state`); after replacing it, `remapBars()` decodes the BARs again.
 */
import type { PortDevice } from './io.ts';

/** Where I/O BARs are decoded: the machine's port bus. */
export interface PortMapper {
  map(first: number, count: number, dev: PortDevice): void;
  unmap(first: number, count: number, dev: PortDevice): void;
}

/** An I/O BAR of an added function: `regs` sees ports relative to the BAR's base. */
export interface PciIoBar {
  /** BAR number, 0–5. */
  index: number;
  /** Bytes decoded: a power of two, at least 4. */
  size: number;
  /** The address a BIOS would assign. */
  base: number;
  regs: PortDevice;
}

/** A PCI function a device adds to bus 0. */
export interface PciFunctionSpec {
  device: number;
  fn: number;
  vendor: number;
  deviceId: number;
  classCode: number;
  revision: number;
  subsystemVendor?: number;
  subsystemId?: number;
  ioBars?: readonly PciIoBar[];
  /** Interrupt pin (1 = INTA#) and the ISA IRQ it is wired to. */
  interrupt?: { pin: number; line: number };
  /** Device-specific configuration bytes (0x40–0xFF) at reset. */
  config?: Readonly<Record<number, number>>;
}

export interface PciFunctionState {
  device: number;
  fn: number;
  /** The 256-byte configuration space. */
  config: number[];
}

export interface PciState {
  /** CONFIG_ADDRESS (0xCF8) as last written (reserved bits cleared). */
  address: number;
  /** Reset control register (0xCF9). */
  rcr: number;
  functions: PciFunctionState[];
}

function makeFunction(device: number, fn: number, ids: { vendor: number; device: number; classCode: number; revision: number; headerType: number; command: number; status: number }): PciFunctionState {
  const c = new Array<number>(256).fill(0);
  const put16 = (off: number, v: number): void => {
    c[off] = v & 0xff;
    c[off + 1] = (v >> 8) & 0xff;
  };
  put16(0x00, ids.vendor);
  put16(0x02, ids.device);
  put16(0x04, ids.command);
  put16(0x06, ids.status);
  c[0x08] = ids.revision;
  c[0x09] = ids.classCode & 0xff;
  c[0x0a] = (ids.classCode >> 8) & 0xff;
  c[0x0b] = (ids.classCode >> 16) & 0xff;
  c[0x0e] = ids.headerType;
  return { device, fn, config: c };
}

/** Bytes of config space the guest may write: command, CLS, latency, interrupt line, 0x40+ (BARs apart). */
function writable(off: number): boolean {
  return off === 0x04 || off === 0x05 || off === 0x0c || off === 0x0d || off === 0x3c || off >= 0x40;
}

/** A registered I/O BAR and where it is decoded now (-1: nowhere). */
interface BarSlot {
  fn: PciFunctionState;
  bar: PciIoBar;
  mapped: number;
  window: PortDevice;
}

export class PciHost implements PortDevice {
  readonly state: PciState;
  /** The guest asked for a reset through 0xCF9. */
  onReset: () => void = () => {};

  constructor() {
    const host = makeFunction(0, 0, { vendor: 0x8086, device: 0x1237, classCode: 0x060000, revision: 0x02, headerType: 0x00, command: 0x0006, status: 0x0280 });
    const isa = makeFunction(1, 0, { vendor: 0x8086, device: 0x7000, classCode: 0x060100, revision: 0x00, headerType: 0x80, command: 0x0007, status: 0x0200 });
    // PIIX3 PIRQ route control registers: routing disabled at reset.
    for (let k = 0x60; k <= 0x63; k++) isa.config[k] = 0x80;
    this.state = { address: 0, rcr: 0, functions: [host, isa] };
  }

  private readonly bars: BarSlot[] = [];
  private io: PortMapper | null = null;

  /** Adds a function on bus 0 with its I/O BARs decoded on `io` (ports) as a BIOS left them. */
  addFunction(spec: PciFunctionSpec, io: PortMapper): void {
    if (this.state.functions.some((f) => f.device === spec.device && f.fn === spec.fn)) throw new Error(`PCI 00:${spec.device}.${spec.fn} exists already`);
    this.io = io;
    const f = makeFunction(spec.device, spec.fn, {
      vendor: spec.vendor,
      device: spec.deviceId,
      classCode: spec.classCode,
      revision: spec.revision,
      headerType: 0,
      command: spec.ioBars?.length ? 0x0001 : 0,
      status: 0,
    });
    const put = (off: number, v: number, n: number): void => {
      for (let k = 0; k < n; k++) f.config[off + k] = (v >>> (8 * k)) & 0xff;
    };
    put(0x2c, spec.subsystemVendor ?? 0, 2);
    put(0x2e, spec.subsystemId ?? 0, 2);
    if (spec.interrupt) {
      f.config[0x3c] = spec.interrupt.line;
      f.config[0x3d] = spec.interrupt.pin;
    }
    for (const [off, v] of Object.entries(spec.config ?? {})) f.config[Number(off)] = v;
    this.state.functions.push(f);
    for (const bar of spec.ioBars ?? []) {
      put(0x10 + 4 * bar.index, (bar.base & ~(bar.size - 1)) | 1, 4);
      const slot: BarSlot = {
        fn: f,
        bar,
        mapped: -1,
        window: {
          portIn: (port, size) => bar.regs.portIn(port - slot.mapped, size),
          portOut: (port, size, value) => bar.regs.portOut(port - slot.mapped, size, value),
        },
      };
      this.bars.push(slot);
    }
    this.remapBars();
  }

  /** Decodes every I/O BAR where its function's command register and BAR now put it. */
  remapBars(): void {
    const io = this.io;
    if (!io) return;
    for (const slot of this.bars) {
      const c = slot.fn.config;
      const value = (c[0x10 + 4 * slot.bar.index] | (c[0x11 + 4 * slot.bar.index] << 8)) & 0xfffc;
      const want = c[0x04] & 1 && value !== 0 && value + slot.bar.size <= 0x10000 ? value : -1;
      if (want === slot.mapped) continue;
      if (slot.mapped >= 0) io.unmap(slot.mapped, slot.bar.size, slot.window);
      slot.mapped = -1;
      if (want < 0) continue;
      try {
        io.map(want, slot.bar.size, slot.window);
        slot.mapped = want;
      } catch {
        // The guest put the BAR over another device's ports: it decodes nowhere (a conflict).
        io.unmap(want, slot.bar.size, slot.window);
      }
    }
  }

  /** The function the current CONFIG_ADDRESS selects, or null (disabled, other bus, absent). */
  private selected(): PciFunctionState | null {
    const a = this.state.address;
    if (!(a & 0x80000000) || (a >>> 16) & 0xff) return null;
    const device = (a >>> 11) & 0x1f;
    const fn = (a >>> 8) & 7;
    return this.state.functions.find((f) => f.device === device && f.fn === fn) ?? null;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    if (port === 0xcf8 && size === 4) return this.state.address | 0;
    if (port === 0xcf9 && size === 1) return this.state.rcr;
    if (port >= 0xcfc && port <= 0xcff) {
      const f = this.selected();
      if (!f) return size === 4 ? -1 : (1 << (size * 8)) - 1;
      const off = (this.state.address & 0xfc) + (port & 3);
      let v = 0;
      for (let k = 0; k < size; k++) v |= (off + k < 256 ? f.config[off + k] : 0xff) << (8 * k);
      return size === 4 ? v | 0 : v;
    }
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === 0xcf8 && size === 4) {
      this.state.address = value & 0x80fffffc;
      return;
    }
    if (port === 0xcf9 && size === 1) {
      // Bit 2 going from 0 to 1 starts the reset (bit 1 chooses hard or soft; both reset us).
      const rising = value & 0x04 && !(this.state.rcr & 0x04);
      this.state.rcr = value & 0x0e;
      if (rising) {
        this.state.rcr &= ~0x04;
        this.onReset();
      }
      return;
    }
    if (port >= 0xcfc && port <= 0xcff) {
      const f = this.selected();
      if (!f) return;
      const off = (this.state.address & 0xfc) + (port & 3);
      let remap = false;
      for (let k = 0; k < size && off + k < 256; k++) {
        const at = off + k;
        const byte = (value >>> (8 * k)) & 0xff;
        if (at >= 0x10 && at < 0x28) {
          const slot = this.bars.find((b) => b.fn === f && b.bar.index === (at - 0x10) >> 2);
          if (!slot) continue;
          // The size bits read as zero, bit 0 (I/O space) as one.
          const mask = ~(slot.bar.size - 1) & 0xfffffffc;
          f.config[at] = (byte & (mask >>> (8 * (at & 3))) & 0xff) | (at & 3 ? 0 : 1);
          remap = true;
        } else if (writable(at)) {
          f.config[at] = byte;
          if (at === 0x04) remap = true;
        }
      }
      if (remap) this.remapBars();
    }
  }
}
