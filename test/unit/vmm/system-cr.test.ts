/**
 * MOV to/from control and debug registers, CLTS, HLT, INVD/WBINVD, RSM: results, side effects
 * (TLB flushes, mode bits) and the exact exception at CPL 0 and CPL 3.
 */
import { describe, expect, it } from 'vitest';
import { CR, DR, MODE_PE, MODE_PG, TLB_GLOBAL, TLB_VALID } from '../../../translator/abi.ts';
import { CODE, runSnippet, toCpl3 } from '../../system/snippet.ts';

const I_CR = CR >> 2;
const I_DR = DR >> 2;
// Encodings (32-bit code).
const MOV_EAX_CR0 = [0x0f, 0x20, 0xc0];
const MOV_CR0_EAX = [0x0f, 0x22, 0xc0];
const MOV_EBX_CR1 = [0x0f, 0x20, 0xcb];
const MOV_CR2_EAX = [0x0f, 0x22, 0xd0];
const MOV_CR3_EAX = [0x0f, 0x22, 0xd8];
const MOV_ECX_CR3 = [0x0f, 0x20, 0xd9];
const MOV_CR4_EAX = [0x0f, 0x22, 0xe0];
const MOV_EDX_CR4 = [0x0f, 0x20, 0xe2];
const MOV_CR5_EAX = [0x0f, 0x22, 0xe8];
const MOV_EAX_DR4 = [0x0f, 0x21, 0xe0];
const MOV_EAX_DR5 = [0x0f, 0x21, 0xe8];
const MOV_DR0_EAX = [0x0f, 0x23, 0xc0];
const MOV_EBX_DR0 = [0x0f, 0x21, 0xc3];
const MOV_DR7_EAX = [0x0f, 0x23, 0xf8];
const MOV_DR6_EAX = [0x0f, 0x23, 0xf0];

describe('MOV CRn', () => {
  it('reads CR0 after the flat reset (PE, ET) and CR2/CR3/CR4 into the named register', () => {
    const r = runSnippet([...MOV_EAX_CR0, ...MOV_ECX_CR3, ...MOV_EDX_CR4], (vm) => {
      vm.cpu.s[I_CR + 3] = 0x12345000;
      vm.cpu.s[I_CR + 4] = 0x90;
    });
    expect(r.outcome).toBe('done');
    expect([r.vm.cpu.s[0], r.vm.cpu.s[1], r.vm.cpu.s[2]]).toEqual([0x11, 0x12345000, 0x90]);
  });

  it('ignores reserved CR0 bits and keeps ET set', () => {
    const r = runSnippet([...MOV_CR0_EAX, ...MOV_EAX_CR0], (vm) => { vm.cpu.s[0] = 0x0000ffe1; });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.s[0]).toBe(0x31); // PE, ET, NE; bits 6..15 dropped
  });

  it('raises #GP(0) for PG without PE and for NW without CD, leaving CR0 as it was', () => {
    for (const v of [0x80000010 | 0, 0x20000011]) {
      const r = runSnippet(MOV_CR0_EAX, (vm) => { vm.cpu.s[0] = v; });
      expect(r.outcome).toBe('#GP(0x0)');
      expect(r.vm.cpu.s[I_CR]).toBe(0x11);
      expect(r.vm.cpu.eip).toBe(CODE);
    }
  });

  it('clearing PE leaves protected mode: MODE_PE clears; setting PG sets MODE_PG', () => {
    const r = runSnippet(MOV_CR0_EAX, (vm) => { vm.cpu.s[0] = 0x10; });
    expect(r.vm.cpu.s[I_CR]).toBe(0x10);
    expect(r.vm.cpu.mode & MODE_PE).toBe(0);
    // Identity-map the first 4 MiB with one 4 MiB page so that execution continues.
    const p = runSnippet([...MOV_CR4_EAX, 0x0f, 0x22, 0xc3], (vm) => {
      vm.cpu.s[0] = 0x10; // CR4.PSE
      vm.cpu.s[3] = 0x80000011 | 0; // for MOV CR0, EBX
      vm.cpu.s[I_CR + 3] = 0x10000;
      vm.writePhys(0x10000, [0x83, 0, 0, 0]); // PDE 0: 4 MiB, present, writable
    });
    expect(p.outcome).toBe('done');
    expect(p.vm.cpu.mode & MODE_PG).toBe(MODE_PG);
  });

  it('raises #UD for CR1 and CR5..CR7 (before the privilege check), #GP(0) at CPL 3', () => {
    expect(runSnippet(MOV_EBX_CR1).outcome).toBe('#UD');
    expect(runSnippet(MOV_CR5_EAX).outcome).toBe('#UD');
    expect(runSnippet(MOV_EBX_CR1, (vm) => toCpl3(vm)).outcome).toBe('#UD');
    for (const code of [MOV_EAX_CR0, MOV_CR0_EAX, MOV_CR2_EAX, MOV_CR3_EAX, MOV_EDX_CR4]) {
      const r = runSnippet(code, (vm) => { vm.cpu.s[0] = 0x11; toCpl3(vm, 3); });
      expect(r.outcome).toBe('#GP(0x0)');
    }
  });

  it('accepts only TSD, DE, PSE, PGE, PCE in CR4', () => {
    for (const bit of [0x001, 0x002, 0x020, 0x040, 0x200, 0x400, 0x2000]) {
      const r = runSnippet(MOV_CR4_EAX, (vm) => { vm.cpu.s[0] = bit; });
      expect(r.outcome, bit.toString(16)).toBe('#GP(0x0)');
      expect(r.vm.cpu.s[I_CR + 4]).toBe(0);
    }
    const r = runSnippet([...MOV_CR4_EAX, ...MOV_EDX_CR4], (vm) => { vm.cpu.s[0] = 0x19c; });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.s[2]).toBe(0x19c);
  });

  it('CR2 is written as is', () => {
    const r = runSnippet(MOV_CR2_EAX, (vm) => { vm.cpu.s[0] = 0xdeadbeef | 0; });
    expect(r.vm.cpu.s[I_CR + 2]).toBe(0xdeadbeef | 0);
  });

  it('a CR3 load flushes non-global TLB entries, and all of them without CR4.PGE', () => {
    for (const pge of [0, 0x80]) {
      const r = runSnippet(MOV_CR3_EAX, (vm) => {
        vm.cpu.s[I_CR + 4] = pge;
        vm.cpu.setTlb(0x400000, 0x5000, 0);
        vm.cpu.setTlb(0x401000, 0x6000, TLB_GLOBAL);
      });
      expect(r.outcome).toBe('done');
      const tlb = r.vm.cpu.tlb;
      expect(tlb[0x400]).toBe(0);
      expect(tlb[0x401] & TLB_VALID).toBe(pge ? TLB_VALID : 0);
    }
  });

  it('changing CR4.PGE flushes global entries too', () => {
    const r = runSnippet(MOV_CR4_EAX, (vm) => {
      vm.cpu.s[I_CR + 4] = 0x80;
      vm.cpu.s[0] = 0;
      vm.cpu.setTlb(0x401000, 0x6000, TLB_GLOBAL);
    });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.tlb[0x401]).toBe(0);
  });
});

