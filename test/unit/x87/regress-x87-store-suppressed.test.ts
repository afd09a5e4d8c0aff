/**
 * Regression (real-CPU oracle on an Intel host): an x87 store whose result raises an unmasked
 * invalid-operation exception (here a stack underflow with IE unmasked) writes nothing, and so
 * raises no #GP for a destination it may not write: the processor knows the store is suppressed
 * before it addresses the operand. The VM checked the segment first and raised #GP(0) for
 * `fstp dword cs:[...]`, `fistp qword cs:[...]` where the real CPU completed the instruction
 * with IE and ES set. With IE masked the store happens, and the write to the code segment faults.
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

describe('x87 stores suppressed by an unmasked exception do not address their operand', () => {
  for (const [name, op] of STORES) {
    it(`${name} cs:[m] with IE unmasked: no #GP, nothing written, IE SF ES set`, () => {
      const r = run(0x37e, op);
      expect(r.outcome).toBe('done');
      expect([...r.vm.readPhys(TARGET, 10)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa]);
      expect(getSw(r.vm.cpu) & 0xc1).toBe(0xc1);
    });
    it(`${name} cs:[m] with IE masked: the store happens and the code segment refuses it`, () => {
      expect(run(0x37f, op).outcome).toBe('#GP(0x0)');
    });
  }
});
