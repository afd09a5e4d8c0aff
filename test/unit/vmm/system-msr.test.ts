/**
 * RDMSR/WRMSR, RDTSC, RDPMC and CPUID: values, privilege rules and exit counting.
 */
import { describe, expect, it } from 'vitest';
import { CR, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP } from '../../../translator/abi.ts';
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

  it('leaf 1: family 6 model 5 stepping 2; FPU DE PSE TSC MSR CX8 SEP PGE CMOV and nothing else', () => {
    expect(regs(1)).toEqual([0x652, 0, 0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15)]);
  });

  it('inputs above the maximum, extended leaves included, return the highest basic leaf', () => {
    expect(regs(2)).toEqual(regs(1));
    expect(regs(0x80000000)).toEqual(regs(1));
    expect(regs(0x80000000)[0]).toBeLessThan(0x80000001);
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
