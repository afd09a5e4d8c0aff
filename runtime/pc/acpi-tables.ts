/**
 * Minimal ACPI tables for the PC, written where a BIOS would leave them (ACPI 6.5 §5.2.5.1: the
 * OS finds the RSDP on a 16-byte boundary in 0xE0000–0xFFFFF, which our e820 map reserves):
 *
 *   RSDP (ACPI 1.0 form, §5.2.5.3) → RSDT (§5.2.7) → FADT (revision 3, §5.2.9) → FACS (§5.2.10)
 *                                                                           → DSDT (§5.2.11.1)
 *                                                 → MADT (§5.2.12)
 *
 * The FADT describes the fixed hardware of devices/acpi-pm.ts (PM1a event and control blocks,
 * PM timer; SMI_CMD 0: always in ACPI mode; SCI on IRQ 9), the reset register (port 0xCF9,
 * value 6: devices/pci.ts resets the machine) and the legacy devices (8042, RTC century byte).
 * The DSDT, in AML (§20.2), holds:
 *   \_S5          the soft-off sleep type (SLP_TYP 0), so `poweroff` writes PM1a_CNT
 *   \_SB.PCI0     the PCI host bridge (PNP0A03), so Linux still enumerates the PCI bus, with
 *                 the bus numbers and I/O port windows it decodes (_CRS) and the GSIs of the
 *                 virtio-blk slots' INTA# (_PRT)
 *   \_SB.PEVT     QEMU's pvpanic device (_HID "QEMU0001", I/O port 0x505; devices/pvpanic.ts)
 * The MADT ("APIC") describes the interrupt controllers: PCAT_COMPAT (the 8259A pair is there
 * too), the processor's local APIC (ACPI processor ID 0, APIC ID 0, enabled, at FEE00000h) with
 * its LINT1 as the NMI input, the I/O APIC of devices/io-apic.ts (ID 0, FEC00000h, GSIs 0–23),
 * and the interrupt source overrides of a PC board, as QEMU's: ISA IRQ0 (the PIT) on GSI 2,
 * and the SCI's IRQ 9 level-triggered, active high. The other ISA IRQs are GSI n (edge, active
 * high: ISA's defaults); the PCI functions' INTA# lines are ISA IRQs, which the _PRT gives as
 * GSIs (level-triggered, active low, as static _PRT entries are).
 * With the MADT Linux switches to symmetric I/O mode: it routes every IRQ through the I/O
 * APIC, masks the 8259As and LINT0, checks that the timer arrives on GSI 2, then calibrates the
 * local APIC's timer against the PIT and makes it the tick (LOC in /proc/interrupts). Without
 * an MADT (the `apic: false` option; PcMachine's `ioApic: false`) it keeps the local APIC in
 * virtual-wire mode and the PIT as its tick.
 */
import { PM1A_CNT_BLK, PM1A_EVT_BLK, PM1_CNT_LEN, PM1_EVT_LEN, PM_TMR_BLK, PM_TMR_LEN, SLP_TYP_S5 } from '../devices/acpi-pm.ts';
import { PVPANIC_PORT } from '../devices/pvpanic.ts';
import { IOAPIC_BASE, isaIrqPin } from '../devices/io-apic.ts';
import { VIRTIO_BLK_IRQS, VIRTIO_FIRST_SLOT } from './storage.ts';

/** Where the tables go: the start of the BIOS area the OS scans for the RSDP. */
export const ACPI_TABLES_ADDR = 0xe0000;
const OEM_ID = 'WASMVI';
const OEM_TABLE_ID = 'WASMVISR';
const CREATOR_ID = 'WVSR';
/** The SCI's ISA IRQ (as on PIIX4 boards). */
export const SCI_IRQ = 9;
const RESET_PORT = 0xcf9;
const RESET_VALUE = 0x06;
const RTC_CENTURY = 0x32;

