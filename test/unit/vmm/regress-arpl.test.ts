/**
 * Regression (real-CPU oracle, user3): ARPL r/m16, r16 with a memory destination reads it first
 * and writes only when the RPL changes. It used to check the destination for writing up front,
 * so an unchanged selector in a read-only page or segment faulted, and a not-present page gave
 * a write error code (#PF 6 at CPL 3) where the processor reports a read (#PF 4).
 */
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, F_ZF, R_EBX, R_ECX, SEG_DS, SEGF_P, SEGF_S, SEGF_USABLE } from '../../../translator/abi.ts';
import { getEflags } from '../../../runtime/lazy-flags.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { writeCr0 } from '../../../runtime/vmm/control-regs.ts';
import { runSnippet, toCpl3 } from '../../system/snippet.ts';

const PD = 0x200000;
const PT = 0x201000;
const DATA = 0x300000;
const P = 1, RW = 2, US = 4;

/** Paging on, the first 4 MiB identity-mapped as user read/write pages, then `pteAt` applied. */
function paged(vm: Vm, dataPte: number): void {
  const d = (phys: number, v: number): void => vm.writePhys(phys, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  d(PD, PT | P | RW | US);
  for (let p = 0; p < 1024; p++) d(PT + 4 * p, (p << 12) | P | RW | US);
  d(PT + 4 * (DATA >>> 12), dataPte);
  vm.cpu.s[(CR >> 2) + 3] = PD;
  writeCr0(vm.cpu, 0x80010011 | 0); // PG, WP, ET, PE
}

/** arpl [ebx], cx with [ebx] = `dest` and CX = `src`, at CPL 3 after `setup`. */
function arpl(dest: number, src: number, setup: (vm: Vm) => void): ReturnType<typeof runSnippet> & { cr2: number; word: number } {
  const r = runSnippet([0x63, 0x0b], (vm) => {
    vm.writePhys(DATA + 0x10, [dest & 0xff, dest >> 8]);
    vm.cpu.s[R_EBX] = DATA + 0x10;
    vm.cpu.s[R_ECX] = 0x55550000 | src;
    vm.cpu.s[EFLAGS >> 2] |= F_ZF;
    setup(vm);
    toCpl3(vm);
  });
  const b = r.vm.readPhys(DATA + 0x10, 2);
  return { ...r, cr2: r.vm.cpu.s[(CR >> 2) + 2] >>> 0, word: b[0] | (b[1] << 8) };
}

describe('ARPL with a memory destination', () => {
  it('an unchanged RPL in a read-only page: no fault, ZF = 0, memory unchanged', () => {
    const r = arpl(0x1233, 0x0001, (vm) => paged(vm, DATA | P | US));
    expect(r.outcome).toBe('done');
    expect(r.word).toBe(0x1233);
    expect(getEflags(r.vm.cpu.s) & F_ZF).toBe(0);
  });

  it('a changed RPL in a read-only page: #PF(7) at the destination, nothing changed', () => {
    const r = arpl(0x1230, 0x0002, (vm) => paged(vm, DATA | P | US));
    expect([r.outcome, r.cr2.toString(16)]).toEqual(['#PF(0x7)', (DATA + 0x10).toString(16)]);
    expect(r.word).toBe(0x1230);
    expect(getEflags(r.vm.cpu.s) & F_ZF).toBe(F_ZF);
  });

  it('a not-present page: #PF(4), a read fault', () => {
    const r = arpl(0x1230, 0x0002, (vm) => paged(vm, 0));
    expect([r.outcome, r.cr2.toString(16)]).toEqual(['#PF(0x4)', (DATA + 0x10).toString(16)]);
  });

  it('a changed RPL in a writable page: written, ZF = 1', () => {
    const r = arpl(0x1231, 0x0003, (vm) => paged(vm, DATA | P | RW | US));
    expect(r.outcome).toBe('done');
    expect(r.word).toBe(0x1233);
    expect(getEflags(r.vm.cpu.s) & F_ZF).toBe(F_ZF);
  });

  it('a read-only data segment: no fault when unchanged, #GP(0) when the RPL changes', () => {
    // DS: a flat read-only data segment (type 1), DPL 3.
    const ro = (vm: Vm): void => vm.cpu.setSegment(SEG_DS, 0x2b, 0, -1, SEGF_USABLE | SEGF_P | SEGF_S | 0x60 | 0x01);
    const same = arpl(0x4442, 0x0001, ro);
    expect(same.outcome).toBe('done');
    expect(same.word).toBe(0x4442);
    const changed = arpl(0x4440, 0x0001, ro);
    expect(changed.outcome).toBe('#GP(0x0)');
    expect(changed.word).toBe(0x4440);
  });
});
