/**
 * MC146818 RTC/CMOS against a manual clock: BCD/binary and 12/24-hour time, rollover, the
 * update-in-progress window, setting the time with SET, periodic/update/alarm interrupts on
 * IRQ8 and register C, and the CMOS memory-size fields.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { periodicNs, Rtc } from '../../runtime/devices/rtc.ts';
import { inb, IrqRecorder, outb } from './helpers.ts';

const START = Date.UTC(2024, 1, 29, 23, 59, 58, 250); // Thu 29 Feb 2024 23:59:58.25 UTC

describe('Rtc', () => {
  let clock: ManualClock;
  let irq: IrqRecorder;
  let rtc: Rtc;
  const read = (reg: number): number => {
    outb(rtc.ports, 0x70, reg);
    return inb(rtc.ports, 0x71);
  };
  const write = (reg: number, v: number): void => {
    outb(rtc.ports, 0x70, reg);
    outb(rtc.ports, 0x71, v);
  };
  const time = (): number[] => [0, 2, 4, 6, 7, 8, 9, 0x32].map(read);

  beforeEach(() => {
    clock = new ManualClock(1_000_000);
    irq = new IrqRecorder();
    rtc = new Rtc(clock, irq, { memorySize: 128 << 20, startTimeMs: START });
  });

  it('reads the host time in BCD, 24-hour, and rolls over into March', () => {
    expect(time()).toEqual([0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20]);
    clock.advance(1_750_000_000); // 23:59:60.0 = 00:00:00 on 1 March
    expect(time()).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]);
    expect(read(0x0d)).toBe(0x80);
  });

  it('switches to binary and 12-hour formats through register B', () => {
    write(0x0b, 0x04); // binary, 12-hour
    expect(time().slice(0, 3)).toEqual([58, 59, 0x80 | 11]);
    clock.advance(2_000_000_000);
    expect(read(4)).toBe(12); // midnight is 12 AM
    write(0x0b, 0x06);
    expect(read(4)).toBe(0);
  });

  it('sets UIP in the 2228 µs before each second boundary', () => {
    expect(read(0x0a)).toBe(0x26);
    clock.advance(750_000_000 - 2_228_001); // just before the window
    expect(read(0x0a) & 0x80).toBe(0);
    clock.advance(2);
    expect(read(0x0a) & 0x80).toBe(0x80);
    expect(read(0)).toBe(0x58); // the registers still show the old second
    clock.advance(2_228_000);
    expect(read(0x0a) & 0x80).toBe(0);
    expect(read(0)).toBe(0x59);
  });

  it('sets the time with SET: frozen while set, then runs from the written time', () => {
    write(0x0b, 0x82);
    expect(read(0x0a) & 0x80).toBe(0);
    write(0, 0x30);
    write(2, 0x15);
    write(4, 0x10);
    write(7, 0x04);
    write(8, 0x07);
    write(9, 0x25);
    clock.advance(5_000_000_000);
    expect(time().slice(0, 3)).toEqual([0x30, 0x15, 0x10]);
    write(0x0b, 0x02);
    // The divider kept running: its phase (.25 s into the second, plus 5 s) carries over.
    clock.advance(749_000_000);
    expect(read(0)).toBe(0x30);
    clock.advance(1_000_000);
    expect(time()).toEqual([0x31, 0x15, 0x10, 0x06, 0x04, 0x07, 0x25, 0x20]);
    expect(rtc.timeMs()).toBe(Date.UTC(2025, 6, 4, 10, 15, 31));
  });

  it('raises IRQ8 for the periodic interrupt until register C is read', () => {
    expect(periodicNs(6)).toBeCloseTo(976562.5, 3);
    expect(periodicNs(1)).toBeCloseTo(3906250, 3);
    expect(periodicNs(15)).toBe(500_000_000);
    write(0x0b, 0x42); // PIE
    const next = rtc.nextEventNs();
    expect(next).toBe(1_953_125); // the next multiple of 976.5625 µs after 1 ms
    clock.set(next);
    rtc.update();
    expect(irq.take()).toEqual(['+8']);
    expect(rtc.nextEventNs()).toBe(Infinity);
    expect(read(0x0c)).toBe(0xc0);
    expect(irq.take()).toEqual(['-8']);
    expect(read(0x0c)).toBe(0x00);
  });

  it('flags update-ended and alarm; only enabled flags raise IRQ8', () => {
    write(0x0a, 0x20); // no periodic rate, so PF stays clear
    // Alarm at 00:00:01 (hours "don't care").
    write(1, 0x01);
    write(3, 0x00);
    write(5, 0xc0);
    clock.advance(1_750_000_000); // 00:00:00: update ended, no alarm
    rtc.update();
    expect(irq.take()).toEqual([]);
    expect(read(0x0c)).toBe(0x10);
    write(0x0b, 0x22); // AIE
    clock.advance(1_000_000_000); // 00:00:01: alarm
    rtc.update();
    expect(irq.take()).toEqual(['+8']);
    expect(read(0x0c)).toBe(0xb0);
    write(0x0b, 0x12); // UIE
    expect(rtc.nextEventNs()).toBe(clock.now() + 1_000_000_000);
    clock.advance(1_000_000_000);
    rtc.update();
    expect(irq.take()).toEqual(['-8', '+8']);
    expect(read(0x0c)).toBe(0x90);
  });

  it('holds the memory sizes, checksum and NVRAM; port 0x70 bit 7 masks NMI', () => {
    expect([0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35].map(read)).toEqual([0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07]);
    let sum = 0;
    for (let k = 0x10; k <= 0x2d; k++) sum += read(k);
    expect((read(0x2e) << 8) | read(0x2f)).toBe(sum);
    write(0x40, 0xa5);
    expect(read(0x40)).toBe(0xa5);
    outb(rtc.ports, 0x70, 0x80 | 0x40);
    expect(rtc.state.nmiMasked).toBe(true);
    expect(inb(rtc.ports, 0x71)).toBe(0xa5);
    const small = new Rtc(clock, irq, { memorySize: 8 << 20, startTimeMs: START });
    outb(small.ports, 0x70, 0x17);
    expect(inb(small.ports, 0x71) | 0).toBe((7 * 1024) & 0xff);
  });
});
