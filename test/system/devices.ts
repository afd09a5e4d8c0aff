/**
 * Devices for system tests that need more than the bare machine's debug ports (`@needs` in a
 * test's header), from runtime/devices, attached to the bare machine's bus:
 *
 *   pic    the 8259A pair, the CPU's interrupt source
 *   pit    the 8254 on the host clock (as under QEMU, whose output is the reference)
 *   apic   the local APIC in front of the PIC (needs pic), in the virtual-wire state SeaBIOS
 *          leaves (QEMU's reference runs after it)
 *   ioapic the I/O APIC at FEC00000h (needs apic), every 8259A input also on its pin, IRQ0 on
 *          pin 2, as PcMachine wires it
 *   rtc    the MC146818 RTC (ports 70h-71h, IRQ8; needs pic)
 *   a20    port 92h and the 8042 (its output port), ORed into the CPU's A20 gate
 *   bios   the state a BIOS leaves (runtime/pc/bios-state.ts: PIC, PIT, IVT, BDA; needs pic
 *          and pit), written before the image runs, as PcMachine does for a multiboot kernel
 */
import { HostClock } from '../../runtime/devices/clock.ts';
import { I8042 } from '../../runtime/devices/i8042.ts';
import { LocalApic } from '../../runtime/devices/local-apic.ts';
import { IoApic, isaIrqPin } from '../../runtime/devices/io-apic.ts';
import { Rtc } from '../../runtime/devices/rtc.ts';
import { DualPic } from '../../runtime/devices/pic.ts';
import { Pit } from '../../runtime/devices/pit.ts';
import { SystemPorts } from '../../runtime/devices/system-ports.ts';
import type { DebugBus } from '../../runtime/bare/bus.ts';
import { writeBiosState } from '../../runtime/pc/bios-state.ts';
import type { Vm } from '../../runtime/vm.ts';

/** Devices this module can attach. */
const AVAILABLE = new Set(['pic', 'pit', 'apic', 'ioapic', 'rtc', 'a20', 'bios']);

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
  const ticks: (() => void)[] = [];
  const clock = new HostClock();
  if (needs.includes('a20')) {
    const system = new SystemPorts();
    const kbc = new I8042({ setIrq: () => {} });
    bus.attach(0x92, 1, system);
    bus.attach(0x60, 1, kbc.ports);
    bus.attach(0x64, 1, kbc.ports);
    const a20 = (): void => vm.cpu.setA20(system.a20 || kbc.a20);
    system.onA20 = a20;
    kbc.onA20 = a20;
  }
  if (!needs.includes('pic')) return () => {};
  const pic = new DualPic();
  bus.attach(0x20, 2, pic.ports);
  bus.attach(0xa0, 2, pic.ports);
  bus.attach(0x4d0, 2, pic.ports);
  pic.onInterrupt = () => vm.notifyInterrupt();
  vm.irq = pic;
  if (needs.includes('apic')) {
    const apic = new LocalApic(clock, pic);
    apic.setBiosState();
    apic.onInterrupt = () => vm.notifyInterrupt();
    vm.cpu.apic = apic;
    vm.irq = apic;
    ticks.push(() => apic.update());
    if (needs.includes('ioapic')) {
      const ioapic = new IoApic(apic);
      pic.onIrqLine = (line, level) => ioapic.setIrq(isaIrqPin(line), level);
      apic.onLevelEoi = (vector) => ioapic.eoi(vector);
      apic.ioExtInt = () => ioapic.extIntOpen();
      ioapic.onExtIntChange = () => vm.notifyInterrupt();
      // The bare bus has no MMIO: the I/O APIC's page goes in front of it.
      vm.cpu.io = {
        portIn: (port, size) => bus.portIn(port, size),
        portOut: (port, size, value) => bus.portOut(port, size, value),
        mmioRead: (phys, size) => (ioapic.claims(phys) ? ioapic.read(phys, size) : bus.mmioRead(phys, size)),
        mmioWrite: (phys, size, value) => (ioapic.claims(phys) ? ioapic.write(phys, size, value) : bus.mmioWrite()),
      };
    }
  }
  if (needs.includes('rtc')) {
    const rtc = new Rtc(clock, pic, { memorySize: vm.mem.ram().length });
    bus.attach(0x70, 2, rtc.ports);
    ticks.push(() => rtc.update());
  }
  if (needs.includes('pit')) {
    const pit = new Pit(clock, pic);
    bus.attach(0x40, 4, pit.ports);
    bus.attach(0x61, 1, pit.ports);
    ticks.push(() => pit.update());
  }
  if (needs.includes('bios')) {
    writeBiosState(vm, { lowMemoryEnd: 0xa0000, wallClockMs: Date.now(), out: (port, v) => bus.portOut(port, 1, v) });
  }
  return () => {
    for (const t of ticks) t();
  };
}
