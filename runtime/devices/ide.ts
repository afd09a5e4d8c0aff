/**
 * The primary channel of a PIIX IDE controller in compatibility mode: ATA hard disks (master and
 * slave) on ports 0x1F0–0x1F7 and 0x3F6, interrupting on IRQ 14, with PIO data transfers and
 * bus-master DMA (multiword DMA modes 0–2, as a PIIX3: Linux's ata_piix uses MWDMA2). What
 * Linux's libata names /dev/sda, /dev/sdb. Facts from the ATA/ATAPI-7 standard (volume 1: the
 * register block, the PIO data-in/data-out and DMA protocols, IDENTIFY DEVICE words, 48-bit
 * addressing) and Intel's PIIX3 datasheet (the bus-master IDE registers and the physical region
 * descriptor table).
 *
 *   0x1F0 data (16 or 32 bit)     0x1F1 error / features   0x1F2 sector count
 *   0x1F3–0x1F5 LBA low/mid/high  0x1F6 device (DEV bit 4, LBA bit 6)
 *   0x1F7 status (read clears INTRQ) / command            0x3F6 alt status / device control
 *
 *   BAR4 (I/O, 16 bytes): +0 bus-master command (bit 0 start, bit 3 direction: 1 = into
 *   memory), +2 status (bit 0 active, bit 1 error and bit 2 interrupt: write 1 to clear; bits 5–6
 *   drive DMA capable), +4 the descriptor table's address. Secondary channel's (+8) read 0.
 *   A DMA command runs once both its command byte and the start bit are written (either order):
 *   the whole transfer at once, through the descriptor table (8-byte entries: address, byte
 *   count with 0 = 64 KiB, bit 31 end of table), straight between the backend and guest RAM;
 *   then the interrupt bit, INTRQ, and `active` cleared — unless the table is longer than the
 *   transfer, which leaves it set, or shorter, which ends in error.
 *
 * Commands: IDENTIFY DEVICE; READ/WRITE SECTORS and MULTIPLE (28- and 48-bit); READ/WRITE DMA
 * (28- and 48-bit); FLUSH CACHE (EXT),
 * honoured with the backend's flush; SET FEATURES, SET MULTIPLE MODE, INITIALIZE DEVICE
 * PARAMETERS, READ VERIFY, CHECK POWER MODE, IDLE/STANDBY, SEEK, RECALIBRATE as no-ops that
 * succeed; everything else (IDENTIFY PACKET DEVICE included: these are not ATAPI devices) is
 * aborted. A write is reported complete (its interrupt, status ready) after the backend wrote
 * it. A failed backend operation ends the command with ERR (ABRT; UNC too for a read).
 *
 * All state is in one plain object (`state`), the sector buffer as a number array.
 */
import { BlockError } from '../block/backend.ts';
import type { BlockBackend } from '../block/backend.ts';
import { dmaView } from './dma.ts';
import type { DmaMemory } from './dma.ts';
import type { IrqSink, PortDevice } from './io.ts';
import type { PciFunctionSpec } from './pci.ts';

const SECTOR = 512;
// Status bits.
const BSY = 0x80;
const DRDY = 0x40;
const DSC = 0x10;
const DRQ = 0x08;
const ERR = 0x01;
// Error bits.
const ABRT = 0x04;
const UNC = 0x40;
const IDNF = 0x10;
// Device control bits.
const NIEN = 0x02;
const SRST = 0x04;
const HOB = 0x80;
/** The most sectors per DRQ block READ/WRITE MULTIPLE may use. */
const MAX_MULTIPLE = 16;
const HEADS = 16;
const SECTORS_PER_TRACK = 63;

export const IDE_CMD_BASE = 0x1f0;
export const IDE_CTL_PORT = 0x3f6;
export const IDE_IRQ = 14;
/** Where the bus-master registers (BAR4) are, as a BIOS would assign them. */
export const IDE_BM_BASE = 0xc100;
// Bus-master command and status bits.
const BM_START = 0x01;
const BM_TO_MEMORY = 0x08;
const BM_ACTIVE = 0x01;
const BM_ERROR = 0x02;
const BM_INTR = 0x04;
const BM_DRIVES_CAPABLE = 0x60;
/** Descriptors per table the device follows before giving up (a table is at most 64 KiB). */
const PRD_MAX = 8192;

