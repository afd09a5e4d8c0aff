/**
 * The PC's small fixed-function ports (the debug console and isa-debug-exit are
 * devices/debug-ports.ts):
 * - 0x80: the POST code / I/O delay port. A BIOS reports its progress there and Linux writes it
 *   to slow down port I/O; the last code is kept and `onPost` sees each (the `post` trace).
 * - 0x92: system control port A (PS/2 "fast A20 and reset"): bit 1 = A20 gate, bit 0 going
 *   from 0 to 1 resets the CPU. `onA20` tells the machine, which ORs it with the 8042's gate.
 * All state lives in one plain object (`state`).
 */
import type { PortDevice } from './io.ts';

export interface SystemPortsState {
  /** Port 0x92 (bits 1 and 0 are meaningful; bit 0 reads back as written). */
  portA: number;
  /** The last POST code written to 0x80. */
  post: number;
}

export class SystemPorts implements PortDevice {
  readonly state: SystemPortsState = { portA: 0x02, post: 0 };
  onReset: () => void = () => {};
  /** Called when bit 1 (the A20 gate) changes. */
  onA20: () => void = () => {};
  /** Called with each POST code written to port 0x80, or null. */
  onPost: ((code: number) => void) | null = null;

  /** The A20 gate as port 0x92 sets it. */
  get a20(): boolean {
    return (this.state.portA & 0x02) !== 0;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const ones = size === 4 ? -1 : (1 << (size * 8)) - 1;
    switch (port) {
      case 0x92:
        return size === 1 ? this.state.portA : ones;
      default:
        return ones; // 0x80 reads as unassigned
    }
  }

  portOut(port: number, _size: 1 | 2 | 4, value: number): void {
    switch (port) {
      case 0x80:
        this.state.post = value & 0xff;
        this.onPost?.(value & 0xff);
        break;
      case 0x92: {
        const rising = value & 0x01 && !(this.state.portA & 0x01);
        const a20 = (value ^ this.state.portA) & 0x02;
        this.state.portA = value & 0x03;
        if (a20) this.onA20();
        if (rising) this.onReset();
        break;
      }
    }
  }
}
