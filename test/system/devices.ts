/**
 * Devices for system tests that need more than the bare machine's debug ports (`@needs` in a
 * test's header), e.g. the 8259A PIC and 8254 PIT for the STI interrupt-shadow test.
 *
 * The PC devices live in runtime/devices (another engineer's work); until they can be attached
 * to a bare-metal machine here, `devicesAvailable` says no and the runner skips those tests on
 * our machine with a visible note (QEMU still runs them in compare-qemu).
 */
import type { DebugBus } from '../../runtime/machine/debug-bus.ts';
import type { Vm } from '../../runtime/vm.ts';

/** Devices this module can attach. */
const AVAILABLE = new Set<string>();

/** True if every device in `needs` can be attached. */
export function devicesAvailable(needs: readonly string[]): boolean {
  return needs.every((d) => AVAILABLE.has(d));
}

/** Attaches the devices in `needs` to a bare-metal machine (ports on `bus`, interrupts via vm.irq). */
export function attachDevices(_vm: Vm, _bus: DebugBus, needs: readonly string[]): void {
  const missing = needs.filter((d) => !AVAILABLE.has(d));
  if (missing.length) throw new Error(`system test needs devices not available on the bare machine: ${missing.join(', ')}`);
}
