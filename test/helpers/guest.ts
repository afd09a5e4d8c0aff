/**
 * Test helper: runs a snippet of 32-bit guest code in a fresh flat protected-mode VM (CPL 0,
 * paging off) and returns the VM. The snippet is followed by UD2; reaching it ends the run.
 */
import { Vm } from '../../runtime/vm.ts';
import type { Engine, RunResult } from '../../runtime/vm.ts';

export const CODE_BASE = 0x1000;
export const STACK_TOP = 0x80000;

export interface FlatRun {
  vm: Vm;
  result: RunResult;
  /** True if execution reached the trailing UD2 (normal completion). */
  completed: boolean;
}

export function runFlat(code: ArrayLike<number>, opts: { regs?: Partial<Record<number, number>>; budget?: number; engine?: Engine; forceTranslate?: boolean; memorySize?: number } = {}): FlatRun {
  const vm = new Vm({ memorySize: opts.memorySize ?? 4 << 20, engine: opts.engine ?? 'interp', forceTranslate: opts.forceTranslate ?? false });
  vm.resetFlat32(CODE_BASE, STACK_TOP);
  vm.writePhys(CODE_BASE, [...Array.from(code), 0x0f, 0x0b]);
  for (const [r, v] of Object.entries(opts.regs ?? {})) vm.cpu.s[Number(r)] = v ?? 0;
  vm.stopOnFault = true;
  const result = vm.run(opts.budget ?? 1_000_000);
  const completed = result.reason === 'fault' && result.fault?.vector === 6 && vm.cpu.eip === CODE_BASE + code.length;
  return { vm, result, completed };
}
