/**
 * The processor's local APIC, xAPIC register page as on the P6 family (SDM vol. 3, chapter 10:
 * "Advanced Programmable Interrupt Controller"), for one processor.
 *
 * - IA32_APIC_BASE (MSR 0x1B, 10.4.4): base FEE00000h, enable (bit 11) and BSP (bit 8) at
 *   reset; the page can be relocated; clearing the enable bit disables the APIC for good (as on
 *   the P6 family: only a reset enables it again, 10.4.3). While disabled CPUID.01H:EDX.APIC
 *   reads 0, the page is gone (the bus answers there) and the 8259A's INTR reaches the CPU
 *   directly. Reserved bits (0–7, 9, 10, and EDX: 32-bit physical addresses) raise #GP(0).
 * - Registers (table 10-1): ID (bits 27:24, 4-bit P6 APIC IDs), version, TPR, APR, PPR, EOI,
 *   LDR, DFR, SVR, ISR/TMR/IRR, ESR, ICR, the LVT (timer, thermal, performance counter, LINT0,
 *   LINT1, error), the timer's initial and current count and divide configuration. Accesses
 *   are 32-bit; narrower writes are ignored, narrower reads return the bytes of the register.
 *   A read of a reserved or write-only offset returns 0, and any access to a reserved offset
 *   sets ESR bit 7 (illegal register address), as QEMU does.
 * - Priorities (10.8.3): PPR = TPR if TPR[7:4] ≥ ISRV[7:4], else ISRV[7:4]:0. An interrupt in
 *   IRR is delivered when its class (vector[7:4]) is above PPR[7:4]; acknowledging moves it to
 *   ISR; EOI clears the highest ISR bit (and its TMR bit).
 * - SVR bit 8 software-enables the APIC. Software-disabled (10.4.7.2, the reset state): every
 *   LVT mask bit is set and cannot be cleared, and nothing from IRR is delivered; IRR and ISR
 *   are kept. On the P6 family SVR bits 3:0 read as 1.
 * - LINT0 in ExtINT mode, unmasked, is the virtual wire (MP specification 3.6.2.2): the
 *   8259A's INTR goes through it, and the 8259A supplies the vector. Masked or in another mode,
 *   the 8259A is cut off (QEMU's rule). At reset LINT0 holds ExtINT (0x700) rather than the
 *   SDM's masked value, as in QEMU for the bootstrap processor, so software that never touches
 *   the APIC keeps its 8259A interrupts. LINT1 (NMI) and NMI, SMI, INIT and start-up IPIs are
 *   not delivered: this machine has no NMI source and one processor.
 * - ICR (10.6): a write of the low dword sends the IPI at once (delivery status stays idle).
 *   Fixed and lowest-priority IPIs reach this APIC when the shorthand is self or all including
 *   self, or with no shorthand when the destination matches (physical: the APIC ID or the
 *   broadcast 0xFF; logical: LDR against DFR's flat or cluster model).
 * - Vectors 0–15 are illegal (10.5.3): sending one sets ESR bit 5, receiving one bit 6. ESR
 *   latches the errors seen since the previous write when it is written, and an unmasked LVT
 *   error entry raises its vector when an error is seen.
 * - The timer (10.5.4) counts at 1 GHz of machine time (one count per nanosecond of the
 *   Clock) divided by the divide configuration (1, 2, 4 … 128), one-shot or periodic; writing
 *   the initial count starts it, 0 stops it. `update` raises the LVT timer's vector for
 *   expirations that have passed (periodic expirations within one update collapse, as on
 *   hardware, into the one IRR bit); `nextEventNs` tells an idle machine when to wake.
 *
 * `hasInterrupt`/`acknowledge` make it the CPU's interrupt source (Vm.irq), in front of the
 * 8259A pair. All register state is in one plain object (`state`).
 *
 * The I/O APIC (devices/io-apic.ts) sends its messages through `receiveMessage` (destination
 * checked as for IPIs; level-triggered ones set TMR), and the EOI of a vector whose TMR bit is
 * set is broadcast to it (`onLevelEoi`, 10.8.5). Its pin 0 in ExtINT mode opens the 8259A's
 * path as LINT0 does (`ioExtInt`).
 */
import { EX_GP } from '../../translator/abi.ts';
import type { CpuApic } from '../cpu.ts';
import { fault } from '../fault.ts';
import type { InterruptSource } from '../vm.ts';
import type { Clock } from './clock.ts';

