/**
 * 16550A UART: transmit, receive FIFO and trigger levels, the interrupt identification order,
 * THR-empty interrupt rules, flow control from the host side (txReady), OUT2 gating of IRQ4, loopback, divisor latch, and the register
 * probe sequence of Linux's 8250 autoconfig (which must report a 16550A).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Uart16550 } from '../../runtime/devices/uart.ts';
import { inb, IrqRecorder, outb } from './helpers.ts';

const B = 0x3f8;

describe('Uart16550', () => {
  let irq: IrqRecorder;
  let uart: Uart16550;
  let sent: number[];
  const rd = (r: number): number => inb(uart.ports, B + r);
  const wr = (r: number, v: number): void => outb(uart.ports, B + r, v);

  beforeEach(() => {
    irq = new IrqRecorder();
    uart = new Uart16550(irq);
    sent = [];
    uart.onTransmit = (b) => sent.push(b);
  });

  it('passes the probe of Linux 8250 autoconfig as a 16550A', () => {
    // Scratch and IER tests.
    wr(7, 0xa5);
    expect(rd(7)).toBe(0xa5);
    wr(1, 0);
    expect(rd(1) & 0x0f).toBe(0);
    wr(1, 0x0f);
    expect(rd(1) & 0x0f).toBe(0x0f);
    wr(1, 0);
    // Loopback: MCR = LOOP | OUT2 | RTS makes MSR's top nibble DCD | CTS.
    wr(4, 0x1a);
    expect(rd(6) & 0xf0).toBe(0x90);
    wr(4, 0);
    // FIFO detection: IIR bits 7..6 = 11 once enabled; no 64-byte FIFO bit (16750).
    wr(2, 0x01);
    expect(rd(2) >> 6).toBe(3);
    wr(3, 0xbf);
    expect(rd(2)).not.toBe(0); // no EFR: register 2 is still IIR
    wr(3, 0);
    wr(2, 0x21);
    expect((rd(2) >> 5) & 1).toBe(0);
    // The upper IER bits do not exist.
    wr(1, 0x40);
    expect(rd(1)).toBe(0);
    expect(rd(5)).toBe(0x60);
  });

  it('transmits bytes at once and keeps THR empty', () => {
    for (const c of 'hi\n') wr(0, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('hi\n');
    expect(rd(5)).toBe(0x60);
  });

  it('keeps the divisor latch apart from RBR/THR and IER', () => {
    wr(1, 0x05);
    wr(3, 0x83);
    wr(0, 0x01);
    wr(1, 0x00);
    expect([rd(0), rd(1)]).toEqual([0x01, 0x00]);
    wr(3, 0x03);
    expect(rd(1)).toBe(0x05);
    expect(rd(3)).toBe(0x03);
    expect(sent).toEqual([]);
  });

  it('raises the THR-empty interrupt when enabled, clears it by reading IIR, re-raises on THR write', () => {
    wr(4, 0x0b); // DTR, RTS, OUT2
    expect(irq.take()).toEqual([]);
    wr(1, 0x02);
    expect(irq.take()).toEqual(['+4']);
    expect(rd(2)).toBe(0x02);
    expect(irq.take()).toEqual(['-4']);
    expect(rd(2)).toBe(0x01);
    wr(0, 0x41);
    expect(irq.take()).toEqual(['+4']);
    wr(0, 0x42); // still pending: the line drops and rises again (a new edge)
    expect(irq.take()).toEqual(['-4', '+4']);
    wr(1, 0x00);
    expect(irq.take()).toEqual(['-4']);
  });

  it('holds THRE clear while the host side is full, keeps the bytes, and raises THR empty when it drains', () => {
    let ready = false;
    uart.txReady = () => ready;
    wr(4, 0x08); // OUT2: IRQ4 reaches the PIC
    wr(1, 0x02); // THRI, with the line not ready: no interrupt
    expect(rd(5) & 0x60).toBe(0);
    expect(rd(2) & 0x0f).toBe(0x01);
    expect(irq.take()).toEqual([]);
    wr(0, 0x41); // a driver that did not wait: the byte still goes out
    expect(sent).toEqual([0x41]);
    expect(rd(5) & 0x60).toBe(0);
    expect(rd(2) & 0x0f).toBe(0x01);
    ready = true;
    uart.txReadyChanged();
    expect(rd(5) & 0x60).toBe(0x60);
    expect(irq.take()).toEqual(['+4']);
    expect(rd(2) & 0x0f).toBe(0x02);
    expect(irq.take()).toEqual(['-4']);
  });

  it('gates IRQ4 with OUT2 and disconnects it in loopback', () => {
    wr(1, 0x02);
    expect(irq.take()).toEqual([]);
    expect(rd(2) & 1).toBe(0); // the chip's interrupt is pending anyway
    wr(1, 0x02);
    wr(4, 0x08);
    wr(1, 0x00);
    wr(1, 0x02);
    expect(irq.level[4]).toBe(true);
    wr(4, 0x18);
    expect(irq.level[4]).toBe(false);
  });

  it('receives into a 16-byte FIFO: timeout below the trigger level, data-available at it', () => {
    wr(2, 0x81); // FIFO on, trigger level 8
    wr(1, 0x01);
    wr(4, 0x08);
    uart.receive([0x61, 0x62, 0x63]);
    expect(irq.take()).toEqual(['+4']);
    expect(rd(2)).toBe(0xcc);
    expect(rd(5) & 1).toBe(1);
    expect([rd(0), rd(0), rd(0)]).toEqual([0x61, 0x62, 0x63]);
    expect(rd(5) & 1).toBe(0);
    expect(irq.take()).toEqual(['-4']);
    uart.receive(Array.from({ length: 20 }, (_, k) => k));
    expect(rd(2)).toBe(0xc4);
    expect(uart.state.rx.length).toBe(16);
    const got: number[] = [];
    while (rd(5) & 1) got.push(rd(0));
    expect(got).toEqual(Array.from({ length: 20 }, (_, k) => k));
    expect(uart.pendingInput).toBe(0);
  });

  it('holds one byte without FIFOs, and host input waits while in loopback', () => {
    wr(4, 0x10);
    uart.receive([1, 2]);
    expect(rd(5) & 1).toBe(0);
    wr(0, 0x55);
    expect(sent).toEqual([]);
    expect(rd(0)).toBe(0x55);
    wr(0, 0x56);
    wr(0, 0x57); // RBR full: overrun
    expect(rd(5)).toBe(0x63);
    expect(rd(5)).toBe(0x61);
    expect(rd(0)).toBe(0x56);
    wr(4, 0x00);
    expect([rd(0), rd(0)]).toEqual([1, 2]);
  });

  it('reports line status before received data, and modem-status changes last', () => {
    wr(4, 0x10);
    wr(1, 0x0f);
    wr(0, 1);
    wr(0, 2); // overrun
    expect(rd(2)).toBe(0x06);
    expect(rd(5) & 0x02).toBe(0x02);
    expect(rd(2)).toBe(0x04);
    rd(0);
    expect(rd(2)).toBe(0x02);
    expect(rd(2)).toBe(0x00); // MSR deltas from entering loopback (CTS, DSR, DCD dropped)
    expect(rd(6)).toBe(0x0b);
    expect(rd(6)).toBe(0x00);
    wr(4, 0x17); // loopback with DTR, RTS, OUT1 → DSR, CTS, RI
    expect(rd(6)).toBe(0x73);
    wr(4, 0x13); // RI falls: trailing-edge flag
    expect(rd(6)).toBe(0x34);
    expect(rd(2)).toBe(0x01);
  });
});
