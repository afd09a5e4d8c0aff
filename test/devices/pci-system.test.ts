/**
 * PCI configuration mechanism #1 as Linux's pci_check_type1/pci_sanity_check probe it, the two
 * bridges' config spaces, 0xCF9 reset; and the fixed system ports 0x80, 0x92, 0xE9, 0xF4.
 */
import { describe, expect, it } from 'vitest';
import { PciHost } from '../../runtime/devices/pci.ts';
import { SystemPorts } from '../../runtime/devices/system-ports.ts';
import { DebugPorts } from '../../runtime/devices/debug-ports.ts';

describe('PciHost', () => {
  const cfg = (pci: PciHost, dev: number, fn: number, reg: number, size: 1 | 2 | 4 = 4): number => {
    pci.portOut(0xcf8, 4, 0x80000000 | (dev << 11) | (fn << 8) | (reg & 0xfc));
    return pci.portIn(0xcfc + (reg & 3), size);
  };

  it('passes the type-1 probe and fails the type-2 probe', () => {
    const pci = new PciHost();
    pci.portOut(0xcfb, 1, 0x01);
    const saved = pci.portIn(0xcf8, 4);
    pci.portOut(0xcf8, 4, 0x80000000);
    expect(pci.portIn(0xcf8, 4) >>> 0).toBe(0x80000000);
    pci.portOut(0xcf8, 4, saved);
    pci.portOut(0xcfb, 1, 0x00);
    pci.portOut(0xcf8, 1, 0x00);
    pci.portOut(0xcfa, 1, 0x00);
    expect(pci.portIn(0xcf8, 1)).toBe(0xff);
    expect(pci.portIn(0xcfa, 1)).toBe(0xff);
  });

  it('shows an i440FX host bridge and a PIIX3 ISA bridge, nothing else', () => {
    const pci = new PciHost();
    expect(cfg(pci, 0, 0, 0) >>> 0).toBe(0x12378086);
    expect(cfg(pci, 0, 0, 8) >>> 0).toBe(0x06000002);
    expect(cfg(pci, 1, 0, 0) >>> 0).toBe(0x70008086);
    expect(cfg(pci, 1, 0, 8) >>> 0).toBe(0x06010000);
    expect(cfg(pci, 1, 0, 0x0e, 1)).toBe(0x80);
    expect(cfg(pci, 1, 0, 0x60) >>> 0).toBe(0x80808080);
    expect(cfg(pci, 1, 1, 0)).toBe(-1);
    expect(cfg(pci, 2, 0, 0)).toBe(-1);
    expect(cfg(pci, 0, 0, 2, 2)).toBe(0x1237);
    // Bus 1 and a disabled CONFIG_ADDRESS read all ones.
    pci.portOut(0xcf8, 4, 0x80010000);
    expect(pci.portIn(0xcfc, 4)).toBe(-1);
    pci.portOut(0xcf8, 4, 0x00000000);
    expect(pci.portIn(0xcfc, 2)).toBe(0xffff);
  });

  it('keeps identity registers read-only and the command register and 0x40+ writable', () => {
    const pci = new PciHost();
    pci.portOut(0xcf8, 4, 0x80000000);
    pci.portOut(0xcfc, 4, 0);
    expect(cfg(pci, 0, 0, 0) >>> 0).toBe(0x12378086);
    pci.portOut(0xcf8, 4, 0x80000004);
    pci.portOut(0xcfc, 2, 0x0107);
    expect(cfg(pci, 0, 0, 4, 2)).toBe(0x0107);
    pci.portOut(0xcf8, 4, 0x80000858);
    pci.portOut(0xcfd, 1, 0x33); // 00:01.0 register 0x59
    expect(cfg(pci, 1, 0, 0x59, 1)).toBe(0x33);
  });

  it('resets on 0xCF9 bit 2 rising, as Linux writes 0x02 then 0x06', () => {
    const pci = new PciHost();
    let resets = 0;
    pci.onReset = () => resets++;
    pci.portOut(0xcf9, 1, 0x02);
    expect(resets).toBe(0);
    pci.portOut(0xcf9, 1, 0x06);
    expect(resets).toBe(1);
    expect(pci.portIn(0xcf9, 1)).toBe(0x02);
  });
});

describe('SystemPorts', () => {
  it('resets and gates A20 on 0x92, ignores 0x80', () => {
    const sp = new SystemPorts();
    let resets = 0;
    sp.onReset = () => resets++;
    expect(sp.portIn(0x92, 1)).toBe(0x02);
    sp.portOut(0x92, 1, 0x00);
    expect(sp.a20).toBe(false);
    sp.portOut(0x92, 1, 0x03);
    expect(resets).toBe(1);
    sp.portOut(0x92, 1, 0x03);
    expect(resets).toBe(1);
    sp.portOut(0x80, 1, 0x55);
    expect(sp.state).toEqual({ portA: 0x03, post: 0x55 });
    expect(sp.portIn(0x80, 1)).toBe(0xff);
  });
});

describe('DebugPorts (QEMU debugcon at 0xE9, isa-debug-exit at 0xF4-0xF7)', () => {
  it('prints the low byte written to 0xE9 and reads back 0xE9 (all ones above it)', () => {
    const d = new DebugPorts();
    const out: number[] = [];
    d.onOutput = (b) => out.push(b);
    expect(d.portIn(0xe9, 1)).toBe(0xe9);
    expect(d.portIn(0xe9, 2)).toBe(0xffe9);
    d.portOut(0xe9, 1, 0x4f);
    d.portOut(0xe9, 2, 0x124b);
    expect(String.fromCharCode(...out)).toBe('OK');
  });

  it('exits with (v << 1) | 1 on any of 0xF4-0xF7, v at the access width', () => {
    const d = new DebugPorts();
    const exits: number[] = [];
    d.onExit = (c) => exits.push(c);
    d.portOut(0xf4, 1, 0x10);
    d.portOut(0xf7, 1, 0x1ff);
    d.portOut(0xf4, 2, 0x12345);
    d.portOut(0xf4, 4, 0x80000000);
    d.portOut(0xf8, 1, 0x10);
    expect(exits).toEqual([0x21, 0x1ff, 0x468b, 1]);
    expect(d.portIn(0xf4, 1)).toBe(0xff);
  });
});