/** One 8-bit taskfile register with its previous value (48-bit commands write each twice). */
interface Reg {
  cur: number;
  hob: number;
}

export interface IdeState {
  features: Reg;
  nsect: Reg;
  lbal: Reg;
  lbam: Reg;
  lbah: Reg;
  device: number;
  status: number;
  error: number;
  control: number;
  /** The interrupt request (INTRQ) before nIEN. */
  intrq: boolean;
  /** The data transfer in progress: 'in' (device to host), 'out', or 'none' (a string, not null, so a snapshot's shape check sees one type). */
  transfer: 'in' | 'out' | 'none';
  /** The DRQ block being transferred, and the position in it. */
  buffer: number[];
  pos: number;
  /** The next sector to read or write, and sectors left after the current block. */
  lba: number;
  remaining: number;
  /** Sectors per DRQ block of the command in progress. */
  blockSectors: number;
  /** SET MULTIPLE MODE's setting (0: READ/WRITE MULTIPLE abort). */
  multiple: number;
  /** Bus-master registers: command, status, descriptor table address. */
  bmCommand: number;
  bmStatus: number;
  bmTable: number;
  /** A DMA command waiting for the start bit: 'read' (into memory), 'write', or 'none'. */
  dma: 'read' | 'write' | 'none';
  /** The multiword DMA mode SET FEATURES selected (0–2). */
  mwdmaMode: number;
}

const reg = (v = 0): Reg => ({ cur: v, hob: 0 });

export class IdeChannel {
  readonly state: IdeState;
  /** Command block (8 ports from 0x1F0) and control block (0x3F6). */
  readonly commandPorts: PortDevice;
  readonly controlPort: PortDevice;
  /** Commands by kind (diagnostics). */
  readonly counts = { read: 0, write: 0, flush: 0, other: 0, errors: 0 };

  /** The bus-master registers (BAR4). */
  readonly busMaster: PortDevice;

  constructor(
    /** Master and slave (null: absent). */
    readonly disks: readonly (BlockBackend | null)[],
    private readonly irq: IrqSink,
    /** Guest RAM for bus-master DMA. */
    private readonly mem: DmaMemory,
    private readonly irqLine = IDE_IRQ,
  ) {
    this.state = {
      features: reg(), nsect: reg(), lbal: reg(), lbam: reg(), lbah: reg(), device: 0, status: 0, error: 0, control: 0,
      intrq: false, transfer: 'none', buffer: [], pos: 0, lba: 0, remaining: 0, blockSectors: 1, multiple: 0,
      bmCommand: 0, bmStatus: 0, bmTable: 0, dma: 'none', mwdmaMode: 2,
    };
    this.setSignature();
    this.commandPorts = { portIn: (p, s) => this.readCommand(p - IDE_CMD_BASE, s), portOut: (p, s, v) => this.writeCommand(p - IDE_CMD_BASE, s, v) };
    this.controlPort = {
      portIn: () => this.statusValue(),
      portOut: (_p, _s, v) => this.writeControl(v & 0xff),
    };
    this.busMaster = { portIn: (p, s) => this.readBusMaster(p, s), portOut: (p, s, v) => this.writeBusMaster(p, s, v) };
  }

  /** The PIIX3 IDE function (00:01.1) in compatibility mode, primary channel enabled, the bus-master registers at BAR4. */
  pciFunction(): PciFunctionSpec {
    return {
      device: 1,
      fn: 1,
      vendor: 0x8086,
      deviceId: 0x7010,
      // Mass storage, IDE; programming interface 0x80: bus-master capable, both channels in compatibility mode.
      classCode: 0x010180,
      revision: 0,
      // I/O space and bus master on; IDETIM (0x40/0x42): the primary channel's decode enabled, the secondary's off.
      config: { 0x04: 0x05, 0x41: 0x80, 0x43: 0x00 },
      ioBars: [{ index: 4, size: 16, base: IDE_BM_BASE, regs: this.busMaster }],
    };
  }