// FADT flags (§5.2.9, Table 5.10) and IA-PC boot architecture flags (§5.2.9.3).
const FADT_WBINVD = 1 << 0;
const FADT_PROC_C1 = 1 << 2;
const FADT_PWR_BUTTON = 1 << 4; // no fixed power button
const FADT_SLP_BUTTON = 1 << 5; // no sleep button
const FADT_FIX_RTC = 1 << 6; // no RTC wake status in the fixed registers
const FADT_RESET_REG_SUP = 1 << 10;
const BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
const BOOT_ARCH_8042 = 1 << 1;
// MADT (§5.2.12): flags, interrupt controller structure types, MPS INTI flags (Table 5.50).
const MADT_PCAT_COMPAT = 1 << 0;
const MADT_LOCAL_APIC = 0;
const MADT_IO_APIC = 1;
const MADT_SOURCE_OVERRIDE = 2;
const MADT_LOCAL_APIC_NMI = 4;
const INTI_ACTIVE_HIGH = 1;
const INTI_LEVEL = 3 << 2;
const LOCAL_APIC_ADDR = 0xfee00000;
const IO_APIC_ID = 0;
/** The PIT's ISA IRQ (isaIrqPin says where the board wires it). */
const PIT_IRQ = 0;

/** A byte image being filled at absolute addresses from `base`. */
class Image {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(readonly base: number, size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(addr: number, v: number): void { this.bytes[addr - this.base] = v; }
  u16(addr: number, v: number): void { this.view.setUint16(addr - this.base, v, true); }
  u32(addr: number, v: number): void { this.view.setUint32(addr - this.base, v >>> 0, true); }
  u64(addr: number, v: number): void {
    this.u32(addr, v);
    this.u32(addr + 4, 0);
  }
  ascii(addr: number, s: string): void {
    for (let k = 0; k < s.length; k++) this.u8(addr + k, s.charCodeAt(k));
  }
  set(addr: number, data: ArrayLike<number>): void { this.bytes.set(data, addr - this.base); }
  /** Sets the byte at `at` so that the `length` bytes from `start` sum to 0 (mod 256). */
  checksum(start: number, length: number, at: number): void {
    this.u8(at, 0);
    let sum = 0;
    for (let k = 0; k < length; k++) sum += this.bytes[start - this.base + k];
    this.u8(at, (256 - (sum & 0xff)) & 0xff);
  }
  /** The common table header (§5.2.6); the checksum is filled by `finish`. */
  header(addr: number, signature: string, length: number, revision: number): void {
    this.ascii(addr, signature);
    this.u32(addr + 4, length);
    this.u8(addr + 8, revision);
    this.ascii(addr + 10, OEM_ID);
    this.ascii(addr + 16, OEM_TABLE_ID);
    this.u32(addr + 24, 1); // OEM revision
    this.ascii(addr + 28, CREATOR_ID);
    this.u32(addr + 32, 1); // creator revision
  }
  finish(addr: number, length: number): void {
    this.checksum(addr, length, addr + 9);
  }
  /** A Generic Address Structure (§5.2.3.2) for a register in system I/O space. */
  gasIo(addr: number, port: number, bits: number, accessSize: number): void {
    this.u8(addr, 1); // address space: system I/O
    this.u8(addr + 1, bits);
    this.u8(addr + 2, 0);
    this.u8(addr + 3, accessSize);
    this.u64(addr + 4, port);
  }
}

// --- AML (§20.2) ---------------------------------------------------------------------------

const AML_ZERO = 0x00;
const AML_ONE = 0x01;
const AML_NAME = 0x08;
const AML_BYTE = 0x0a;
const AML_WORD = 0x0b;
const AML_DWORD = 0x0c;
const AML_STRING = 0x0d;
const AML_SCOPE = 0x10;
const AML_BUFFER = 0x11;
const AML_PACKAGE = 0x12;
const AML_EXT = 0x5b;
const AML_DEVICE = 0x82; // after AML_EXT
const AML_ROOT = 0x5c;

/** PkgLength (§20.2.4): the length of what follows, counting the PkgLength bytes themselves. */
export function amlPkgLength(contentLength: number): number[] {
  for (let extra = 0; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (extra === 0 && total < 0x40) return [total];
    if (extra > 0 && total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let k = 0; k < extra; k++) out.push((total >> (4 + 8 * k)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package too long (${contentLength} bytes)`);
}

/** A NameSeg (§20.2.2): four characters, padded with '_'. */
function nameSeg(name: string): number[] {
  const s = name.padEnd(4, '_');
  if (!/^[A-Z_][A-Z0-9_]{3}$/.test(s)) throw new Error(`bad AML name segment '${name}'`);
  return [...s].map((c) => c.charCodeAt(0));
}

/** A NameString: a segment, or `\` and a segment. */
function nameString(name: string): number[] {
  return name.startsWith('\\') ? [AML_ROOT, ...nameSeg(name.slice(1))] : nameSeg(name);
}

/** A ComputationalData integer in its shortest encoding. */
function amlInteger(v: number): number[] {
  if (v === 0) return [AML_ZERO];
  if (v === 1) return [AML_ONE];
  if (v < 0x100) return [AML_BYTE, v];
  if (v < 0x10000) return [AML_WORD, v & 0xff, v >> 8];
  return [AML_DWORD, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
}

function amlString(s: string): number[] {
  return [AML_STRING, ...[...s].map((c) => c.charCodeAt(0)), 0];
}

/** An EISA ID (e.g. PNP0A03) as the compressed 32-bit integer ASL's EisaId() makes. */
export function eisaId(id: string): number[] {
  const m = /^([A-Z]{3})([0-9A-F]{4})$/.exec(id);
  if (!m) throw new Error(`bad EISA ID '${id}'`);
  const c = (k: number): number => m[1].charCodeAt(k) - 0x40;
  const hi = (c(0) << 10) | (c(1) << 5) | c(2);
  const num = parseInt(m[2], 16);
  // Stored most significant byte first.
  return [AML_DWORD, hi >> 8, hi & 0xff, num >> 8, num & 0xff];
}

function amlName(name: string, value: number[]): number[] {
  return [AML_NAME, ...nameString(name), ...value];
}

function amlPackage(elements: number[][]): number[] {
  const body = [elements.length, ...elements.flat()];
  return [AML_PACKAGE, ...amlPkgLength(body.length), ...body];
}

function amlBuffer(data: number[]): number[] {
  const body = [...amlInteger(data.length), ...data];
  return [AML_BUFFER, ...amlPkgLength(body.length), ...body];
}

function amlScope(name: string, terms: number[][]): number[] {
  const body = [...nameString(name), ...terms.flat()];
  return [AML_SCOPE, ...amlPkgLength(body.length), ...body];
}

function amlDevice(name: string, terms: number[][]): number[] {
  const body = [...nameString(name), ...terms.flat()];
  return [AML_EXT, AML_DEVICE, ...amlPkgLength(body.length), ...body];
}

/** A resource template (§6.4) of one I/O port descriptor (§6.4.2.5, 16-bit decode) and the end tag. */
function ioPortResources(port: number, length: number): number[] {
  const io = [0x47, 0x01, port & 0xff, port >> 8, port & 0xff, port >> 8, 0x01, length];
  const end = [0x79, 0x00]; // end tag; checksum 0: "treat as correct"
  return [...io, ...end];
}

/**
 * The host bridge's resource template (§6.4): Word Address Space Descriptors (§6.4.3.5.3),
 * produced by the bridge with fixed minimum and maximum, for the bus numbers 0–255 and for the
 * I/O ports it forwards to PCI — all but its own configuration ports 0xCF8–0xCFF, as on QEMU's
 * i440FX. Without the I/O windows Linux can claim no I/O BAR (the PIIX IDE function's fixed
 * legacy ports: "can't claim; no compatible bridge window", and ata_piix fails).
 */
function hostBridgeResources(): number[] {
  const word = (v: number): number[] => [v & 0xff, v >> 8];
  const range = (type: number, typeFlags: number, min: number, max: number): number[] =>
    [0x88, ...word(13), type, 0x0c /* MIF, MAF */, typeFlags, ...word(0), ...word(min), ...word(max), ...word(0), ...word(max - min + 1)];
  const BUS = 2;
  const IO = 1;
  const ENTIRE_RANGE = 3;
  return [...range(BUS, 0, 0, 0xff), ...range(IO, ENTIRE_RANGE, 0x0000, 0x0cf7), ...range(IO, ENTIRE_RANGE, 0x0d00, 0xffff), 0x79, 0x00];
}

/**
 * The host bridge's PCI routing table (§6.2.13): INTA# of each virtio-blk slot (storage.ts),
 * present or not, wired to its ISA IRQ as a static GSI (source 0: the GSI is the IRQ, which
 * the MADT does not override), so Linux finds each function's interrupt in ACPI. The PIIX IDE
 * function is in compatibility mode, on the legacy IRQ 14.
 */
function pciRouting(): number[][] {
  return VIRTIO_BLK_IRQS.map((irq, n) => amlPackage([amlInteger((((VIRTIO_FIRST_SLOT + n) << 16) | 0xffff) >>> 0), amlInteger(0 /* INTA# */), amlInteger(0), amlInteger(irq)]));
}

/** The DSDT's AML (the definition block's body). */
export function dsdtAml(): number[] {
  return [
    // \_S5: SLP_TYPa, SLP_TYPb and two reserved values (§7.4.2).
    ...amlName('\\_S5', amlPackage([amlInteger(SLP_TYP_S5), amlInteger(SLP_TYP_S5), amlInteger(0), amlInteger(0)])),
    ...amlScope('\\_SB', [
      amlDevice('PCI0', [
        amlName('_HID', eisaId('PNP0A03')), amlName('_UID', amlInteger(0)), amlName('_CRS', amlBuffer(hostBridgeResources())),
        amlName('_PRT', amlPackage(pciRouting())),
      ]),
      amlDevice('PEVT', [
        amlName('_HID', amlString('QEMU0001')),
        amlName('_CRS', amlBuffer(ioPortResources(PVPANIC_PORT, 1))),
      ]),
    ]),
  ];
}

/** Table addresses inside the image (each aligned as the spec asks: RSDP 16, FACS 64). */
export interface AcpiLayout {
  rsdp: number;
  rsdt: number;
  facs: number;
  fadt: number;
  dsdt: number;
  /** The MADT, or null (no `apic`). */
  madt: number | null;
  end: number;
}

export interface AcpiOptions {
  /** An MADT describing the local APIC and the I/O APIC (default true). */
  apic?: boolean;
}

/** The MADT's interrupt controller structures (after its 44-byte header). */
function madtEntries(): number[] {
  const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
  const u32 = (v: number): number[] => [...u16(v & 0xffff), ...u16(v >>> 16)];
  const override = (irq: number, gsi: number, flags: number): number[] => [MADT_SOURCE_OVERRIDE, 10, 0 /* ISA */, irq, ...u32(gsi), ...u16(flags)];
  return [
    MADT_LOCAL_APIC, 8, 0 /* ACPI processor ID */, 0 /* APIC ID */, ...u32(1 /* enabled */),
    MADT_IO_APIC, 12, IO_APIC_ID, 0, ...u32(IOAPIC_BASE), ...u32(0 /* GSI base */),
    ...override(PIT_IRQ, isaIrqPin(PIT_IRQ), 0 /* conforms to the bus */),
    ...override(SCI_IRQ, SCI_IRQ, INTI_LEVEL | INTI_ACTIVE_HIGH),
    MADT_LOCAL_APIC_NMI, 6, 0xff /* all processors */, ...u16(0), 1 /* LINT1 */,
  ];
}

/** Builds the tables for placement at `base`; returns the bytes and where each table is. */
export function buildAcpiTables(base = ACPI_TABLES_ADDR, opts: AcpiOptions = {}): { bytes: Uint8Array; layout: AcpiLayout } {
  const aml = dsdtAml();
  const rsdp = base;
  const rsdt = base + 0x20;
  const facs = base + 0x80;
  const fadt = facs + 64;
  const FADT_LEN = 244;
  const dsdt = (fadt + FADT_LEN + 15) & ~15;
  const DSDT_LEN = 36 + aml.length;
  const apic = opts.apic ?? true;
  const entries = apic ? madtEntries() : [];
  const madt = apic ? (dsdt + DSDT_LEN + 15) & ~15 : null;
  const MADT_LEN = 44 + entries.length;
  const end = madt !== null ? madt + MADT_LEN : dsdt + DSDT_LEN;
  const img = new Image(base, end - base);

  // DSDT: header and AML.
  img.header(dsdt, 'DSDT', DSDT_LEN, 2);
  img.set(dsdt + 36, aml);
  img.finish(dsdt, DSDT_LEN);

  // FACS (no checksum): signature, length, hardware signature, waking vectors 0, version 1.
  img.ascii(facs, 'FACS');
  img.u32(facs + 4, 64);
  img.u8(facs + 32, 1);

  // FADT, revision 3 (ACPI 2.0+ layout, 244 bytes).
  img.header(fadt, 'FACP', FADT_LEN, 3);
  img.u32(fadt + 36, facs);
  img.u32(fadt + 40, dsdt);
  img.u16(fadt + 46, SCI_IRQ);
  img.u32(fadt + 48, 0); // SMI_CMD: none, the machine is always in ACPI mode
  img.u32(fadt + 56, PM1A_EVT_BLK);
  img.u32(fadt + 64, PM1A_CNT_BLK);
  img.u32(fadt + 76, PM_TMR_BLK);
  img.u8(fadt + 88, PM1_EVT_LEN);
  img.u8(fadt + 89, PM1_CNT_LEN);
  img.u8(fadt + 91, PM_TMR_LEN);
  img.u16(fadt + 96, 101); // P_LVL2_LAT > 100: no C2
  img.u16(fadt + 98, 1001); // P_LVL3_LAT > 1000: no C3
  img.u8(fadt + 108, RTC_CENTURY);
  img.u16(fadt + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
  img.u32(fadt + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_RESET_REG_SUP);
  img.gasIo(fadt + 116, RESET_PORT, 8, 1);
  img.u8(fadt + 128, RESET_VALUE);
  img.u64(fadt + 132, facs);
  img.u64(fadt + 140, dsdt);
  img.gasIo(fadt + 148, PM1A_EVT_BLK, PM1_EVT_LEN * 8, 0);
  img.gasIo(fadt + 172, PM1A_CNT_BLK, PM1_CNT_LEN * 8, 0);
  img.gasIo(fadt + 208, PM_TMR_BLK, PM_TMR_LEN * 8, 0);
  img.finish(fadt, FADT_LEN);

  // MADT, revision 1: the local APICs' address, the flags, the structures.
  if (madt !== null) {
    img.header(madt, 'APIC', MADT_LEN, 1);
    img.u32(madt + 36, LOCAL_APIC_ADDR);
    img.u32(madt + 40, MADT_PCAT_COMPAT);
    img.set(madt + 44, entries);
    img.finish(madt, MADT_LEN);
  }

  // RSDT: the FADT, and the MADT.
  const tables = madt !== null ? [fadt, madt] : [fadt];
  const RSDT_LEN = 36 + 4 * tables.length;
  img.header(rsdt, 'RSDT', RSDT_LEN, 1);
  tables.forEach((t, k) => img.u32(rsdt + 36 + 4 * k, t));
  img.finish(rsdt, RSDT_LEN);

  // RSDP, ACPI 1.0 form (revision 0, 20 bytes).
  img.ascii(rsdp, 'RSD PTR ');
  img.ascii(rsdp + 9, OEM_ID);
  img.u8(rsdp + 15, 0);
  img.u32(rsdp + 16, rsdt);
  img.checksum(rsdp, 20, rsdp + 8);

  return { bytes: img.bytes, layout: { rsdp, rsdt, facs, fadt, dsdt, madt, end } };
}
