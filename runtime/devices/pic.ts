/**
 * Two cascaded 8259A programmable interrupt controllers, as wired in every PC since the AT:
 * the master at ports 0x20/0x21 takes IRQ0–7, the slave at 0xA0/0xA1 takes IRQ8–15 and signals
 * the master on its IR2. Plus the edge/level control registers (ELCR) of the PIIX-family south
 * bridges at 0x4D0/0x4D1. Source: the Intel 8259A data sheet (ICW1–ICW4, OCW1–OCW3, priority
 * resolution, end of interrupt, automatic EOI, poll command, special mask and special fully
 * nested modes).
 *
 * Model:
 * - `lines` holds each input's current level as reported by the devices. An edge-triggered input
 *   sets its IRR bit on a low-to-high transition; a level-triggered one keeps IRR equal to the
 *   level. Either way IRR drops when the line drops before the request is acknowledged (the
 *   8259A then answers INTA with a spurious IR7). Initialization (ICW1) resets the edge detector:
 *   a line that is already high must go low and high again.
 * - INT (`interruptPending`) is true when an unmasked IRR bit has higher priority than every
 *   in-service bit (priority rotates: `lowest` names the lowest-priority input).
 * - The slave's INT output is the master's IR2 line, recomputed after every slave change.
 * - INTA (`acknowledge`) moves the winning request from IRR to ISR (unless auto-EOI) and returns
 *   the vector; with nothing left to acknowledge it returns the spurious vector base+7 and
 *   changes nothing, on the master or (through IR2) on the slave.
 *
 * Reads of unimplemented combinations behave as on the data sheet: OCW3's RR/RIS selects IRR or
 * ISR for reads of the command port, and a poll command makes the next read return the poll
 * byte (0x80 | level) and acknowledge that level. All state is in one plain object (`state`).
 */
import type { InterruptSource } from '../vm.ts';
import { bytePorts } from './io.ts';
import type { IrqSink, PortDevice } from './io.ts';

/** One 8259A. */
export interface PicChipState {
  irr: number;
  isr: number;
  imr: number;
  /** Current input levels (bit per IR). */
  lines: number;
  /** ELCR bits: 1 = level-triggered input (in addition to ICW1.LTIM, which makes all level). */
  elcr: number;
  /** ICW2 & 0xF8: vector of IR0. */
  vectorBase: number;
  /** 0 = operational; 2, 3, 4 = the ICW expected next on the data port. */
  initStep: number;
  /** ICW1 as last written (IC4 = bit 0, SNGL = bit 1, LTIM = bit 3). */
  icw1: number;
  /** ICW3: master: bit mask of inputs with a slave; slave: its cascade identity. */
  icw3: number;
  /** ICW4 (µPM = bit 0, AEOI = bit 1, SFNM = bit 4). */
  icw4: number;
  /** The input with the lowest priority (7 after initialization). */
  lowest: number;
  /** OCW3 RR/RIS: command-port reads return ISR (true) or IRR (false). */
  readIsr: boolean;
  /** OCW3 P: the next command-port read is a poll. */
  poll: boolean;
  /** OCW3 ESMM/SMM: special mask mode. */
  specialMask: boolean;
  /** OCW2 rotate-in-automatic-EOI mode. */
  rotateOnAeoi: boolean;
}

export interface PicState {
  master: PicChipState;
  slave: PicChipState;
}

/** ELCR bits that exist: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are always edge-triggered. */
const ELCR_MASK = [0xf8, 0xde];
/** The master input the slave is cascaded on. */
const CASCADE_IR = 2;

function chipInitialState(vectorBase: number, icw3: number): PicChipState {
  return {
    irr: 0, isr: 0, imr: 0xff, lines: 0, elcr: 0, vectorBase, initStep: 0, icw1: 0x11, icw3, icw4: 0x01,
    lowest: 7, readIsr: false, poll: false, specialMask: false, rotateOnAeoi: false,
  };
}

/** Inputs that are level-triggered on this chip. */
function levelMask(c: PicChipState): number {
  return c.icw1 & 0x08 ? 0xff : c.elcr;
}

