/**
 * The PC's small fixed-function ports:
 * - 0x80: the POST code / I/O delay port. Linux writes it to slow down port I/O; ignored.
 * - 0x92: system control port A (PS/2 "fast A20 and reset"): bit 1 = A20 gate, bit 0 going
 *   from 0 to 1 resets the CPU. A20 is recorded only (the VM never wraps at 1 MiB).
 * - 0xE9: the debug console (the Bochs/QEMU convention): each byte written goes to
 *   `onDebugOutput`; reading returns 0xE9, which is how software detects the port.
 * - 0xF4: isa-debug-exit (the QEMU convention): writing `v` ends the run with exit code
 *   `(v << 1) | 1`, so a guest can report success or failure to the host.
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
  onDebugOutput: (byte: number) => void = () => {};
  /** The guest wrote to isa-debug-exit; `code` is `(value << 1) | 1`. */
  onExit: (code: number) => void = () => {};
  onReset: () => void = () => {};

  /** The A20 gate as port 0x92 sets it. */
  get a20(): boolean {
    return (this.state.portA & 0x02) !== 0;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const ones = size === 4 ? -1 : (1 << (size * 8)) - 1;
    switch (port) {
      case 0x92:
        return size === 1 ? this.state.portA : ones;
      case 0xe9:
        return size === 1 ? 0xe9 : ones;
      default:
        return ones; // 0x80 and 0xF4 read as unassigned
    }
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    switch (port) {
      case 0x80:
        this.state.post = value & 0xff;
        break;
      case 0x92: {
        const rising = value & 0x01 && !(this.state.portA & 0x01);
        this.state.portA = value & 0x03;
        if (rising) this.onReset();
        break;
      }
      case 0xe9:
        this.onDebugOutput(value & 0xff);
        break;
      case 0xf4: {
        // The exit code uses the value at the access width (QEMU's device is 1 to 4 bytes wide).
        const v = size === 4 ? value >>> 0 : value & ((1 << (size * 8)) - 1);
        this.onExit(((v << 1) | 1) >>> 0);
        break;
      }
    }
  }
}
