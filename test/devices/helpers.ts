/**
 * Test doubles for device tests: an IRQ sink that records every level change, and helpers that
 * drive a device through its ports like guest IN/OUT instructions would.
 */
import type { IrqSink, PortDevice } from '../../runtime/devices/io.ts';

export class IrqRecorder implements IrqSink {
  /** Current level per line. */
  readonly level = new Array<boolean>(16).fill(false);
  /** Every change, in order, as "+n" (raised) or "-n" (lowered). */
  readonly log: string[] = [];

  setIrq(line: number, level: boolean): void {
    if (this.level[line] === level) return;
    this.level[line] = level;
    this.log.push(`${level ? '+' : '-'}${line}`);
  }

  /** Returns and clears the log. */
  take(): string[] {
    return this.log.splice(0);
  }
}

export function outb(dev: PortDevice, port: number, v: number): void {
  dev.portOut(port, 1, v);
}

export function inb(dev: PortDevice, port: number): number {
  return dev.portIn(port, 1);
}
