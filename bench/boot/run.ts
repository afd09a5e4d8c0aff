/**
 * `npm run bench:boot`: time to the shell prompt of the default guest (Debian 12 i386 kernel +
 * busybox initramfs, src/guest/build.ts) under our translator and interpreter and under two
 * peers, v86 (same Node process) and QEMU TCG, all in one invocation. A benchmark, not a test:
 * it prints a table of times and ratios (and optionally writes JSON); nothing asserts a time.
 *
 * Runs are interleaved (every runner once, then every runner again, ...) so that a change in
 * host load spreads over all runners instead of landing on one. Wall-clock times are what the
 * table compares; CPU seconds are shown beside them because on a loaded host they are the
 * steadier number. The load average at start and end is printed and recorded for that reason.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGuest, defaultCacheDir } from '../../src/guest/build.ts';
import { qemuArgs, qemuRunner } from './qemu.ts';
import { formatTable, ratio, REFERENCES, summarize } from './report.ts';
import type { RunnerSummary } from './report.ts';
import type { BootGuest, Runner } from './runner.ts';
import { v86Runner } from './v86.ts';
import { wasmvisorRunner } from './wasmvisor.ts';

const GUEST_MEMORY = 128 << 20;
const DEFAULT_TIMEOUT_S = 300;

const USAGE = `usage: npm run bench:boot -- [options]
Times the boot of the default guest to its shell prompt under each runner:
  dbt     wasmvisor, translator        interp  wasmvisor, interpreter
  v86     v86 in this Node process     qemu    qemu-system-i386, TCG
options:
  --runs N          boot N times per runner; report median, min and max (default 1)
  --only a,b        only these runners (default: all)
  --timeout S       give up on a boot after S seconds (default ${DEFAULT_TIMEOUT_S})
  --json FILE       also write all results as JSON
  --cmdline TEXT    kernel command line (default: the guest's own)
  --cache DIR       guest cache directory (default: $WASMVISOR_CACHE or ~/.cache/wasmvisor/guest)
  --verbose         copy each guest's console to stderr
  --help            this text`;

/** Every runner, in table order (the references first). */
export function allRunners(): Runner[] {
  return [wasmvisorRunner('dbt'), wasmvisorRunner('interp'), v86Runner(), qemuRunner()];
}

export interface BenchArgs {
  runs: number;
  only: string[] | null;
  timeoutS: number;
  json: string | null;
  cmdline: string | null;
  cache: string;
  verbose: boolean;
  help: boolean;
}

/** Parses the command line; throws an Error with a user-facing message on bad input. */
export function parseBenchArgs(argv: readonly string[], names: readonly string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      only: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'string' },
      cmdline: { type: 'string' },
      cache: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  const positive = (v: string | undefined, what: string, dflt: number, integer: boolean): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`${what} must be a positive ${integer ? 'integer' : 'number'} (got "${v}")`);
    return n;
  };
  let only: string[] | null = null;
  if (values.only !== undefined) {
    only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = only.filter((n) => !names.includes(n));
    if (bad.length || !only.length) throw new Error(`--only: unknown runner "${bad[0] ?? ''}" (runners: ${names.join(', ')})`);
  }
  return {
    runs: positive(values.runs, '--runs', 1, true),
    only,
    timeoutS: positive(values.timeout, '--timeout', DEFAULT_TIMEOUT_S, false),
    json: values.json ?? null,
    cmdline: values.cmdline ?? null,
    cache: values.cache ?? defaultCacheDir(),
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

export interface BenchIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Raw console text for --verbose. */
  console: (text: string) => void;
}

