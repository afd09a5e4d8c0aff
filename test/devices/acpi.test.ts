/**
 * The ACPI power-management registers (devices/acpi-pm.ts), QEMU's pvpanic device
 * (devices/pvpanic.ts) and the ACPI tables that describe them (pc/acpi-tables.ts): register
 * behaviour as ACPI 6.5 §4.8 defines it, the AML encodings against the spec's examples, and the
 * DSDT as Intel's disassembler (iasl, Debian package acpica-tools) reads it back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AcpiPm, PM_TIMER_HZ } from '../../runtime/devices/acpi-pm.ts';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { PvPanic } from '../../runtime/devices/pvpanic.ts';
import { amlPkgLength, buildAcpiTables, eisaId } from '../../runtime/pc/acpi-tables.ts';
import { inb, outb } from './helpers.ts';

describe('ACPI PM1 and PM timer registers', () => {
  it('reads SCI_EN as set (always in ACPI mode) and keeps SLP_TYP', () => {
    const pm = new AcpiPm(new ManualClock());
    expect(pm.portIn(0x604, 2) & 1).toBe(1);
    pm.portOut(0x604, 2, 0x1400); // SLP_TYP 5 without SLP_EN
    expect(pm.portIn(0x604, 2)).toBe(0x1401);
  });

  it('powers off on SLP_EN with SLP_TYP 0 only, also through byte writes (high byte last)', () => {
    const pm = new AcpiPm(new ManualClock());
    let off = 0;
    pm.onPowerOff = () => off++;
    pm.portOut(0x604, 2, 0x2000 | (3 << 10)); // S3 is not implemented: ignored
    expect(off).toBe(0);
    outb(pm, 0x604, 0x00);
    expect(off).toBe(0);
    outb(pm, 0x605, 0x20);
    expect(off).toBe(1);
    pm.portOut(0x604, 2, 0x2000);
    expect(off).toBe(2);
    expect(pm.portIn(0x604, 2) & 0x2000).toBe(0); // SLP_EN reads as 0
  });

  it('clears PM1_STS bits written as 1 and keeps the PM1_EN bits that exist', () => {
    const pm = new AcpiPm(new ManualClock());
    pm.state.sts = 0x8101;
    pm.portOut(0x600, 2, 0x0100);
    expect(pm.portIn(0x600, 2)).toBe(0x8001);
    pm.portOut(0x602, 2, 0xffff);
    expect(pm.portIn(0x602, 2)).toBe(0x0721);
    expect(pm.portIn(0x600, 4)).toBe((0x0721 << 16) | 0x8001);
  });

  it('counts the PM timer at 3.579545 MHz in 24 bits, read whole in one 32-bit access', () => {
    const clock = new ManualClock();
    const pm = new AcpiPm(clock);
    expect(pm.portIn(0x608, 4)).toBe(0);
    clock.advance(1e9);
    expect(pm.portIn(0x608, 4)).toBe(PM_TIMER_HZ & 0xffffff);
    clock.set(10e9);
    expect(pm.portIn(0x608, 4)).toBe((PM_TIMER_HZ * 10) % (1 << 24));
    expect(inb(pm, 0x60b)).toBe(0);
  });
});

describe('pvpanic', () => {
  it('reports PANICKED | CRASH_LOADED as supported and passes written events on', () => {
    const p = new PvPanic();
    const events: number[] = [];
    p.onEvent = (e) => events.push(e);
    expect(inb(p, 0x505)).toBe(3);
    outb(p, 0x505, 0);
    outb(p, 0x505, 1);
    outb(p, 0x505, 2);
    outb(p, 0x505, 0xfc); // no event bits
    expect(events).toEqual([1, 2]);
  });
});

describe('ACPI tables', () => {
  it('encodes PkgLength and EISA IDs as the spec does', () => {
    expect(amlPkgLength(0x3e)).toEqual([0x3f]);
    expect(amlPkgLength(0x3f)).toEqual([0x41, 0x04]); // 0x41 total: 1 + nibble, 2 bytes
    expect(amlPkgLength(0xffd)).toEqual([0x4f, 0xff]);
    expect(amlPkgLength(0xffe)).toEqual([0x81, 0x00, 0x01]);
    expect(eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(eisaId('PNP0501')).toEqual([0x0c, 0x41, 0xd0, 0x05, 0x01]);
  });

  const iasl = spawnSync('iasl', ['-v'], { encoding: 'utf8' });
  it.skipIf(iasl.error !== undefined)('has a DSDT and FADT that iasl disassembles to what we meant', () => {
    const { bytes, layout } = buildAcpiTables();
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-acpi-'));
    try {
      writeFileSync(join(dir, 'dsdt.dat'), bytes.subarray(layout.dsdt - layout.rsdp, layout.end - layout.rsdp));
      writeFileSync(join(dir, 'facp.dat'), bytes.subarray(layout.fadt - layout.rsdp, layout.dsdt - layout.rsdp));
      const r = spawnSync('iasl', ['-d', 'dsdt.dat', 'facp.dat'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8').replace(/\s+/g, ' ');
      expect(dsl).toContain('Name (\\_S5, Package (0x04) // _S5_: S5 System State { Zero, Zero, Zero, Zero })');
      expect(dsl).toContain('Device (PCI0) { Name (_HID, EisaId ("PNP0A03")');
      // The host bridge's I/O windows: every port but its configuration ports 0xCF8–0xCFF.
      const window = (min: string, max: string, len: string): RegExp =>
        new RegExp(`WordIO \\(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, // Granularity ${min}, // Range Minimum ${max}, // Range Maximum 0x0000, // Translation Offset ${len}, // Length`);
      expect(dsl).toMatch(window('0x0000', '0x0CF7', '0x0CF8'));
      expect(dsl).toMatch(window('0x0D00', '0xFFFF', '0xF300'));
      expect(dsl).toMatch(/Device \(PEVT\) \{ Name \(_HID, "QEMU0001"\) .* IO \(Decode16, 0x0505, \/\/ Range Minimum 0x0505, \/\/ Range Maximum 0x01, \/\/ Alignment 0x01, \/\/ Length \)/);
      const facp = readFileSync(join(dir, 'facp.dsl'), 'utf8');
      expect(facp).not.toMatch(/Error|Warning/i);
      expect(facp).toMatch(/PM1A Control Block Address : 00000604/);
      expect(facp).toMatch(/Reset Register Supported \(V2\) : 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
