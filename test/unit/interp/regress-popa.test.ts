/**
 * Regression (real-CPU oracle, user3): POPA/POPAD read the stored-ESP slot too, though they
 * discard it. The handler used to skip that read, so when only that slot lay in a not-present
 * page the fault was reported at the next slot (CR2 off by the slot size), or not at all.
 */
import { describe, expect, it } from 'vitest';
import { CR, R_ESP } from '../../../translator/abi.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { writeCr0 } from '../../../runtime/vmm/control-regs.ts';
import { runSnippet } from '../../system/snippet.ts';

const PD = 0x200000;
const PT = 0x201000;
const HOLE = 0x402000;
const P = 1, RW = 2;

/** Paging on: 0..8 MiB identity-mapped except the not-present page at HOLE. */
function paged(vm: Vm): void {
  const d = (phys: number, v: number): void => vm.writePhys(phys, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  d(PD, PT | P | RW);
  d(PD + 4, (PT + 0x1000) | P | RW);
  for (let p = 0; p < 2048; p++) d(PT + 4 * p, p << 12 === HOLE ? 0 : (p << 12) | P | RW);
  vm.cpu.s[(CR >> 2) + 3] = PD;
  writeCr0(vm.cpu, 0x80000011 | 0);
}

/** Runs POPA (o16 or o32) with ESP = `esp`; returns the outcome, CR2 and the registers. */
function popa(o16: boolean, esp: number): { outcome: string; cr2: number; regs: number[] } {
  const before = [0x11111111, 0x22222222, 0x33333333, 0x44444444, esp, 0x66666666, 0x77777777, 0x88888888];
  const r = runSnippet(o16 ? [0x66, 0x61] : [0x61], (vm) => {
    paged(vm);
    before.forEach((v, k) => (vm.cpu.s[k] = v | 0));
  });
  return { outcome: r.outcome, cr2: r.vm.cpu.s[(CR >> 2) + 2] >>> 0, regs: [...r.vm.cpu.s.subarray(0, 8)].map((v) => v >>> 0) };
}

describe('POPA reads the skipped ESP slot', () => {
  it('POPAW: only the SP slot in the not-present page → #PF(0) with CR2 at that slot', () => {
    // Slots DI SI BP at HOLE-6..HOLE-1; the SP slot at HOLE.
    const r = popa(true, HOLE - 6);
    expect([r.outcome, r.cr2.toString(16)]).toEqual(['#PF(0x0)', HOLE.toString(16)]);
    expect(r.regs).toEqual([0x11111111, 0x22222222, 0x33333333, 0x44444444, HOLE - 6, 0x66666666, 0x77777777, 0x88888888]);
  });

  it('POPAD: the ESP slot straddling into the not-present page → #PF(0) with CR2 = HOLE', () => {
    // EDI ESI EBP at HOLE-14..HOLE-3; the ESP slot at HOLE-2..HOLE+1.
    const r = popa(false, HOLE - 14);
    expect([r.outcome, r.cr2.toString(16)]).toEqual(['#PF(0x0)', HOLE.toString(16)]);
    expect(r.regs[R_ESP]).toBe(HOLE - 14);
  });

  it('POPAD in mapped memory still discards the stored ESP', () => {
    const r = runSnippet([0x61], (vm) => {
      const words = [1, 2, 3, 0xdeadbeef, 5, 6, 7, 8];
      vm.writePhys(0x70000, words.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]));
      vm.cpu.s[R_ESP] = 0x70000;
    });
    expect(r.outcome).toBe('done');
    expect([...r.vm.cpu.s.subarray(0, 8)]).toEqual([8, 7, 6, 5, 0x70020, 3, 2, 1]);
  });
});