  /** A bus-master register (offset 0–15 in BAR4). */
  private readBusMaster(off: number, size: 1 | 2 | 4): number {
    const s = this.state;
    let v = 0;
    for (let k = 0; k < size; k++) {
      const r = off + k;
      let b = 0;
      if (r === 0) b = s.bmCommand;
      else if (r === 2) b = s.bmStatus;
      else if (r >= 4 && r < 8) b = (s.bmTable >>> (8 * (r - 4))) & 0xff;
      v |= b << (8 * k);
    }
    return size === 4 ? v | 0 : v;
  }

  private writeBusMaster(off: number, size: 1 | 2 | 4, value: number): void {
    const s = this.state;
    for (let k = 0; k < size; k++) {
      const r = off + k;
      const b = (value >>> (8 * k)) & 0xff;
      if (r === 0) {
        const starting = (b & BM_START) !== 0 && !(s.bmCommand & BM_START);
        s.bmCommand = b & (BM_START | BM_TO_MEMORY);
        if (!(b & BM_START)) s.bmStatus &= ~BM_ACTIVE;
        else if (starting) {
          s.bmStatus |= BM_ACTIVE;
          this.runDma();
        }
      } else if (r === 2) {
        s.bmStatus = (s.bmStatus & ~(b & (BM_ERROR | BM_INTR)) & ~BM_DRIVES_CAPABLE) | (b & BM_DRIVES_CAPABLE);
      } else if (r >= 4 && r < 8) {
        const shift = 8 * (r - 4);
        s.bmTable = ((s.bmTable & ~(0xff << shift)) | (b << shift)) >>> 0;
        s.bmTable &= ~3;
      }
    }
  }

  /** Runs the pending DMA command if the bus master is started: the whole transfer, then the interrupt. */
  private runDma(): void {
    const s = this.state;
    if (s.dma === 'none' || !(s.bmCommand & BM_START)) return;
    const disk = this.selected;
    const toMemory = s.dma === 'read';
    s.dma = 'none';
    if (!disk || toMemory !== ((s.bmCommand & BM_TO_MEMORY) !== 0)) {
      s.bmStatus = (s.bmStatus & ~BM_ACTIVE) | BM_ERROR | BM_INTR;
      return this.abort();
    }
    let left = s.remaining * SECTOR;
    let pos = s.lba * SECTOR;
    let table = s.bmTable;
    let last = false;
    /** Whether the table ended exactly with the transfer. */
    let exact = false;
    try {
      for (let n = 0; left > 0 && !last; n++) {
        if (n >= PRD_MAX) throw new RangeError('IDE DMA: descriptor table without an end');
        const entry = new DataView(dmaView(this.mem, table, 8).slice().buffer);
        const addr = entry.getUint32(0, true) & ~1;
        const count = entry.getUint16(4, true) || 0x10000;
        last = (entry.getUint32(4, true) & 0x80000000) !== 0;
        table += 8;
        const len = Math.min(count, left);
        const buf = dmaView(this.mem, addr, len);
        if (toMemory) {
          disk.read(pos, buf);
          this.mem.written(addr, len);
        } else {
          disk.write(pos, buf);
        }
        pos += len;
        left -= len;
        exact = left === 0 && last && len === count;
      }
    } catch (e) {
      if (!(e instanceof BlockError) && !(e instanceof RangeError)) throw e;
      s.bmStatus = (s.bmStatus & ~BM_ACTIVE) | BM_ERROR | BM_INTR;
      return this.abort(toMemory ? UNC | ABRT : ABRT);
    }
    s.remaining = 0;
    if (left > 0) {
      // The table ended before the transfer: an error.
      s.bmStatus = (s.bmStatus & ~BM_ACTIVE) | BM_ERROR | BM_INTR;
      return this.abort();
    }
    // A table longer than the transfer leaves the bus master active (PIIX3).
    if (exact) s.bmStatus &= ~BM_ACTIVE;
    s.bmStatus |= BM_INTR;
    this.done();
  }

  private get selected(): BlockBackend | null {
    return this.disks[(this.state.device >> 4) & 1] ?? null;
  }

  private statusValue(): number {
    // An absent device reads as zero (no device, not busy).
    return this.selected ? this.state.status : 0;
  }

  private updateIrq(): void {
    this.irq.setIrq(this.irqLine, this.state.intrq && !(this.state.control & NIEN));
  }

  private raise(): void {
    this.state.intrq = true;
    this.updateIrq();
  }

