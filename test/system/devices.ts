/**
 * Devices for system tests that need more than the bare machine's debug ports (`@needs` in a
 * test's header): the 8259A PIC pair and the 8254 PIT from runtime/devices, attached to the
 * bare machine's bus, with the PIC as the CPU's interrupt source and the PIT running on the
 * host clock (as under QEMU, whose output is the reference).
 */
import { HostClock } from '../../runtime/devices/clock.ts';
import { DualPic } from '../../runtime/devices/pic.ts';
import { Pit } from '../../runtime/devices/pit.ts';
import type { DebugBus } from '../../runtime/bare/bus.ts';
import type { Vm } from '../../runtime/vm.ts';

/** Devices this module can attach. */
const AVAILABLE = new Set(['pic', 'pit']);

/** True if every device in `needs` can be attached. */
export function devicesAvailable(needs: readonly string[]): boolean {
  return needs.every((d) => AVAILABLE.has(d));
}

/**
 * Attaches the devices in `needs` to a bare-metal machine (ports on `bus`, interrupts via
 * vm.irq) and returns the tick function the machine calls between slices.
 */
export function attachDevices(vm: Vm, bus: DebugBus, needs: readonly string[]): () => void {
  const missing = needs.filter((d) => !AVAILABLE.has(d));
  if (missing.length) throw new Error(`system test needs devices not available on the bare machine: ${missing.join(', ')}`);
  const pic = new DualPic();
  bus.attach(0x20, 2, pic.ports);
  bus.attach(0xa0, 2, pic.ports);
  bus.attach(0x4d0, 2, pic.ports);
  pic.onInterrupt = () => vm.notifyInterrupt();
  vm.irq = pic;
  if (!needs.includes('pit')) return () => {};
  const pit = new Pit(new HostClock(), pic);
  bus.attach(0x40, 4, pit.ports);
  bus.attach(0x61, 1, pit.ports);
  return () => pit.update();
}
