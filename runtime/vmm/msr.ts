/**
 * Model-specific registers (SDM vol. 4 for the P6 family; vol. 3, 17.17 for the time-stamp
 * counter) and the time-stamp counter itself.
 *
 * Implemented MSRs:
 *   0x010  IA32_TIME_STAMP_COUNTER  read: the TSC; write: as on the P6 family only the low 32
 *          bits are written and the high 32 bits are cleared (SDM 17.17).
 *   0x01B  IA32_APIC_BASE           the local APIC's base and enable bits, when the machine has one
 *          (cpu.apic; runtime/devices/local-apic.ts), else #GP as on a CPU without an APIC.
 *   0x017  IA32_PLATFORM_ID         read-only, reads 0. Linux's microcode loader reads it
 *          without an exception fixup on family 6 model >= 5.
 *   0x08B  IA32_BIOS_SIGN_ID        microcode revision: reads 0, writes are accepted (Linux writes
 *          0, runs CPUID, then reads the revision, without a fixup).
 *   0x174  IA32_SYSENTER_CS / 0x175 IA32_SYSENTER_ESP / 0x176 IA32_SYSENTER_EIP: read/write,
 *          held in the state block (abi.ts MSR_SYSENTER_*); EDX is ignored on writes.
 *   0x1D9  IA32_DEBUGCTL            reads 0; writes of the P6 bits (LBR, BTF, PB0–PB3, TR) are
 *          accepted and ignored: branch tracing and last-branch records are not implemented.
 *   0x4B564D00 MSR_KVM_WALL_CLOCK_NEW / 0x4B564D01 MSR_KVM_SYSTEM_TIME_NEW: kvmclock (below),
 *          which CPUID's hypervisor leaves announce; read back as written.
 * Every other index raises #GP(0): no MTRRs, no PAT, no machine check,
 * no performance counters, matching CPUID. Linux probes the optional ones (FEAT_CTL,
 * MISC_FEATURES_ENABLES, the P6 event selectors) with rdmsr_safe, which tolerates the #GP.
 *
 * The TSC runs from the host's monotonic clock at a nominal 1 GHz (one tick per host
 * nanosecond) — on the PC from the machine clock (setTscSource), which follows the host's —
 * plus the offset in state TSC_OFFSET that WRMSR(0x10) adjusts. It is therefore
 * monotonic and independent of the execution engine's speed.
 */
import { EX_GP, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, RAM_OFFSET, TSC_OFFSET } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';

export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_PLATFORM_ID = 0x17;
export const MSR_IA32_APIC_BASE = 0x1b;
export const MSR_IA32_BIOS_SIGN_ID = 0x8b;
export const MSR_IA32_SYSENTER_CS = 0x174;
export const MSR_IA32_SYSENTER_ESP = 0x175;
export const MSR_IA32_SYSENTER_EIP = 0x176;
export const MSR_IA32_DEBUGCTL = 0x1d9;
export const MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00;
export const MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01;

/** Nominal TSC frequency in ticks per millisecond (1 GHz). */
export const TSC_TICKS_PER_MS = 1e6;
const TWO32 = 4294967296;
const I_TSC_OFFSET = TSC_OFFSET >> 3;
/** P6 IA32_DEBUGCTL bits: LBR, BTF, PB0–PB3, TR. */
const DEBUGCTL_P6 = 0x7f;

/** Ticks of the host clock (monotonic, from an arbitrary origin). */
function hostTicks(): number {
  return Math.floor(performance.now() * TSC_TICKS_PER_MS);
}

/**
 * The nanosecond clock a CPU's TSC counts (the PC's machine clock, runtime/devices/clock.ts, so
 * that the TSC, the timers and a snapshot's restored time agree, and a ManualClock makes RDTSC
 * deterministic); a CPU without one counts host ticks.
 */
const tscSources = new WeakMap<Cpu, () => number>();

/** Makes the CPU's TSC count `nowNs` (one tick per nanosecond) instead of the host's clock. */
export function setTscSource(cpu: Cpu, nowNs: () => number): void {
  tscSources.set(cpu, nowNs);
}

function ticks(cpu: Cpu): number {
  const src = tscSources.get(cpu);
  return src ? Math.floor(src()) : hostTicks();
}

/** The guest's time-stamp counter as a non-negative integer-valued double. */
export function readTsc(cpu: Cpu): number {
  return ticks(cpu) + cpu.f64[I_TSC_OFFSET];
}