  /** The register values after a reset: the ATA signature, diagnostic code 1, ready. */
  private setSignature(): void {
    const s = this.state;
    s.nsect.cur = 1;
    s.lbal.cur = 1;
    s.lbam.cur = 0;
    s.lbah.cur = 0;
    s.device = 0;
    s.error = 0x01;
    s.status = DRDY | DSC;
    s.transfer = 'none';
    s.multiple = 0;
  }

  private readCommand(r: number, size: 1 | 2 | 4): number {
    const s = this.state;
    if (r === 0) return this.readData(size);
    const hob = (s.control & HOB) !== 0;
    const pick = (x: Reg): number => (hob ? x.hob : x.cur);
    if (!this.selected && r !== 6) return 0;
    switch (r) {
      case 1: return s.error;
      case 2: return pick(s.nsect);
      case 3: return pick(s.lbal);
      case 4: return pick(s.lbam);
      case 5: return pick(s.lbah);
      case 6: return s.device | 0xa0;
      default: {
        s.intrq = false;
        this.updateIrq();
        return this.statusValue();
      }
    }
  }

  private writeCommand(r: number, size: 1 | 2 | 4, v: number): void {
    const s = this.state;
    if (r === 0) {
      this.writeData(size, v);
      return;
    }
    const b = v & 0xff;
    const put = (x: Reg): void => {
      x.hob = x.cur;
      x.cur = b;
    };
    // Writing any taskfile register clears HOB in device control.
    if (r >= 1 && r <= 5) s.control &= ~HOB;
    switch (r) {
      case 1: put(s.features); break;
      case 2: put(s.nsect); break;
      case 3: put(s.lbal); break;
      case 4: put(s.lbam); break;
      case 5: put(s.lbah); break;
      case 6: s.device = b; break;
      default: this.command(b);
    }
  }

  private writeControl(v: number): void {
    const s = this.state;
    const wasReset = (s.control & SRST) !== 0;
    s.control = v;
    if (v & SRST) {
      s.status = BSY;
      s.transfer = 'none';
      s.dma = 'none';
    } else if (wasReset) {
      this.setSignature();
    }
    this.updateIrq();
  }

  /** The LBA and sector count the taskfile names (48-bit for the EXT commands). */
  private address(ext: boolean): { lba: number; count: number } {
    const s = this.state;
    if (ext) {
      const lba = s.lbal.cur + s.lbam.cur * 2 ** 8 + s.lbah.cur * 2 ** 16 + s.lbal.hob * 2 ** 24 + s.lbam.hob * 2 ** 32 + s.lbah.hob * 2 ** 40;
      const count = s.nsect.cur | (s.nsect.hob << 8);
      return { lba, count: count || 65536 };
    }
    const count = s.nsect.cur || 256;
    if (s.device & 0x40) return { lba: s.lbal.cur | (s.lbam.cur << 8) | (s.lbah.cur << 16) | ((s.device & 0x0f) << 24), count };
    // CHS: cylinder in LBA mid/high, head in the device register, sector (from 1) in LBA low.
    const cyl = s.lbam.cur | (s.lbah.cur << 8);
    return { lba: (cyl * HEADS + (s.device & 0x0f)) * SECTORS_PER_TRACK + s.lbal.cur - 1, count };
  }

