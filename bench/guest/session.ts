/**
 * One run of one runner: boot the bench guest, stamp its console lines with the host clock as
 * they arrive, record the boot time and each workload's start-to-end time, and end the run when
 * the guest has reported its exit status and powered off (or kill it when it hangs).
 *
 * Timing: t0 is taken right before the runner starts (spawning the driver or QEMU, constructing
 * v86). "boot" is t0 to the bench init's first line; a workload's host time runs from the
 * arrival of its start line to the arrival of its end line. Nothing here uses the guest's clock
 * except to report it beside the host's.
 *
 * Hang detection: the run is killed when `timeoutMs` passes without a new bench line (so the
 * boot, and each workload on its own, must finish within it); the workloads finished before that
 * keep their times. After the exit line the runner gets `graceMs` to end by itself (QEMU and our
 * VM exit on the power-off; v86 only halts its CPU, so "reboot: Power down" on the console also
 * counts) and is torn down then in any case.
 */
import { lastConsoleLine } from '../boot/runner.ts';
import { LineSplitter, RunRecorder } from './console.ts';
import type { WorkloadRun } from './console.ts';
import type { BenchGuest } from './guest.ts';
import type { DriverMessage, GuestRunner } from './runners.ts';

export interface RunOptions {
  timeoutMs: number;
  graceMs: number;
  /** The workloads the guest is to run (each must report OK for the run to be ok). */
  workloads: readonly string[];
  /** Raw console text, for --verbose. */
  onConsole?: (text: string) => void;
}

/** Per workload statistics deltas from our driver (wasmvisor only). */
export interface DriverStats {
  n: number;
  delta: Record<string, number>;
}

/** Everything one run measured. */
export interface RunResult {
  runner: string;
  round: number;
  ok: boolean;
  /** Failures, or notes; empty when all went well. */
  detail: string;
  /** Host seconds from the runner's start to the init's first line. */
  bootSeconds: number | null;
  workloads: WorkloadRun[];
  /** How the run ended: "powered off" (by itself), "killed after ...", ... */
  ending: string;
  /** Our driver's messages: statistics per workload ("boot" too) and its hello/started/exit. */
  stats?: Record<string, DriverStats>;
  driver?: { node?: string; execArgv?: string[]; nodeOptions?: string; importMs?: number; createMs?: number; exit?: string; total?: Record<string, number> };
}

/** Console text kept for failure messages. */
const TAIL = 8192;

export async function runOnce(runner: GuestRunner, guest: BenchGuest, round: number, opts: RunOptions): Promise<RunResult> {
  const splitter = new LineSplitter();
  let consoleTail = '';
  const problems: string[] = [];
  const stats: Record<string, DriverStats> = {};
  const driver: NonNullable<RunResult['driver']> = {};
  let exitLineAt: number | null = null;
  let ended: string | null = null;

  let wake: () => void = () => {};
  const changed = (): void => wake();

  const t0 = performance.now();
  const rec = new RunRecorder(t0);
  let lastProgress = t0;
  const sink = {
    console(text: string, atMs: number): void {
      opts.onConsole?.(text);
      consoleTail = (consoleTail + text).slice(-TAIL);
      for (const line of splitter.feed(text, atMs)) {
        const b = rec.line(line);
        if (b) lastProgress = atMs;
        if (b?.kind === 'exit') exitLineAt = atMs;
        if (exitLineAt !== null && !runner.exitsOnPowerOff && /reboot: (Power down|System halted)/.test(line.text)) ended ??= 'powered off';
      }
      changed();
    },
    exited(how: string): void {
      ended ??= how;
      changed();
    },
    driver(m: DriverMessage): void {
      if (m.type === 'stats') stats[m.workload] = { n: m.n, delta: m.delta };
      else if (m.type === 'hello') Object.assign(driver, { node: m.node, execArgv: m.execArgv, nodeOptions: m.nodeOptions, importMs: m.importMs });
      else if (m.type === 'started') driver.createMs = m.createMs;
      else if (m.type === 'exit') {
        driver.exit = `${m.reason}${m.detail ? ` (${m.detail})` : ''}`;
        driver.total = m.total;
      }
    },
  };

  const session = await runner.start(guest, sink);
  if (typeof session === 'string') {
    return { runner: runner.name, round, ok: false, detail: `could not start: ${session}`, bootSeconds: null, workloads: [], ending: 'not started' };
  }

  // Wait for: the end of the guest, a hang, or the grace period after the exit line.
  let ending: string;
  for (;;) {
    const now = performance.now();
    if (exitLineAt !== null && ended !== null) {
      ending = /exited with code 0|powered off/.test(ended) ? 'powered off' : ended;
      if (driver.exit !== undefined && !driver.exit.startsWith('poweroff')) ending = `the machine stopped: ${driver.exit}`;
      break;
    }
    if (exitLineAt !== null && now - exitLineAt >= opts.graceMs) {
      ending = `killed ${(opts.graceMs / 1000).toFixed(0)} s after the exit line (it did not end by itself)`;
      break;
    }
    if (exitLineAt === null && ended !== null) {
      ending = ended;
      problems.push(`the runner ended before the guest was done: ${ended}`);
      break;
    }
    if (exitLineAt === null && now - lastProgress >= opts.timeoutMs) {
      const where = rec.current() ?? (rec.bootSeconds === null ? 'the boot' : 'between workloads');
      ending = `killed: timed out`;
      problems.push(`no progress for ${(opts.timeoutMs / 1000).toFixed(0)} s (in ${where})`);
      break;
    }
    const deadline = exitLineAt !== null ? exitLineAt + opts.graceMs : lastProgress + opts.timeoutMs;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, deadline - now));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = () => {};
  }
  await session.kill();

  // Check what the guest reported against what it was asked to run.
  if (rec.bootSeconds === null) problems.push('the bench init never printed its first line');
  for (const w of opts.workloads) {
    const r = rec.workloads.find((x) => x.workload === w);
    if (!r) {
      if (rec.bootSeconds !== null && !problems.some((p) => p.startsWith('no progress'))) problems.push(`${w}: no result`);
    } else if (!r.ok) problems.push(`${w}: FAIL (${r.why ?? 'no reason given'})`);
  }
  problems.push(...rec.errors);
  if (rec.exitCode !== null && rec.exitCode !== 0 && !rec.workloads.some((w) => !w.ok)) problems.push(`the workload program exited with ${rec.exitCode}`);
  if (problems.length) {
    const last = lastConsoleLine(consoleTail);
    const diag = session.diagnostics().split('\n').filter(Boolean).slice(-2).join(' | ');
    if (last) problems.push(`last console line: "${last}"`);
    if (diag) problems.push(`runner said: ${diag}`);
  }
  if (driver.execArgv?.length || driver.nodeOptions) problems.push(`the driver did not run under plain node (execArgv ${JSON.stringify(driver.execArgv)}, NODE_OPTIONS "${driver.nodeOptions}")`);

  return {
    runner: runner.name,
    round,
    ok: problems.length === 0,
    detail: problems.join('; '),
    bootSeconds: rec.bootSeconds,
    workloads: rec.workloads,
    ending,
    ...(Object.keys(stats).length ? { stats } : {}),
    ...(Object.keys(driver).length ? { driver } : {}),
  };
}
