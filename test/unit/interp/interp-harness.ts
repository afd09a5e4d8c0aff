/**
 * Harness for the interpreter's integer-instruction unit tests (interp-*.test.ts): assembles a
 * snippet with nasm, runs it in a fresh VM (flat 32-bit protected mode, CPL 0, paging off unless
 * a test turns it on) with given registers, flags and memory, and stops at the trailing UD2 or
 * at the first fault (not delivered), so a test sees the exact state a fault leaves.
 *
 * Tests compare full state: `expectRegs` checks all eight registers against the initial values
 * with the expected changes applied, so an unintended write to any register fails the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CR, EFLAGS, LF_OP, SEG_CS, SEGF_DB } from '../../../translator/abi.ts';
import type { GuestFault } from '../../../runtime/fault.ts';
import { getEflags } from '../../../runtime/lazy-flags.ts';
import { Vm } from '../../../runtime/vm.ts';

export const CODE = 0x1000;
export const STACK = 0x80000;
/** A scratch data area tests use for memory operands. */
export const DATA = 0x20000;

/** Distinct initial register values, so an unexpected write shows. */
export const INIT_REGS: readonly number[] = [
  0xa1a2a3a4, 0xb1b2b3b4, 0xc1c2c3c4, 0xd1d2d3d4, STACK, 0xe1e2e3e4, 0xf1f2f3f4, 0x91929394,
];

export const F = { CF: 0x001, PF: 0x004, AF: 0x010, ZF: 0x040, SF: 0x080, DF: 0x400, OF: 0x800 } as const;
/** The six status flags. */
export const STATUS = 0x8d5;

export interface ExecOptions {
  /** Registers by number (0 = EAX .. 7 = EDI); others keep INIT_REGS. */
  regs?: Partial<Record<number, number>>;
  /** Initial EFLAGS (bit 1 is forced on). */
  flags?: number;
  /** Physical memory to initialise: address -> bytes. */
  mem?: Record<number, ArrayLike<number>>;
  /** Assemble and run as 16-bit code (CS.D = 0, limit 64 KiB). */
  code16?: boolean;
  /** Further machine setup before the run (segments, paging...). */
  setup?: (vm: Vm) => void;
  budget?: number;
}

export interface ExecResult {
  vm: Vm;
  /** Registers after the run, unsigned. */
  regs: number[];
  /** Full EFLAGS after the run. */
  flags: number;
  /** Execution reached the trailing UD2. */
  completed: boolean;
  /** The fault that stopped the run (undefined when completed). */
  fault: GuestFault | undefined;
  eip: number;
  /** Instructions (handler calls) executed. */
  executed: number;
  /** Address of the trailing UD2. */
  end: number;
  /** Little-endian dword / word / byte at a physical address. */
  d(addr: number): number;
  w(addr: number): number;
  b(addr: number): number;
}

/** Assembles `src` with nasm at `org`. */
export function assemble(src: string, org: number, bits: 16 | 32): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'interp-test-'));
  try {
    const path = join(dir, 't.asm');
    writeFileSync(path, `bits ${bits}\norg 0x${org.toString(16)}\n${src}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 't.bin'), path], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Uint8Array(readFileSync(join(dir, 't.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `src` (followed by UD2) at CODE. */
export function exec(src: string, opts: ExecOptions = {}): ExecResult {
  const bits = opts.code16 ? 16 : 32;
  const code = assemble(src, CODE, bits);
  const vm = new Vm({ memorySize: 4 << 20 });
  const cpu = vm.cpu;
  vm.resetFlat32(CODE, STACK);
  if (opts.code16) cpu.setSegment(SEG_CS, 0x08, 0, 0xffff, cpu.segFlags(SEG_CS) & ~SEGF_DB & ~0x8000);
  const end = CODE + code.length;
  vm.writePhys(CODE, [...code, 0x0f, 0x0b]);
  for (const [a, bytes] of Object.entries(opts.mem ?? {})) vm.writePhys(Number(a), bytes);
  INIT_REGS.forEach((v, r) => { cpu.s[r] = opts.regs?.[r] ?? v; });
  cpu.s[EFLAGS >> 2] = (opts.flags ?? 0) | 2;
  cpu.s[LF_OP >> 2] = 0;
  opts.setup?.(vm);
  vm.stopOnFault = true;
  const result = vm.run(opts.budget ?? 1_000_000);
  const completed = result.reason === 'fault' && result.fault?.vector === 6 && cpu.eip === end;
  const rd = (a: number, n: number): number => {
    const b = vm.readPhys(a, n);
    let v = 0;
    for (let k = n - 1; k >= 0; k--) v = v * 256 + b[k];
    return v;
  };
  return {
    vm,
    regs: Array.from(cpu.s.subarray(0, 8), (v) => v >>> 0),
    flags: getEflags(cpu.s),
    completed,
    fault: completed ? undefined : result.fault,
    eip: cpu.eip,
    executed: result.executed,
    end,
    d: (a) => rd(a, 4),
    w: (a) => rd(a, 2),
    b: (a) => rd(a, 1),
  };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** Checks all eight registers: the initial values with `changes` applied. */
export function expectRegs(r: ExecResult, initial: Partial<Record<number, number>>, changes: Partial<Record<number, number>>): void {
  const want = INIT_REGS.map((v, k) => hex(changes[k] ?? initial[k] ?? v));
  expect(r.regs.map(hex)).toEqual(want);
}

/** Checks the flags selected by `mask`. */
export function expectFlags(r: ExecResult, mask: number, want: number): void {
  expect(hex(r.flags & mask)).toBe(hex(want & mask));
}

/** Checks that the run completed (reached the UD2 after the snippet). */
export function expectCompleted(r: ExecResult): void {
  expect(r.fault?.toString() ?? 'completed').toBe('completed');
  expect(r.completed).toBe(true);
}

/**
 * Turns on paging with an identity map of the first 4 MiB (supervisor, writable) except the
 * pages listed in `notPresent`. Page directory at 0x3F0000, table at 0x3F1000.
 */
export function identityPaging(vm: Vm, notPresent: readonly number[] = []): void {
  const pd = 0x3f0000;
  const pt = 0x3f1000;
  const bytes = new Uint8Array(0x2000);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, pt | 3, true);
  for (let p = 0; p < 1024; p++) {
    if (!notPresent.includes(p << 12)) dv.setUint32(0x1000 + p * 4, (p << 12) | 3, true);
  }
  vm.writePhys(pd, bytes);
  const s = vm.cpu.s;
  s[(CR >> 2) + 3] = pd;
  s[CR >> 2] |= 0x80000000;
  vm.cpu.flushTlb(false);
  vm.cpu.refreshMode();
}

/** Bytes of little-endian dwords. */
export function dwords(...v: number[]): number[] {
  return v.flatMap((x) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, x >>> 24]);
}