/** Runs the benchmark; resolves with the exit code (1 if a runner that could run failed). */
export async function main(argv: readonly string[], io: BenchIo): Promise<number> {
  const runners = allRunners();
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv, runners.map((r) => r.name));
  } catch (e) {
    io.err(`bench:boot: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  const selected = args.only ? runners.filter((r) => args.only?.includes(r.name)) : runners;

  let guest: BootGuest;
  try {
    const g = await buildGuest({ cacheDir: args.cache, onProgress: (m) => io.err(`bench:boot: guest: ${m}`) });
    const [kernel, initrd] = await Promise.all([readFile(g.kernel), readFile(g.initrd)]);
    guest = {
      kernelPath: g.kernel,
      initrdPath: g.initrd,
      kernel: new Uint8Array(kernel),
      initrd: new Uint8Array(initrd),
      cmdline: args.cmdline ?? g.cmdline,
      marker: g.marker,
      memory: GUEST_MEMORY,
    };
  } catch (e) {
    io.err(`bench:boot: cannot get the guest: ${(e as Error).message}`);
    return 1;
  }

  const loadStart = loadavg()[0];
  const ncpu = cpus().length;
  io.err(`bench:boot: guest ${guest.kernelPath} + ${guest.initrdPath}, ${guest.memory >> 20} MiB, cmdline "${guest.cmdline}"`);
  io.err(`bench:boot: load average ${loadStart.toFixed(2)} on ${ncpu} CPUs${loadStart > ncpu ? ' (host busy: wall-clock times will be inflated; compare the cpu column too)' : ''}`);

  const summaries: RunnerSummary[] = [];
  for (const r of selected) {
    const a = await r.probe();
    summaries.push(a.ok ? { name: r.name, label: r.label, version: a.version, runs: [] } : { name: r.name, label: r.label, version: null, unavailable: a.reason, runs: [] });
    if (!a.ok) io.err(`bench:boot: ${r.name}: not available: ${a.reason}`);
  }
  const ctx = { timeoutMs: args.timeoutS * 1000, ...(args.verbose ? { onConsole: io.console } : {}) };
  for (let k = 1; k <= args.runs; k++) {
    for (const [j, r] of selected.entries()) {
      const s = summaries[j];
      if (s.version === null) continue;
      io.err(`bench:boot: ${r.name} run ${k}/${args.runs} ...`);
      const res = await r.run(guest, ctx);
      s.runs.push(res);
      io.err(`bench:boot: ${r.name} run ${k}/${args.runs}: ${res.ok ? `${res.secondsToPrompt?.toFixed(2)} s to prompt` : 'FAILED'}${res.detail ? ` (${res.detail})` : ''}`);
    }
  }

  const done = summaries.map(summarize);
  const loadEnd = loadavg()[0];
  io.out('');
  io.out(formatTable(done));
  io.out(`(seconds: wall clock to "${guest.marker}"; ÷ X: median time over X's median, above 1 = slower than X; load average ${loadStart.toFixed(1)} -> ${loadEnd.toFixed(1)} on ${ncpu} CPUs)`);

  if (args.json) {
    const record = {
      date: new Date().toISOString(),
      host: { node: process.version, cpus: ncpu, cpuModel: cpus()[0]?.model ?? '', loadavgStart: loadStart, loadavgEnd: loadEnd },
      guest: { kernel: guest.kernelPath, initrd: guest.initrdPath, cmdline: guest.cmdline, marker: guest.marker, memory: guest.memory },
      qemuCommand: ['qemu-system-i386', ...qemuArgs(guest)],
      runsPerRunner: args.runs,
      results: done.map((s) => ({ ...s, ratios: Object.fromEntries(REFERENCES.map((ref) => [ref, ratio(s, done, ref) ?? null])) })),
    };
    try {
      writeFileSync(args.json, JSON.stringify(record, null, 2) + '\n');
      io.err(`bench:boot: wrote ${args.json}`);
    } catch (e) {
      io.err(`bench:boot: cannot write ${args.json}: ${(e as Error).message}`);
      return 1;
    }
  }
  return done.some((s) => s.version !== null && s.runs.some((r) => !r.ok)) ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    console: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      // v86 or a machine may leave a timer behind; the benchmark is over, so do not wait for it.
      process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`bench:boot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
