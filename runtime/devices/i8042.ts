/**
 * The 8042 keyboard controller of the PC/AT (ports 0x60 data, 0x64 status/command) with a
 * PS/2 keyboard on its first port (IRQ1) and nothing on its auxiliary (mouse) port (IRQ12).
 * Source: the IBM PC/AT technical reference's keyboard-controller command set and the PS/2
 * keyboard command set.
 *
 * What it is for: Linux's i8042 probe (status 0xFF would mean "no controller"; self-test 0xAA →
 * 0x55; interface tests 0xAB/0xA9 → 0x00; read/write of the command byte; the AUX loop test
 * 0xD3; enabling/disabling each port), the atkbd driver's reset/ID/LED commands against an
 * empty keyboard (ACK 0xFA, BAT 0xAA, ID 0xAB 0x83 — 0xAB 0x41 when the controller translates to
 * scan code set 1, as the 8042's translation table maps 0x83 to 0x41), and the reset and A20
 * lines of the output port: command 0xFE (pulse bit 0) or writing bit 0 = 0 with 0xD1 resets
 * the machine (`onReset`); a change of the A20 bit calls `onA20` (the machine ORs it with port
 * 92h's gate).
 * Writes to the auxiliary device (0xD4) get the "no device" answer: 0xFE with the timeout bit.
 *
 * The input buffer is never full (commands complete at once). Replies wait in a queue and move
 * into the output buffer when it is empty, skipping bytes from a disabled port until it is
 * enabled again. IRQ1/IRQ12 follow "output buffer full" for the port the byte came from, gated
 * by the command byte's interrupt enables. There are no key events yet. All state lives in one
 * plain object (`state`).
 */
import type { IrqSink, PortDevice } from './io.ts';
import { bytePorts } from './io.ts';

const STATUS_OBF = 0x01;
const STATUS_SYS = 0x04;
const STATUS_CMD = 0x08;
const STATUS_UNLOCKED = 0x10;
const STATUS_AUXB = 0x20;
const STATUS_TIMEOUT = 0x40;

const CTR_KBDINT = 0x01;
const CTR_AUXINT = 0x02;
const CTR_SYS = 0x04;
const CTR_KBDDIS = 0x10;
const CTR_AUXDIS = 0x20;
const CTR_XLATE = 0x40;

const KBD_ACK = 0xfa;
const KBD_RESEND = 0xfe;

/** Where a byte in the output queue came from. */
const SRC_CTRL = 0; // a controller reply: always delivered
const SRC_KBD = 1;
const SRC_AUX = 2;

export interface I8042OutputByte {
  value: number;
  src: number;
  /** Delivered as auxiliary-port data (status AUXB). */
  aux: boolean;
  /** Delivered with the timeout status bit (no device answered). */
  timeout: boolean;
}

export interface I8042State {
  /** Controller RAM; byte 0 is the command byte. */
  ram: number[];
  /** Output port: bit 0 = system reset (active low), bit 1 = A20 gate. */
  outputPort: number;
  /** Status bits kept across accesses: SYS and the command/data flag. */
  sys: boolean;
  lastWasCommand: boolean;
  /** A command waiting for its data byte (0x60–0x7F, 0xD1–0xD4), or 0. */
  pendingCommand: number;
  /** The output buffer. */
  obFull: boolean;
  obByte: I8042OutputByte;
  queue: I8042OutputByte[];
  /** The keyboard: a command waiting for its argument byte, or 0; scanning enabled. */
  kbdPendingCommand: number;
  kbdScanning: boolean;
  irq1: boolean;
  irq12: boolean;
}

export class I8042 {
  readonly state: I8042State;
  /** Port handlers for 0x60 and 0x64 (byte registers). */
  readonly ports: PortDevice = bytePorts((p) => this.read8(p), (p, v) => this.write8(p, v));
  /** The controller pulsed the CPU reset line. */
  onReset: () => void = () => {};
  /** The output port's A20 bit changed. */
  onA20: () => void = () => {};

