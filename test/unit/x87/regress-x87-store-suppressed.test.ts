/**
 * Regression (real-CPU oracle, AMD EPYC host): an x87 store addresses its operand before the
 * x87 decides what to store, so `fstp dword cs:[...]`, `fistp qword cs:[...]` fault with #GP(0)
 * even when the store would be suppressed by an unmasked invalid-operation exception (here a
 * stack underflow with IE unmasked). The VM returned early, without the segment check, and
 * completed the instruction with IE and ES set. (An Intel Xeon measured earlier completes it
 * that way: the oracle's `cpu-x87-suppressed-store` quirk; runtime/x87/README.md.) The fault
 * leaves the x87 state and the memory as they were.
 */
import { describe, expect, it } from 'vitest';
import { getSw } from '../../../runtime/x87/fpu.ts';
import { runSnippet } from '../../system/snippet.ts';
import { image } from './x87-harness.ts';

const IMAGE_AT = 0x2000;
const TARGET = 0x3000;

/** `frstor [2000h]`, then `op` with a CS override writing to [3000h]. */
function run(cw: number, op: number[]) {
  const code = [0xdd, 0x25, ...le(IMAGE_AT), 0x2e, ...op, ...le(TARGET)];
  return runSnippet(code, (vm) => {
    vm.writePhys(IMAGE_AT, image({ cw })); // every register empty: reading ST(0) underflows
    vm.writePhys(TARGET, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa]);
  });
}

function le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

const STORES: [string, number[]][] = [
  ['fstp dword', [0xd9, 0x1d]],
  ['fst qword', [0xdd, 0x15]],
  ['fistp qword', [0xdf, 0x3d]],
  ['fist word', [0xdf, 0x15]],
  ['fbstp tword', [0xdf, 0x35]],
  ['fstp tword', [0xdb, 0x3d]],
];

describe('x87 stores address their operand before the x87 response', () => {
  for (const [name, op] of STORES) {
    for (const [cw, what] of [[0x37e, 'IE unmasked (store suppressed)'], [0x37f, 'IE masked (indefinite stored)']] as const) {
      it(`${name} cs:[m] with ${what}: #GP(0), nothing written, status word unchanged`, () => {
        const r = run(cw, op);
        expect(r.outcome).toBe('#GP(0x0)');
        expect([...r.vm.readPhys(TARGET, 10)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa]);
        expect(getSw(r.vm.cpu)).toBe(0);
      });
    }
  }
});
