/**
 * Peer runner: qemu-system-i386 with TCG (Debian's qemu-system-x86), the whole-system reference
 * of design.md §7. Same guest, RAM and command line as every other runner; the smallest CPU model
 * that boots the Debian 686 kernel (`pentium2`: it needs CMOV); no default devices; the console
 * on COM1 piped to us. QEMU boots through SeaBIOS and its linuxboot option ROM, which costs it
 * a few tenths of a second that our direct Linux-boot-protocol load does not pay.
 *
 * Time runs from spawn to the marker on QEMU's stdout; the process is then killed (it would run
 * the shell forever) and reaped before `run` resolves. CPU time is read from /proc/<pid>/stat at
 * the marker, since Node gives no rusage for a child that is still running. `probeQemu` is shared
 * with bench/guest/runners.ts.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { failure, MarkerWatch, secondsSince } from './runner.ts';
import type { Availability, BootGuest, BootResult, RunContext, Runner } from './runner.ts';

const QEMU = 'qemu-system-i386';

/** The command line for one boot (exported for the JSON record and for inspection). */
export function qemuArgs(guest: BootGuest): string[] {
  return [
    '-M', 'pc', '-accel', 'tcg', '-cpu', 'pentium2', '-m', `${Math.round(guest.memory / (1 << 20))}M`,
    '-nodefaults', '-nographic', '-serial', 'stdio', '-no-reboot',
    '-kernel', guest.kernelPath, '-initrd', guest.initrdPath, '-append', guest.cmdline,
  ];
}

/** User + system CPU seconds of a live process, from /proc (Linux); undefined elsewhere. */
function procCpuSeconds(pid: number, ticksPerSecond: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Whether qemu-system-i386 runs here (its version), and the host's clock ticks per second. */
export async function probeQemu(): Promise<{ availability: Availability; ticksPerSecond: number }> {
  let ticksPerSecond = 100;
  try {
    const { stdout } = await promisify(execFile)(QEMU, ['--version']);
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'latin1' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
    return { availability: { ok: true, version: stdout.split('\n')[0].replace(/^QEMU emulator version\s*/, 'QEMU ') }, ticksPerSecond };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      availability: {
        ok: false,
        reason: code === 'ENOENT' ? `${QEMU} not found (install: apt-get install qemu-system-x86)` : `${QEMU} --version failed: ${(e as Error).message}`,
      },
      ticksPerSecond,
    };
  }
}

/** The QEMU TCG runner. */
export function qemuRunner(): Runner {
  let ticks = 100;
  return {
    name: 'qemu',
    label: 'QEMU TCG (pentium2)',
    async probe(): Promise<Availability> {
      const p = await probeQemu();
      ticks = p.ticksPerSecond;
      return p.availability;
    },
    run(guest: BootGuest, ctx: RunContext): Promise<BootResult> {
      const watch = new MarkerWatch(guest.marker);
      let stderr = '';
      return new Promise((resolve) => {
        const t0 = performance.now();
        const child = spawn(QEMU, qemuArgs(guest), { stdio: ['pipe', 'pipe', 'pipe'] });
        let result: BootResult | null = null;
        const end = (r: BootResult): void => {
          if (result) return;
          result = r;
          clearTimeout(timer);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        };
        const timer = setTimeout(
          () => end(failure('qemu', `no marker after ${ctx.timeoutMs / 1000} s`, watch.lastLine())),
          ctx.timeoutMs,
        );
        child.stdout.on('data', (chunk: Buffer) => {
          const text = chunk.toString('latin1');
          ctx.onConsole?.(text);
          if (!watch.feed(text)) return;
          const seconds = secondsSince(t0);
          const cpu = child.pid !== undefined ? procCpuSeconds(child.pid, ticks) : undefined;
          end({ name: 'qemu', secondsToPrompt: seconds, ok: true, detail: '', ...(cpu !== undefined ? { cpuSeconds: cpu } : {}) });
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString('latin1')).slice(-2000);
        });
        child.on('error', (e) => {
          // A failed spawn may never emit 'close': there is no process to wait for.
          end(failure('qemu', `cannot run ${QEMU}: ${e.message}`));
          if (child.pid === undefined) resolve(result as BootResult);
        });
        // 'close' comes after the process has exited and its pipes are drained: the boot is over.
        child.on('close', (code, signal) => {
          end(failure('qemu', `exited before the marker (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`, watch.lastLine()));
          resolve(result as BootResult);
        });
      });
    },
  };
}
