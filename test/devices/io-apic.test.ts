/**
 * The I/O APIC (runtime/devices/io-apic.ts) with the real local APIC behind it, where the 82093AA
 * data sheet says more than test/system/tests/ioapic.asm can compare with QEMU: the register
 * window's access sizes, read-only bits, edges on a masked pin (ignored, not held), Remote IRR
 * and the EOI broadcast for level-triggered pins, re-delivery of a level still asserted,
 * destinations the local APIC does not accept, ExtINT on pin 0; and on the PC: ISA IRQs on both
 * the 8259As and the I/O APIC pins (IRQ0 on pin 2), the PIT's owed ticks waiting in the local
 * APIC, and the `ioApic: false` machine without it.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import {
  IOAPIC_ARB, IOAPIC_BASE, IOAPIC_ID, IOAPIC_REDTBL, IOAPIC_VER, IOAPIC_VERSION_VALUE, IOREGSEL, IOWIN, IoApic,
  RTE_LEVEL, RTE_LOGICAL, RTE_MASKED, RTE_REMOTE_IRR,
} from '../../runtime/devices/io-apic.ts';
import { APIC_EOI, APIC_ISR, APIC_LDR, APIC_SVR, APIC_TMR, LocalApic } from '../../runtime/devices/local-apic.ts';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { assembleKernel, fakeBzImage } from './fake-bzimage.ts';

function setup(): { io: IoApic; apic: LocalApic; r: (i: number) => number; w: (i: number, v: number) => void } {
  const apic = new LocalApic(new ManualClock(), null);
  apic.setBiosState();
  const io = new IoApic(apic);
  apic.onLevelEoi = (v) => io.eoi(v);
  const r = (i: number): number => {
    io.write(IOAPIC_BASE + IOREGSEL, 4, i);
    return io.read(IOAPIC_BASE + IOWIN, 4) >>> 0;
  };
  const w = (i: number, v: number): void => {
    io.write(IOAPIC_BASE + IOREGSEL, 4, i);
    io.write(IOAPIC_BASE + IOWIN, 4, v);
  };
  return { io, apic, r, w };
}

/** The vectors the CPU takes, acknowledging each and ending it with an EOI. */
function takeAll(apic: LocalApic, eoi = true): number[] {
  const out: number[] = [];
  while (apic.hasInterrupt()) {
    out.push(apic.acknowledge());
    if (eoi) apic.writeRegister(APIC_EOI, 0);
  }
  return out;
}

const isr = (apic: LocalApic, v: number): boolean => ((apic.readRegister(APIC_ISR + 0x10 * (v >> 5)) >>> (v & 31)) & 1) === 1;
const tmr = (apic: LocalApic, v: number): boolean => ((apic.readRegister(APIC_TMR + 0x10 * (v >> 5)) >>> (v & 31)) & 1) === 1;

describe('I/O APIC registers', () => {
  it('has the reset state, version and the ID in the ID and arbitration registers', () => {
    const { r, w } = setup();
    expect(r(IOAPIC_ID)).toBe(0);
    expect(r(IOAPIC_VER)).toBe(0x00170011);
    expect(IOAPIC_VERSION_VALUE).toBe(0x00170011);
    for (let pin = 0; pin < 24; pin++) {
      expect(r(IOAPIC_REDTBL + 2 * pin)).toBe(RTE_MASKED);
      expect(r(IOAPIC_REDTBL + 2 * pin + 1)).toBe(0);
    }
    w(IOAPIC_ID, 0xfedcba98);
    expect(r(IOAPIC_ID)).toBe(0x0e000000);
    expect(r(IOAPIC_ARB)).toBe(0x0e000000);
    w(IOAPIC_VER, 0);
    w(IOAPIC_ARB, 0);
    expect(r(IOAPIC_VER)).toBe(0x00170011);
    expect(r(IOAPIC_ARB)).toBe(0x0e000000);
    expect(r(0x03)).toBe(0);
    expect(r(0x40)).toBe(0); // past entry 23
  });

  it('keeps the writable bits of an entry, never Remote IRR or delivery status', () => {
    const { r, w } = setup();
    w(IOAPIC_REDTBL + 4, 0xffffffff);
    expect(r(IOAPIC_REDTBL + 4)).toBe(0x0001afff);
    w(IOAPIC_REDTBL + 5, 0xffffffff);
    expect(r(IOAPIC_REDTBL + 5)).toBe(0xff000000);
  });

  it('decodes IOREGSEL at any size and IOWIN only as a dword, anywhere in its 4 KiB page', () => {
    const { io } = setup();
    io.write(IOAPIC_BASE + IOREGSEL, 1, IOAPIC_VER);
    expect(io.read(IOAPIC_BASE + IOREGSEL, 4)).toBe(IOAPIC_VER);
    expect(io.read(IOAPIC_BASE + IOWIN, 2)).toBe(0);
    expect(io.read(IOAPIC_BASE + IOWIN, 4)).toBe(0x00170011);
    io.write(IOAPIC_BASE + IOREGSEL, 4, IOAPIC_ID);
    io.write(IOAPIC_BASE + IOWIN, 2, 0x0f000000);
    expect(io.read(IOAPIC_BASE + IOWIN, 4)).toBe(0);
    expect(io.claims(IOAPIC_BASE + 0xfff)).toBe(true);
    expect(io.claims(IOAPIC_BASE + 0x1000)).toBe(false);
  });
});

