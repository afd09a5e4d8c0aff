/**
 * 8254 PIT and port 0x61 against a manual clock: periodic and one-shot IRQ0 timing, counter
 * reads (latch, read-back, LSB/MSB), the gate of channel 2 and its OUT in port 0x61 as Linux's
 * TSC calibration uses them, reprogramming rules, BCD.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { MAX_OWED_NS, Pit, PIT_HZ } from '../../runtime/devices/pit.ts';
import { inb, IrqRecorder, outb } from './helpers.ts';

describe('Pit', () => {
  let clock: ManualClock;
  let irq: IrqRecorder;
  let pit: Pit;
  /** Moves the clock to the start of PIT tick `t`. */
  const at = (t: number): void => {
    clock.set(Math.ceil((t * 1e9) / PIT_HZ));
    expect(pit.tick()).toBe(t);
  };
  const latch0 = (): number => {
    outb(pit.ports, 0x43, 0x00);
    const lo = inb(pit.ports, 0x40);
    return lo | (inb(pit.ports, 0x40) << 8);
  };

  beforeEach(() => {
    clock = new ManualClock();
    irq = new IrqRecorder();
    pit = new Pit(clock, irq);
    irq.take();
  });

  it('runs channel 0 in mode 2 as Linux programs it (HZ=250): one IRQ0 edge per period', () => {
    at(10);
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 4773 & 0xff);
    outb(pit.ports, 0x40, 4773 >> 8);
    // Loaded at tick 11; first edge at 11 + 4773.
    expect(pit.nextEventNs()).toBe(Math.ceil(((11 + 4773) * 1e9) / PIT_HZ));
    at(11 + 4772);
    pit.update();
    expect(irq.take()).toEqual([]);
    expect(latch0()).toBe(1);
    at(11 + 4773);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
    expect(latch0()).toBe(4773);
    pit.update();
    expect(irq.take()).toEqual([]);
    at(11 + 2 * 4773 + 100);
    expect(latch0()).toBe(4773 - 100);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
  });

  it('owes the periods missed during a long slice and raises them one per update, keeping the phase', () => {
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 100);
    outb(pit.ports, 0x40, 0);
    at(1 + 1050); // ten and a half periods later
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
    expect(pit.state.owed).toBe(9);
    expect(pit.nextEventNs()).toBe(clock.now()); // a tick is due now
    for (let k = 0; k < 9; k++) {
      pit.update();
      expect(irq.take()).toEqual(['-0', '+0']);
    }
    pit.update();
    expect(irq.take()).toEqual([]);
    at(1 + 1099);
    pit.update();
    expect(irq.take()).toEqual([]);
    expect(pit.nextEventNs()).toBe(Math.ceil(((1 + 1100) * 1e9) / PIT_HZ));
    at(1 + 1100);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
  });

  it('delivers every elapsed period: an owed tick waits until the PIC has passed on the one before', () => {
    // A one-line edge-triggered PIC: the request stays until the CPU acknowledges it.
    let irr = false;
    let line = false;
    let delivered = 0;
    const pic = {
      setIrq: (_n: number, level: boolean) => {
        if (level && !line) irr = true;
        line = level;
      },
    };
    pit = new Pit(clock, pic);
    pit.requestPending = () => irr;
    const ack = (): void => {
      irr = false;
      delivered++;
      pit.update(); // as the machine does after each acknowledge
    };
    irr = false;
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 4773 & 0xff);
    outb(pit.ports, 0x40, 4773 >> 8); // HZ=250
    // 2.5 s in slices of 10 ms (2.5 periods each); a PIT that coalesced the periods of a slice
    // would deliver 250 ticks. Here the CPU takes up to three interrupts per slice.
    for (let ms = 10; ms <= 2500; ms += 10) {
      clock.set(ms * 1e6);
      pit.update();
      for (let k = 0; k < 3 && irr; k++) ack();
    }
    while (irr) ack();
    const periods = Math.floor((pit.tick() - 1) / 4773);
    expect(periods).toBe(624);
    expect(delivered).toBe(periods);
    expect(pit.state.owed).toBe(0);
    // While a request waits, more elapsed periods only add to what is owed.
    at(1 + 630 * 4773);
    pit.update();
    expect(irr).toBe(true);
    expect(pit.state.owed).toBe(5);
    pit.update();
    expect(pit.state.owed).toBe(5);
  });

  it('keeps at most MAX_OWED_NS of ticks, and a new control word forgets them', () => {
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 4773 & 0xff);
    outb(pit.ports, 0x40, 4773 >> 8);
    clock.set(10e9); // the host stopped us for 10 s
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
    expect(pit.state.owed).toBe(Math.floor((MAX_OWED_NS * PIT_HZ) / 1e9 / 4773) - 1);
    outb(pit.ports, 0x43, 0x30); // Linux's shutdown: mode 0
    expect(pit.state.owed).toBe(0);
  });

  it('mode 0: OUT low after the control word, high N+1 ticks after the count, then wraps', () => {
    at(5);
    outb(pit.ports, 0x43, 0x30);
    expect(irq.take()).toEqual(['-0']);
    outb(pit.ports, 0x40, 200);
    outb(pit.ports, 0x40, 0);
    at(5 + 200);
    pit.update();
    expect(irq.take()).toEqual([]);
    expect(latch0()).toBe(1);
    at(5 + 201);
    pit.update();
    expect(irq.take()).toEqual(['+0']);
    expect(latch0()).toBe(0);
    at(5 + 203);
    expect(latch0()).toBe(0xfffe); // counting goes on past zero
    pit.update();
    expect(irq.take()).toEqual([]);
    expect(pit.nextEventNs()).toBe(Infinity);
  });

  it('mode 0: writing the first byte of a new count stops counting until the second', () => {
    outb(pit.ports, 0x43, 0x30);
    outb(pit.ports, 0x40, 0x10);
    outb(pit.ports, 0x40, 0x00);
    at(5);
    outb(pit.ports, 0x40, 0x50); // LSB only
    at(50);
    pit.update();
    expect(latch0()).toBe(0x10 - 4); // frozen at the value it had at tick 5
    outb(pit.ports, 0x40, 0x00); // MSB: count 0x50 loaded at tick 51
    at(51 + 0x50);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
  });

  it('latches the count: the latched value survives time passing until both bytes are read', () => {
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 0x00);
    outb(pit.ports, 0x40, 0x10); // 4096
    at(1 + 0x234);
    outb(pit.ports, 0x43, 0x00);
    at(1 + 0x300);
    outb(pit.ports, 0x43, 0x00); // a second latch while one is pending is ignored
    expect(inb(pit.ports, 0x40)).toBe((0x1000 - 0x234) & 0xff);
    at(1 + 0x400);
    expect(inb(pit.ports, 0x40)).toBe((0x1000 - 0x234) >> 8);
    // Unlatched reads follow the live count, LSB then MSB.
    const lo = inb(pit.ports, 0x40);
    const hi = inb(pit.ports, 0x40);
    expect(lo | (hi << 8)).toBe(0x1000 - 0x400);
  });

  it('read-back returns status (OUT, null count, mode) before the count', () => {
    at(3);
    outb(pit.ports, 0x43, 0xb0); // channel 2, LSB/MSB, mode 0, binary
    outb(pit.ports, 0x43, 0xe8); // read-back status of channel 2 (count not latched)
    expect(inb(pit.ports, 0x42)).toBe(0x40 | 0x30); // OUT low, null count
    outb(pit.ports, 0x42, 0x34);
    outb(pit.ports, 0x42, 0x12);
    outb(pit.ports, 0x61, 0x01); // gate 2 high
    at(10);
    outb(pit.ports, 0x43, 0xc8); // read-back: count and status of channel 2
    expect(inb(pit.ports, 0x42)).toBe(0x30); // OUT low, count loaded
    // Loaded at tick 4, gate opened at tick 3 (before): counting since tick 4.
    expect(inb(pit.ports, 0x42) | (inb(pit.ports, 0x42) << 8)).toBe(0x1234 - 6);
  });

  it('channel 2: port 0x61 gates it and shows OUT in bit 5 (Linux PIT calibration)', () => {
    at(0);
    outb(pit.ports, 0x61, (inb(pit.ports, 0x61) & ~0x02) | 0x01);
    outb(pit.ports, 0x43, 0xb0);
    outb(pit.ports, 0x42, 0xff);
    outb(pit.ports, 0x42, 0xff);
    expect(inb(pit.ports, 0x61) & 0x21).toBe(0x01);
    // Counting from tick 1: the MSB falls as Linux's quick_pit_calibrate expects.
    at(1 + 0x100);
    inb(pit.ports, 0x42);
    expect(inb(pit.ports, 0x42)).toBe(0xfe);
    at(1 + 0xffff);
    expect(inb(pit.ports, 0x61) & 0x20).toBe(0x20);
    // Gate low suspends counting; gate high resumes from the same count.
    outb(pit.ports, 0x43, 0xb0);
    outb(pit.ports, 0x42, 100);
    outb(pit.ports, 0x42, 0);
    at(0x10000 + 40);
    outb(pit.ports, 0x61, 0x00);
    at(0x10000 + 1000);
    expect(inb(pit.ports, 0x61) & 0x21).toBe(0x00);
    // Loaded at +1, so 61 counts were left at +40; counting resumes at the tick after the gate.
    outb(pit.ports, 0x61, 0x01);
    at(0x10000 + 1001 + 60);
    expect(inb(pit.ports, 0x61) & 0x20).toBe(0x00);
    at(0x10000 + 1001 + 61);
    expect(inb(pit.ports, 0x61) & 0x20).toBe(0x20);
  });

  it('mode 3 makes a square wave; gate low forces OUT high; bits 0-3 of 0x61 read back', () => {
    outb(pit.ports, 0x61, 0x0d);
    expect(inb(pit.ports, 0x61) & 0x0f).toBe(0x0d);
    outb(pit.ports, 0x61, 0x03);
    at(0);
    outb(pit.ports, 0x43, 0xb6);
    outb(pit.ports, 0x42, 101);
    outb(pit.ports, 0x42, 0);
    const out = (): number => (inb(pit.ports, 0x61) >> 5) & 1;
    at(1);
    expect(out()).toBe(1);
    at(1 + 50);
    expect(out()).toBe(1); // high for 51 of 101
    at(1 + 51);
    expect(out()).toBe(0);
    at(1 + 100);
    expect(out()).toBe(0);
    at(1 + 101);
    expect(out()).toBe(1);
    at(1 + 160);
    outb(pit.ports, 0x61, 0x02);
    expect(out()).toBe(1);
  });

  it('mode 2: a new count takes effect at the end of the current period', () => {
    outb(pit.ports, 0x43, 0x34);
    outb(pit.ports, 0x40, 100);
    outb(pit.ports, 0x40, 0);
    at(1 + 30);
    outb(pit.ports, 0x40, 10);
    outb(pit.ports, 0x40, 0);
    expect(latch0()).toBe(70);
    at(1 + 100);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
    expect(latch0()).toBe(10);
    at(1 + 110);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
  });

  it('mode 4: one strobe, OUT rises a tick after the count reaches zero', () => {
    outb(pit.ports, 0x43, 0x38);
    outb(pit.ports, 0x40, 50);
    outb(pit.ports, 0x40, 0);
    at(1 + 50);
    pit.update();
    expect(irq.take()).toEqual([]);
    at(1 + 51);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
    at(1 + 51 + 65536);
    pit.update();
    expect(irq.take()).toEqual([]);
  });

  it('supports LSB-only, MSB-only access and BCD counting', () => {
    outb(pit.ports, 0x43, 0x54); // channel 1, LSB only, mode 2
    outb(pit.ports, 0x41, 18);
    at(1 + 5);
    expect(inb(pit.ports, 0x41)).toBe(13);
    outb(pit.ports, 0x43, 0x64); // channel 1, MSB only, mode 2: count 0x0200
    outb(pit.ports, 0x41, 0x02);
    at(6 + 1 + 0x10);
    expect(inb(pit.ports, 0x41)).toBe(0x01);
    outb(pit.ports, 0x43, 0x35); // channel 0, mode 2, BCD
    outb(pit.ports, 0x40, 0x00);
    outb(pit.ports, 0x40, 0x10); // 1000 decimal
    const t0 = pit.tick();
    at(t0 + 1 + 1);
    expect(latch0()).toBe(0x0999);
    at(t0 + 1 + 1000);
    pit.update();
    expect(irq.take()).toEqual(['-0', '+0']);
  });

  it('toggles the refresh bit of port 0x61 every 15 µs', () => {
    const bit = (): number => inb(pit.ports, 0x61) & 0x10;
    clock.set(1000);
    const a = bit();
    clock.set(1000 + 15085);
    expect(bit()).not.toBe(a);
    clock.set(1000 + 2 * 15085);
    expect(bit()).toBe(a);
  });
});