describe('MOV DRn', () => {
  it('DR4/DR5 alias DR6/DR7 (with their fixed bits) unless CR4.DE, which makes them #UD', () => {
    const a = runSnippet(MOV_EAX_DR4);
    expect(a.outcome).toBe('done');
    expect(a.vm.cpu.s[0]).toBe(0xffff0ff0 | 0);
    const b = runSnippet(MOV_EAX_DR5);
    expect(b.vm.cpu.s[0]).toBe(0x400);
    expect(runSnippet(MOV_EAX_DR4, (vm) => { vm.cpu.s[I_CR + 4] = 0x08; }).outcome).toBe('#UD');
  });

  it('keeps DR0 and masks DR6/DR7 writes', () => {
    const r = runSnippet([...MOV_DR0_EAX, ...MOV_EBX_DR0, ...MOV_DR6_EAX], (vm) => { vm.cpu.s[0] = 0x1234; });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.s[3]).toBe(0x1234);
    expect(r.vm.cpu.s[I_DR + 6]).toBe(0xffff0ff4 | 0);
  });

  it('DR7.GD makes the next MOV DRn a #DB fault with DR6.BD set and GD cleared', () => {
    const r = runSnippet([...MOV_DR7_EAX, ...MOV_EBX_DR0], (vm) => { vm.cpu.s[0] = 0x2000; });
    expect(r.outcome).toBe('#DB');
    expect(r.vm.cpu.eip).toBe(CODE + 3);
    expect(r.vm.cpu.s[I_DR + 6] & 0x2000).toBe(0x2000);
    expect(r.vm.cpu.s[I_DR + 7] & 0x2000).toBe(0);
  });

  it('#GP(0) at CPL 3', () => {
    expect(runSnippet(MOV_EBX_DR0, (vm) => toCpl3(vm)).outcome).toBe('#GP(0x0)');
  });
});

describe('CLTS, HLT, INVD, WBINVD, RSM', () => {
  it('CLTS clears CR0.TS at CPL 0 and raises #GP(0) at CPL 3', () => {
    const r = runSnippet([0x0f, 0x06], (vm) => { vm.cpu.s[I_CR] |= 8; });
    expect(r.outcome).toBe('done');
    expect(r.vm.cpu.s[I_CR]).toBe(0x11);
    const u = runSnippet([0x0f, 0x06], (vm) => { vm.cpu.s[I_CR] |= 8; toCpl3(vm, 3); });
    expect(u.outcome).toBe('#GP(0x0)');
    expect(u.vm.cpu.s[I_CR]).toBe(0x19);
  });

  it('HLT stops the run with EIP after it and counts an exit; #GP(0) at CPL 3 even with IOPL 3', () => {
    const r = runSnippet([0xf4]);
    expect(r.result.reason).toBe('halted');
    expect(r.vm.cpu.eip).toBe(CODE + 1);
    expect(r.vm.cpu.halted).toBe(true);
    expect(r.vm.exits.hlt).toBe(1);
    const u = runSnippet([0xf4], (vm) => toCpl3(vm, 3));
    expect(u.outcome).toBe('#GP(0x0)');
    expect(u.vm.cpu.halted).toBe(false);
  });

  it('INVD/WBINVD are no-ops at CPL 0 and #GP(0) at CPL 3; RSM is #UD', () => {
    expect(runSnippet([0x0f, 0x08, 0x0f, 0x09]).outcome).toBe('done');
    expect(runSnippet([0x0f, 0x09], (vm) => toCpl3(vm)).outcome).toBe('#GP(0x0)');
    expect(runSnippet([0x0f, 0x08], (vm) => toCpl3(vm)).outcome).toBe('#GP(0x0)');
    expect(runSnippet([0x0f, 0xaa]).outcome).toBe('#UD');
  });
});
