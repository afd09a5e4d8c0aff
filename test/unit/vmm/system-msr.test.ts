/**
 * RDMSR/WRMSR, RDTSC, RDPMC and CPUID: values, privilege rules and exit counting; kvmclock's
 * record as the guest reads it.
 */
import { describe, expect, it } from 'vitest';
import { CR, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP } from '../../../translator/abi.ts';
import { RAM_OFFSET } from '../../../translator/abi.ts';
import { MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW, readMsr, readTsc, setWallClock, writeMsr } from '../../../runtime/vmm/msr.ts';
import { Vm } from '../../../runtime/vm.ts';
import { runSnippet, toCpl3 } from '../../system/snippet.ts';

const RDMSR = [0x0f, 0x32];
const WRMSR = [0x0f, 0x30];
const RDTSC = [0x0f, 0x31];
const RDPMC = [0x0f, 0x33];
const CPUID = [0x0f, 0xa2];
const I_CR4 = (CR >> 2) + 4;
const u = (v: number): number => v >>> 0;

describe('CPUID', () => {
  const regs = (leaf: number): number[] => {
    const r = runSnippet(CPUID, (vm) => { vm.cpu.s[0] = leaf; vm.cpu.s[1] = 0x55; });
    expect(r.outcome).toBe('done');
    return [0, 3, 1, 2].map((k) => u(r.vm.cpu.s[k]));
  };

  it('leaf 0: maximum leaf 1 and GenuineIntel', () => {
    const [eax, ebx, ecx, edx] = regs(0);
    expect(eax).toBe(1);
    const vendor = Buffer.alloc(12);
    vendor.writeUInt32LE(ebx, 0);
    vendor.writeUInt32LE(edx, 4);
    vendor.writeUInt32LE(ecx, 8);
    expect(vendor.toString('latin1')).toBe('GenuineIntel');
  });

  it('leaf 1: family 6 model 5 stepping 2; FPU DE PSE TSC MSR CX8 SEP PGE CMOV and the hypervisor bit, nothing else', () => {
    expect(regs(1)).toEqual([0x652, 0, 0x80000000, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15)]);
  });

  it('inputs above the maximum, extended leaves included, return the highest basic leaf', () => {
    expect(regs(2)).toEqual(regs(1));
    expect(regs(0x80000000)).toEqual(regs(1));
    expect(regs(0x80000000)[0]).toBeLessThan(0x80000001);
    expect(regs(0x40000002)).toEqual(regs(1));
  });

  it('hypervisor leaves: KVM signature, kvmclock (CLOCKSOURCE2 and its stable bit) and nothing else', () => {
    const [eax, ebx, ecx, edx] = regs(0x40000000);
    expect(eax).toBe(0x40000001);
    const sig = Buffer.alloc(12);
    sig.writeUInt32LE(ebx, 0);
    sig.writeUInt32LE(ecx, 4);
    sig.writeUInt32LE(edx, 8);
    expect(sig.toString('latin1')).toBe('KVMKVMKVM\0\0\0');
    expect(regs(0x40000001)).toEqual([(1 << 3) | (1 << 24), 0, 0, 0]);
  });

  it('runs at CPL 3 and counts one exit per execution', () => {
    const r = runSnippet([...CPUID, ...CPUID], (vm) => toCpl3(vm));
    expect(r.outcome).toBe('done');
    expect(r.vm.exits.cpuid).toBe(2);
  });
});