describe('I/O APIC delivery', () => {
  it('sends an edge on an unmasked pin once per rising edge; ignores edges while masked', () => {
    const { io, apic, w } = setup();
    w(IOAPIC_REDTBL + 2 * 3, 0x41);
    io.setIrq(3, true);
    io.setIrq(3, true); // no new edge
    expect(takeAll(apic)).toEqual([0x41]);
    io.setIrq(3, false);
    w(IOAPIC_REDTBL + 2 * 3, 0x41 | RTE_MASKED);
    io.setIrq(3, true);
    w(IOAPIC_REDTBL + 2 * 3, 0x41); // unmasked with the line high: the edge is gone
    expect(takeAll(apic)).toEqual([]);
    io.setIrq(3, false);
    io.setIrq(3, true);
    expect(takeAll(apic)).toEqual([0x41]);
    expect(tmr(apic, 0x41)).toBe(false);
  });

  it('holds a level-triggered pin in Remote IRR until the EOI, then sends again while asserted', () => {
    const { io, apic, r, w } = setup();
    w(IOAPIC_REDTBL + 2 * 11, 0x59 | RTE_LEVEL);
    io.setIrq(11, true);
    expect(r(IOAPIC_REDTBL + 2 * 11) & RTE_REMOTE_IRR).toBe(RTE_REMOTE_IRR);
    expect(apic.acknowledge()).toBe(0x59);
    expect(tmr(apic, 0x59)).toBe(true);
    io.setIrq(11, true); // still asserted: nothing new while Remote IRR is set
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeRegister(APIC_EOI, 0); // broadcast: Remote IRR clears, the level sends again
    expect(isr(apic, 0x59)).toBe(false);
    expect(apic.acknowledge()).toBe(0x59);
    io.setIrq(11, false); // the device is served before the EOI
    apic.writeRegister(APIC_EOI, 0);
    expect(r(IOAPIC_REDTBL + 2 * 11) & RTE_REMOTE_IRR).toBe(0);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('sends an asserted level pin when it is unmasked; switching it to edge clears Remote IRR', () => {
    const { io, apic, r, w } = setup();
    io.setIrq(9, true);
    expect(apic.hasInterrupt()).toBe(false);
    w(IOAPIC_REDTBL + 2 * 9, 0x61 | RTE_LEVEL);
    expect(apic.acknowledge()).toBe(0x61);
    expect(r(IOAPIC_REDTBL + 2 * 9) & RTE_REMOTE_IRR).toBe(RTE_REMOTE_IRR);
    w(IOAPIC_REDTBL + 2 * 9, 0x61 | RTE_MASKED);
    expect(r(IOAPIC_REDTBL + 2 * 9) & RTE_REMOTE_IRR).toBe(0);
  });

  it('delivers only to a destination the local APIC accepts (physical ID, logical LDR)', () => {
    const { io, apic, r, w } = setup();
    w(IOAPIC_REDTBL + 2 * 5 + 1, 0x01000000); // physical APIC ID 1: nobody
    w(IOAPIC_REDTBL + 2 * 5, 0x45 | RTE_LEVEL);
    io.setIrq(5, true);
    expect(apic.hasInterrupt()).toBe(false);
    expect(r(IOAPIC_REDTBL + 2 * 5) & RTE_REMOTE_IRR).toBe(0);
    apic.writeRegister(APIC_LDR, 0x01000000);
    w(IOAPIC_REDTBL + 2 * 5 + 1, 0x01000000);
    w(IOAPIC_REDTBL + 2 * 5, 0x45 | RTE_LEVEL | RTE_LOGICAL | (1 << 8)); // logical 1, lowest priority
    expect(apic.acknowledge()).toBe(0x45);
  });

  it('sends nothing for NMI, SMI and INIT entries; ExtINT on pin 0 opens the 8259A path', () => {
    const pic = { pending: 0x20, hasInterrupt: () => true, acknowledge: () => 0x20 };
    const apic = new LocalApic(new ManualClock(), pic);
    apic.setBiosState();
    apic.writeRegister(0x350, 0x10700); // LINT0 masked: the 8259A is cut off
    const io = new IoApic(apic);
    apic.ioExtInt = () => io.extIntOpen();
    for (const mode of [2, 4, 5]) {
      io.writeRegister(IOAPIC_REDTBL + 2 * 4, 0x50 | (mode << 8));
      io.setIrq(4, false);
      io.setIrq(4, true);
    }
    expect(apic.hasInterrupt()).toBe(false);
    io.writeRegister(IOAPIC_REDTBL, 0x700);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x20);
    io.writeRegister(IOAPIC_REDTBL, 0x700 | RTE_MASKED);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('holds a message in IRR while the local APIC is software-disabled (as QEMU), delivers it once enabled', () => {
    const { io, apic, w } = setup();
    apic.writeRegister(APIC_SVR, 0xff);
    w(IOAPIC_REDTBL + 2 * 7, 0x47);
    io.setIrq(7, true);
    expect(apic.hasInterrupt()).toBe(false);
    apic.writeRegister(APIC_SVR, 0x1ff);
    expect(takeAll(apic)).toEqual([0x47]);
  });
});

describe('the I/O APIC on the PC', () => {
  const kernel = fakeBzImage({ kernel: assembleKernel('hlt'), initSize: 0x10000 });

  it('gets every ISA IRQ as the 8259As do, IRQ0 on pin 2, and the PIT waits for the local APIC', () => {
    const clock = new ManualClock();
    const pc = new PcMachine({ memory: 32 << 20, kernel, clock });
    const { pic, ioapic, apic, pit } = pc.devices;
    expect(pc.vm.cpu.mmioRead(IOAPIC_BASE + IOWIN, 4)).toBe(0);
    pc.vm.cpu.mmioWrite(IOAPIC_BASE + IOREGSEL, 4, IOAPIC_VER);
    expect(pc.vm.cpu.mmioRead(IOAPIC_BASE + IOWIN, 4)).toBe(0x00170011);
    // Pin 2 takes the PIT's ticks; the 8259As are masked, LINT0 too (symmetric I/O mode).
    ioapic.writeRegister(IOAPIC_REDTBL + 2 * 2, 0x30);
    apic.writeRegister(0x350, 0x10700);
    pic.write8(0x21, 0xff);
    clock.advance(200e6); // ~3.6 ticks of the BIOS's 18.2 Hz
    pc.updateDevices();
    expect(pit.state.owed).toBeGreaterThan(0);
    const owed = pit.state.owed;
    expect(apic.hasInterrupt()).toBe(true);
    pc.updateDevices(); // the tick waits in the local APIC: no other goes yet
    expect(pit.state.owed).toBe(owed);
    expect(pc.vm.irq!.acknowledge()).toBe(0x30); // acknowledging lets the next owed tick go
    expect(pit.state.owed).toBe(owed - 1);
    apic.writeRegister(APIC_EOI, 0);
    expect(apic.hasInterrupt()).toBe(true);
    // COM1's IRQ4 on pin 4, both controllers see its line.
    ioapic.writeRegister(IOAPIC_REDTBL + 2 * 4, 0x34);
    pic.setIrq(4, true);
    expect(ioapic.state.lines & (1 << 4)).not.toBe(0);
    expect(pic.state.master.lines & (1 << 4)).not.toBe(0);
  });

  it('has no I/O APIC and no MADT with ioApic: false', () => {
    const pc = new PcMachine({ memory: 32 << 20, kernel, ioApic: false });
    pc.vm.cpu.mmioWrite(IOAPIC_BASE + IOREGSEL, 4, IOAPIC_VER);
    expect(pc.vm.cpu.mmioRead(IOAPIC_BASE + IOWIN, 4)).toBe(-1);
    pc.devices.pic.setIrq(4, true);
    expect(pc.devices.ioapic.state.lines).toBe(0);
  });
});
