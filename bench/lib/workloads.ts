/**
 * The guest workloads of the benchmark: flat 32-bit programs written in nasm (bench/workloads/),
 * assembled at bench time into .cache/bench/ (gitignored). Each ends with HLT and leaves a
 * result the harness checks after every run, so a broken engine cannot post a fast time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registers } from '../../src/index.ts';

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** Guest RAM for it. */
  readonly memorySize: number;
  /** Checks the final registers; returns an error message or null. */
  check(regs: Registers): string | null;
}

const expectReg = (r: keyof Registers, want: number, what: string) => (regs: Registers): string | null =>
  regs[r] === want >>> 0 ? null : `${r.toUpperCase()} ${what} = 0x${regs[r].toString(16)}, expected 0x${(want >>> 0).toString(16)}`;

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'compute',
    description: 'integer compute: sieve of Eratosthenes + xorshift/multiply mixing, in small functions',
    memorySize: 4 << 20,
    check: expectReg('eax', 6542, '(primes below 65536)'),
  },
  {
    name: 'memcpy-loop',
    description: 'memory copy with an explicit load/store loop, 8 x 256 KiB',
    memorySize: 4 << 20,
    check: () => null,
  },
  {
    name: 'memcpy-rep',
    description: 'memory copy with REP MOVSD, 64 x 256 KiB',
    memorySize: 4 << 20,
    check: () => null,
  },
  {
    name: 'calls',
    description: 'call/return-heavy recursion: naive fib(24) with stack frames, twice',
    memorySize: 1 << 20,
    check: expectReg('eax', 46368, '(fib 24)'),
  },
  {
    name: 'sensitive',
    description: 'PUSHF/POPF/CLI/STI and port I/O in a loop: every one a VMM exit',
    memorySize: 1 << 20,
    check: () => null,
  },
  {
    name: 'exceptions',
    description: 'divide by zero in a loop: every iteration one #DE delivered through the IDT and an IRETD',
    memorySize: 1 << 20,
    check: expectReg('ebx', 20000, '(#DE handled)'),
  },
  {
    name: 'x87',
    description: 'double-precision x87 code at the FNINIT control word: m64 loads/stores, FSQRT, FDIV, FMUL, FCOMP/FNSTSW/SAHF',
    memorySize: 1 << 20,
    check: (regs) => expectReg('eax', 1885689, '(round(sum of sqrt(i)))')(regs) ?? expectReg('ebx', 10481, '(round(1000 harmonic))')(regs) ?? expectReg('ecx', 39998, '(round(max))')(regs),
  },
  {
    name: 'smc',
    description: 'a loop that rewrites an immediate in its own code every iteration',
    memorySize: 1 << 20,
    check: expectReg('ebx', 200010000, '(sum 1..20000)'),
  },
];

const here = dirname(fileURLToPath(import.meta.url));
const SRC = join(here, '..', 'workloads');
const OUT = join(here, '..', '..', '.cache', 'bench');

/** Assembles `name` (if its binary is missing or older than the source) and returns the bytes. */
export function workloadImage(name: string): Uint8Array {
  const src = join(SRC, `${name}.asm`);
  const bin = join(OUT, `${name}.bin`);
  mkdirSync(OUT, { recursive: true });
  let stale: boolean;
  try {
    stale = statSync(bin).mtimeMs < statSync(src).mtimeMs;
  } catch {
    stale = true;
  }
  if (stale) execFileSync('nasm', ['-f', 'bin', '-o', bin, src], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Uint8Array(readFileSync(bin));
}

/** Where every workload is loaded and starts. */
export const LOAD_ADDRESS = 0x1000;
