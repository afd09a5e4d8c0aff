/**
 * Test helper for the system unit tests: runs a snippet of 32-bit code in a fresh flat
 * protected-mode VM after a setup callback (CPL, control registers, page tables, TSS...) and
 * stops at the first fault instead of delivering it, so a test sees the exact exception.
 * The snippet is followed by UD2; reaching it means the snippet completed.
 */
import { CPL, EFLAGS, SEG_CS, SEG_SS } from '../../translator/abi.ts';
import type { IoBus } from '../../runtime/cpu.ts';
import { Vm } from '../../runtime/vm.ts';
import type { RunResult } from '../../runtime/vm.ts';

export const CODE = 0x1000;
export const STACK = 0x80000;

export interface Snippet {
  vm: Vm;
  result: RunResult;
  /** The fault as '#GP(0x0)' etc., 'done' if the snippet reached its UD2, else the stop reason. */
  outcome: string;
}

export function runSnippet(code: readonly number[], setup?: (vm: Vm) => void, io?: IoBus): Snippet {
  const vm = new Vm({ memorySize: 8 << 20, ...(io ? { io } : {}) });
  vm.resetFlat32(CODE, STACK);
  vm.writePhys(CODE, [...code, 0x0f, 0x0b]);
  setup?.(vm);
  vm.stopOnFault = true;
  const result = vm.run(10_000);
  let outcome: string = result.reason;
  if (result.reason === 'fault' && result.fault) {
    outcome = result.fault.vector === 6 && vm.cpu.eip === CODE + code.length ? 'done' : result.fault.toString();
  }
  return { vm, result, outcome };
}

/** Puts the CPU at CPL 3 with RPL-3 CS/SS selectors (the descriptor caches stay flat). */
export function toCpl3(vm: Vm, iopl = 0): void {
  const s = vm.cpu.s;
  s[CPL >> 2] = 3;
  s[EFLAGS >> 2] = (s[EFLAGS >> 2] & ~0x3000) | (iopl << 12);
  vm.cpu.setSegment(SEG_CS, 0x1b, 0, -1, vm.cpu.segFlags(SEG_CS) | 0x60);
  vm.cpu.setSegment(SEG_SS, 0x23, 0, -1, vm.cpu.segFlags(SEG_SS) | 0x60);
  vm.cpu.refreshMode();
}
