/**
 * 8259A pair: initialization words, priority and nesting, EOI forms, cascade through IR2,
 * spurious IR7/IR15, edge versus level (ELCR), auto-EOI, rotation, poll mode, masks.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DualPic } from '../../runtime/devices/pic.ts';
import { inb, outb } from './helpers.ts';

/** Programs both chips as Linux's init_8259A does: vectors 0x30/0x38, IR2 cascade, 8086 mode. */
function initLinux(pic: DualPic, icw4 = 0x01): void {
  const p = pic.ports;
  outb(p, 0x20, 0x11);
  outb(p, 0x21, 0x30);
  outb(p, 0x21, 0x04);
  outb(p, 0x21, icw4);
  outb(p, 0xa0, 0x11);
  outb(p, 0xa1, 0x38);
  outb(p, 0xa1, 0x02);
  outb(p, 0xa1, icw4);
}

describe('DualPic', () => {
  let pic: DualPic;
  let notified: number;
  beforeEach(() => {
    pic = new DualPic();
    notified = 0;
    pic.onInterrupt = () => notified++;
  });

  it('starts fully masked and initializes with masks cleared', () => {
    expect(inb(pic.ports, 0x21)).toBe(0xff);
    expect(inb(pic.ports, 0xa1)).toBe(0xff);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(false);
    initLinux(pic);
    expect(inb(pic.ports, 0x21)).toBe(0x00);
    // The line was already high: ICW1 reset the edge detector, so there is no request.
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(notified).toBeGreaterThan(0);
  });

  it('delivers by priority, nests higher priorities and blocks lower ones until EOI', () => {
    initLinux(pic);
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    expect(pic.state.master.isr).toBe(0x02);
    expect(pic.state.master.irr).toBe(0x08);
    // IRQ3 is lower priority than the in-service IRQ1.
    expect(pic.hasInterrupt()).toBe(false);
    // IRQ0 outranks IRQ1 and nests.
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
    expect(pic.state.master.isr).toBe(0x03);
    outb(pic.ports, 0x20, 0x20); // non-specific EOI ends IRQ0 (the highest in service)
    expect(pic.state.master.isr).toBe(0x02);
    expect(pic.hasInterrupt()).toBe(false);
    outb(pic.ports, 0x20, 0x61); // specific EOI for IRQ1
    expect(pic.state.master.isr).toBe(0x00);
    expect(pic.acknowledge()).toBe(0x33);
  });

  it('reads IRR and ISR through OCW3 and the mask through the data port', () => {
    initLinux(pic);
    outb(pic.ports, 0x21, 0xfa);
    expect(inb(pic.ports, 0x21)).toBe(0xfa);
    pic.setIrq(0, true);
    pic.setIrq(1, true); // masked, but still recorded in IRR
    outb(pic.ports, 0x20, 0x0a); // read IRR
    expect(inb(pic.ports, 0x20)).toBe(0x03);
    expect(pic.acknowledge()).toBe(0x30);
    outb(pic.ports, 0x20, 0x0b); // read ISR
    expect(inb(pic.ports, 0x20)).toBe(0x01);
    outb(pic.ports, 0x20, 0x0a);
    expect(inb(pic.ports, 0x20)).toBe(0x02);
  });

  it('cascades the slave through IR2 and needs an EOI on both chips', () => {
    initLinux(pic);
    pic.setIrq(12, true);
    expect(pic.state.master.irr).toBe(0x04);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x3c);
    expect(pic.state.slave.isr).toBe(0x10);
    expect(pic.state.master.isr).toBe(0x04);
    // A lower-priority slave request waits for the slave's EOI.
    pic.setIrq(14, true);
    expect(pic.hasInterrupt()).toBe(false);
    outb(pic.ports, 0xa0, 0x64); // specific EOI 4 on the slave
    outb(pic.ports, 0x20, 0x62); // specific EOI 2 on the master
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x3e);
  });

  it('answers with IR7/IR15 when a request vanishes before INTA', () => {
    initLinux(pic);
    expect(pic.acknowledge()).toBe(0x37); // nothing at all
    expect(pic.state.master.isr).toBe(0);
    pic.setIrq(5, true);
    pic.setIrq(5, false);
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.acknowledge()).toBe(0x37);
    // The slave's request disappears between the master's and the slave's INTA cycle: the
    // master takes IR2, the slave answers with its IR7.
    pic.setIrq(10, true);
    const s = pic.state;
    s.slave.irr = 0; // as if the line dropped during the acknowledge cycle
    expect(pic.acknowledge()).toBe(0x3f);
    expect(s.slave.isr).toBe(0);
    expect(s.master.isr).toBe(0x04);
  });

  it('re-requests a level-triggered line (ELCR) after EOI, but not an edge-triggered one', () => {
    initLinux(pic);
    outb(pic.ports, 0x4d1, 0xff);
    expect(inb(pic.ports, 0x4d1)).toBe(0xde); // IRQ8 and IRQ13 are always edge
    outb(pic.ports, 0x4d0, 0xff);
    expect(inb(pic.ports, 0x4d0)).toBe(0xf8); // IRQ0-2 are always edge
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x3b);
    outb(pic.ports, 0xa0, 0x20);
    outb(pic.ports, 0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(true); // still high: requests again
    expect(pic.acknowledge()).toBe(0x3b);
    outb(pic.ports, 0xa0, 0x20);
    outb(pic.ports, 0x20, 0x20);
    pic.setIrq(11, false);
    expect(pic.hasInterrupt()).toBe(false);
    // Edge-triggered IRQ4 held high requests once.
    outb(pic.ports, 0x4d0, 0x00);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x34);
    outb(pic.ports, 0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('treats every line as level-triggered with ICW1.LTIM', () => {
    outb(pic.ports, 0x20, 0x19);
    outb(pic.ports, 0x21, 0x08);
    outb(pic.ports, 0x21, 0x04);
    outb(pic.ports, 0x21, 0x01);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    outb(pic.ports, 0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x09);
  });

  it('does not set ISR in automatic-EOI mode', () => {
    initLinux(pic, 0x03);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    expect(pic.state.master.isr).toBe(0);
    pic.setIrq(1, false);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
  });

  it('rotates priorities with the set-priority and rotate-on-EOI commands', () => {
    initLinux(pic);
    outb(pic.ports, 0x20, 0xc4); // IR4 lowest: IR5 highest
    pic.setIrq(3, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x35);
    outb(pic.ports, 0x20, 0xa0); // rotate on non-specific EOI: IR5 becomes lowest
    expect(pic.state.master.lowest).toBe(5);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x36);
    outb(pic.ports, 0x20, 0xe6); // rotate on specific EOI 6
    expect(pic.state.master.lowest).toBe(6);
    expect(pic.state.master.isr).toBe(0);
    expect(pic.acknowledge()).toBe(0x33);
  });

  it('answers a poll command with the highest request and acknowledges it', () => {
    initLinux(pic);
    outb(pic.ports, 0x21, 0xff); // a masked request is not reported by a poll
    pic.setIrq(6, true);
    outb(pic.ports, 0x20, 0x0c);
    expect(inb(pic.ports, 0x20)).toBe(0x00);
    outb(pic.ports, 0x21, 0x00);
    outb(pic.ports, 0x20, 0x0c);
    expect(inb(pic.ports, 0x20)).toBe(0x86);
    expect(pic.state.master.isr).toBe(0x40);
    expect(pic.state.master.irr).toBe(0);
    outb(pic.ports, 0x20, 0x0b);
    expect(inb(pic.ports, 0x20)).toBe(0x40); // not a poll any more: ISR
  });

  it('lets masked in-service levels be preempted by lower priorities in special mask mode', () => {
    initLinux(pic);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.setIrq(4, true);
    expect(pic.hasInterrupt()).toBe(false);
    outb(pic.ports, 0x21, 0x02); // mask IR1 (in service)
    outb(pic.ports, 0x20, 0x68); // set special mask mode
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x34);
  });

  it('routes IRQ2 to the slave IR1 (IRQ9) as the AT bus does', () => {
    initLinux(pic);
    pic.setIrq(2, true);
    expect(pic.state.slave.irr).toBe(0x02);
    expect(pic.acknowledge()).toBe(0x39);
  });
});