/** The highest-priority IR among the bits of `mask`, or -1. */
function highest(c: PicChipState, mask: number): number {
  if (!(mask & 0xff)) return -1;
  for (let k = 1; k <= 8; k++) {
    const ir = (c.lowest + k) & 7;
    if (mask & (1 << ir)) return ir;
  }
  return -1;
}

/** Priority rank of an input: 0 is the highest. */
function rank(c: PicChipState, ir: number): number {
  return (ir - c.lowest - 1) & 7;
}

/**
 * The request INT would signal now, or -1: the highest unmasked request that outranks all
 * in-service levels. `isMaster` enables special fully nested mode's exception for IR2.
 */
function pendingRequest(c: PicChipState, isMaster: boolean): number {
  const p = highest(c, c.irr & ~c.imr);
  if (p < 0) return -1;
  let inService = c.specialMask ? c.isr & ~c.imr : c.isr;
  // Special fully nested mode: a slave request is recognized while the slave is in service.
  if (isMaster && c.icw4 & 0x10 && p === CASCADE_IR) inService &= ~(1 << CASCADE_IR);
  const s = highest(c, inService);
  return s < 0 || rank(c, p) < rank(c, s) ? p : -1;
}

function setLine(c: PicChipState, ir: number, level: boolean): void {
  const bit = 1 << ir;
  if (level) {
    if (!(c.lines & bit) || levelMask(c) & bit) c.irr |= bit;
    c.lines |= bit;
  } else {
    c.lines &= ~bit;
    c.irr &= ~bit;
  }
}

/** INTA on one chip: returns the IR acknowledged, or -1 if nothing is pending (spurious). */
function ackChip(c: PicChipState, isMaster: boolean): number {
  const p = pendingRequest(c, isMaster);
  if (p < 0) return -1;
  const bit = 1 << p;
  if (!(levelMask(c) & bit)) c.irr &= ~bit;
  if (c.icw4 & 0x02) {
    if (c.rotateOnAeoi) c.lowest = p;
  } else {
    c.isr |= bit;
  }
  return p;
}

export class DualPic implements InterruptSource, IrqSink {
  readonly state: PicState;
  /** Called whenever INT to the CPU may have become active (the machine wakes the run loop). */
  onInterrupt: () => void = () => {};
  /**
   * Every ISA IRQ line change as the devices drive it (before the IRQ2-to-IRQ9 rewiring): the
   * board wires each ISA IRQ to the I/O APIC too (pc-machine.ts).
   */
  onIrqLine: (line: number, level: boolean) => void = () => {};

  constructor() {
    this.state = { master: chipInitialState(0x08, 1 << CASCADE_IR), slave: chipInitialState(0x70, CASCADE_IR) };
  }

  /** Port handlers for 0x20–0x21, 0xA0–0xA1 and 0x4D0–0x4D1 (byte registers). */
  readonly ports: PortDevice = bytePorts((p) => this.read8(p), (p, v) => this.write8(p, v));

  // ------------------------------------------------------------------ InterruptSource
  hasInterrupt(): boolean {
    return pendingRequest(this.state.master, true) >= 0;
  }

  acknowledge(): number {
    const { master, slave } = this.state;
    const ir = ackChip(master, true);
    let vector: number;
    if (ir < 0) vector = master.vectorBase + 7;
    else if (ir === CASCADE_IR && master.icw3 & (1 << CASCADE_IR) && !(master.icw1 & 0x02)) {
      const sir = ackChip(slave, false);
      vector = slave.vectorBase + (sir < 0 ? 7 : sir);
    } else vector = master.vectorBase + ir;
    this.update();
    return vector;
  }

  // ------------------------------------------------------------------ IrqSink
  setIrq(line: number, level: boolean): void {
    this.onIrqLine(line, level);
    const { master, slave } = this.state;
    // On the AT bus the IRQ2 pin of the ISA slot is rewired to the slave's IR1 (IRQ9).
    if (line === 2) line = 9;
    if (line < 8) setLine(master, line, level);
    else setLine(slave, line - 8, level);
    this.update();
  }

  /** Propagates the slave's INT to the master's IR2 and tells the CPU side if INT is active. */
  private update(): void {
    const { master, slave } = this.state;
    const slaveInt = pendingRequest(slave, false) >= 0;
    if (slaveInt !== ((master.lines >> CASCADE_IR) & 1) > 0) setLine(master, CASCADE_IR, slaveInt);
    if (pendingRequest(master, true) >= 0) this.onInterrupt();
  }

