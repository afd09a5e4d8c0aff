/**
 * How devices attach to the machine: port handlers on the I/O bus and interrupt request lines.
 *
 * A device reads and writes its registers through `PortDevice`; the bus (runtime/pc/bus.ts)
 * routes each port to one device and splits wide accesses for byte-register devices. A device
 * drives its interrupt line through an `IrqSink` (the PIC pair): it reports the line's *level*,
 * and the PIC decides, per its edge/level configuration, whether that is a request.
 */

/** A device's port registers. `size` is the access width in bytes. */
export interface PortDevice {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
}

/** Interrupt request lines 0–15 (ISA IRQ numbers). */
export interface IrqSink {
  /** Sets the level of IRQ `line` (true = asserted/high). */
  setIrq(line: number, level: boolean): void;
}

/** An IrqSink that ignores everything (a device tested on its own). */
export const NO_IRQ: IrqSink = { setIrq: () => {} };

/**
 * Adapts byte-wide register handlers to PortDevice: a 16- or 32-bit access becomes successive
 * byte accesses at port, port+1, ... (little-endian), as the ISA bus does for 8-bit devices.
 */
export function bytePorts(read8: (port: number) => number, write8: (port: number, value: number) => void): PortDevice {
  return {
    portIn(port, size) {
      let v = 0;
      for (let k = 0; k < size; k++) v |= (read8((port + k) & 0xffff) & 0xff) << (8 * k);
      return size === 4 ? v | 0 : v;
    },
    portOut(port, size, value) {
      for (let k = 0; k < size; k++) write8((port + k) & 0xffff, (value >>> (8 * k)) & 0xff);
    },
  };
}
