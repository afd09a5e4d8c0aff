/**
 * The MC146818 real-time clock and its 128 bytes of CMOS memory, at the index/data ports
 * 0x70/0x71, interrupting on IRQ8. Source: the Motorola MC146818A data sheet (registers A–D,
 * update cycle, periodic/alarm/update-ended interrupts, BCD and binary formats, 12/24-hour
 * mode) and the IBM PC/AT CMOS layout (memory sizes at 0x15–0x18, 0x30–0x31, 0x34–0x35, the
 * century byte at 0x32, the checksum over 0x10–0x2D at 0x2E–0x2F).
 *
 * Time: the clock reads the host's wall-clock time (UTC) when the machine is created and then
 * runs on the machine Clock, so guest time advances in real time. Setting the time (through
 * register B's SET bit, or by writing a time register) rebases it. The update cycle is modeled
 * as a window of 244 µs + 1984 µs before each second boundary during which register A's UIP
 * reads 1; the registers switch to the new second at the boundary, where the update-ended flag
 * is raised and the alarm compared.
 *
 * Interrupt flags (register C) are computed lazily from the clock: `update()` (called between
 * CPU slices) and every register access bring them up to date, and IRQ8 follows IRQF until
 * register C is read. Only the most recent second is compared with the alarm when several
 * seconds pass between updates. Port 0x70 bit 7 is the NMI mask (kept, since we raise no NMI).
 * All state lives in one plain object (`state`).
 */
import type { Clock } from './clock.ts';
import type { IrqSink, PortDevice } from './io.ts';
import { bytePorts } from './io.ts';

const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const CENTURY = 0x32;

const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;

/** Duration of the UIP window before each second boundary, in ns (244 µs + the 1984 µs cycle). */
const UIP_NS = 2_228_000;
const IRQ_LINE = 8;

export interface RtcState {
  /** CMOS memory; bytes 0–9 hold the time only while updates are halted (SET or divider reset). */
  cmos: number[];
  /** Selected register (port 0x70 bits 6..0). */
  index: number;
  /** Port 0x70 bit 7. */
  nmiMasked: boolean;
  /** Wall-clock time in whole Unix seconds that began at machine time `baseNs`. */
  baseSeconds: number;
  baseNs: number;
  /** Machine time up to which register C's flags are computed. */
  flagsNs: number;
  /** IRQ8 as last driven. */
  irqLevel: boolean;
}

export interface RtcOptions {
  /** Guest RAM size in bytes, for the CMOS memory-size fields. */
  memorySize: number;
  /** Wall-clock time at creation in ms since the Unix epoch (default: Date.now()). */
  startTimeMs?: number;
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | v % 10;
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 15);
}

/** The periodic interrupt period for register A's rate-select bits, in ns (0: none). */
export function periodicNs(rateSelect: number): number {
  const rs = rateSelect & 15;
  if (rs === 0) return 0;
  const cycles = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1); // of the 32.768 kHz time base
  return (cycles * 1e9) / 32768;
}

export class Rtc {
  readonly state: RtcState;
  /** Port handlers for 0x70–0x71 (byte registers). */
  readonly ports: PortDevice = bytePorts((p) => this.read8(p), (p, v) => this.write8(p, v));

