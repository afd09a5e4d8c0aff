/**
 * The bench guest: the default Debian 12 i386 guest (kernel + busybox initramfs, built and cached
 * by src/guest/build.ts) with a second cpio archive appended to its initramfs, holding our
 * workload program (workloads.c, compiled here with gcc -m32 -static) and a bench init. Linux
 * unpacks concatenated archives in order, so the default /init stays as it is; the command line
 * selects ours with `rdinit=/bench/init` and passes the scale and the workload list as
 * `wvb_scale=` and `wvb_only=`, which the kernel hands to init as environment variables.
 *
 * The program is never run on the host (CI hosts cannot execute i386 code); it is only compiled.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildGuest } from '../../src/guest/build.ts';
import type { GuestImages } from '../../src/guest/build.ts';
import { writeCpio } from '../../src/guest/cpio.ts';

/** gcc flags for the workload program (i686 without SSE: every runner's CPU model has it). */
export const GCC_FLAGS = ['-m32', '-march=i686', '-mno-sse', '-static', '-O2', '-Wall'];

/** The workload program's source, next to this file. */
export const WORKLOADS_SOURCE = join(import.meta.dirname, 'workloads.c');

/** Where the bench keeps its builds (gitignored). */
export const BENCH_CACHE = join(import.meta.dirname, '..', '..', '.cache', 'bench-guest');

/** What every runner boots. */
export interface BenchGuest {
  kernelPath: string;
  initrdPath: string;
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: string;
  /** Guest RAM in bytes. */
  memory: number;
  /** The default guest it was made from. */
  base: GuestImages;
  /** The compiled program's path in the cache and its SHA256. */
  program: { path: string; sha256: string; gcc: string };
}

/**
 * /bench/init: mount the kernel file systems as the default init does, say so, run the
 * workloads, report the exit status and power off. Only busybox itself is called, by path, so
 * it works whether or not the applet links are in the initramfs.
 */
export function benchInitScript(): string {
  return [
    '#!/bin/sh',
    '# wasmvisor bench:guest init: run the workload program once, then power off.',
    'export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root',
    '/bin/busybox mount -t proc proc /proc',
    '/bin/busybox mount -t sysfs sysfs /sys',
    '/bin/busybox mount -t devtmpfs devtmpfs /dev',
    'echo "@wvb init scale=${wvb_scale:-1} only=${wvb_only:-all}"',
    '/bench/workloads "${wvb_scale:-1}" "${wvb_only:-all}"',
    'echo "@wvb exit $?"',
    '/bin/busybox poweroff -f',
    '',
  ].join('\n');
}

/** The kernel command line for a run: the guest's own plus the bench's parameters. */
export function benchCmdline(base: string, scale: number, only: readonly string[]): string {
  return `${base} rdinit=/bench/init wvb_scale=${scale} wvb_only=${only.length ? only.join(',') : 'none'}`;
}

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** Writes a file through a temporary name, so a reader never sees half of it. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Compiles workloads.c into the cache (again only when the source, the flags or the compiler
 * changed). Throws with a clear message when gcc cannot build 32-bit programs.
 */
export async function buildWorkloadProgram(cacheDir = BENCH_CACHE): Promise<BenchGuest['program']> {
  const run = promisify(execFile);
  let gcc: string;
  try {
    gcc = (await run('gcc', ['--version'])).stdout.split('\n')[0];
  } catch (e) {
    throw new Error('gcc not found: the workload program is compiled with gcc -m32 -static (apt-get install gcc gcc-multilib)', { cause: e });
  }
  const source = readFileSync(WORKLOADS_SOURCE);
  const key = sha256(`${sha256(source)} ${GCC_FLAGS.join(' ')} ${gcc}`).slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `workloads-${key}`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await run('gcc', [...GCC_FLAGS, '-o', tmp, WORKLOADS_SOURCE]);
    } catch (e) {
      const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
      const hint = /gnu\/stubs-32\.h|cannot find -lc|skipping incompatible|bits\/.*\.h: No such file/.test(stderr)
        ? ' — gcc -m32 is missing its 32-bit libraries: apt-get install gcc-multilib (test/setup/system-deps.sh installs it)'
        : '';
      throw new Error(`gcc ${GCC_FLAGS.join(' ')} bench/guest/workloads.c failed${hint}:\n${stderr.split('\n').slice(-8).join('\n')}`, { cause: e });
    }
    renameSync(tmp, path);
  }
  return { path, sha256: sha256(readFileSync(path)), gcc };
}

export interface BenchGuestOptions {
  /** The default guest's cache (src/guest/build.ts). */
  guestCacheDir: string;
  cacheDir?: string;
  memory: number;
  scale: number;
  /** Workloads for the program to run (none: only the boot is measured). */
  only: readonly string[];
  onProgress?: (message: string) => void;
}

/** Builds (or reuses) everything a run needs and writes the bench initramfs. */
export async function buildBenchGuest(opts: BenchGuestOptions): Promise<BenchGuest> {
  const cacheDir = opts.cacheDir ?? BENCH_CACHE;
  const base = await buildGuest({ cacheDir: opts.guestCacheDir, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const program = await buildWorkloadProgram(cacheDir);
  const extra = writeCpio([
    { kind: 'dir', path: 'bench' },
    { kind: 'file', path: 'bench/init', data: new TextEncoder().encode(benchInitScript()), mode: 0o755 },
    { kind: 'file', path: 'bench/workloads', data: new Uint8Array(readFileSync(program.path)), mode: 0o755 },
  ]);
  const first = new Uint8Array(readFileSync(base.initrd));
  // Each archive starts 4-byte aligned; the kernel skips the zero padding between them.
  const at = (first.length + 3) & ~3;
  const initrd = new Uint8Array(at + extra.length);
  initrd.set(first);
  initrd.set(extra, at);
  const initrdPath = join(cacheDir, 'initrd.img');
  writeAtomic(initrdPath, initrd);
  return {
    kernelPath: base.kernel,
    initrdPath,
    kernel: new Uint8Array(readFileSync(base.kernel)),
    initrd,
    cmdline: benchCmdline(base.cmdline, opts.scale, opts.only),
    memory: opts.memory,
    base,
    program,
  };
}
