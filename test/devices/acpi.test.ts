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
import { VIRTIO_BLK_IRQS, VIRTIO_FIRST_SLOT } from '../../runtime/pc/storage.ts';
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
      writeFileSync(join(dir, 'dsdt.dat'), bytes.subarray(layout.dsdt - layout.rsdp, (layout.madt ?? layout.end) - layout.rsdp));
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
      // INTA# of every virtio-blk slot on its ISA IRQ, as a static GSI.
      const hex = (v: number, digits: number): string => `0x${v.toString(16).toUpperCase().padStart(digits, '0')}`;
      const routes = VIRTIO_BLK_IRQS.map((irq, n) => `Package (0x04) { ${hex(((VIRTIO_FIRST_SLOT + n) << 16) | 0xffff, 8)}, Zero, Zero, ${hex(irq, 2)} }`);
      expect(dsl).toContain(`Name (_PRT, Package (${hex(routes.length, 2)}) // _PRT: PCI Routing Table { ${routes.join(', ')} })`);
      expect(dsl).toMatch(/Device \(PEVT\) \{ Name \(_HID, "QEMU0001"\) .* IO \(Decode16, 0x0505, \/\/ Range Minimum 0x0505, \/\/ Range Maximum 0x01, \/\/ Alignment 0x01, \/\/ Length \)/);
      const facp = readFileSync(join(dir, 'facp.dsl'), 'utf8');
      expect(facp).not.toMatch(/Error|Warning/i);
      expect(facp).toMatch(/PM1A Control Block Address : 00000604/);
      expect(facp).toMatch(/Reset Register Supported \(V2\) : 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(iasl.error !== undefined)('has an MADT that iasl disassembles to the local APIC, the I/O APIC and the PC overrides', () => {
    const { bytes, layout } = buildAcpiTables();
    expect(layout.madt).not.toBeNull();
    const madt = layout.madt!;
    // The RSDT's second entry points at it.
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(layout.rsdt - layout.rsdp + 4, true)).toBe(36 + 8);
    expect(view.getUint32(layout.rsdt - layout.rsdp + 40, true)).toBe(madt);
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-acpi-'));
    try {
      writeFileSync(join(dir, 'apic.dat'), bytes.subarray(madt - layout.rsdp, layout.end - layout.rsdp));
      const r = spawnSync('iasl', ['-d', 'apic.dat'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const dsl = readFileSync(join(dir, 'apic.dsl'), 'utf8');
      expect(dsl).not.toMatch(/Error|Warning|Invalid|Unknown/i);
      // iasl's "Name : Value" lines, in order, whitespace-normalised.
      const text = dsl.split('\n').map((l) => /^(?:\[[^\]]*\])?\s*([A-Za-z][^:]*?)\s+:\s+(.*?)\s*$/.exec(l)).filter((m) => m !== null).map((m) => `${m[1]} : ${m[2].replace(/\s+/g, ' ')}`).join('\n');
      expect(text).toContain(['Signature : "APIC" [Multiple APIC Description Table (MADT)]', 'Table Length : 0000005A', 'Revision : 01'].join('\n'));
      expect(text).toContain(['Local Apic Address : FEE00000', 'Flags (decoded below) : 00000001', 'PC-AT Compatibility : 1'].join('\n'));
      const sub = (type: string, name: string, body: string[]): string => [`Subtable Type : ${type} [${name}]`, ...body].join('\n');
      expect(text).toContain(sub('00', 'Processor Local APIC', ['Length : 08', 'Processor ID : 00', 'Local Apic ID : 00', 'Flags (decoded below) : 00000001', 'Processor Enabled : 1']));
      expect(text).toContain(sub('01', 'I/O APIC', ['Length : 0C', 'I/O Apic ID : 00', 'Reserved : 00', 'Address : FEC00000', 'Interrupt : 00000000']));
      expect(text).toContain(sub('02', 'Interrupt Source Override', ['Length : 0A', 'Bus : 00', 'Source : 00', 'Interrupt : 00000002', 'Flags (decoded below) : 0000', 'Polarity : 0', 'Trigger Mode : 0']));
      expect(text).toContain(sub('02', 'Interrupt Source Override', ['Length : 0A', 'Bus : 00', 'Source : 09', 'Interrupt : 00000009', 'Flags (decoded below) : 000D', 'Polarity : 1', 'Trigger Mode : 3']));
      expect(text).toContain(sub('04', 'Local APIC NMI', ['Length : 06', 'Processor ID : FF', 'Flags (decoded below) : 0000', 'Polarity : 0', 'Trigger Mode : 0', 'Interrupt Input LINT : 01']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no MADT (and one RSDT entry) without the APICs', () => {
    const { bytes, layout } = buildAcpiTables(undefined, { apic: false });
    expect(layout.madt).toBeNull();
    const rsdtLength = new DataView(bytes.buffer).getUint32(layout.rsdt - layout.rsdp + 4, true);
    expect(rsdtLength).toBe(36 + 4);
  });
});
