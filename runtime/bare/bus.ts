/**
 * The I/O bus of the bare-metal test machine: QEMU's two debugging devices
 * (devices/debug-ports.ts: the debug console at 0xE9, isa-debug-exit at 0xF4–0xF7) and nothing
 * else, plus a way to attach more port devices.
 *
 * Unassigned ports read as all ones and ignore writes, like an ISA bus with nothing decoding
 * the address; there is no memory-mapped I/O (reads all ones). A write to isa-debug-exit ends
 * the run at that instruction, as QEMU exits the process.
 */
import type { IoBus } from '../cpu.ts';
import { MachineHalt } from '../fault.ts';
import { DebugPorts } from '../devices/debug-ports.ts';
import type { PortDevice } from '../devices/io.ts';

const ones = (size: 1 | 2 | 4): number => (size === 4 ? -1 : (1 << (size * 8)) - 1);

export class DebugBus implements IoBus {
  /** Bytes written to the debug console so far. */
  readonly output: number[] = [];
  /** Exit status requested through isa-debug-exit, or null. */
  exitCode: number | null = null;
  /** Called with each byte written to the debug console (streaming output). */
  onOutput: ((byte: number) => void) | null = null;
  private readonly devices = new Map<number, PortDevice>();

  constructor() {
    const debug = new DebugPorts();
    debug.onOutput = (b) => {
      this.output.push(b);
      this.onOutput?.(b);
    };
    debug.onExit = (code) => {
      this.exitCode = code;
      throw new MachineHalt('exit', `isa-debug-exit: exit code ${code}`);
    };
    debug.mapOn({ map: (first, count, dev) => this.attach(first, count, dev) });
  }

  /** Routes ports `port` .. `port + count - 1` to `dev` (replacing whatever was there). */
  attach(port: number, count: number, dev: PortDevice): void {
    for (let p = port; p < port + count; p++) this.devices.set(p & 0xffff, dev);
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    const dev = this.devices.get(port);
    return dev ? dev.portIn(port, size) : ones(size);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    this.devices.get(port)?.portOut(port, size, value);
  }

  mmioRead(_phys: number, size: 1 | 2 | 4): number {
    return ones(size);
  }

  mmioWrite(): void {}
}
