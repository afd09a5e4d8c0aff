/**
 * Model-specific registers (SDM vol. 4 for the P6 family; vol. 3, 17.17 for the time-stamp
 * counter) and the time-stamp counter itself.
 *
 * Implemented MSRs:
 *   0x010  IA32_TIME_STAMP_COUNTER  read: the TSC; write: as on the P6 family only the low 32
 *          bits are written and the high 32 bits are cleared (SDM 17.17).
 *   0x017  IA32_PLATFORM_ID         read-only, reads 0. Linux's microcode loader reads it
 *          without an exception fixup on family 6 model >= 5.
 *   0x08B  IA32_BIOS_SIGN_ID        microcode revision: reads 0, writes are accepted (Linux writes
 *          0, runs CPUID, then reads the revision, without a fixup).
 *   0x174  IA32_SYSENTER_CS / 0x175 IA32_SYSENTER_ESP / 0x176 IA32_SYSENTER_EIP: read/write,
 *          held in the state block (abi.ts MSR_SYSENTER_*); EDX is ignored on writes.
 *   0x1D9  IA32_DEBUGCTL            reads 0; writes of the P6 bits (LBR, BTF, PB0–PB3, TR) are
 *          accepted and ignored: branch tracing and last-branch records are not implemented.
 * Every other index raises #GP(0): no APIC (IA32_APIC_BASE), no MTRRs, no PAT, no machine check,
 * no performance counters, matching CPUID. Linux probes the optional ones (FEAT_CTL,
 * MISC_FEATURES_ENABLES, the P6 event selectors) with rdmsr_safe, which tolerates the #GP.
 *
 * The TSC runs from the host's monotonic clock at a nominal 1 GHz (one tick per host
 * nanosecond), plus the offset in state TSC_OFFSET that WRMSR(0x10) adjusts. It is therefore
 * monotonic and independent of the execution engine's speed.
 */
import { EX_GP, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, TSC_OFFSET } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';

export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_PLATFORM_ID = 0x17;
export const MSR_IA32_BIOS_SIGN_ID = 0x8b;
export const MSR_IA32_SYSENTER_CS = 0x174;
export const MSR_IA32_SYSENTER_ESP = 0x175;
export const MSR_IA32_SYSENTER_EIP = 0x176;
export const MSR_IA32_DEBUGCTL = 0x1d9;

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

/** The guest's time-stamp counter as a non-negative integer-valued double. */
export function readTsc(cpu: Cpu): number {
  return hostTicks() + cpu.f64[I_TSC_OFFSET];
}

/** Sets the TSC so that it reads `value` now and keeps counting from there. */
export function writeTsc(cpu: Cpu, value: number): void {
  cpu.f64[I_TSC_OFFSET] = value - hostTicks();
}

/** RDMSR: returns [EAX, EDX] for MSR `index` or raises #GP(0) (after the caller's CPL check). */
export function readMsr(cpu: Cpu, index: number): [number, number] {
  const s = cpu.s;
  switch (index >>> 0) {
    case MSR_IA32_TSC: {
      const t = readTsc(cpu);
      return [(t % TWO32) | 0, Math.floor(t / TWO32) | 0];
    }
    case MSR_IA32_PLATFORM_ID: return [0, 0];
    case MSR_IA32_BIOS_SIGN_ID: return [0, 0];
    case MSR_IA32_SYSENTER_CS: return [s[MSR_SYSENTER_CS >> 2], 0];
    case MSR_IA32_SYSENTER_ESP: return [s[MSR_SYSENTER_ESP >> 2], 0];
    case MSR_IA32_SYSENTER_EIP: return [s[MSR_SYSENTER_EIP >> 2], 0];
    case MSR_IA32_DEBUGCTL: return [0, 0];
    default: return fault(EX_GP, 0);
  }
}

/** WRMSR: writes EDX:EAX to MSR `index` or raises #GP(0) (after the caller's CPL check). */
export function writeMsr(cpu: Cpu, index: number, eax: number, edx: number): void {
  const s = cpu.s;
  switch (index >>> 0) {
    case MSR_IA32_TSC: writeTsc(cpu, eax >>> 0); return;
    case MSR_IA32_BIOS_SIGN_ID: return;
    case MSR_IA32_SYSENTER_CS: s[MSR_SYSENTER_CS >> 2] = eax; return;
    case MSR_IA32_SYSENTER_ESP: s[MSR_SYSENTER_ESP >> 2] = eax; return;
    case MSR_IA32_SYSENTER_EIP: s[MSR_SYSENTER_EIP >> 2] = eax; return;
    case MSR_IA32_DEBUGCTL:
      if (eax & ~DEBUGCTL_P6 || edx !== 0) fault(EX_GP, 0);
      return;
    default: fault(EX_GP, 0);
  }
}
