/**
 * The 8254 programmable interval timer (ports 0x40–0x43) and the PC's system control port B
 * (port 0x61), whose bits gate channel 2 and report its output — the pair Linux uses to
 * calibrate the TSC. Source: the Intel 8254 data sheet (modes 0–5, counter latch and read-back
 * commands, LSB/MSB access, BCD counting, null count).
 *
 * Timing: the counters run at 1.193182 MHz of the machine's Clock (host real time), computed in
 * closed form from the tick at which a counter was loaded — nothing advances per tick, so a read
 * costs the same however long the guest slept. Channel 0 drives IRQ0: the machine calls
 * `update()` between CPU slices and after the CPU acknowledges an interrupt, and the PIT raises
 * the line for each rising edge of OUT that has passed.
 *
 * No tick is lost (periodic modes 2 and 3): a real CPU takes every timer interrupt within
 * microseconds, but ours sees the PIT only between slices, and a slice can outlast a period (cold
 * code, translation, a busy host). Edges that passed while the previous request still waited in
 * the PIC (`requestPending`) are counted in `owed` and raised one at a time, each as soon as the
 * CPU has taken the one before — as KVM's in-kernel PIT reinjects lost ticks. A guest on a
 * tick-counting clock (Linux's PIT and jiffies clocksources, which advance jiffies per IRQ0)
 * would otherwise lose every coalesced period. At most MAX_OWED_NS of ticks are kept (a host
 * that stopped the process for longer drops the rest rather than storm the guest).
 *
 * Line model for IRQ0: in modes 0 and 1 the line follows OUT (low until the terminal count,
 * then high); in the periodic and strobe modes it is held high and pulsed low-high at each
 * rising edge, so a request cannot vanish before the CPU takes it the way a slow CPU would lose
 * the low half of a mode-3 square wave.
 *
 * Deliberate simplifications: the counting element is loaded at the tick after the count is
 * written (as the data sheet says) but reads while a count is being loaded return the new
 * count; mode 3's read-back count for odd reload values follows the even-count sequence.
 * All state lives in one plain object (`state`).
 */
import type { Clock } from './clock.ts';
import type { IrqSink, PortDevice } from './io.ts';
import { bytePorts } from './io.ts';

/** Input clock of the counters in Hz (14.31818 MHz / 12, as Linux's PIT_TICK_RATE). */
export const PIT_HZ = 1193182;
/** Period of the DRAM refresh toggle in port 0x61 bit 4 (15.085 µs per half period). */
const REFRESH_HALF_NS = 15085;
/** The most periodic IRQ0 ticks kept for later delivery, in nanoseconds of their periods. */
export const MAX_OWED_NS = 1e9;

export interface PitChannelState {
  /** Control word bits 5..0 as last programmed (RW1 RW0 M2 M1 M0 BCD). */
  control: number;
  /** Operating mode 0–5 (6 and 7 are stored as 2 and 3). */
  mode: number;
  /** The count register as written (binary value; 0 stands for the maximum count). */
  count: number;
  /** A control word was written and no complete count since. */
  waitingForCount: boolean;
  /** The counting element is counting (loaded, gate permits, triggered in modes 1 and 5). */
  running: boolean;
  /** Tick at which the counting element held `startValue` (modes 2, 3: start of a period). */
  startTick: number;
  /** Counting element value at `startTick` (modes 0, 1, 4, 5). */
  startValue: number;
  /** Current period (modes 2, 3); 0 = the maximum count. */
  period: number;
  /** Count to take effect at the end of the current period (modes 2, 3), or -1. */
  nextPeriod: number;
  nextPeriodTick: number;
  /** Modes 0/1: terminal count not reached yet; modes 4/5: strobe not yet given. */
  armed: boolean;
  /** Counting element value and OUT while not running. */
  frozenValue: number;
  frozenOut: boolean;
  gate: boolean;
  /** LSB/MSB access: the next write is the MSB, and the LSB already written. */
  writeHigh: boolean;
  writeLow: number;
  /** LSB/MSB access: the next unlatched read returns the MSB. */
  readHigh: boolean;
  /** Latched count bytes still to be read (0, 1 or 2) and the latched value. */
  latchBytes: number;
  latchValue: number;
  /** A latched status byte waits to be read (read before the count). */
  statusLatched: boolean;
  statusValue: number;
  /** Tick at which the last written count is loaded (null count until then). */
  loadTick: number;
}