  constructor(
    private readonly clock: Clock,
    private readonly irq: IrqSink,
    opts: RtcOptions,
  ) {
    const cmos = new Array<number>(128).fill(0);
    cmos[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate (as a BIOS leaves it)
    cmos[REG_B] = B_24H; // BCD, 24-hour, no interrupts
    cmos[REG_D] = 0x80; // valid RAM and time
    cmos[0x14] = 0x02; // equipment: math coprocessor present, no floppy drives
    const kb = Math.floor(opts.memorySize / 1024);
    const base = 640;
    const ext = Math.min(0xffff, Math.max(0, kb - 1024));
    const above16m = Math.min(0xffff, Math.max(0, Math.floor((opts.memorySize - (16 << 20)) / 65536)));
    cmos[0x15] = base & 0xff;
    cmos[0x16] = base >> 8;
    cmos[0x17] = cmos[0x30] = ext & 0xff;
    cmos[0x18] = cmos[0x31] = ext >> 8;
    cmos[0x34] = above16m & 0xff;
    cmos[0x35] = above16m >> 8;
    let sum = 0;
    for (let k = 0x10; k <= 0x2d; k++) sum += cmos[k];
    cmos[0x2e] = (sum >> 8) & 0xff;
    cmos[0x2f] = sum & 0xff;
    const now = clock.now();
    const startMs = opts.startTimeMs ?? Date.now();
    const baseSeconds = Math.floor(startMs / 1000);
    this.state = { cmos, index: 0, nmiMasked: false, baseSeconds, baseNs: now - (startMs - baseSeconds * 1000) * 1e6, flagsNs: now, irqLevel: false };
    this.setCentury(this.second(now));
  }

  /** True while the time does not advance (register B SET, or register A's divider in reset). */
  private halted(): boolean {
    const c = this.state.cmos;
    return (c[REG_B] & B_SET) !== 0 || (c[REG_A] & 0x70) >= 0x60;
  }

  /** The wall-clock Unix second at machine time `ns`. */
  private second(ns: number): number {
    return this.state.baseSeconds + Math.floor((ns - this.state.baseNs) / 1e9);
  }

  /** How far into its second the clock is at machine time `ns` (the divider's phase), in ns. */
  private phase(ns: number): number {
    const d = (ns - this.state.baseNs) % 1e9;
    return d < 0 ? d + 1e9 : d;
  }

  /** Guest wall-clock time now, in ms since the Unix epoch (whole seconds; diagnostics, tests). */
  timeMs(): number {
    return this.second(this.clock.now()) * 1000;
  }

  // ------------------------------------------------------------------------- interrupts
  /** Brings register C and IRQ8 up to date. Call between CPU slices. */
  update(): void {
    const st = this.state;
    const now = this.clock.now();
    const from = st.flagsNs;
    if (now <= from) return;
    const c = st.cmos;
    let flags = c[REG_C] & (C_PF | C_AF | C_UF);
    const period = periodicNs(c[REG_A]);
    if (period > 0 && (c[REG_A] & 0x70) < 0x60 && Math.floor(now / period) > Math.floor(from / period)) flags |= C_PF;
    if (!this.halted()) {
      const s0 = this.second(from);
      const s1 = this.second(now);
      if (s1 > s0) {
        flags |= C_UF;
        if (this.alarmMatches(s1)) flags |= C_AF;
      }
    }
    st.flagsNs = now;
    this.setFlags(flags);
  }

  /** Machine time of the next event that would raise IRQ8, or Infinity. */
  nextEventNs(): number {
    const c = this.state.cmos;
    if (c[REG_C] & C_IRQF) return Infinity; // already requesting until register C is read
    let next = Infinity;
    const now = this.clock.now();
    const period = periodicNs(c[REG_A]);
    if (c[REG_B] & B_PIE && period > 0) next = (Math.floor(now / period) + 1) * period;
    if (c[REG_B] & (B_UIE | B_AIE) && !this.halted()) next = Math.min(next, now + 1e9 - this.phase(now));
    return next;
  }

  private setFlags(flags: number): void {
    const c = this.state.cmos;
    const enabled = flags & c[REG_B] & (C_PF | C_AF | C_UF); // PIE/AIE/UIE align with PF/AF/UF
    c[REG_C] = flags | (enabled ? C_IRQF : 0);
    const level = enabled !== 0;
    if (level !== this.state.irqLevel) {
      this.state.irqLevel = level;
      this.irq.setIrq(IRQ_LINE, level);
    }
  }

  private alarmMatches(sec: number): boolean {
    const c = this.state.cmos;
    const t = this.fields(sec);
    const match = (alarm: number, value: number): boolean => (alarm & 0xc0) === 0xc0 || alarm === value;
    return match(c[1], t[0]) && match(c[3], t[2]) && match(c[5], t[4]);
  }

  // ------------------------------------------------------------------------- time registers
  /** Registers 0–9 for Unix second `sec`, in the format register B selects. */
  private fields(sec: number): number[] {
    const b = this.state.cmos[REG_B];
    const d = new Date(sec * 1000);
    const enc = (v: number): number => (b & B_DM_BINARY ? v : toBcd(v));
    let hour = d.getUTCHours();
    let hourByte: number;
    if (b & B_24H) hourByte = enc(hour);
    else {
      const pm = hour >= 12;
      hour %= 12;
      hourByte = enc(hour === 0 ? 12 : hour) | (pm ? 0x80 : 0);
    }
    const c = this.state.cmos;
    return [
      enc(d.getUTCSeconds()), c[1], enc(d.getUTCMinutes()), c[3], hourByte, c[5],
      enc(d.getUTCDay() + 1), enc(d.getUTCDate()), enc(d.getUTCMonth() + 1), enc(d.getUTCFullYear() % 100),
    ];
  }

  private setCentury(sec: number): void {
    this.state.cmos[CENTURY] = toBcd(Math.floor(new Date(sec * 1000).getUTCFullYear() / 100) % 100);
  }

  /** Unix seconds from the time registers held in CMOS bytes 0–9 (and the century byte). */
  private parseTime(): number {
    const c = this.state.cmos;
    const b = c[REG_B];
    const dec = (v: number): number => (b & B_DM_BINARY ? v : fromBcd(v));
    let hour: number;
    if (b & B_24H) hour = dec(c[4] & 0x7f);
    else hour = (dec(c[4] & 0x7f) % 12) + (c[4] & 0x80 ? 12 : 0);
    const yy = dec(c[9]);
    const century = fromBcd(c[CENTURY]);
    const year = century >= 19 && century <= 29 ? century * 100 + yy : yy < 70 ? 2000 + yy : 1900 + yy;
    const ms = Date.UTC(year, dec(c[8]) - 1, dec(c[7]), hour, dec(c[2]), dec(c[0]));
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : this.second(this.clock.now());
  }

  /** Copies the running time into CMOS bytes 0–9 (before updates halt or a field is written). */
  private freezeTime(now: number): void {
    const f = this.fields(this.second(now));
    for (const k of [0, 2, 4, 6, 7, 8, 9]) this.state.cmos[k] = f[k];
  }

  /**
   * Restarts the time from the values in CMOS bytes 0–9. `phaseNs` is how far into that second
   * the clock is: the divider's phase when it kept running (SET), or 500 ms after a divider
   * reset, whose first update comes 500 ms later (data sheet).
   */
  private rebase(now: number, phaseNs: number): void {
    const st = this.state;
    st.baseSeconds = this.parseTime();
    st.baseNs = now - phaseNs;
  }

  // ------------------------------------------------------------------------- ports
  read8(port: number): number {
    if ((port & 1) === 0) return 0xff; // the index register is write-only
    const st = this.state;
    const c = st.cmos;
    const now = this.clock.now();
    this.update();
    const i = st.index;
    switch (i) {
      case REG_A: {
        let uip = 0;
        if (!this.halted() && 1e9 - this.phase(now) <= UIP_NS) uip = A_UIP;
        return (c[REG_A] & 0x7f) | uip;
      }
      case REG_C: {
        const v = c[REG_C];
        this.setFlags(0);
        return v;
      }
      case REG_D:
        return 0x80;
      default:
        if (i <= 9 && !this.halted()) return this.fields(this.second(now))[i];
        return c[i];
    }
  }

  write8(port: number, v: number): void {
    const st = this.state;
    if ((port & 1) === 0) {
      st.index = v & 0x7f;
      st.nmiMasked = (v & 0x80) !== 0;
      return;
    }
    const c = st.cmos;
    const now = this.clock.now();
    this.update();
    const i = st.index;
    switch (i) {
      case REG_A: {
        // Putting the divider into reset halts the time like SET does.
        const wasHalted = this.halted();
        if (!wasHalted) this.freezeTime(now);
        c[REG_A] = v & 0x7f;
        if (wasHalted && !this.halted()) this.rebase(now, 500_000_000);
        break;
      }
      case REG_B: {
        const wasHalted = this.halted();
        if (!wasHalted) this.freezeTime(now);
        // SET also clears UIE (data sheet: "SET = 1 ... UIE is cleared").
        c[REG_B] = v & B_SET ? v & ~B_UIE : v;
        if (wasHalted && !this.halted()) this.rebase(now, this.phase(now));
        this.setFlags(c[REG_C] & (C_PF | C_AF | C_UF));
        break;
      }
      case REG_C:
      case REG_D:
        break; // read-only
      default:
        if (i <= 9 && i !== 1 && i !== 3 && i !== 5) {
          if (!this.halted()) {
            this.freezeTime(now);
            c[i] = v;
            this.rebase(now, this.phase(now));
          } else c[i] = v;
        } else c[i] = v;
    }
  }
}
