/**
 * `npm run bench:guest`: workloads inside the Debian guest, timed by the host, under our VM (the
 * built package under node), v86 and QEMU TCG, alternated round by round. See README.md here.
 * A benchmark, never a test: it prints a table of times and ratios, writes an SVG chart and
 * optionally JSON; nothing asserts a speed. A workload that computes a wrong result, or a run
 * that hangs, makes the exit code 1.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../../src/guest/build.ts';
import { buildBenchGuest } from './guest.ts';
import type { BenchGuest } from './guest.ts';
import { formatStats, formatTable, medianDeltas, summarize, svgChart, WORKLOADS } from './report.ts';
import { allRunners, REPO_ROOT } from './runners.ts';
import type { GuestRunner } from './runners.ts';
import { runOnce } from './session.ts';
import type { RunResult } from './session.ts';

const GUEST_MEMORY = 128 << 20;
const DEFAULT_TIMEOUT_S = 600;
const GRACE_MS = 10_000;
const DEFAULT_SVG = join(import.meta.dirname, '..', 'results', 'guest.svg');
const RUNNER_NAMES = ['wasmvisor', 'v86', 'qemu'];

const USAGE = `usage: npm run bench:guest -- [options]
Boots the Debian 12 i386 guest with a bench init and times workloads inside it, by the host clock,
under each runner, round by round (every runner once per round):
  wasmvisor  our VM: dist/ (npm run build when stale) under node, driver.mjs
  v86        npm package v86 with SeaBIOS, in this process
  qemu       qemu-system-i386 -accel tcg -cpu qemu32
workloads:
${WORKLOADS.map((w) => `  ${w.name.padEnd(10)} ${w.what}`).join('\n')}
options:
  --rounds N      rounds (default 3); the table shows median (min..max)
  --only LIST     workloads, comma-separated (default: all)
  --runners LIST  runners, comma-separated (default: all)
  --scale F       multiply every iteration count by F (e.g. 0.05 for a quick check; default 1)
  --timeout S     kill a run after S seconds without progress (the boot and each workload
                  must finish within S; default ${DEFAULT_TIMEOUT_S})
  --json FILE     also write every run and the summary as JSON
  --svg FILE      the chart (default bench/results/guest.svg)
  --stats         print wasmvisor's machine.stats() deltas per workload (exits, classes, ...)
  --verbose       copy the guest consoles to stderr
  --no-build      use dist/ as it is even when older than the sources
  --cache DIR     the default guest's cache (default: $WASMVISOR_CACHE or ~/.cache/wasmvisor/guest)
  --help          this text`;

export interface GuestBenchArgs {
  rounds: number;
  only: string[];
  runners: string[];
  scale: number;
  timeoutS: number;
  json: string | null;
  svg: string;
  stats: boolean;
  verbose: boolean;
  noBuild: boolean;
  cache: string;
  help: boolean;
}

/** A comma list, each element checked against `known`. */
function list(v: string | undefined, known: readonly string[], what: string): string[] {
  if (v === undefined) return [...known];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !known.includes(s));
  if (bad !== undefined || !items.length) throw new Error(`${what}: unknown name "${bad ?? ''}" (known: ${known.join(', ')})`);
  return known.filter((k) => items.includes(k));
}