/** Sets the TSC so that it reads `value` now and keeps counting from there. */
export function writeTsc(cpu: Cpu, value: number): void {
  const pv = kvmclockOf(cpu);
  const before = pv.systemMsr & 1 ? kvmclockNs(cpu, pv) : 0;
  cpu.f64[I_TSC_OFFSET] = value - ticks(cpu);
  // kvmclock goes on from where it was: a new TSC origin, the same system time.
  if (pv.systemMsr & 1) publishTimeInfo(cpu, pv, value, before);
}

/**
 * kvmclock (KVM's paravirtual clock, which CPUID leaves 0x4000_0000/1 announce): the guest
 * gives the physical address of a pvclock_vcpu_time_info (MSR 0x4B564D01, bit 0 = enable) and
 * of a pvclock_wall_clock (MSR 0x4B564D00), and computes its time as system_time +
 * (TSC - tsc_timestamp) * tsc_to_system_mul >> (32 - tsc_shift). Our TSC counts host
 * nanoseconds, so the multiplier is exactly 1 (2^31 with shift 1), the frequency 1 GHz, and the
 * record never needs an update while the TSC is not written. Linux then takes the TSC frequency
 * from it instead of calibrating against the PIT, and keeps time on it (clocksource kvm-clock);
 * runtime/README.md (timekeeping) says why.
 */
interface KvmClock {
  /** MSR 0x4B564D01 as written (address | enable). */
  systemMsr: number;
  /** MSR 0x4B564D00 as written. */
  wallMsr: number;
  /** TSC and system time of the published record. */
  tscTimestamp: number;
  systemTime: number;
  /** The guest's wall-clock time now, ms since the Unix epoch (the machine's RTC). */
  wallClockMs: () => number;
}

const kvmclocks = new WeakMap<Cpu, KvmClock>();

function kvmclockOf(cpu: Cpu): KvmClock {
  let pv = kvmclocks.get(cpu);
  if (!pv) {
    pv = { systemMsr: 0, wallMsr: 0, tscTimestamp: 0, systemTime: 0, wallClockMs: () => Date.now() };
    kvmclocks.set(cpu, pv);
  }
  return pv;
}

/** kvmclock's registers and published record, as a snapshot saves them (runtime/snapshot). */
export type KvmClockState = Omit<KvmClock, 'wallClockMs'>;

export function kvmclockState(cpu: Cpu): KvmClockState {
  const { systemMsr, wallMsr, tscTimestamp, systemTime } = kvmclockOf(cpu);
  return { systemMsr, wallMsr, tscTimestamp, systemTime };
}

export function setKvmclockState(cpu: Cpu, st: KvmClockState): void {
  Object.assign(kvmclockOf(cpu), { systemMsr: st.systemMsr, wallMsr: st.wallMsr, tscTimestamp: st.tscTimestamp, systemTime: st.systemTime });
}

/** Where the guest's wall-clock time comes from for kvmclock (the PC passes its RTC). */
export function setWallClock(cpu: Cpu, wallClockMs: () => number): void {
  kvmclockOf(cpu).wallClockMs = wallClockMs;
}

/** kvmclock's time now (ns), as the guest computes it from the published record. */
function kvmclockNs(cpu: Cpu, pv: KvmClock): number {
  return pv.systemTime + (readTsc(cpu) - pv.tscTimestamp);
}

/** Stores the 32-bit `v` at guest physical address `phys` (RAM only; other addresses are ignored). */
function writePhys32(cpu: Cpu, phys: number, v: number): void {
  if (phys >>> 0 >= cpu.mem.ramSize - 3) return;
  cpu.i32[(RAM_OFFSET + phys) >>> 2] = v;
  if (cpu.codePages[phys >>> 12]) cpu.onCodeWrite(phys);
}

function writePhys64(cpu: Cpu, phys: number, v: number): void {
  writePhys32(cpu, phys, (v % TWO32) | 0);
  writePhys32(cpu, phys + 4, Math.floor(v / TWO32) | 0);
}

