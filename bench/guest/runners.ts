/**
 * The three runners of bench:guest, each booting the same bench guest (guest.ts) and handing its
 * serial console to the session (session.ts) as it arrives, stamped with the host clock:
 *
 * - `wasmvisor`: the BUILT package (dist/, `npm run build` first when it is missing or older
 *   than the sources) under plain node: a child process runs driver.mjs, which imports
 *   dist/src/index.js, boots the guest with the public Machine API and copies the console to its
 *   stdout; it reports machine.stats() deltas per workload on fd 3.
 * - `v86`: the npm package v86 with Debian's SeaBIOS, in this process (bench/boot/v86.ts loads
 *   it); the console is seen byte by byte through its `serial0-output-byte` event.
 * - `qemu`: qemu-system-i386 with TCG and the qemu32 CPU model, a child process; the console is
 *   its stdout.
 *
 * A runner's probe says why it cannot run here; it never throws, and one absent runner does not
 * stop the others.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadV86, probeV86 } from '../boot/v86.ts';
import { probeQemu } from '../boot/qemu.ts';
import type { Availability } from '../boot/runner.ts';
import type { BenchGuest } from './guest.ts';

/** The repository root (this file is bench/guest/runners.ts). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A message from driver.mjs on fd 3 (see its header). */
export type DriverMessage =
  | { type: 'hello'; node: string; execArgv: string[]; nodeOptions: string; importMs: number }
  | { type: 'started'; createMs: number }
  | { type: 'stats'; workload: string; n: number; delta: Record<string, number> }
  | { type: 'exit'; reason: string; exitCode: number; detail: string; total: Record<string, number> };

/** Where a running guest sends what it does. */
export interface Sink {
  /** Console text that arrived at host time `atMs` (performance.now()). */
  console(text: string, atMs: number): void;
  /** The runner ended by itself (process exit, machine stop); `how` says how. */
  exited(how: string): void;
  /** A message from our driver (wasmvisor only). */
  driver?(message: DriverMessage): void;
}

/** A running guest. */
export interface Session {
  /** Tears the guest down (kill, destroy); resolves when it is gone. Idempotent. */
  kill(): Promise<void>;
  /** The tail of the runner's own diagnostics (a child's stderr), for failure messages. */
  diagnostics(): string;
}

export interface GuestRunner {
  name: string;
  label: string;
  /** Checks (and for wasmvisor, prepares) what the runner needs; never throws. */
  probe(): Promise<Availability>;
  /** Starts one boot; resolves with the session, or a reason it could not start. */
  start(guest: BenchGuest, sink: Sink): Promise<Session | string>;
  /** The command or setup, for the JSON record. */
  describe(guest: BenchGuest): string;
  /**
   * Whether the runner ends by itself when the guest powers off (QEMU and our driver exit);
   * v86 only halts its CPU, so the kernel's "reboot: Power down" line ends its run.
   */
  exitsOnPowerOff: boolean;
}

/** Bounded tail of a child's stderr. */
function tail(prev: string, chunk: Buffer): string {
  return (prev + chunk.toString('latin1')).slice(-4000);
}

/** Resolves when a child has exited and its pipes are drained (or it never started). */
function closedPromise(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => {
      if (child.pid === undefined) resolve();
    });
  });
}

/** Kills a child process group member and waits for it to be reaped. */
function killChild(child: ReturnType<typeof spawn>, closed: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  return closed;
}

// ---- wasmvisor ---------------------------------------------------------------------------------

/** Newest modification time (ms) of the .ts files under `dirs`, and of `files`. */
function newestSource(dirs: readonly string[], files: readonly string[]): { ms: number; path: string } {
  let best = { ms: 0, path: '' };
  const visit = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) visit(join(p, e));
    } else if ((p.endsWith('.ts') || files.includes(p)) && st.mtimeMs > best.ms) {
      best = { ms: st.mtimeMs, path: p };
    }
  };
  for (const d of dirs) visit(d);
  for (const f of files) visit(f);
  return best;
}

/** Runs `npm run build`; resolves with null or the tail of its output on failure. */
function npmBuild(): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = tail(out, c)));
    child.stderr.on('data', (c: Buffer) => (out = tail(out, c)));
    child.on('error', (e) => resolve(`cannot run npm: ${e.message}`));
    child.on('close', (code) => resolve(code === 0 ? null : out.trim().split('\n').slice(-6).join(' | ') || `exit code ${code}`));
  });
}

export interface WasmvisorOptions {
  /** Use dist/ as it is, even when older than the sources. */
  noBuild: boolean;
  onProgress: (message: string) => void;
}