/** Parses the command line; throws an Error with a user-facing message on bad input. */
export function parseGuestBenchArgs(argv: readonly string[]): GuestBenchArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      only: { type: 'string' },
      runners: { type: 'string' },
      scale: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'string' },
      svg: { type: 'string' },
      stats: { type: 'boolean' },
      verbose: { type: 'boolean' },
      'no-build': { type: 'boolean' },
      cache: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  const positive = (v: string | undefined, what: string, dflt: number, integer: boolean): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${what} must be a positive ${integer ? 'integer' : 'number'} (got "${v}")`);
    return n;
  };
  return {
    rounds: positive(values.rounds, '--rounds', 3, true),
    only: list(values.only, WORKLOADS.map((w) => w.name), '--only'),
    runners: list(values.runners, RUNNER_NAMES, '--runners'),
    scale: positive(values.scale, '--scale', 1, false),
    timeoutS: positive(values.timeout, '--timeout', DEFAULT_TIMEOUT_S, false),
    json: values.json ?? null,
    svg: values.svg ?? DEFAULT_SVG,
    stats: values.stats ?? false,
    verbose: values.verbose ?? false,
    noBuild: values['no-build'] ?? false,
    cache: values.cache ?? defaultCacheDir(),
    help: values.help ?? false,
  };
}

/** One line per run for the progress log. */
function runLine(r: RunResult): string {
  const parts = [`boot ${r.bootSeconds === null ? '-' : r.bootSeconds.toFixed(2)} s`];
  for (const w of r.workloads) parts.push(`${w.workload} ${w.hostSeconds.toFixed(2)} s${w.ok ? '' : ' FAIL'}`);
  return `${parts.join(', ')}; ${r.ending}${r.ok ? '' : `; FAILED: ${r.detail}`}`;
}

function hostInfo(): { commit: string; uptime: string } {
  const run = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const commit = run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'runtime', 'translator']) ? ' (with uncommitted changes in src/runtime/translator)' : '';
  return { commit: commit ? commit + dirty : 'unknown', uptime: run('uptime', []) || `load average ${loadavg().map((v) => v.toFixed(2)).join(', ')}` };
}

export interface BenchIo {
  out: (line: string) => void;
  err: (line: string) => void;
  console: (text: string) => void;
}

/** Runs the benchmark; resolves with the exit code. */
export async function main(argv: readonly string[], io: BenchIo): Promise<number> {
  let args: GuestBenchArgs;
  try {
    args = parseGuestBenchArgs(argv);
  } catch (e) {
    io.err(`bench:guest: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const log = (m: string): void => io.err(`bench:guest: ${m}`);
  const inGuest = args.only.filter((w) => w !== 'boot');

  let guest: BenchGuest;
  try {
    guest = await buildBenchGuest({ guestCacheDir: args.cache, memory: GUEST_MEMORY, scale: args.scale, only: inGuest, onProgress: (m) => log(`guest: ${m}`) });
  } catch (e) {
    log(`cannot prepare the bench guest: ${(e as Error).message}`);
    return 1;
  }
  const host = hostInfo();
  log(`guest ${guest.kernelPath} + ${guest.initrdPath} (workloads ${guest.program.path}, ${guest.program.gcc}), ${guest.memory >> 20} MiB`);
  log(`cmdline "${guest.cmdline}"`);
  log(`commit ${host.commit}; ${host.uptime}`);

  const runners = allRunners({ noBuild: args.noBuild, onProgress: log }).filter((r) => args.runners.includes(r.name));
  const available: GuestRunner[] = [];
  const runnerInfo: { name: string; label: string; version?: string; unavailable?: string; command: string }[] = [];
  for (const r of runners) {
    const a = await r.probe();
    if (a.ok) {
      available.push(r);
      log(`${r.name}: ${a.version}`);
      runnerInfo.push({ name: r.name, label: r.label, version: a.version, command: r.describe(guest) });
    } else {
      log(`${r.name}: ABSENT: ${a.reason}`);
      runnerInfo.push({ name: r.name, label: r.label, unavailable: a.reason, command: r.describe(guest) });
    }
  }

  const runs: RunResult[] = [];
  const options = { timeoutMs: args.timeoutS * 1000, graceMs: GRACE_MS, workloads: inGuest, ...(args.verbose ? { onConsole: io.console } : {}) };
  for (let round = 1; round <= args.rounds; round++) {
    for (const r of available) {
      log(`round ${round}/${args.rounds}: ${r.name} ...`);
      const res = await runOnce(r, guest, round, options);
      runs.push(res);
      log(`round ${round}/${args.rounds}: ${r.name}: ${runLine(res)}`);
    }
  }

  const names = available.map((r) => r.name);
  const rows = summarize(runs, args.only, names);
  const uptimeEnd = hostInfo().uptime;
  io.out('');
  io.out(`bench:guest, ${args.rounds} round${args.rounds > 1 ? 's' : ''}, scale ${args.scale}, commit ${host.commit}, ${new Date().toISOString()}`);
  for (const ri of runnerInfo) io.out(`  ${ri.name.padEnd(10)} ${ri.version ?? `ABSENT: ${ri.unavailable}`}`);
  io.out('');
  io.out(formatTable(rows, names));
  io.out('');
  io.out('seconds: host clock, from the arrival of a workload\'s start line on the console to its end line (boot: runner start to the');
  io.out("init's first line); median (min..max) over the rounds that succeeded. ÷ X: wasmvisor's median over X's (above 1: slower).");
  io.out('drift: guest CLOCK_MONOTONIC elapsed vs host elapsed (rt: CLOCK_REALTIME, shown when it differs by 0.5 points or more).');
  io.out(`host load: start "${host.uptime}", end "${uptimeEnd}"; ${cpus().length} CPUs`);

  if (args.stats) {
    const ours = runs.filter((r) => r.runner === 'wasmvisor' && r.stats);
    io.out('');
    if (!ours.length) io.out('--stats: no wasmvisor statistics (the runner was not run or reported none)');
    else {
      io.out(`wasmvisor machine.stats() per workload: the deltas between the workload's start and end lines (boot: start() to the init line),`);
      io.out(`median per counter over ${ours.length} run${ours.length > 1 ? 's' : ''}; "/iteration" divides by the workload's n.`);
      for (const w of args.only) {
        const deltas = ours.map((r) => r.stats?.[w]).filter((d): d is NonNullable<typeof d> => d !== undefined);
        if (!deltas.length) continue;
        const row = rows.find((x) => x.workload === w);
        io.out('');
        io.out(formatStats(w, deltas[0].n, medianDeltas(deltas.map((d) => d.delta)), row?.cells.wasmvisor?.median));
      }
    }
  }

  const failed = runs.filter((r) => !r.ok);
  if (failed.length) {
    io.out('');
    for (const r of failed) io.out(`FAILED: ${r.runner} round ${r.round}: ${r.detail}`);
  }

  try {
    mkdirSync(dirname(args.svg), { recursive: true });
    writeFileSync(args.svg, svgChart(rows, names, `bench:guest, host seconds per workload (scale ${args.scale}, ${args.rounds} round${args.rounds > 1 ? 's' : ''}, ${host.commit.split(' ')[0]})`));
    log(`wrote ${args.svg}`);
  } catch (e) {
    log(`cannot write ${args.svg}: ${(e as Error).message}`);
  }
  if (args.json) {
    const record = {
      date: new Date().toISOString(),
      commit: host.commit,
      host: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', uptimeStart: host.uptime, uptimeEnd },
      options: { rounds: args.rounds, scale: args.scale, only: args.only, runners: args.runners, timeoutS: args.timeoutS },
      guest: { kernel: guest.kernelPath, initrd: guest.initrdPath, cmdline: guest.cmdline, memory: guest.memory, program: guest.program },
      runners: runnerInfo,
      summary: rows,
      runs,
    };
    try {
      mkdirSync(dirname(args.json), { recursive: true });
      writeFileSync(args.json, JSON.stringify(record, null, 2) + '\n');
      log(`wrote ${args.json}`);
    } catch (e) {
      log(`cannot write ${args.json}: ${(e as Error).message}`);
      return 1;
    }
  }
  return failed.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    console: (t) => process.stderr.write(t),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench:guest: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