describe('RDMSR/WRMSR', () => {
  it('round-trips the SYSENTER MSRs through the state block', () => {
    const code = [...WRMSR];
    const r = runSnippet(code, (vm) => { vm.cpu.s[1] = 0x175; vm.cpu.s[0] = 0xc0de0000 | 0; vm.cpu.s[2] = 0x77; });
    expect(r.outcome).toBe('done');
    expect(u(r.vm.cpu.s[MSR_SYSENTER_ESP >> 2])).toBe(0xc0de0000);
    for (const [idx, off] of [[0x174, MSR_SYSENTER_CS], [0x175, MSR_SYSENTER_ESP], [0x176, MSR_SYSENTER_EIP]]) {
      const rd = runSnippet(RDMSR, (vm) => { vm.cpu.s[1] = idx; vm.cpu.s[off >> 2] = 0x1000 + idx; vm.cpu.s[2] = 0x99; });
      expect(rd.outcome).toBe('done');
      expect([rd.vm.cpu.s[0], rd.vm.cpu.s[2]]).toEqual([0x1000 + idx, 0]);
    }
  });

  it('reads the microcode signature and platform id as 0 and accepts the signature write', () => {
    for (const idx of [0x17, 0x8b]) {
      const r = runSnippet(RDMSR, (vm) => { vm.cpu.s[1] = idx; vm.cpu.s[0] = 5; vm.cpu.s[2] = 5; });
      expect(r.outcome).toBe('done');
      expect([r.vm.cpu.s[0], r.vm.cpu.s[2]]).toEqual([0, 0]);
    }
    expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = 0x8b; }).outcome).toBe('done');
    expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = 0x17; }).outcome).toBe('#GP(0x0)');
  });

  it('raises #GP(0) for MSRs we do not have (APIC base, MTRRs, PAT, event selectors, MISC_ENABLE)', () => {
    for (const idx of [0x1b, 0xfe, 0x277, 0x186, 0xc1, 0x1a0, 0x3a, 0xc0000080]) {
      const r = runSnippet(RDMSR, (vm) => { vm.cpu.s[1] = idx; vm.cpu.s[0] = 7; });
      expect(r.outcome, idx.toString(16)).toBe('#GP(0x0)');
      expect(r.vm.cpu.s[0]).toBe(7);
      expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = idx; }).outcome, idx.toString(16)).toBe('#GP(0x0)');
    }
  });

  it('DEBUGCTL reads 0, accepts the P6 bits and rejects others', () => {
    expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = 0x1d9; vm.cpu.s[0] = 2; }).outcome).toBe('done');
    expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = 0x1d9; vm.cpu.s[0] = 0x100; }).outcome).toBe('#GP(0x0)');
  });

  it('#GP(0) at CPL 3 whatever the MSR', () => {
    expect(runSnippet(RDMSR, (vm) => { vm.cpu.s[1] = 0x10; toCpl3(vm, 3); }).outcome).toBe('#GP(0x0)');
    expect(runSnippet(WRMSR, (vm) => { vm.cpu.s[1] = 0x174; toCpl3(vm, 3); }).outcome).toBe('#GP(0x0)');
  });

  it('WRMSR(TSC) writes the low 32 bits and clears the high half (P6); the TSC keeps counting', () => {
    // wrmsr; rdmsr (ECX still 0x10)
    const r = runSnippet([...WRMSR, ...RDMSR], (vm) => { vm.cpu.s[1] = 0x10; vm.cpu.s[0] = 0x7fff0000; vm.cpu.s[2] = 0x1234; });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.s[2]).toBe(0);
    const lo = u(r.vm.cpu.s[0]);
    expect(lo).toBeGreaterThanOrEqual(0x7fff0000);
    expect(lo).toBeLessThan(0x7fff0000 + 1e9); // less than a second later
  });
});

describe('RDTSC and RDPMC', () => {
  it('RDTSC is monotonic across executions and agrees with RDMSR(TSC)', () => {
    const r = runSnippet(RDTSC);
    const first = u(r.vm.cpu.s[2]) * 2 ** 32 + u(r.vm.cpu.s[0]);
    r.vm.cpu.eip = 0x1000;
    r.vm.run(1);
    const second = u(r.vm.cpu.s[2]) * 2 ** 32 + u(r.vm.cpu.s[0]);
    expect(second).toBeGreaterThanOrEqual(first);
  });

  it('CR4.TSD makes RDTSC #GP(0) at CPL 3 only', () => {
    expect(runSnippet(RDTSC, (vm) => { vm.cpu.s[I_CR4] = 4; toCpl3(vm); }).outcome).toBe('#GP(0x0)');
    expect(runSnippet(RDTSC, (vm) => { toCpl3(vm); }).outcome).toBe('done');
    expect(runSnippet(RDTSC, (vm) => { vm.cpu.s[I_CR4] = 4; }).outcome).toBe('done');
  });

  it('RDPMC: #GP(0) — no counters exist, at any CPL, with or without CR4.PCE', () => {
    expect(runSnippet(RDPMC).outcome).toBe('#GP(0x0)');
    expect(runSnippet(RDPMC, (vm) => { vm.cpu.s[I_CR4] = 0x100; toCpl3(vm); }).outcome).toBe('#GP(0x0)');
    const r = runSnippet(RDPMC, (vm) => toCpl3(vm));
    expect(r.outcome).toBe('#GP(0x0)');
    expect(r.vm.exits.rdpmc).toBe(1);
  });
});