/** IA32_APIC_BASE at reset: FEE00000h, enabled, bootstrap processor. */
export const APIC_BASE_RESET = 0xfee00900 | 0;
export const APIC_BASE_ENABLE = 1 << 11;
export const APIC_BASE_BSP = 1 << 8;
const APIC_BASE_RESERVED = 0x6ff;

/** Register offsets (table 10-1). */
export const APIC_ID = 0x20;
export const APIC_VERSION = 0x30;
export const APIC_TPR = 0x80;
export const APIC_APR = 0x90;
export const APIC_PPR = 0xa0;
export const APIC_EOI = 0xb0;
export const APIC_LDR = 0xd0;
export const APIC_DFR = 0xe0;
export const APIC_SVR = 0xf0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_ICR_LO = 0x300;
export const APIC_ICR_HI = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_INITIAL = 0x380;
export const APIC_TIMER_CURRENT = 0x390;
export const APIC_TIMER_DIVIDE = 0x3e0;

/** Version register: version 14h, six LVT entries (max LVT entry 5), as QEMU's APIC reports. */
export const APIC_VERSION_VALUE = 0x00050014;

export const LVT_MASKED = 1 << 16;
export const LVT_PERIODIC = 1 << 17;
const DM_FIXED = 0;
const DM_LOWEST = 1;
export const DM_EXTINT = 7;
export const SVR_ENABLE = 1 << 8;

/** ESR bits (10.5.3). */
export const ESR_SEND_ILLEGAL = 1 << 5;
export const ESR_RECEIVE_ILLEGAL = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

/** LVT entries in register order (index = (offset - 0x320) >> 4) and their writable bits. */
const LVT_COUNT = 6;
const LVT_WRITABLE = [0x300ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff];
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;

export interface LocalApicState {
  baseMsr: number;
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  /** 256-bit registers as 8 dwords each (bit v of the set = vector v). */
  isr: Uint32Array;
  tmr: Uint32Array;
  irr: Uint32Array;
  /** ESR as last latched, and the errors seen since. */
  esr: number;
  esrPending: number;
  icrLo: number;
  icrHi: number;
  lvt: number[];
  divide: number;
  initialCount: number;
  /** Clock time (ns) the current count was loaded or last reloaded (periodic). */
  timerStartNs: number;
  /** A one-shot count that has not reached 0 yet, or a periodic timer running. */
  timerArmed: boolean;
}

export class LocalApic implements CpuApic, InterruptSource {
  readonly state: LocalApicState;
  /** Called when an interrupt may have become deliverable (wire to Vm.notifyInterrupt). */
  onInterrupt: () => void = () => {};
  /** The EOI of a level-triggered vector, broadcast to the I/O APIC. */
  onLevelEoi: (vector: number) => void = () => {};
  /** The I/O APIC passes the 8259A's INTR on in ExtINT mode (its pin 0). */
  ioExtInt: () => boolean = () => false;

  /**
   * `pic`: the 8259A pair behind LINT0 (its INTR and INTA). `clock`: the machine's time base,
   * which the timer counts.
   */
  constructor(private readonly clock: Clock, private readonly pic: InterruptSource | null) {
    this.state = {
      baseMsr: APIC_BASE_RESET, id: 0, tpr: 0, ldr: 0, dfr: -1, svr: 0xff,
      isr: new Uint32Array(8), tmr: new Uint32Array(8), irr: new Uint32Array(8), esr: 0, esrPending: 0,
      icrLo: 0, icrHi: 0, lvt: [], divide: 0, initialCount: 0, timerStartNs: 0, timerArmed: false,
    };
    this.reset();
  }

  /** Power-on / RESET state (10.4.7.1), with LINT0 in ExtINT mode (see the header). */
  reset(): void {
    const st = this.state;
    st.baseMsr = APIC_BASE_RESET;
    st.id = 0;
    st.tpr = 0;
    st.ldr = 0;
    st.dfr = -1;
    st.svr = 0xff;
    st.isr.fill(0);
    st.tmr.fill(0);
    st.irr.fill(0);
    st.esr = st.esrPending = 0;
    st.icrLo = st.icrHi = 0;
    st.lvt = new Array<number>(LVT_COUNT).fill(LVT_MASKED);
    st.lvt[LVT_LINT0] = DM_EXTINT << 8;
    st.divide = 0;
    st.initialCount = 0;
    st.timerArmed = false;
  }

  /**
   * What a PC BIOS leaves (SeaBIOS, measured under QEMU): software-enabled with spurious
   * vector FFh, LINT0 ExtINT and LINT1 NMI (both level-triggered): the virtual-wire mode.
   */
  setBiosState(): void {
    const st = this.state;
    st.svr = SVR_ENABLE | 0xff;
    st.lvt[LVT_LINT0] = 0x8700;
    st.lvt[LVT_LINT1] = 0x8400;
  }