  private command(cmd: number): void {
    const s = this.state;
    const disk = this.selected;
    if (!disk) return;
    // Writing the command register clears INTRQ: the line falls, so this command's own
    // interrupt is a new edge even if the last one was never acknowledged by a status read.
    s.intrq = false;
    this.updateIrq();
    s.error = 0;
    s.transfer = 'none';
    s.dma = 'none';
    switch (cmd) {
      case 0xec: // IDENTIFY DEVICE
        this.counts.other++;
        this.startIn(Array.from(this.identify(disk)), 0, 0, 1);
        return;
      case 0x20: case 0x21: case 0x24: case 0xc4: case 0x29: { // READ SECTORS (EXT), READ MULTIPLE (EXT)
        const multiple = cmd === 0xc4 || cmd === 0x29;
        if (multiple && !s.multiple) return this.abort();
        const { lba, count } = this.address(cmd === 0x24 || cmd === 0x29);
        if (lba + count > Math.floor(disk.size / SECTOR)) return this.abort(IDNF);
        this.counts.read++;
        s.lba = lba;
        s.remaining = count;
        s.blockSectors = multiple ? s.multiple : 1;
        this.nextReadBlock();
        return;
      }
      case 0x30: case 0x31: case 0x34: case 0xc5: case 0x39: { // WRITE SECTORS (EXT), WRITE MULTIPLE (EXT)
        const multiple = cmd === 0xc5 || cmd === 0x39;
        if (multiple && !s.multiple) return this.abort();
        const { lba, count } = this.address(cmd === 0x34 || cmd === 0x39);
        if (disk.readOnly) return this.abort();
        if (lba + count > Math.floor(disk.size / SECTOR)) return this.abort(IDNF);
        this.counts.write++;
        s.lba = lba;
        s.remaining = count;
        s.blockSectors = multiple ? s.multiple : 1;
        this.nextWriteBlock(false);
        return;
      }
      case 0xc8: case 0x25: case 0xca: case 0x35: { // READ DMA (EXT), WRITE DMA (EXT)
        const write = cmd === 0xca || cmd === 0x35;
        const { lba, count } = this.address(cmd === 0x25 || cmd === 0x35);
        if (write && disk.readOnly) return this.abort();
        if (lba + count > Math.floor(disk.size / SECTOR)) return this.abort(IDNF);
        if (write) this.counts.write++;
        else this.counts.read++;
        s.lba = lba;
        s.remaining = count;
        s.dma = write ? 'write' : 'read';
        s.status = DRDY | DSC | BSY;
        this.runDma();
        return;
      }
      case 0xe7: case 0xea: // FLUSH CACHE (EXT)
        this.counts.flush++;
        try {
          disk.flush();
        } catch (e) {
          if (!(e instanceof BlockError)) throw e;
          return this.abort();
        }
        return this.done();
      case 0xc6: { // SET MULTIPLE MODE
        const n = s.nsect.cur;
        if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return this.abort();
        s.multiple = n;
        return this.done();
      }
      case 0xe5: // CHECK POWER MODE: active or idle
        s.nsect.cur = 0xff;
        return this.done();
      case 0xef: { // SET FEATURES: 03h sets the transfer mode (PIO and multiword DMA 0–2; no Ultra DMA)
        if (s.features.cur === 0x03) {
          const mode = s.nsect.cur;
          if ((mode & 0xf8) === 0x20 && (mode & 7) <= 2) s.mwdmaMode = mode & 7;
          else if ((mode & 0xf8) !== 0x08 && (mode & 0xf8) !== 0x00) return this.abort();
        }
        this.counts.other++;
        return this.done();
      }
      case 0x91: case 0x40: case 0x41: case 0x42: case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0x70: case 0x10:
        this.counts.other++;
        return this.done();
      default:
        return this.abort();
    }
  }

  /** Ends a command without data: ready, interrupt. */
  private done(): void {
    this.state.status = DRDY | DSC;
    this.raise();
  }

  private abort(error = ABRT): void {
    const s = this.state;
    this.counts.errors++;
    s.error = error;
    s.status = DRDY | DSC | ERR;
    s.transfer = 'none';
    this.raise();
  }

  /** Starts a data-in block: DRQ and an interrupt. */
  private startIn(block: number[], lba: number, remaining: number, sectors: number): void {
    const s = this.state;
    s.buffer = block;
    s.pos = 0;
    s.transfer = 'in';
    s.lba = lba;
    s.remaining = remaining;
    s.blockSectors = sectors;
    s.status = DRDY | DSC | DRQ;
    this.raise();
  }

  private nextReadBlock(): void {
    const s = this.state;
    const n = Math.min(s.blockSectors, s.remaining);
    const data = new Uint8Array(n * SECTOR);
    try {
      this.selected!.read(s.lba * SECTOR, data);
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      return this.abort(UNC | ABRT);
    }
    this.startIn(Array.from(data), s.lba + n, s.remaining - n, s.blockSectors);
  }

  /** Asks for the next data-out block (DRQ; an interrupt for every block but the first). */
  private nextWriteBlock(interrupt: boolean): void {
    const s = this.state;
    s.buffer = new Array<number>(Math.min(s.blockSectors, s.remaining) * SECTOR).fill(0);
    s.pos = 0;
    s.transfer = 'out';
    s.status = DRDY | DSC | DRQ;
    if (interrupt) this.raise();
  }

