/**
 * The I/O APIC of a PC chipset, as the Intel 82093AA data sheet describes it: 24 interrupt input
 * pins, each with a redirection table entry that turns the pin into an interrupt message for
 * the local APIC(s). Memory-mapped at FEC00000h (4 KiB decoded):
 *
 *   FEC00000h  IOREGSEL  (bits 7:0 select an indirect register; reads back)
 *   FEC00010h  IOWIN     (the selected register, 32-bit accesses only; others read 0 and are ignored)
 *
 * Indirect registers: 00h ID (bits 27:24), 01h version (read-only: version 11h, maximum
 * redirection entry 17h in bits 23:16, as the 82093AA), 02h arbitration ID (read-only, bits
 * 27:24; it follows the ID, as QEMU reports it), 10h–3Fh the redirection table (entry n: low
 * dword at 10h + 2n, high dword at 11h + 2n). Other indices read 0.
 *
 * Redirection entry (low dword): vector 7:0, delivery mode 10:8 (fixed, lowest priority, SMI,
 * NMI, INIT, ExtINT), destination mode 11 (physical/logical), delivery status 12 (read-only;
 * always idle here: a message is accepted or not at once), polarity 13, Remote IRR 14
 * (read-only), trigger mode 15 (edge/level), mask 16; high dword: destination 31:24. Reset
 * state: every entry masked, everything else 0.
 *
 * Delivery (82093AA §3.2.4 and the SDM's interrupt-message rules):
 * - `setIrq(pin, asserted)` is how the board drives a pin. The polarity bit is stored but not
 *   applied: devices report "asserted", not an electrical level, so an active-low PCI line and
 *   an active-high ISA line both arrive as asserted = true (QEMU's model too).
 * - Edge-triggered: a rising edge on an unmasked pin sends one message. An edge on a masked pin
 *   is ignored, not held (data sheet: "not delivered or held pending"; QEMU instead keeps it
 *   and delivers on unmask).
 * - Level-triggered: while the pin is asserted and unmasked and Remote IRR is clear, a message
 *   is sent and Remote IRR set when the local APIC accepts it. The local APIC's EOI of a
 *   level-triggered vector is broadcast (`eoi(vector)`): it clears Remote IRR on every entry
 *   with that vector, and a pin still asserted sends again. Unmasking an asserted level pin
 *   sends. Writing an entry with edge trigger clears its Remote IRR (what Linux's EOI fallback
 *   for I/O APICs older than version 20h relies on; QEMU does the same).
 * - Fixed and lowest-priority messages go to the local APIC (`ApicMessageSink`), which checks
 *   the destination (physical APIC ID or logical) as it does for IPIs; with one processor,
 *   lowest priority is fixed delivery to it. ExtINT: while pin 0's entry is unmasked in ExtINT
 *   mode the 8259A's INTR reaches the processor through the I/O APIC (pin 0 is the 8259A's
 *   output on PC boards; the MP specification's virtual-wire mode through the I/O APIC), see
 *   `extIntOpen`. SMI, NMI and INIT messages are not delivered: the processor model has no
 *   SMM, NMI or INIT input (as the local APIC's LINT1).
 *
 * All state is in one plain object (`state`).
 */

/** Where a PC's I/O APIC is (and the MADT says it is). */
export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;
/** Version register: 82093AA version 11h, highest redirection entry 17h. */
export const IOAPIC_VERSION_VALUE = ((IOAPIC_PINS - 1) << 16) | 0x11;

export const IOREGSEL = 0x00;
export const IOWIN = 0x10;
export const IOAPIC_ID = 0x00;
export const IOAPIC_VER = 0x01;
export const IOAPIC_ARB = 0x02;
export const IOAPIC_REDTBL = 0x10;

export const RTE_MASKED = 1 << 16;
export const RTE_LEVEL = 1 << 15;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_ACTIVE_LOW = 1 << 13;
export const RTE_LOGICAL = 1 << 11;
const RTE_WRITABLE = 0x0001afff; // vector, delivery mode, destination mode, polarity, trigger, mask
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_EXTINT = 7;

/**
 * The pin a PC board wires ISA IRQ `irq` to (also what the MADT's overrides say): IRQ0, the
 * PIT, on pin 2 (pin 0 is the 8259A's INTR), the ISA slot's IRQ2 as IRQ9 (the AT rewiring),
 * every other IRQ on the pin of its number.
 */
export function isaIrqPin(irq: number): number {
  return irq === 0 ? 2 : irq === 2 ? 9 : irq;
}

/** The local APIC side of the interrupt-message bus. */
export interface ApicMessageSink {
  /**
   * A fixed or lowest-priority message: true if a local APIC it is addressed to accepted it.
   * `level`: level-triggered (the local APIC sets TMR and broadcasts its EOI).
   */
  receiveMessage(vector: number, level: boolean, dest: number, logical: boolean): boolean;
}

export interface IoApicState {
  /** IOAPIC ID (4 bits). */
  id: number;
  /** IOREGSEL. */
  select: number;
  /** Redirection table: low and high dword of each entry. */
  redirLo: number[];
  redirHi: number[];
  /** Pins asserted now (bit n = pin n). */
  lines: number;
}

export class IoApic {
  readonly state: IoApicState;