  constructor(private readonly irq: IrqSink) {
    const ram = new Array<number>(32).fill(0);
    ram[0] = CTR_XLATE | CTR_SYS | CTR_KBDINT; // as a BIOS leaves it: translated keyboard, IRQ1 on
    this.state = {
      ram, outputPort: 0x03, sys: true, lastWasCommand: false, pendingCommand: 0, obFull: false,
      obByte: { value: 0, src: SRC_CTRL, aux: false, timeout: false }, queue: [], kbdPendingCommand: 0,
      kbdScanning: true, irq1: false, irq12: false,
    };
  }

  /** The A20 gate as the output port sets it. */
  get a20(): boolean {
    return (this.state.outputPort & 0x02) !== 0;
  }

  private setOutputPort(v: number): void {
    const changed = (v ^ this.state.outputPort) & 0x02;
    this.state.outputPort = v;
    if (changed) this.onA20();
  }

  private get ctr(): number {
    return this.state.ram[0];
  }

  read8(port: number): number {
    const st = this.state;
    if (port === 0x64) {
      let s = STATUS_UNLOCKED | (st.sys ? STATUS_SYS : 0) | (st.lastWasCommand ? STATUS_CMD : 0);
      if (st.obFull) s |= STATUS_OBF | (st.obByte.aux ? STATUS_AUXB : 0) | (st.obByte.timeout ? STATUS_TIMEOUT : 0);
      return s;
    }
    // Reading the data port empties the output buffer (an empty one returns the last byte).
    const v = st.obByte.value;
    st.obFull = false;
    this.refill();
    return v;
  }

  write8(port: number, v: number): void {
    const st = this.state;
    if (port === 0x64) {
      st.lastWasCommand = true;
      st.pendingCommand = 0;
      this.command(v);
    } else {
      st.lastWasCommand = false;
      const cmd = st.pendingCommand;
      st.pendingCommand = 0;
      if (cmd !== 0) this.commandData(cmd, v);
      else this.keyboardCommand(v);
    }
    this.refill();
  }

  // ------------------------------------------------------------------ controller commands
  private command(c: number): void {
    const st = this.state;
    if (c >= 0x20 && c <= 0x3f) return this.reply(st.ram[c & 0x1f]);
    if ((c >= 0x60 && c <= 0x7f) || (c >= 0xd1 && c <= 0xd4)) {
      st.pendingCommand = c;
      return;
    }
    switch (c) {
      case 0xa7: // disable the auxiliary port
        st.ram[0] |= CTR_AUXDIS;
        break;
      case 0xa8: // enable the auxiliary port
        st.ram[0] &= ~CTR_AUXDIS;
        break;
      case 0xa9: // auxiliary interface test: 0 = no fault
      case 0xab: // keyboard interface test
        this.reply(0x00);
        break;
      case 0xaa: // controller self-test
        st.sys = true;
        this.reply(0x55);
        break;
      case 0xad: // disable the keyboard port
        st.ram[0] |= CTR_KBDDIS;
        break;
      case 0xae: // enable the keyboard port
        st.ram[0] &= ~CTR_KBDDIS;
        break;
      case 0xc0: // read input port: keyboard not inhibited
        this.reply(0x80);
        break;
      case 0xd0: // read output port (bits 4/5 mirror the buffer-full state of each port)
        this.reply((st.outputPort & 0xcf) | (st.obFull && !st.obByte.aux ? 0x10 : 0) | (st.obFull && st.obByte.aux ? 0x20 : 0));
        break;
      case 0xdd: // A20 off / on (commands of some controllers)
        this.setOutputPort(st.outputPort & ~0x02);
        break;
      case 0xdf:
        this.setOutputPort(st.outputPort | 0x02);
        break;
      case 0xe0: // read test inputs
        this.reply(0x00);
        break;
      default:
        // 0xF0–0xFF pulse the output-port bits whose command bit is 0; bit 0 is the reset line.
        if (c >= 0xf0 && !(c & 0x01)) this.onReset();
    }
  }

