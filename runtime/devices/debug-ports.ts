/**
 * QEMU's two debugging devices, as both machines have them (the PC: runtime/pc; the bare-metal
 * test machine: runtime/bare):
 *
 *   0xE9       debug console (QEMU `-debugcon`, the Bochs "port E9 hack"): the low byte of each
 *              write is output; a byte read returns 0xE9, the value software uses to detect the
 *              port (in a wider read the other bytes are unassigned ports: all ones).
 *   0xF4–0xF7  isa-debug-exit (QEMU `-device isa-debug-exit,iobase=0xf4,iosize=0x04`): a write of
 *              `v` ends the run with exit status `(v << 1) | 1`, `v` taken at the access width;
 *              reads are unassigned (all ones).
 *
 * The machine decides what "output" and "end the run" mean (callbacks).
 */
import type { PortDevice } from './io.ts';

export const DEBUGCON_PORT = 0xe9;
export const DEBUG_EXIT_PORT = 0xf4;
/** Ports the exit device decodes, from DEBUG_EXIT_PORT. */
export const DEBUG_EXIT_PORTS = 4;

const ones = (size: 1 | 2 | 4): number => (size === 4 ? -1 : (1 << (size * 8)) - 1);

export class DebugPorts implements PortDevice {
  /** A byte written to the debug console. */
  onOutput: (byte: number) => void = () => {};
  /** A write to isa-debug-exit: `code` is `(value << 1) | 1`. May throw to end the run at once. */
  onExit: (code: number) => void = () => {};

  portIn(port: number, size: 1 | 2 | 4): number {
    return port === DEBUGCON_PORT ? (ones(size) & ~0xff) | 0xe9 : ones(size);
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === DEBUGCON_PORT) this.onOutput(value & 0xff);
    else if (port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + DEBUG_EXIT_PORTS) {
      const v = size === 4 ? value >>> 0 : value & ones(size);
      this.onExit(((v << 1) | 1) >>> 0);
    }
  }

  /** Maps both devices on `bus` at their ports. */
  mapOn(bus: { map(first: number, count: number, dev: PortDevice): void }): void {
    bus.map(DEBUGCON_PORT, 1, this);
    bus.map(DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, this);
  }
}