export function wasmvisorRunner(opts: WasmvisorOptions): GuestRunner {
  const distIndex = join(REPO_ROOT, 'dist', 'src', 'index.js');
  const driver = join(import.meta.dirname, 'driver.mjs');
  return {
    name: 'wasmvisor',
    label: 'wasmvisor (dist/, node, translator)',
    exitsOnPowerOff: true,
    describe: (guest) => `${process.execPath} ${driver} dist/src/index.js ${guest.kernelPath} ${guest.initrdPath} ${guest.memory} "${guest.cmdline}"`,
    async probe(): Promise<Availability> {
      const src = newestSource(
        ['src', 'runtime', 'translator'].map((d) => join(REPO_ROOT, d)),
        ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => join(REPO_ROOT, f)),
      );
      const built = existsSync(distIndex) ? statSync(distIndex).mtimeMs : 0;
      if (!built || src.ms > built) {
        const why = built ? `dist/ is older than ${src.path.slice(REPO_ROOT.length + 1)}` : 'dist/ is missing';
        if (opts.noBuild) {
          if (!built) return { ok: false, reason: `${why} and --no-build was given` };
          opts.onProgress(`wasmvisor: ${why}; using it anyway (--no-build)`);
        } else {
          opts.onProgress(`wasmvisor: ${why}: npm run build`);
          const failed = await npmBuild();
          if (failed) return { ok: false, reason: `npm run build failed: ${failed}` };
        }
      }
      if (!existsSync(distIndex)) return { ok: false, reason: `${distIndex} missing after the build` };
      return { ok: true, version: `wasmvisor ${process.version} (dist/ built ${new Date(statSync(distIndex).mtimeMs).toISOString().slice(0, 16)})` };
    },
    async start(guest, sink): Promise<Session | string> {
      const child = spawn(process.execPath, [driver, distIndex, guest.kernelPath, guest.initrdPath, String(guest.memory), guest.cmdline], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let partial = '';
      const closed = closedPromise(child);
      child.stdout?.on('data', (c: Buffer) => sink.console(c.toString('latin1'), performance.now()));
      child.stderr?.on('data', (c: Buffer) => (stderr = tail(stderr, c)));
      const fd3 = child.stdio[3] as NodeJS.ReadableStream | null;
      fd3?.on('data', (c: Buffer) => {
        const lines = (partial + c.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          if (!l.trim()) continue;
          try {
            sink.driver?.(JSON.parse(l) as DriverMessage);
          } catch {
            stderr = tail(stderr, Buffer.from(`unparsable driver message: ${l.slice(0, 200)}\n`));
          }
        }
      });
      child.on('error', (e) => sink.exited(`cannot run node: ${e.message}`));
      child.on('close', (code, signal) => sink.exited(signal ? `driver killed by ${signal}` : `driver exited with code ${code}`));
      return { kill: () => killChild(child, closed), diagnostics: () => stderr.trim() };
    },
  };
}

// ---- v86 -------------------------------------------------------------------------------------

export function v86Runner(): GuestRunner {
  return {
    name: 'v86',
    label: 'v86 (JIT, SeaBIOS, this process)',
    exitsOnPowerOff: false,
    describe: () => 'v86 in this process: bzimage + initrd + cmdline, SeaBIOS bios.bin + vgabios-stdvga.bin',
    probe: () => probeV86(),
    async start(guest, sink): Promise<Session | string> {
      const loaded = await loadV86(guest);
      if (typeof loaded === 'string') return loaded;
      // v86 runs from timers and message callbacks: an exception in its loop surfaces here.
      let diag = '';
      const crashed = (e: Error): void => {
        diag = `v86 threw: ${e.message}`;
        sink.exited(diag);
      };
      process.on('uncaughtException', crashed);
      let emu: InstanceType<typeof loaded.V86>;
      try {
        emu = new loaded.V86(loaded.options);
      } catch (e) {
        process.off('uncaughtException', crashed);
        return `new V86() threw: ${(e as Error).message}`;
      }
      emu.add_listener('serial0-output-byte', (byte: number) => sink.console(String.fromCharCode(byte), performance.now()));
      emu.add_listener('emulator-stopped', () => sink.exited('emulator stopped'));
      let gone: Promise<void> | null = null;
      return {
        kill: () =>
          (gone ??= (async () => {
            try {
              await emu.destroy();
            } catch (e) {
              diag += `${diag ? '; ' : ''}destroy() threw: ${(e as Error).message}`;
            }
            process.off('uncaughtException', crashed);
          })()),
        diagnostics: () => diag,
      };
    },
  };
}

// ---- qemu ------------------------------------------------------------------------------------

const QEMU = 'qemu-system-i386';

/** The QEMU command line for one run. */
export function qemuArgs(guest: BenchGuest): string[] {
  return [
    '-accel', 'tcg', '-cpu', 'qemu32', '-nodefaults', '-m', String(Math.round(guest.memory / (1 << 20))),
    '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', guest.kernelPath, '-initrd', guest.initrdPath, '-append', guest.cmdline,
  ];
}

export function qemuRunner(): GuestRunner {
  return {
    name: 'qemu',
    label: 'QEMU TCG (qemu32)',
    exitsOnPowerOff: true,
    describe: (guest) => [QEMU, ...qemuArgs(guest).map((a) => (/\s/.test(a) ? `"${a}"` : a))].join(' '),
    probe: async () => (await probeQemu()).availability,
    async start(guest, sink): Promise<Session | string> {
      const child = spawn(QEMU, qemuArgs(guest), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      const closed = closedPromise(child);
      child.stdout.on('data', (c: Buffer) => sink.console(c.toString('latin1'), performance.now()));
      child.stderr.on('data', (c: Buffer) => (stderr = tail(stderr, c)));
      child.on('error', (e) => sink.exited(`cannot run ${QEMU}: ${e.message}`));
      child.on('close', (code, signal) => sink.exited(signal ? `qemu killed by ${signal}` : `qemu exited with code ${code}`));
      return { kill: () => killChild(child, closed), diagnostics: () => stderr.trim() };
    },
  };
}

/** Every runner, in table order. */
export function allRunners(opts: WasmvisorOptions): GuestRunner[] {
  return [wasmvisorRunner(opts), v86Runner(), qemuRunner()];
}