export interface PitState {
  channels: PitChannelState[];
  /** Port 0x61 bits 0–3 as written (gate 2, speaker data, parity and channel check enables). */
  portB: number;
  /** The IRQ0 line level as last driven. */
  irqLevel: boolean;
  /** Tick of the last rising edge of channel 0 counted (raised, or owed). */
  lastEdgeTick: number;
  /** Periodic IRQ0 edges that passed but are not raised yet (the PIC still held the previous one). */
  owed: number;
}

function channelInitialState(mode: number, count: number, gate: boolean): PitChannelState {
  return {
    control: 0x30 | (mode << 1), mode, count, waitingForCount: false, running: gate, startTick: 0, startValue: count,
    period: count, nextPeriod: -1, nextPeriodTick: 0, armed: false, frozenValue: count, frozenOut: true, gate,
    writeHigh: false, writeLow: 0, readHigh: false, latchBytes: 0, latchValue: 0, statusLatched: false, statusValue: 0,
    loadTick: 0,
  };
}

function isBcd(c: PitChannelState): boolean {
  return (c.control & 1) !== 0;
}

/** The counter modulus: 2^16 in binary, 10^4 in BCD. */
function modulus(c: PitChannelState): number {
  return isBcd(c) ? 10000 : 65536;
}

function fromBcd(v: number): number {
  return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

function toBcd(v: number): number {
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | v % 10;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Applies a pending period change that has taken effect by tick `t` (modes 2, 3). One-shot
 * terminal counts are not applied here: they follow from the elapsed time in `sample`, and
 * `armed` changes only when counting stops, so a read can never swallow an IRQ0 edge.
 */
function normalize(c: PitChannelState, t: number): void {
  if (c.running && (c.mode === 2 || c.mode === 3) && c.nextPeriod >= 0 && t >= c.nextPeriodTick) {
    c.startTick = c.nextPeriodTick;
    c.period = c.nextPeriod;
    c.nextPeriod = -1;
  }
}

/** Counting element value and OUT at tick `t` (after normalize). */
function sample(c: PitChannelState, t: number): { value: number; out: boolean } {
  if (!c.running) return { value: c.frozenValue, out: c.frozenOut };
  const m = modulus(c);
  if (t < c.startTick) {
    // The count is loaded into the counting element at the next clock.
    const periodic = c.mode === 2 || c.mode === 3;
    return { value: periodic ? c.period || m : c.startValue, out: c.mode <= 1 ? !c.armed : true };
  }
  const e = t - c.startTick;
  switch (c.mode) {
    case 0:
    case 1:
      return { value: mod(c.startValue - e, m), out: !c.armed || e >= (c.startValue || m) };
    case 4:
    case 5: {
      const term = c.startValue || m;
      return { value: mod(c.startValue - e, m), out: !(c.armed && e === term) };
    }
    case 2: {
      const n = c.period || m;
      const p = e % n;
      return { value: n - p, out: n === 1 || p !== n - 1 };
    }
    default: { // mode 3
      const n = c.period || m;
      const p = e % n;
      const high = Math.ceil(n / 2);
      const even = n & ~1;
      return { value: p < high ? even - 2 * p : even - 2 * (p - high), out: p < high };
    }
  }
}

/** The tick of the next rising edge of OUT after tick `after`, or Infinity. */
function nextRise(c: PitChannelState, after: number): number {
  if (!c.running) return Infinity;
  const m = modulus(c);
  switch (c.mode) {
    case 0:
    case 1: {
      const at = c.startTick + (c.startValue || m);
      return c.armed && at > after ? at : Infinity;
    }
    case 4:
    case 5: {
      const at = c.startTick + (c.startValue || m) + 1;
      return c.armed && at > after ? at : Infinity;
    }
    default: {
      // The start of a period is an edge when a new count took over at the end of the previous
      // one; a freshly loaded counter sets lastEdgeTick to startTick, so that one is skipped.
      const n = c.period || m;
      if (after < c.startTick) return c.startTick;
      return c.startTick + (Math.floor((after - c.startTick) / n) + 1) * n;
    }
  }
}

export class Pit {
  readonly state: PitState;
  /** Port handlers for 0x40–0x43 and 0x61 (byte registers). */
  readonly ports: PortDevice = bytePorts((p) => this.read8(p), (p, v) => this.write8(p, v));

  constructor(
    private readonly clock: Clock,
    private readonly irq: IrqSink,
  ) {
    // As a PC BIOS leaves it: channel 0 in mode 3 with count 0 (18.2 Hz), channel 1 at the
    // 15 µs refresh rate, channel 2 in mode 3 with its gate low (speaker off).
    this.state = {
      channels: [channelInitialState(3, 0, true), channelInitialState(2, 18, true), channelInitialState(3, 0, false)],
      portB: 0,
      irqLevel: true,
      lastEdgeTick: 0,
      owed: 0,
    };
    this.irq.setIrq(0, true);
  }

  /** The current tick of the counters' input clock. */
  tick(): number {
    return Math.floor(this.clock.now() * (PIT_HZ / 1e9));
  }

  /**
   * Whether IRQ0's last request still waits in the interrupt controller (not yet acknowledged by
   * the CPU). The machine wires it to the PIC; without it every `update` may raise one owed tick.
   */
  requestPending: () => boolean = () => false;

  /**
   * Counts the channel-0 edges that have passed and raises IRQ0 for the next one due, unless the
   * previous request is still pending. Call between CPU slices and after each interrupt
   * acknowledge (which is when an owed tick can go).
   */
  update(): void {
    const t = this.tick();
    const st = this.state;
    const c = st.channels[0];
    normalize(c, t);
    const rise = nextRise(c, st.lastEdgeTick);
    const periodic = c.mode === 2 || c.mode === 3;
    if (rise <= t) {
      if (periodic) {
        // Every period that ended since the last edge counted is one tick owed to the guest.
        const n = c.period || modulus(c);
        const latest = t >= c.startTick ? c.startTick + Math.floor((t - c.startTick) / n) * n : rise;
        st.owed = Math.min(st.owed + Math.floor((latest - rise) / n) + 1, Math.max(1, Math.floor((MAX_OWED_NS * PIT_HZ) / 1e9 / n)));
        st.lastEdgeTick = latest;
      } else {
        st.lastEdgeTick = rise;
        if (c.mode === 0 || c.mode === 1) this.setLine(true);
        else this.pulse();
      }
    }
    if (st.owed > 0 && periodic && !this.requestPending()) {
      st.owed--;
      this.pulse();
    }
    normalize(c, t);
  }

  /** Nanoseconds on the machine clock of the next IRQ0 edge (now, if a tick is owed), or Infinity. */
  nextEventNs(): number {
    if (this.state.owed > 0) return this.clock.now();
    const rise = nextRise(this.state.channels[0], this.state.lastEdgeTick);
    return rise === Infinity ? Infinity : Math.ceil((rise * 1e9) / PIT_HZ);
  }

  /** OUT of channel `n` now. */
  out(n: number): boolean {
    const c = this.state.channels[n];
    const t = this.tick();
    normalize(c, t);
    return sample(c, t).out;
  }

  read8(port: number): number {
    const t = this.tick();
    if (port === 0x61) {
      const refresh = Math.floor(this.clock.now() / REFRESH_HALF_NS) & 1;
      return (this.state.portB & 0x0f) | (refresh << 4) | (this.out(2) ? 0x20 : 0);
    }
    if (port === 0x43) return 0xff; // the control register is write-only
    const c = this.state.channels[port & 3];
    normalize(c, t);
    if (c.statusLatched) {
      c.statusLatched = false;
      return c.statusValue;
    }
    const access = (c.control >> 4) & 3;
    let value: number;
    if (c.latchBytes > 0) {
      value = c.latchValue;
    } else {
      value = sample(c, t).value;
      if (isBcd(c)) value = toBcd(value % 10000);
      value &= 0xffff;
    }
    let byte: number;
    if (access === 1) byte = value & 0xff;
    else if (access === 2) byte = value >> 8;
    else byte = c.readHigh ? value >> 8 : value & 0xff;
    if (access === 3) c.readHigh = !c.readHigh;
    if (c.latchBytes > 0) c.latchBytes = access === 3 ? c.latchBytes - 1 : 0;
    return byte & 0xff;
  }

  write8(port: number, v: number): void {
    const t = this.tick();
    if (port === 0x61) {
      this.state.portB = v & 0x0f;
      this.setGate(2, (v & 1) !== 0, t);
      return;
    }
    if (port === 0x43) {
      this.control(v, t);
      return;
    }
    const n = port & 3;
    const c = this.state.channels[n];
    normalize(c, t);
    const access = (c.control >> 4) & 3;
    if (access === 3 && !c.writeHigh) {
      c.writeLow = v;
      c.writeHigh = true;
      // Mode 0: writing the first byte of a two-byte count stops counting and drives OUT low.
      if (c.mode === 0) {
        const s = sample(c, t);
        c.frozenValue = s.value;
        c.frozenOut = false;
        c.running = false;
        if (n === 0) this.setLine(false);
      }
      return;
    }
    let raw: number;
    if (access === 1) raw = v;
    else if (access === 2) raw = v << 8;
    else {
      raw = c.writeLow | (v << 8);
      c.writeHigh = false;
    }
    this.loadCount(n, isBcd(c) ? fromBcd(raw) : raw, t);
  }

  /** Port 0x43: a control word, counter latch or read-back command. */
  private control(v: number, t: number): void {
    const sel = v >> 6;
    if (sel === 3) {
      // Read-back: bit 5 clear = latch counts, bit 4 clear = latch status, bits 3..1 = CNT2..0.
      for (let n = 0; n < 3; n++) {
        if (!(v & (2 << n))) continue;
        const c = this.state.channels[n];
        normalize(c, t);
        if (!(v & 0x10) && !c.statusLatched) {
          const nullCount = c.waitingForCount || t < c.loadTick;
          c.statusValue = (sample(c, t).out ? 0x80 : 0) | (nullCount ? 0x40 : 0) | (c.control & 0x3f);
          c.statusLatched = true;
        }
        if (!(v & 0x20)) this.latch(c, t);
      }
      return;
    }
    const c = this.state.channels[sel];
    normalize(c, t);
    const access = (v >> 4) & 3;
    if (access === 0) {
      this.latch(c, t);
      return;
    }
    // A control word resets the channel: it waits for a new count, OUT takes its initial level.
    const s = sample(c, t);
    let mode = (v >> 1) & 7;
    if (mode > 5) mode -= 4;
    c.control = v & 0x3f;
    c.mode = mode;
    c.waitingForCount = true;
    c.running = false;
    c.armed = false;
    c.nextPeriod = -1;
    c.frozenValue = s.value;
    c.frozenOut = mode !== 0;
    c.writeHigh = false;
    c.readHigh = false;
    c.latchBytes = 0;
    if (sel === 0) {
      this.state.owed = 0;
      this.setLine(c.frozenOut);
    }
  }

  /** Counter latch: freezes the current count for reading, unless a latch is pending. */
  private latch(c: PitChannelState, t: number): void {
    if (c.latchBytes > 0) return;
    let value = sample(c, t).value;
    if (isBcd(c)) value = toBcd(value % 10000);
    c.latchValue = value & 0xffff;
    c.latchBytes = ((c.control >> 4) & 3) === 3 ? 2 : 1;
    c.readHigh = false;
  }

  /** A complete count was written to channel `n` at tick `t`. */
  private loadCount(n: number, count: number, t: number): void {
    const c = this.state.channels[n];
    const m = modulus(c);
    count %= m;
    const fresh = c.waitingForCount;
    c.count = count;
    c.waitingForCount = false;
    c.loadTick = t + 1;
    switch (c.mode) {
      case 0:
      case 4:
        // Loaded at the next clock; counting waits for the gate.
        c.startValue = count;
        c.frozenValue = count;
        c.armed = true;
        c.frozenOut = c.mode === 4;
        if (c.gate) {
          c.running = true;
          c.startTick = t + 1;
        } else c.running = false;
        break;
      case 1:
      case 5:
        // Waits for a trigger on the gate (the count is used then).
        if (fresh) {
          c.running = false;
          c.frozenValue = count;
          c.frozenOut = true;
        }
        break;
      default:
        if (fresh || !c.running) {
          c.period = count;
          c.nextPeriod = -1;
          c.startTick = t + 1;
          c.running = c.gate;
          c.frozenValue = count;
          c.frozenOut = true;
        } else {
          // A new count while counting takes effect at the end of the current period.
          const p = c.period || m;
          c.nextPeriod = count;
          c.nextPeriodTick = t < c.startTick ? c.startTick + p : c.startTick + (Math.floor((t - c.startTick) / p) + 1) * p;
        }
    }
    if (n === 0) {
      if (c.running && c.startTick === t + 1) this.state.lastEdgeTick = c.startTick;
      this.setLine(c.mode === 0 || c.mode === 1 ? sample(c, t).out : true);
    }
  }

  /** Sets the gate input of channel `n` (only channel 2's is wired, to port 0x61 bit 0). */
  private setGate(n: number, gate: boolean, t: number): void {
    const c = this.state.channels[n];
    normalize(c, t);
    if (gate === c.gate) return;
    c.gate = gate;
    if (c.waitingForCount) return;
    switch (c.mode) {
      case 0:
      case 4:
        if (!gate) {
          // Counting is suspended; OUT keeps its level.
          const s = sample(c, t);
          c.frozenValue = s.value;
          c.frozenOut = s.out;
          if (c.mode === 0 ? s.out : t - c.startTick > (c.startValue || modulus(c))) c.armed = false;
          c.running = false;
        } else {
          c.startValue = c.frozenValue;
          c.startTick = t + 1;
          c.running = true;
          if (n === 0) this.state.lastEdgeTick = c.startTick;
        }
        break;
      case 1:
      case 5:
        if (gate) {
          // A rising gate triggers the count (mode 1: OUT low until the terminal count).
          c.startValue = c.count;
          c.startTick = t + 1;
          c.armed = true;
          c.running = true;
          if (n === 0) this.state.lastEdgeTick = c.startTick;
        }
        break;
      default:
        if (!gate) {
          // Modes 2 and 3: gate low stops counting and forces OUT high; a rising gate reloads.
          c.frozenValue = sample(c, t).value;
          c.frozenOut = true;
          c.running = false;
        } else {
          c.period = c.nextPeriod >= 0 ? c.nextPeriod : c.count;
          c.nextPeriod = -1;
          c.startTick = t + 1;
          c.running = true;
          if (n === 0) this.state.lastEdgeTick = c.startTick;
        }
    }
  }

  /** A low-high pulse of IRQ0: one edge-triggered request (periodic and strobe modes). */
  private pulse(): void {
    this.setLine(false);
    this.setLine(true);
  }

  private setLine(level: boolean): void {
    this.state.irqLevel = level;
    this.irq.setIrq(0, level);
  }
}
