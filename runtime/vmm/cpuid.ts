/**
 * CPUID (SDM vol. 2, CPUID): the identity of the virtual CPU, an i686-class Intel processor
 * ("GenuineIntel", family 6 model 5 stepping 2: a Pentium II) that reports exactly the features
 * this VM implements and nothing more:
 *
 *   FPU  x87 on chip            DE   debug extensions (CR4.DE, DR4/DR5 #UD)
 *   PSE  4 MiB pages            TSC  RDTSC, CR4.TSD
 *   MSR  RDMSR/WRMSR            CX8  CMPXCHG8B
 *   SEP  SYSENTER/SYSEXIT       PGE  global pages
 *   CMOV CMOVcc/FCMOVcc/FCOMI   APIC on-chip local APIC, when the machine has one and
 *                               IA32_APIC_BASE enables it (runtime/devices/local-apic.ts)
 *
 * and, in ECX, the hypervisor bit (31), with KVM's leaves 0x4000_0000 (signature "KVMKVMKVM")
 * and 0x4000_0001 (features: kvmclock, CLOCKSOURCE2 and its stable bit, nothing else): the guest's
 * timekeeping uses kvmclock (vmm/msr.ts; runtime/README.md, timekeeping, says why).
 *
 * Not reported: VME, PVI, MCE/MCA, MTRR, PAT, PSE-36, PAE, MMX, FXSR, SSE, CLFLUSH. The
 * stepping matters: Linux ignores SEP on family 6 below model 3 stepping 3.
 *
 * Leaves: 0 (maximum basic leaf 1 and the vendor string), 1 (signature and features) and the two
 * hypervisor leaves. Any other higher input, extended leaves (0x8000_0000...) included, returns
 * the data of the highest basic leaf, as Intel processors do (SDM: "If a value entered for
 * CPUID.EAX is higher than the maximum input value ... the data for the highest basic information
 * leaf is returned"). So CPUID 0x8000_0000 returns EAX = 0x652, which is below 0x8000_0001:
 * software sees no extended leaves.
 */

/** CPUID.1:EAX: stepping 2, model 5, family 6, type 0. */
export const CPU_SIGNATURE = 0x00000652;
/** Highest basic leaf. */
export const CPUID_MAX_LEAF = 1;

export const FEAT_FPU = 1 << 0;
export const FEAT_DE = 1 << 2;
export const FEAT_PSE = 1 << 3;
export const FEAT_TSC = 1 << 4;
export const FEAT_MSR = 1 << 5;
export const FEAT_CX8 = 1 << 8;
export const FEAT_APIC = 1 << 9;
export const FEAT_SEP = 1 << 11;
export const FEAT_PGE = 1 << 13;
export const FEAT_CMOV = 1 << 15;
/** CPUID.1:EDX. */
export const CPU_FEATURES_EDX =
  FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_CX8 | FEAT_SEP | FEAT_PGE | FEAT_CMOV;

/** "GenuineIntel" as EBX, EDX, ECX. */
const VENDOR_EBX = 0x756e6547; // "Genu"
const VENDOR_EDX = 0x49656e69; // "ineI"
const VENDOR_ECX = 0x6c65746e; // "ntel"

/** CPUID.1:ECX bit 31: a hypervisor is present (its leaves start at 0x4000_0000). */
export const FEAT_HYPERVISOR = 1 << 31;
/** CPUID.1:ECX. */
export const CPU_FEATURES_ECX = FEAT_HYPERVISOR;

/** The hypervisor leaves: 0x4000_0000 (highest hypervisor leaf, "KVMKVMKVM\0\0\0") and 0x4000_0001. */
export const HV_BASE = 0x40000000;
export const HV_MAX_LEAF = 0x40000001;
/** KVM's paravirtual features (CPUID 0x4000_0001 EAX): kvmclock at MSRs 0x4B564D00/01 ... */
export const KVM_FEATURE_CLOCKSOURCE2 = 1 << 3;
/** ... whose time is stable across CPUs (PVCLOCK_TSC_STABLE_BIT is meaningful). */
export const KVM_FEATURE_CLOCKSOURCE_STABLE_BIT = 1 << 24;
const KVM_SIGNATURE = [0x4b4d564b, 0x564b4d56, 0x0000004d]; // "KVMK", "VMKV", "M\0\0\0"

/**
 * The four result registers of CPUID for input EAX = `leaf` (ECX is not used by these leaves);
 * `apic`: the processor's local APIC is present and enabled (CPUID.01H:EDX.APIC).
 */
export function cpuid(leaf: number, apic = false): { eax: number; ebx: number; ecx: number; edx: number } {
  const l = leaf >>> 0;
  if (l === 0) return { eax: CPUID_MAX_LEAF, ebx: VENDOR_EBX, ecx: VENDOR_ECX, edx: VENDOR_EDX };
  if (l === HV_BASE) return { eax: HV_MAX_LEAF, ebx: KVM_SIGNATURE[0], ecx: KVM_SIGNATURE[1], edx: KVM_SIGNATURE[2] };
  if (l === HV_MAX_LEAF) return { eax: KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT, ebx: 0, ecx: 0, edx: 0 };
  // Leaf 1, and every other input above the maximum.
  return { eax: CPU_SIGNATURE, ebx: 0, ecx: CPU_FEATURES_ECX, edx: CPU_FEATURES_EDX | (apic ? FEAT_APIC : 0) };
}