describe('kvmclock (MSRs 0x4B564D00/01)', () => {
  const TIME_AT = 0x3000;
  const WALL_AT = 0x3040;
  const view = (vm: Vm): DataView => new DataView(vm.cpu.mem.buffer, RAM_OFFSET);
  /** The guest's computation (Linux pvclock): system_time + scaled (TSC - tsc_timestamp). */
  const guestNs = (vm: Vm, tsc: number): number => {
    const d = view(vm);
    const delta = BigInt(tsc) - d.getBigUint64(TIME_AT + 8, true);
    const shift = d.getInt8(TIME_AT + 28);
    const scaled = shift >= 0 ? delta << BigInt(shift) : delta >> BigInt(-shift);
    return Number(d.getBigUint64(TIME_AT + 16, true) + ((scaled * BigInt(d.getUint32(TIME_AT + 24, true))) >> 32n));
  };

  it('publishes a complete record whose time is the TSC at 1 GHz (what Linux reports as 1000 MHz)', () => {
    const vm = new Vm({ memorySize: 8 << 20 });
    writeMsr(vm.cpu, MSR_KVM_SYSTEM_TIME_NEW, TIME_AT | 1, 0);
    const d = view(vm);
    expect(d.getUint32(TIME_AT, true) % 2).toBe(0); // version even: not being updated
    expect(d.getUint32(TIME_AT + 24, true)).toBe(0x80000000);
    expect(d.getInt8(TIME_AT + 28)).toBe(1);
    expect(d.getUint8(TIME_AT + 29) & 1).toBe(1); // PVCLOCK_TSC_STABLE_BIT
    // pvclock_tsc_khz: (10^6 << 32) / mul, then >> shift.
    expect(Number((1000000n << 32n) / BigInt(d.getUint32(TIME_AT + 24, true))) >> d.getInt8(TIME_AT + 28)).toBe(1_000_000);
    const t = readTsc(vm.cpu);
    expect(guestNs(vm, t)).toBe(t);
    expect(readMsr(vm.cpu, MSR_KVM_SYSTEM_TIME_NEW)).toEqual([TIME_AT | 1, 0]);
  });

  it('stays continuous when the guest writes the TSC, and bumps the version by two', () => {
    const vm = new Vm({ memorySize: 8 << 20 });
    writeMsr(vm.cpu, MSR_KVM_SYSTEM_TIME_NEW, TIME_AT | 1, 0);
    const v0 = view(vm).getUint32(TIME_AT, true);
    const before = guestNs(vm, readTsc(vm.cpu));
    writeMsr(vm.cpu, 0x10, 5, 0);
    expect(view(vm).getUint32(TIME_AT, true)).toBe(v0 + 2);
    const after = guestNs(vm, readTsc(vm.cpu));
    expect(after).toBeGreaterThanOrEqual(before);
    expect(after - before).toBeLessThan(50e6);
  });

  it('the wall clock is the machine\'s wall-clock time at kvmclock time 0', () => {
    const vm = new Vm({ memorySize: 8 << 20 });
    setWallClock(vm.cpu, () => 1_700_000_000_000 + readTsc(vm.cpu) / 1e6);
    writeMsr(vm.cpu, MSR_KVM_SYSTEM_TIME_NEW, TIME_AT | 1, 0);
    writeMsr(vm.cpu, MSR_KVM_WALL_CLOCK_NEW, WALL_AT, 0);
    const d = view(vm);
    expect(d.getUint32(WALL_AT, true) % 2).toBe(0);
    const wall = d.getUint32(WALL_AT + 4, true) * 1e9 + d.getUint32(WALL_AT + 8, true);
    expect(Math.abs(wall - 1_700_000_000_000 * 1e6)).toBeLessThan(1e6); // the two reads' distance
    expect(readMsr(vm.cpu, MSR_KVM_WALL_CLOCK_NEW)).toEqual([WALL_AT, 0]);
  });
});
