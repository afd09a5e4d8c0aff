/**
 * QEMU's pvpanic device, ISA flavour (`-device pvpanic`, QEMU docs/specs/pvpanic.rst): one
 * byte port at 0x505. A read returns the events the device supports (bit 0 PANICKED, bit 1
 * CRASH_LOADED); the guest writes an event when it happens: PANICKED when its kernel panics,
 * CRASH_LOADED when a crash kernel (kdump) takes over. Linux finds the device through ACPI
 * (_HID "QEMU0001", runtime/pc/acpi-tables.ts) with its pvpanic-mmio driver, which is a module
 * in Debian's kernel (the default guest loads it).
 */
import type { PortDevice } from './io.ts';

export const PVPANIC_PORT = 0x505;
export const PVPANIC_PANICKED = 1;
export const PVPANIC_CRASH_LOADED = 2;
/** The events this device reports (all QEMU's ISA device has). */
export const PVPANIC_EVENTS = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;

export class PvPanic implements PortDevice {
  /** The guest reported events (PVPANIC_* bits). May throw to end the run at once. */
  onEvent: (events: number) => void = () => {};

  portIn(_port: number, size: 1 | 2 | 4): number {
    // The byte register; a wider access reads unassigned ports above it (all ones).
    return size === 1 ? PVPANIC_EVENTS : size === 2 ? 0xff00 | PVPANIC_EVENTS : ~0xff | PVPANIC_EVENTS;
  }

  portOut(_port: number, _size: 1 | 2 | 4, value: number): void {
    const events = value & PVPANIC_EVENTS;
    if (events) this.onEvent(events);
  }
}