  private readData(size: 1 | 2 | 4): number {
    const s = this.state;
    if (s.transfer !== 'in') return size === 4 ? -1 : (1 << (8 * size)) - 1;
    let v = 0;
    for (let k = 0; k < size && s.pos < s.buffer.length; k++) v |= s.buffer[s.pos++] << (8 * k);
    if (s.pos >= s.buffer.length) {
      s.transfer = 'none';
      s.status = DRDY | DSC;
      if (s.remaining > 0) this.nextReadBlock();
    }
    return size === 4 ? v | 0 : v;
  }

  private writeData(size: 1 | 2 | 4, v: number): void {
    const s = this.state;
    if (s.transfer !== 'out') return;
    for (let k = 0; k < size && s.pos < s.buffer.length; k++) s.buffer[s.pos++] = (v >>> (8 * k)) & 0xff;
    if (s.pos < s.buffer.length) return;
    const n = s.buffer.length / SECTOR;
    s.transfer = 'none';
    try {
      this.selected!.write(s.lba * SECTOR, Uint8Array.from(s.buffer));
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      return this.abort();
    }
    s.lba += n;
    s.remaining -= n;
    if (s.remaining > 0) this.nextWriteBlock(true);
    else this.done();
  }

  /** The 256 IDENTIFY DEVICE words (ATA-7 §7.16), little-endian bytes. */
  private identify(disk: BlockBackend): Uint8Array {
    const w = new Uint16Array(256);
    const sectors = Math.floor(disk.size / SECTOR);
    const cyls = Math.min(16383, Math.max(1, Math.floor(sectors / (HEADS * SECTORS_PER_TRACK))));
    const text = (first: number, words: number, str: string): void => {
      const padded = str.padEnd(words * 2, ' ');
      // ATA strings: two characters per word, the first in the high byte.
      for (let k = 0; k < words; k++) w[first + k] = (padded.charCodeAt(2 * k) << 8) | padded.charCodeAt(2 * k + 1);
    };
    const lba28 = Math.min(sectors, 0x0fffffff);
    w[0] = 0x0040; // fixed device
    w[1] = cyls;
    w[3] = HEADS;
    w[6] = SECTORS_PER_TRACK;
    text(10, 10, `WV${(this.disks.indexOf(disk) + 1).toString().padStart(4, '0')}`);
    text(23, 4, '1.0');
    text(27, 20, 'WASMVISOR HARDDISK');
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[49] = 0x0100 | 0x0200 | 0x0800; // DMA, LBA, IORDY
    w[50] = 0x4000;
    w[51] = 0x0200; // PIO mode 2 timing
    w[53] = 0x0007; // words 54–58, 64–70 and 88 valid
    w[54] = cyls;
    w[55] = HEADS;
    w[56] = SECTORS_PER_TRACK;
    const chs = cyls * HEADS * SECTORS_PER_TRACK;
    w[57] = chs & 0xffff;
    w[58] = chs >>> 16;
    w[59] = this.state.multiple ? 0x0100 | this.state.multiple : 0;
    w[60] = lba28 & 0xffff;
    w[61] = lba28 >>> 16;
    w[63] = 0x0007 | (0x0100 << this.state.mwdmaMode); // multiword DMA 0–2 supported, the one SET FEATURES chose selected
    w[64] = 0x0003; // PIO modes 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x00f0; // ATA/ATAPI-4 to -7
    w[82] = 0x4020; // NOP, write cache
    w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400; // FLUSH CACHE EXT, FLUSH CACHE, 48-bit addresses
    w[84] = 0x4000;
    w[85] = 0x0020; // write cache enabled: the OS flushes
    w[86] = 0x2000 | 0x1000 | 0x0400;
    w[87] = 0x4000;
    for (let k = 0; k < 4; k++) w[100 + k] = Math.floor(sectors / 2 ** (16 * k)) & 0xffff;
    const out = new Uint8Array(512);
    for (let k = 0; k < 256; k++) {
      out[2 * k] = w[k] & 0xff;
      out[2 * k + 1] = w[k] >> 8;
    }
    return out;
  }
}
