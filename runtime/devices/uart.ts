/**
 * A 16550A UART (National Semiconductor PC16550D data sheet): the serial console on COM1
 * (ports 0x3F8–0x3FF, IRQ4). Registers RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR and the
 * divisor latch; 16-byte receive FIFO with trigger levels; receive, transmitter-empty, line-status
 * and modem-status interrupts with the IIR priority order; loopback mode.
 *
 * The line is infinitely fast: a byte written to THR leaves at once (to `onTransmit`), so THR and
 * the transmitter are empty (LSR.THRE = LSR.TEMT = 1) and every write re-raises the THR-empty
 * interrupt, as the real chip does when the byte moves on to the shift register — except while
 * the host side is full (`txReady` false: hardware flow control, as CTS would), when THRE stays
 * clear and the guest's driver waits.
 * Received bytes wait in a host-side queue (`receive`) and move into the receive FIFO as it has
 * room, so nothing is lost however fast the host types; with data below the trigger level the
 * character-timeout interrupt is reported at once rather than after four character times.
 *
 * IRQ4 is driven as on the PC: the chip's interrupt output passes through a buffer enabled by
 * MCR.OUT2, and in loopback mode OUT2 is disconnected from the pin, so no interrupt reaches the
 * PIC. The modem inputs read as a connected terminal (CTS, DSR, DCD); in loopback they follow
 * MCR (RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD). All state lives in one plain object (`state`).
 */
import type { IrqSink, PortDevice } from './io.ts';
import { bytePorts } from './io.ts';

const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
/** LSR error bits that raise the line-status interrupt (OE, PE, FE, BI). */
const LSR_ERRORS = 0x1e;
const FIFO_SIZE = 16;
const RX_TRIGGER = [1, 4, 8, 14];

export interface UartState {
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  dll: number;
  dlm: number;
  /** FCR bit 0 (FIFOs enabled) and bits 7..6 (receive trigger level). */
  fcr: number;
  /** Pending LSR error bits (cleared by reading LSR). */
  lsrErrors: number;
  /** Receive FIFO (one entry when FIFOs are disabled: the RBR). */
  rx: number[];
  /** Bytes from the host not yet in the receive FIFO. */
  input: number[];
  /** The THR-empty interrupt condition (cleared by reading IIR while it is reported, or a THR write). */
  thrEmptyPending: boolean;
  /** MSR bits 7..4 (the modem inputs) and 3..0 (their change flags). */
  msr: number;
  irqLevel: boolean;
}

export class Uart16550 {
  readonly state: UartState;
  /** Port handlers for base..base+7 (byte registers). */
  readonly ports: PortDevice = bytePorts((p) => this.read8(p), (p, v) => this.write8(p, v));
  /** Receives every byte the guest transmits (not in loopback mode). */
  onTransmit: (byte: number) => void = () => {};
  /**
   * Whether the line can take another byte (flow control from the host side): while false,
   * LSR.THRE and TEMT read as clear and no THR-empty interrupt is raised, so a driver that
   * waits for THRE (Linux's does) waits. A byte written anyway is still transmitted: nothing is
   * dropped. Call `txReadyChanged` when it becomes true again.
   */
  txReady: () => boolean = () => true;

  constructor(
    private readonly irq: IrqSink,
    private readonly irqLine = 4,
  ) {
    this.state = {
      ier: 0, lcr: 0, mcr: 0, scr: 0, dll: 12, dlm: 0, fcr: 0, lsrErrors: 0, rx: [], input: [],
      thrEmptyPending: false, msr: 0xb0, irqLevel: false,
    };
  }

  /** Queues bytes as if typed on the terminal. */
  receive(bytes: ArrayLike<number>): void {
    for (let k = 0; k < bytes.length; k++) this.state.input.push(bytes[k] & 0xff);
    this.pump();
    this.updateIrq();
  }

  /** The host side can take bytes again: THRE rises, with its interrupt if enabled. */
  txReadyChanged(): void {
    if (!this.txReady()) return;
    this.state.thrEmptyPending = true;
    this.updateIrq();
  }

  /** Bytes received from the host that the guest has not read yet. */
  get pendingInput(): number {
    return this.state.input.length + this.state.rx.length;
  }

  private fifoEnabled(): boolean {
    return (this.state.fcr & 1) !== 0;
  }

  /** Moves host input into the receive FIFO while it has room. */
  private pump(): void {
    const st = this.state;
    if (st.mcr & MCR_LOOP) return; // the serial input is disconnected in loopback mode
    const cap = this.fifoEnabled() ? FIFO_SIZE : 1;
    while (st.rx.length < cap && st.input.length > 0) st.rx.push(st.input.shift()!);
  }

