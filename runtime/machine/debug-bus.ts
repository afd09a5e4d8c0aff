/**
 * The I/O bus of the bare-metal test machine: QEMU's two debugging devices and nothing else,
 * plus a way to attach more port devices.
 *
 *   0xE9       debug console (QEMU `-debugcon`, Bochs port E9 hack): bytes written are output;
 *              a read returns 0xE9, the value software uses to detect the port.
 *   0xF4–0xF7  isa-debug-exit (QEMU `-device isa-debug-exit,iobase=0xf4,iosize=0x04`): a write
 *              of value v ends the run with exit status (v << 1) | 1.
 *
 * Unassigned ports read as all ones and ignore writes, like an ISA bus with nothing decoding
 * the address; there is no memory-mapped I/O (reads all ones). Wider accesses to the debug
 * console write their low byte only, as QEMU's debugcon does.
 */
import type { IoBus } from '../cpu.ts';
import { MachineHalt } from '../fault.ts';

export const DEBUGCON_PORT = 0xe9;
export const DEBUG_EXIT_PORT = 0xf4;

/** A device occupying a range of ports. */
export interface PortDevice {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
}

const ones = (size: 1 | 2 | 4): number => (size === 4 ? -1 : (1 << (size * 8)) - 1);

export class DebugBus implements IoBus {
  /** Bytes written to the debug console so far. */
  readonly output: number[] = [];
  /** Exit status requested through isa-debug-exit, or null. */
  exitCode: number | null = null;
  /** Called with each byte written to the debug console (streaming output). */
  onOutput: ((byte: number) => void) | null = null;
  private readonly devices = new Map<number, PortDevice>();

  /** Routes ports `port` .. `port + count - 1` to `dev` (replacing whatever was there). */
  attach(port: number, count: number, dev: PortDevice): void {
    for (let p = port; p < port + count; p++) this.devices.set(p & 0xffff, dev);
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const dev = this.devices.get(port);
    if (dev) return dev.portIn(port, size);
    if (port === DEBUGCON_PORT) return size === 1 ? 0xe9 : ones(size) & ~0xff | 0xe9;
    return ones(size);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    const dev = this.devices.get(port);
    if (dev) {
      dev.portOut(port, size, value);
      return;
    }
    if (port === DEBUGCON_PORT) {
      const b = value & 0xff;
      this.output.push(b);
      this.onOutput?.(b);
    } else if (port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + 4) {
      this.exitCode = ((value << 1) | 1) >>> 0;
      // Ends the run at this instruction, as QEMU exits the process.
      throw new MachineHalt('exit', `isa-debug-exit: value 0x${(value >>> 0).toString(16)}`);
    }
  }

  mmioRead(_phys: number, size: 1 | 2 | 4): number {
    return ones(size);
  }

  mmioWrite(): void {}
}