  private commandData(cmd: number, v: number): void {
    const st = this.state;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      st.ram[cmd & 0x1f] = v;
      if (cmd === 0x60) st.sys = (v & CTR_SYS) !== 0;
      return;
    }
    switch (cmd) {
      case 0xd1: // write output port
        this.setOutputPort(v);
        if (!(v & 0x01)) this.onReset();
        break;
      case 0xd2: // write the keyboard output buffer (as if the keyboard sent it)
        st.queue.push({ value: v, src: SRC_CTRL, aux: false, timeout: false });
        break;
      case 0xd3: // write the auxiliary output buffer (as if the mouse sent it)
        st.queue.push({ value: v, src: SRC_CTRL, aux: true, timeout: false });
        break;
      case 0xd4: // write to the auxiliary device: nothing is attached
        st.queue.push({ value: KBD_RESEND, src: SRC_AUX, aux: true, timeout: true });
        break;
    }
  }

  private reply(v: number): void {
    this.state.queue.push({ value: v, src: SRC_CTRL, aux: false, timeout: false });
  }

  // ------------------------------------------------------------------ the keyboard
  private kbd(...bytes: number[]): void {
    for (const value of bytes) this.state.queue.push({ value, src: SRC_KBD, aux: false, timeout: false });
  }

  /** A byte written to the data port with no controller command pending goes to the keyboard. */
  private keyboardCommand(v: number): void {
    const st = this.state;
    const arg = st.kbdPendingCommand;
    if (arg !== 0) {
      st.kbdPendingCommand = 0;
      if (arg === 0xf0 && v === 0) this.kbd(KBD_ACK, 0x02); // "which set?": set 2
      else this.kbd(KBD_ACK);
      return;
    }
    switch (v) {
      case 0xed: // set LEDs
      case 0xf0: // get/set scan code set
      case 0xf3: // set typematic rate
        st.kbdPendingCommand = v;
        this.kbd(KBD_ACK);
        break;
      case 0xee: // echo
        this.kbd(0xee);
        break;
      case 0xf2: // identify: MF2 keyboard
        this.kbd(KBD_ACK, 0xab, this.ctr & CTR_XLATE ? 0x41 : 0x83);
        break;
      case 0xf4: // enable scanning
        st.kbdScanning = true;
        this.kbd(KBD_ACK);
        break;
      case 0xf5: // disable scanning (and restore defaults)
        st.kbdScanning = false;
        this.kbd(KBD_ACK);
        break;
      case 0xf6: // restore defaults
        this.kbd(KBD_ACK);
        break;
      case 0xff: // reset: ACK, then the basic assurance test passed
        st.kbdScanning = true;
        this.kbd(KBD_ACK, 0xaa);
        break;
      default:
        if (v >= 0xf7 && v <= 0xfd) this.kbd(KBD_ACK); // scan-code-set-3 key attributes
        else this.kbd(KBD_RESEND);
    }
  }

  // ------------------------------------------------------------------ output buffer and IRQs
  /** Loads the next deliverable queued byte into an empty output buffer and updates the IRQs. */
  private refill(): void {
    const st = this.state;
    if (!st.obFull) {
      const ctr = this.ctr;
      const k = st.queue.findIndex((b) => b.src === SRC_CTRL || (b.src === SRC_KBD && !(ctr & CTR_KBDDIS)) || (b.src === SRC_AUX && !(ctr & CTR_AUXDIS)));
      if (k >= 0) {
        st.obByte = st.queue.splice(k, 1)[0];
        st.obFull = true;
      }
    }
    const ctr = this.ctr;
    const irq1 = st.obFull && !st.obByte.aux && (ctr & CTR_KBDINT) !== 0;
    const irq12 = st.obFull && st.obByte.aux && (ctr & CTR_AUXINT) !== 0;
    if (irq1 !== st.irq1) {
      st.irq1 = irq1;
      this.irq.setIrq(1, irq1);
    }
    if (irq12 !== st.irq12) {
      st.irq12 = irq12;
      this.irq.setIrq(12, irq12);
    }
  }
}