  /** The IIR value for the highest-priority pending interrupt (bit 0 set: none). */
  private identify(): number {
    const st = this.state;
    const fifoBits = this.fifoEnabled() ? 0xc0 : 0;
    if (st.ier & IER_RLSI && st.lsrErrors & LSR_ERRORS) return fifoBits | 0x06;
    if (st.ier & IER_RDI && st.rx.length > 0) {
      if (!this.fifoEnabled() || st.rx.length >= RX_TRIGGER[st.fcr >> 6]) return fifoBits | 0x04;
      return fifoBits | 0x0c; // character timeout: data below the trigger level
    }
    if (st.ier & IER_THRI && st.thrEmptyPending) return fifoBits | 0x02;
    if (st.ier & IER_MSI && st.msr & 0x0f) return fifoBits | 0x00;
    return fifoBits | 0x01;
  }

  private updateIrq(): void {
    const st = this.state;
    const level = (this.identify() & 1) === 0 && (st.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    if (level !== st.irqLevel) {
      st.irqLevel = level;
      this.irq.setIrq(this.irqLine, level);
    }
  }

  /** The modem inputs (MSR bits 7..4) as the current MCR makes them. */
  private modemInputs(): number {
    const m = this.state.mcr;
    if (!(m & MCR_LOOP)) return 0xb0; // a connected terminal: DCD, DSR, CTS
    return (m & MCR_RTS ? 0x10 : 0) | (m & MCR_DTR ? 0x20 : 0) | (m & MCR_OUT1 ? 0x40 : 0) | (m & MCR_OUT2 ? 0x80 : 0);
  }

  private setModemInputs(now: number): void {
    const st = this.state;
    const old = st.msr & 0xf0;
    const changed = old ^ now;
    let delta = st.msr & 0x0f;
    if (changed & 0x10) delta |= 0x01; // DCTS
    if (changed & 0x20) delta |= 0x02; // DDSR
    if (old & 0x40 && !(now & 0x40)) delta |= 0x04; // TERI: trailing edge of RI
    if (changed & 0x80) delta |= 0x08; // DDCD
    st.msr = now | delta;
  }

  /** Receives one byte into the FIFO (loopback), flagging an overrun if it is full. */
  private loopbackByte(v: number): void {
    const st = this.state;
    const cap = this.fifoEnabled() ? FIFO_SIZE : 1;
    if (st.rx.length < cap) st.rx.push(v);
    else st.lsrErrors |= LSR_OE;
  }

  read8(port: number): number {
    const st = this.state;
    let v: number;
    switch (port & 7) {
      case 0:
        if (st.lcr & LCR_DLAB) v = st.dll;
        else {
          v = st.rx.length > 0 ? st.rx.shift()! : 0;
          this.pump();
        }
        break;
      case 1:
        v = st.lcr & LCR_DLAB ? st.dlm : st.ier;
        break;
      case 2:
        v = this.identify();
        // Reading IIR while it reports THR empty acknowledges that interrupt.
        if ((v & 0x0f) === 0x02) st.thrEmptyPending = false;
        break;
      case 3:
        v = st.lcr;
        break;
      case 4:
        v = st.mcr;
        break;
      case 5:
        v = (st.rx.length > 0 ? LSR_DR : 0) | st.lsrErrors | (this.txReady() ? LSR_THRE | LSR_TEMT : 0);
        st.lsrErrors = 0;
        break;
      case 6:
        v = st.msr;
        st.msr &= 0xf0;
        break;
      default:
        v = st.scr;
    }
    this.updateIrq();
    return v;
  }

  write8(port: number, v: number): void {
    const st = this.state;
    switch (port & 7) {
      case 0:
        if (st.lcr & LCR_DLAB) st.dll = v;
        else {
          // THR: the byte leaves at once; the THR-empty condition drops and rises again.
          st.thrEmptyPending = false;
          this.updateIrq();
          if (st.mcr & MCR_LOOP) {
            this.loopbackByte(v);
            st.thrEmptyPending = true;
          } else {
            this.onTransmit(v);
            st.thrEmptyPending = this.txReady();
          }
        }
        break;
      case 1:
        if (st.lcr & LCR_DLAB) st.dlm = v;
        else {
          // Enabling the THR-empty interrupt with THR empty raises it at once.
          if (v & IER_THRI && !(st.ier & IER_THRI) && this.txReady()) st.thrEmptyPending = true;
          st.ier = v & 0x0f;
        }
        break;
      case 2: {
        const enable = v & 1;
        if (enable !== (st.fcr & 1)) {
          st.rx.length = 0; // changing the FIFO mode clears both FIFOs
        }
        if (v & 0x02) st.rx.length = 0;
        st.fcr = enable ? v & 0xc1 : 0;
        this.pump();
        break;
      }
      case 3:
        st.lcr = v;
        break;
      case 4:
        st.mcr = v & 0x1f;
        this.setModemInputs(this.modemInputs());
        this.pump();
        break;
      case 5:
        break; // LSR is read-only (writes are for factory test)
      case 6:
        break; // MSR: writes ignored
      default:
        st.scr = v;
    }
    this.updateIrq();
  }
}