  // ------------------------------------------------------------------ registers
  read8(port: number): number {
    if (port === 0x4d0 || port === 0x4d1) return this.chip(port === 0x4d1).elcr;
    const isSlave = (port & 0x80) !== 0;
    const c = this.chip(isSlave);
    if (port & 1) return c.imr;
    if (c.poll) {
      c.poll = false;
      const ir = ackChip(c, !isSlave);
      this.update();
      return ir < 0 ? 0 : 0x80 | ir;
    }
    return c.readIsr ? c.isr : c.irr;
  }

  write8(port: number, v: number): void {
    if (port === 0x4d0 || port === 0x4d1) {
      const k = port === 0x4d1 ? 1 : 0;
      const c = this.chip(k === 1);
      c.elcr = v & ELCR_MASK[k];
      // A line switched to level mode with its input high is a request right away.
      const lm = levelMask(c);
      c.irr = (c.irr & ~lm) | (c.lines & lm);
      this.update();
      return;
    }
    const c = this.chip((port & 0x80) !== 0);
    if ((port & 1) === 0) {
      if (v & 0x10) this.icw1(c, v);
      else if (v & 0x08) this.ocw3(c, v);
      else this.ocw2(c, v);
    } else {
      switch (c.initStep) {
        case 2: // ICW2: vector base (bits 2..0 are the IR number)
          c.vectorBase = v & 0xf8;
          c.initStep = c.icw1 & 0x02 ? (c.icw1 & 0x01 ? 4 : 0) : 3;
          break;
        case 3: // ICW3: cascade wiring
          c.icw3 = v;
          c.initStep = c.icw1 & 0x01 ? 4 : 0;
          break;
        case 4: // ICW4
          c.icw4 = v & 0x1f;
          c.initStep = 0;
          break;
        default: // OCW1: the interrupt mask
          c.imr = v;
      }
    }
    this.update();
  }

  private chip(slave: boolean): PicChipState {
    return slave ? this.state.slave : this.state.master;
  }

  /** ICW1 starts initialization (data sheet: "Initialization Command Words"). */
  private icw1(c: PicChipState, v: number): void {
    c.icw1 = v;
    c.initStep = 2;
    c.imr = 0;
    c.isr = 0;
    // The edge detector is reset: only level-triggered inputs that are high remain requests.
    c.irr = c.lines & levelMask(c);
    c.lowest = 7;
    c.specialMask = false;
    c.readIsr = false;
    c.poll = false;
    c.rotateOnAeoi = false;
    if (!(v & 0x01)) c.icw4 = 0;
  }

  /** OCW2: end of interrupt and priority rotation. */
  private ocw2(c: PicChipState, v: number): void {
    const level = v & 7;
    switch (v & 0xe0) {
      case 0x20: { // non-specific EOI
        const h = highest(c, c.isr);
        if (h >= 0) c.isr &= ~(1 << h);
        break;
      }
      case 0xa0: { // rotate on non-specific EOI
        const h = highest(c, c.isr);
        if (h >= 0) {
          c.isr &= ~(1 << h);
          c.lowest = h;
        }
        break;
      }
      case 0x60: // specific EOI
        c.isr &= ~(1 << level);
        break;
      case 0xe0: // rotate on specific EOI
        c.isr &= ~(1 << level);
        c.lowest = level;
        break;
      case 0xc0: // set priority
        c.lowest = level;
        break;
      case 0x80: // set rotate in automatic EOI mode
        c.rotateOnAeoi = true;
        break;
      case 0x00: // clear rotate in automatic EOI mode
        c.rotateOnAeoi = false;
        break;
      default: // 0x40: no operation
    }
  }

  /** OCW3: read register select, poll command, special mask mode. */
  private ocw3(c: PicChipState, v: number): void {
    if (v & 0x04) c.poll = true;
    if (v & 0x02) c.readIsr = (v & 0x01) !== 0;
    if (v & 0x40) c.specialMask = (v & 0x20) !== 0;
  }
}
