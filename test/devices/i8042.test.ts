/**
 * i8042: Linux's probe sequence (flush, self-test, command byte, AUX loop and port toggles),
 * the empty keyboard's answers, the AUX "no device" timeout, IRQ1/IRQ12, disabled ports, and
 * the reset and A20 lines of the output port.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { I8042 } from '../../runtime/devices/i8042.ts';
import { inb, IrqRecorder, outb } from './helpers.ts';

describe('I8042', () => {
  let irq: IrqRecorder;
  let kbc: I8042;
  let resets: number;
  const status = (): number => inb(kbc.ports, 0x64);
  const data = (): number => inb(kbc.ports, 0x60);
  const cmd = (v: number): void => outb(kbc.ports, 0x64, v);
  const put = (v: number): void => outb(kbc.ports, 0x60, v);
  /** Reads everything in the output buffer, as Linux's i8042_flush does. */
  const drain = (): number[] => {
    const out: number[] = [];
    while (status() & 1) out.push(data());
    return out;
  };

  beforeEach(() => {
    irq = new IrqRecorder();
    kbc = new I8042(irq);
    resets = 0;
    kbc.onReset = () => resets++;
  });

  it('answers the controller probe: empty buffer, self-test, interface tests, command byte', () => {
    expect(status()).toBe(0x14);
    cmd(0xaa);
    expect(status()).toBe(0x1d); // OBF, SYS, last write was a command, not inhibited
    expect(data()).toBe(0x55);
    expect(status() & 1).toBe(0);
    cmd(0xab);
    cmd(0xa9);
    expect(drain()).toEqual([0x00, 0x00]);
    cmd(0x20);
    expect(drain()).toEqual([0x45]);
    cmd(0x60);
    put(0x47);
    cmd(0x20);
    expect(drain()).toEqual([0x47]);
    cmd(0xa7);
    cmd(0x20);
    expect(drain()).toEqual([0x67]);
    cmd(0xa8);
    cmd(0x20);
    expect(drain()).toEqual([0x47]);
  });

  it('loops a byte through the AUX output buffer with the AUX status bit and IRQ12', () => {
    cmd(0x60);
    put(0x47); // both interrupts on
    irq.take();
    cmd(0xd3);
    put(0x5a);
    expect(status() & 0x21).toBe(0x21);
    expect(irq.take()).toEqual(['+12']);
    expect(data()).toBe(0x5a);
    expect(irq.take()).toEqual(['-12']);
  });

  it('has an empty keyboard: reset, identify, LEDs, echo, unknown commands', () => {
    irq.take();
    put(0xff);
    expect(irq.take()).toEqual(['+1']);
    expect(drain()).toEqual([0xfa, 0xaa]);
    put(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]); // translated by the controller
    cmd(0x60);
    put(0x05); // translation off
    put(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x83]);
    put(0xed);
    put(0x07);
    put(0xee);
    put(0x99);
    expect(drain()).toEqual([0xfa, 0xfa, 0xee, 0xfe]);
    put(0xf0);
    put(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]);
    expect(irq.level[1]).toBe(false);
  });

  it('answers writes to the missing AUX device with a timeout', () => {
    cmd(0xd4);
    put(0xff);
    expect(status() & 0x61).toBe(0x61);
    expect(data()).toBe(0xfe);
    expect(status() & 0x61).toBe(0x00);
  });

  it('holds keyboard bytes while the keyboard port is disabled', () => {
    cmd(0xad);
    put(0xf4);
    expect(status() & 1).toBe(0);
    cmd(0xae);
    expect(drain()).toEqual([0xfa]);
  });

  it('returns the last byte when the output buffer is empty', () => {
    cmd(0xaa);
    expect(data()).toBe(0x55);
    expect(data()).toBe(0x55);
  });

  it('resets through 0xFE and through the output port; sets A20 through the output port', () => {
    cmd(0xfe);
    expect(resets).toBe(1);
    cmd(0xff); // pulses nothing
    expect(resets).toBe(1);
    cmd(0xd1);
    put(0x01); // A20 off, reset line not asserted
    expect(resets).toBe(1);
    expect(kbc.a20).toBe(false);
    cmd(0xdf);
    expect(kbc.a20).toBe(true);
    cmd(0xd0);
    expect(drain()).toEqual([0x03]);
    cmd(0xd1);
    put(0x02);
    expect(resets).toBe(2);
  });
});