/** Writes pvclock_vcpu_time_info: version (even: complete), TSC and system time, 1 ns per tick. */
function publishTimeInfo(cpu: Cpu, pv: KvmClock, tsc: number, systemTime: number): void {
  pv.tscTimestamp = tsc;
  pv.systemTime = systemTime;
  const at = pv.systemMsr & ~1 & ~3;
  const version = (cpu.i32[(RAM_OFFSET + at) >>> 2] + 2) & ~1;
  writePhys32(cpu, at, version | 1);
  writePhys64(cpu, at + 8, tsc);
  writePhys64(cpu, at + 16, systemTime);
  writePhys32(cpu, at + 24, 0x80000000); // tsc_to_system_mul: 2^31 ...
  writePhys32(cpu, at + 28, 1 | (PVCLOCK_TSC_STABLE_BIT << 8)); // ... tsc_shift 1: x1; flags
  writePhys32(cpu, at, version);
}

const PVCLOCK_TSC_STABLE_BIT = 1;

/** RDMSR: returns [EAX, EDX] for MSR `index` or raises #GP(0) (after the caller's CPL check). */
export function readMsr(cpu: Cpu, index: number): [number, number] {
  const s = cpu.s;
  switch (index >>> 0) {
    case MSR_IA32_TSC: {
      const t = readTsc(cpu);
      return [(t % TWO32) | 0, Math.floor(t / TWO32) | 0];
    }
    case MSR_IA32_PLATFORM_ID: return [0, 0];
    case MSR_IA32_APIC_BASE: return cpu.apic ? [cpu.apic.baseMsr, 0] : fault(EX_GP, 0);
    case MSR_IA32_BIOS_SIGN_ID: return [0, 0];
    case MSR_IA32_SYSENTER_CS: return [s[MSR_SYSENTER_CS >> 2], 0];
    case MSR_IA32_SYSENTER_ESP: return [s[MSR_SYSENTER_ESP >> 2], 0];
    case MSR_IA32_SYSENTER_EIP: return [s[MSR_SYSENTER_EIP >> 2], 0];
    case MSR_IA32_DEBUGCTL: return [0, 0];
    case MSR_KVM_WALL_CLOCK_NEW: return [kvmclockOf(cpu).wallMsr, 0];
    case MSR_KVM_SYSTEM_TIME_NEW: return [kvmclockOf(cpu).systemMsr, 0];
    default: return fault(EX_GP, 0);
  }
}

/** WRMSR: writes EDX:EAX to MSR `index` or raises #GP(0) (after the caller's CPL check). */
export function writeMsr(cpu: Cpu, index: number, eax: number, edx: number): void {
  const s = cpu.s;
  switch (index >>> 0) {
    case MSR_IA32_TSC: writeTsc(cpu, eax >>> 0); return;
    case MSR_IA32_APIC_BASE:
      if (!cpu.apic) fault(EX_GP, 0);
      cpu.apic.writeBaseMsr(eax, edx);
      return;
    case MSR_IA32_BIOS_SIGN_ID: return;
    case MSR_IA32_SYSENTER_CS: s[MSR_SYSENTER_CS >> 2] = eax; return;
    case MSR_IA32_SYSENTER_ESP: s[MSR_SYSENTER_ESP >> 2] = eax; return;
    case MSR_IA32_SYSENTER_EIP: s[MSR_SYSENTER_EIP >> 2] = eax; return;
    case MSR_IA32_DEBUGCTL:
      if (eax & ~DEBUGCTL_P6 || edx !== 0) fault(EX_GP, 0);
      return;
    case MSR_KVM_SYSTEM_TIME_NEW: {
      const pv = kvmclockOf(cpu);
      pv.systemMsr = eax;
      // System time = the TSC when the clock is first enabled: kvmclock reads as the TSC does.
      if (eax & 1) {
        const t = readTsc(cpu);
        publishTimeInfo(cpu, pv, t, pv.tscTimestamp || pv.systemTime ? kvmclockNs(cpu, pv) : t);
      }
      return;
    }
    case MSR_KVM_WALL_CLOCK_NEW: {
      // pvclock_wall_clock: the wall-clock time at kvmclock time 0 (version, seconds, nanoseconds).
      const pv = kvmclockOf(cpu);
      pv.wallMsr = eax;
      const ns = pv.wallClockMs() * 1e6 - (pv.systemMsr & 1 ? kvmclockNs(cpu, pv) : readTsc(cpu));
      const at = eax & ~3;
      writePhys32(cpu, at, 1);
      writePhys32(cpu, at + 4, Math.floor(ns / 1e9) | 0);
      writePhys32(cpu, at + 8, Math.floor(ns % 1e9) | 0);
      writePhys32(cpu, at, 2);
      return;
    }
    default: fault(EX_GP, 0);
  }
}