  constructor(private readonly apic: ApicMessageSink) {
    this.state = { id: 0, select: 0, redirLo: [], redirHi: [], lines: 0 };
    this.reset();
  }

  reset(): void {
    const st = this.state;
    st.id = 0;
    st.select = 0;
    st.redirLo = new Array<number>(IOAPIC_PINS).fill(RTE_MASKED);
    st.redirHi = new Array<number>(IOAPIC_PINS).fill(0);
    // The pins' levels are the devices', not the chip's: kept.
  }

  // ------------------------------------------------------------------ the MMIO window
  claims(phys: number): boolean {
    return ((phys ^ IOAPIC_BASE) & ~0xfff) === 0;
  }

  read(phys: number, size: 1 | 2 | 4): number {
    const off = phys & 0xff;
    if (off === IOREGSEL) return this.state.select;
    if (off === IOWIN && size === 4) return this.readRegister(this.state.select);
    return 0;
  }

  write(phys: number, size: 1 | 2 | 4, value: number): void {
    const off = phys & 0xff;
    if (off === IOREGSEL) this.state.select = value & 0xff;
    else if (off === IOWIN && size === 4) this.writeRegister(this.state.select, value);
  }

  /** The indirect register `index` as IOWIN reads it. */
  readRegister(index: number): number {
    const st = this.state;
    switch (index) {
      case IOAPIC_ID:
      case IOAPIC_ARB:
        return st.id << 24;
      case IOAPIC_VER:
        return IOAPIC_VERSION_VALUE;
    }
    const pin = (index - IOAPIC_REDTBL) >> 1;
    if (pin < 0 || pin >= IOAPIC_PINS) return 0;
    return index & 1 ? st.redirHi[pin] : st.redirLo[pin];
  }

  writeRegister(index: number, value: number): void {
    const st = this.state;
    if (index === IOAPIC_ID) {
      st.id = (value >>> 24) & 0x0f;
      return;
    }
    const pin = (index - IOAPIC_REDTBL) >> 1;
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    if (index & 1) {
      st.redirHi[pin] = value & 0xff000000;
      return;
    }
    let lo = (value & RTE_WRITABLE) | (st.redirLo[pin] & RTE_REMOTE_IRR);
    if (!(lo & RTE_LEVEL)) lo &= ~RTE_REMOTE_IRR;
    st.redirLo[pin] = lo;
    // An unmasked level-triggered pin that is asserted sends now.
    if (lo & RTE_LEVEL) this.service(pin);
    if (pin === 0) this.onExtIntChange();
  }

  // ------------------------------------------------------------------ pins and messages
  /** Called when pin 0's ExtINT path may have opened or closed (wire to Vm.notifyInterrupt). */
  onExtIntChange: () => void = () => {};

  /** The board drives `pin` (asserted or not). */
  setIrq(pin: number, asserted: boolean): void {
    const st = this.state;
    const bit = 1 << pin;
    const was = (st.lines & bit) !== 0;
    if (asserted) st.lines |= bit;
    else st.lines &= ~bit;
    if (!asserted) return;
    if (st.redirLo[pin] & RTE_LEVEL || !was) this.service(pin);
  }

  /** An EOI of a level-triggered `vector` from the local APIC: clears Remote IRR, resends. */
  eoi(vector: number): void {
    const st = this.state;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = st.redirLo[pin];
      if ((lo & 0xff) !== vector || !(lo & RTE_REMOTE_IRR)) continue;
      st.redirLo[pin] = lo & ~RTE_REMOTE_IRR;
      if (lo & RTE_LEVEL) this.service(pin);
    }
  }

  /** Sends pin `pin`'s message if its entry lets it (unmasked; level: asserted, Remote IRR clear). */
  private service(pin: number): void {
    const st = this.state;
    const lo = st.redirLo[pin];
    if (lo & RTE_MASKED) return;
    const level = (lo & RTE_LEVEL) !== 0;
    if (level && (!(st.lines & (1 << pin)) || lo & RTE_REMOTE_IRR)) return;
    const mode = (lo >> 8) & 7;
    if (mode !== DM_FIXED && mode !== DM_LOWEST) return; // ExtINT: extIntOpen; SMI/NMI/INIT: none
    const accepted = this.apic.receiveMessage(lo & 0xff, level, st.redirHi[pin] >>> 24, (lo & RTE_LOGICAL) !== 0);
    if (accepted && level) st.redirLo[pin] |= RTE_REMOTE_IRR;
  }

  /** Pin 0 (the 8259A's INTR) is an unmasked ExtINT entry: the 8259A reaches the processor. */
  extIntOpen(): boolean {
    const lo = this.state.redirLo[0];
    return !(lo & RTE_MASKED) && ((lo >> 8) & 7) === DM_EXTINT;
  }

  /**
   * The vector pin `pin` sends fixed or lowest-priority messages with, or -1 (masked, or
   * another delivery mode): where the machine looks for a request still waiting in the local
   * APIC (the PIT's owed ticks).
   */
  messageVector(pin: number): number {
    const lo = this.state.redirLo[pin];
    const mode = (lo >> 8) & 7;
    return lo & RTE_MASKED || (mode !== DM_FIXED && mode !== DM_LOWEST) ? -1 : lo & 0xff;
  }
}