  // ------------------------------------------------------------------ IA32_APIC_BASE, the page
  get baseMsr(): number {
    return this.state.baseMsr;
  }

  get enabled(): boolean {
    return (this.state.baseMsr & APIC_BASE_ENABLE) !== 0;
  }

  writeBaseMsr(eax: number, edx: number): void {
    if (eax & APIC_BASE_RESERVED || edx !== 0) fault(EX_GP, 0);
    const st = this.state;
    // The BSP flag is the processor's; a cleared enable bit stays cleared until reset (P6).
    const enable = eax & st.baseMsr & APIC_BASE_ENABLE;
    st.baseMsr = (eax & ~0xfff) | enable | (st.baseMsr & APIC_BASE_BSP);
    if (!enable) {
      st.svr &= ~SVR_ENABLE;
      this.maskAll();
      this.onInterrupt(); // the 8259A now reaches the CPU directly
    }
  }

  claims(phys: number): boolean {
    const b = this.state.baseMsr;
    return (b & APIC_BASE_ENABLE) !== 0 && ((phys ^ b) & ~0xfff) === 0;
  }

  read(phys: number, size: 1 | 2 | 4): number {
    const v = this.readRegister(phys & 0xff0);
    if (size === 4) return v;
    return (v >>> ((phys & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  write(phys: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || phys & 3) return;
    this.writeRegister(phys & 0xff0, value);
  }

  /** The register at `offset` (16-byte aligned) as a read returns it. */
  readRegister(offset: number): number {
    const st = this.state;
    if (offset >= APIC_ISR && offset < APIC_ISR + 0x80) return st.isr[(offset - APIC_ISR) >> 4] | 0;
    if (offset >= APIC_TMR && offset < APIC_TMR + 0x80) return st.tmr[(offset - APIC_TMR) >> 4] | 0;
    if (offset >= APIC_IRR && offset < APIC_IRR + 0x80) return st.irr[(offset - APIC_IRR) >> 4] | 0;
    if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR) {
      const n = (offset - APIC_LVT_TIMER) >> 4;
      return n === LVT_TIMER ? st.lvt[n] & ~(1 << 12) : st.lvt[n];
    }
    switch (offset) {
      case APIC_ID: return st.id << 24;
      case APIC_VERSION: return APIC_VERSION_VALUE;
      case APIC_TPR: return st.tpr;
      case APIC_APR: return this.apr();
      case APIC_PPR: return this.ppr();
      case APIC_EOI: return 0;
      case APIC_LDR: return st.ldr;
      case APIC_DFR: return st.dfr | 0x0fffffff;
      case APIC_SVR: return st.svr | 0x0f;
      case APIC_ESR: return st.esr;
      case APIC_ICR_LO: return st.icrLo;
      case APIC_ICR_HI: return st.icrHi;
      case APIC_TIMER_INITIAL: return st.initialCount | 0;
      case APIC_TIMER_CURRENT: return this.currentCount() | 0;
      case APIC_TIMER_DIVIDE: return st.divide;
      default:
        this.error(ESR_ILLEGAL_REGISTER);
        return 0;
    }
  }

  /** Writes the register at `offset` (16-byte aligned). */
  writeRegister(offset: number, value: number): void {
    const st = this.state;
    if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR) {
      const n = (offset - APIC_LVT_TIMER) >> 4;
      // Remote IRR (bit 14) and delivery status are the APIC's own; masked while disabled.
      let v = value & LVT_WRITABLE[n] & ~(1 << 14);
      if (!(st.svr & SVR_ENABLE)) v |= LVT_MASKED;
      st.lvt[n] = v;
      if (n === LVT_LINT0) this.onInterrupt();
      return;
    }
    if ((offset >= APIC_ISR && offset < APIC_IRR + 0x80) || offset === APIC_VERSION || offset === APIC_PPR ||
      offset === APIC_APR || offset === APIC_TIMER_CURRENT) {
      return; // read-only
    }
    switch (offset) {
      case APIC_ID: st.id = (value >>> 24) & 0x0f; return;
      case APIC_TPR:
        st.tpr = value & 0xff;
        this.onInterrupt();
        return;
      case APIC_EOI: this.eoi(); return;
      case APIC_LDR: st.ldr = value & 0xff000000; return;
      case APIC_DFR: st.dfr = value | 0x0fffffff; return;
      case APIC_SVR:
        st.svr = value & 0x1ff;
        if (!(value & SVR_ENABLE)) this.maskAll();
        this.onInterrupt();
        return;
      case APIC_ESR:
        st.esr = st.esrPending;
        st.esrPending = 0;
        return;
      case APIC_ICR_HI: st.icrHi = value & 0xff000000; return;
      case APIC_ICR_LO:
        st.icrLo = value & 0x000ccfff; // delivery status (12) stays idle: sent at once
        this.sendIpi();
        return;
      case APIC_TIMER_INITIAL:
        st.initialCount = value >>> 0;
        this.restartTimer();
        return;
      case APIC_TIMER_DIVIDE: st.divide = value & 0x0b; return;
      default:
        this.error(ESR_ILLEGAL_REGISTER);
    }
  }

  private maskAll(): void {
    const lvt = this.state.lvt;
    for (let n = 0; n < LVT_COUNT; n++) lvt[n] |= LVT_MASKED;
  }

  // ------------------------------------------------------------------ priorities and delivery
  /** The highest vector set in a 256-bit register, or -1. */
  private static highest(r: Uint32Array): number {
    for (let k = 7; k >= 0; k--) if (r[k]) return k * 32 + 31 - Math.clz32(r[k]);
    return -1;
  }

  /** Processor priority (10.8.3.1). */
  ppr(): number {
    const tpr = this.state.tpr;
    const isrv = Math.max(0, LocalApic.highest(this.state.isr));
    return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
  }

  /** Arbitration priority (10.6.2.4 / 10.8.3.1). */
  private apr(): number {
    const st = this.state;
    const isrv = Math.max(0, LocalApic.highest(st.isr)) & 0xf0;
    const irrv = Math.max(0, LocalApic.highest(st.irr)) & 0xf0;
    if ((st.tpr & 0xf0) >= irrv && (st.tpr & 0xf0) > isrv) return st.tpr;
    return Math.max(st.tpr & 0xf0, isrv, irrv);
  }

  /** The vector in IRR that may be delivered now, or -1. */
  private deliverable(): number {
    const st = this.state;
    if (!(st.baseMsr & APIC_BASE_ENABLE) || !(st.svr & SVR_ENABLE)) return -1;
    const v = LocalApic.highest(st.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /** The 8259A's INTR reaches the CPU: the APIC is disabled, or LINT0 is an unmasked ExtINT. */
  private extIntOpen(): boolean {
    const st = this.state;
    if (!(st.baseMsr & APIC_BASE_ENABLE)) return true;
    const lint0 = st.lvt[LVT_LINT0];
    return (!(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) === DM_EXTINT) || this.ioExtInt();
  }

  hasInterrupt(): boolean {
    if (this.deliverable() >= 0) return true;
    return this.pic !== null && this.extIntOpen() && this.pic.hasInterrupt();
  }

  acknowledge(): number {
    const st = this.state;
    const v = this.deliverable();
    if (v >= 0) {
      st.irr[v >>> 5] &= ~(1 << (v & 31));
      st.isr[v >>> 5] |= 1 << (v & 31);
      return v;
    }
    if (this.pic !== null && this.extIntOpen() && this.pic.hasInterrupt()) return this.pic.acknowledge();
    return (st.svr | 0x0f) & 0xff; // the request went away: the spurious vector (P6: bits 3:0 are 1)
  }

  /** Accepts a fixed interrupt: IRR (and TMR for level-triggered), or an illegal-vector error. */
  private accept(vector: number, level: boolean): void {
    const st = this.state;
    if (!(st.baseMsr & APIC_BASE_ENABLE)) return;
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL);
      return;
    }
    const k = vector >>> 5;
    const bit = 1 << (vector & 31);
    st.irr[k] |= bit;
    if (level) st.tmr[k] |= bit;
    else st.tmr[k] &= ~bit;
    this.onInterrupt();
  }

  /** Raises a local interrupt from LVT entry `n` unless it is masked. */
  private raiseLvt(n: number): void {
    const e = this.state.lvt[n];
    if (e & LVT_MASKED) return;
    const mode = (e >> 8) & 7;
    if (n === LVT_TIMER || n === LVT_ERROR || mode === DM_FIXED) this.accept(e & 0xff, n !== LVT_TIMER && n !== LVT_ERROR && (e & (1 << 15)) !== 0);
  }

  /** Records an error in ESR and raises the LVT error entry's vector (an illegal one only sets ESR). */
  private error(bits: number): void {
    const st = this.state;
    const fresh = bits & ~st.esrPending;
    st.esrPending |= bits;
    const e = st.lvt[LVT_ERROR];
    if (!fresh || e & LVT_MASKED) return;
    if ((e & 0xff) < 16) st.esrPending |= ESR_RECEIVE_ILLEGAL;
    else this.accept(e & 0xff, false);
  }

  private eoi(): void {
    const st = this.state;
    const v = LocalApic.highest(st.isr);
    if (v < 0) return;
    const level = (st.tmr[v >>> 5] & (1 << (v & 31))) !== 0;
    st.isr[v >>> 5] &= ~(1 << (v & 31));
    st.tmr[v >>> 5] &= ~(1 << (v & 31));
    if (level) this.onLevelEoi(v);
    this.onInterrupt();
  }

  // ------------------------------------------------------------------ the I/O APIC's messages
  /**
   * A fixed or lowest-priority interrupt message from the I/O APIC (one processor: lowest
   * priority is fixed delivery to it): accepted when `dest` names this APIC (physical or
   * logical, as for IPIs) and the APIC is enabled.
   */
  receiveMessage(vector: number, level: boolean, dest: number, logical: boolean): boolean {
    if (!(this.state.baseMsr & APIC_BASE_ENABLE) || !this.matchesDestination(dest, logical)) return false;
    this.accept(vector, level);
    return true;
  }

  /** Vector `vector` waits in IRR (requested, not yet acknowledged). */
  requested(vector: number): boolean {
    return (this.state.irr[vector >>> 5] & (1 << (vector & 31))) !== 0;
  }

  /** Sends the IPI the ICR describes (10.6.1). */
  private sendIpi(): void {
    const st = this.state;
    const lo = st.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const shorthand = (lo >> 18) & 3;
    if (mode !== DM_FIXED && mode !== DM_LOWEST) return; // SMI, NMI, INIT, start-up: see header
    let self: boolean;
    if (shorthand === 1 || shorthand === 2) self = true;
    else if (shorthand === 3) self = false;
    else self = this.matchesDestination(st.icrHi >>> 24, (lo & (1 << 11)) !== 0);
    if (vector < 16) {
      this.error(ESR_SEND_ILLEGAL | (self ? ESR_RECEIVE_ILLEGAL : 0));
      return;
    }
    if (self) this.accept(vector, (lo & (1 << 15)) !== 0);
  }

  /** Whether destination `dest` (physical or logical) names this APIC (10.6.2). */
  private matchesDestination(dest: number, logical: boolean): boolean {
    const st = this.state;
    if (!logical) return dest === 0xff || dest === st.id;
    if (dest === 0xff) return true;
    const ldr = st.ldr >>> 24;
    if ((st.dfr >>> 28) === 0xf) return (ldr & dest) !== 0; // flat model
    return (ldr >>> 4) === (dest >>> 4) && (ldr & dest & 0x0f) !== 0; // cluster model
  }

  // ------------------------------------------------------------------ the timer
  /** The divide configuration as a divisor (10.5.4, figure 10-10). */
  private divisor(): number {
    const d = this.state.divide;
    const code = (d & 3) | ((d >> 1) & 4);
    return code === 7 ? 1 : 2 << code;
  }

  private restartTimer(): void {
    const st = this.state;
    st.timerStartNs = this.clock.now();
    st.timerArmed = st.initialCount !== 0;
  }

  /** Nanoseconds per count-down of the initial count. */
  private periodNs(): number {
    return this.state.initialCount * this.divisor();
  }

  private currentCount(): number {
    const st = this.state;
    if (st.initialCount === 0) return 0;
    const ticks = Math.floor((this.clock.now() - st.timerStartNs) / this.divisor());
    if (st.lvt[LVT_TIMER] & LVT_PERIODIC) return st.initialCount - (ticks % st.initialCount);
    return ticks >= st.initialCount ? 0 : st.initialCount - ticks;
  }

  /** Raises the timer's interrupt if an expiration has passed since the last update. */
  update(): void {
    const st = this.state;
    if (!st.timerArmed) return;
    const period = this.periodNs();
    const now = this.clock.now();
    const elapsed = now - st.timerStartNs;
    if (elapsed < period) return;
    if (st.lvt[LVT_TIMER] & LVT_PERIODIC) st.timerStartNs += Math.floor(elapsed / period) * period;
    else st.timerArmed = false;
    this.raiseLvt(LVT_TIMER);
  }

  /** Clock time (ns) of the timer's next expiration, or Infinity. */
  nextEventNs(): number {
    const st = this.state;
    if (!st.timerArmed || st.lvt[LVT_TIMER] & LVT_MASKED) return Infinity;
    return st.timerStartNs + this.periodNs();
  }
}
