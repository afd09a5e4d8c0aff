/**
 * `npm run bench [-- options]`: runs every guest workload under every engine with benchmark.js
 * and reports guest MIPS, translation time per block, and translator/interpreter ratios with
 * their spread between runs. Writes an SVG chart (bench/results/workloads.svg by default) and,
 * with --json FILE, the records [{workload, engine, mips, translateUsPerBlock, ...}].
 *
 * Options: --json FILE, --svg FILE, --runs N (default 3), --time S (benchmark.js maxTime per
 * measurement, default 1), --only NAME[,NAME] (workloads), --engines NAME[,NAME], --help.
 *
 * Benchmarks are never timed tests: nothing here asserts a speed.
 */
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, warmupEngine } from './lib/engines.ts';
import { ratios, records, svgChart } from './lib/report.ts';
import type { Sample } from './lib/report.ts';
import type { Loaded } from './lib/types.ts';
import { WORKLOADS, workloadImage } from './lib/workloads.ts';

interface Args { json?: string; svg: string; runs: number; time: number; only?: string[]; engines?: string[]; help?: boolean }

const USAGE = `usage: npm run bench -- [--runs N] [--time S] [--only WORKLOAD[,...]] [--engines ENGINE[,...]] [--json FILE] [--svg FILE]
  --runs N       measurement runs per workload and engine (default 3)
  --time S       benchmark.js maxTime per measurement, seconds (default 1)
  --only LIST    workloads: ${WORKLOADS.map((w) => w.name).join(', ')}
  --engines LIST engines: ${ENGINES.map((e) => e.name).join(', ')}
  --json FILE    also write the records [{workload, engine, mips, translateUsPerBlock, ...}]
  --svg FILE     the chart (default bench/results/workloads.svg)`;

function parseArgs(argv: string[]): Args {
  const here = dirname(fileURLToPath(import.meta.url));
  const a: Args = { svg: join(here, 'results', 'workloads.svg'), runs: 3, time: 1 };
  for (let i = 0; i < argv.length; i++) {
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return x;
    };
    switch (argv[i]) {
      case '--json': a.json = v(); break;
      case '--svg': a.svg = v(); break;
      case '--runs': a.runs = Number(v()); break;
      case '--time': a.time = Number(v()); break;
      case '--only': a.only = v().split(','); break;
      case '--engines': a.engines = v().split(','); break;
      case '-h': case '--help': a.help = true; break;
      default: throw new Error(`unknown option ${argv[i]} (known: --json --svg --runs --time --only --engines --help)`);
    }
  }
  if (!(a.runs >= 1) || !(a.time > 0)) throw new Error('--runs and --time must be positive');
  return a;
}

/** Times `loaded.run` with benchmark.js; returns mean seconds and the relative margin of error. */
function measure(name: string, loaded: Loaded, maxTime: number): { seconds: number; rme: number } {
  const b = new Benchmark(name, { fn: () => { loaded.run(); }, maxTime, minSamples: 5, initCount: 1 });
  b.run();
  if (b.error) throw b.error;
  return { seconds: b.stats.mean, rme: b.stats.rme };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  // benchmark.js would otherwise recompile `fn` from its source text, losing the closure.
  Benchmark.support.decompilation = false;
  const workloads = WORKLOADS.filter((w) => !args.only || args.only.includes(w.name));
  const engines = ENGINES.filter((e) => !args.engines || args.engines.includes(e.name));
  const samples: Sample[] = [];
  if (engines.some((e) => e.name === 'dbt')) {
    // Warm the translator up: V8 compiles binaryen's own (14 MB of) Wasm lazily and tiers it up
    // while it is used, so the first few hundred translations of a process cost several times
    // the steady state. Translating every workload once first makes the reported translation
    // times those of a VM that has been running for a while (README: the cold numbers).
    for (const w of workloads) {
      const warm = await warmupEngine.load(w, workloadImage(w.name));
      for (let k = 0; k < 3; k++) warm.run();
    }
  }
  for (let run = 0; run < args.runs; run++) {
    for (const w of workloads) {
      const image = workloadImage(w.name);
      for (const e of engines) {
        const loaded = await e.load(w, image);
        // Warm-up run: tier-up and translation happen here, as on a machine that has been
        // running for a while; translation time is reported separately per block.
        const instructions = loaded.run();
        const { seconds, rme } = measure(`${w.name}/${e.name}`, loaded, args.time);
        const t = loaded.translation();
        const s: Sample = {
          workload: w.name, engine: e.name, instructions, seconds, rme, blocks: t?.blocks ?? 0, translateMs: t?.ms ?? 0,
          steadyUsPerBlock: t?.steadyUsPerBlock ?? null,
        };
        samples.push(s);
        const mips = instructions / seconds / 1e6;
        const tr = t && t.blocks
          ? `  translate ${(t.steadyUsPerBlock ?? NaN).toFixed(0)} us/block steady, ${((t.ms * 1000) / t.blocks).toFixed(0)} in the run (${t.blocks} blocks)`
          : '';
        console.log(`run ${run + 1}/${args.runs}  ${w.name.padEnd(12)} ${e.name.padEnd(7)} ${mips.toFixed(1).padStart(8)} MIPS ±${rme.toFixed(1)}%${tr}`);
      }
    }
  }
  const recs = records(samples);
  console.log('\nworkload      engine      MIPS (median, min..max)   translate us/block: steady, in the run');
  for (const r of recs) {
    const tr = r.translateUsPerBlock === null ? '' : `${r.translateUsPerBlock.toFixed(0)}, ${(r.translateUsPerBlockInRun ?? NaN).toFixed(0)}`;
    console.log(`${r.workload.padEnd(13)} ${r.engine.padEnd(7)} ${r.mips.toFixed(1).padStart(10)} (${r.mipsMin.toFixed(1)}..${r.mipsMax.toFixed(1)})`.padEnd(50) + tr);
  }
  if (engines.some((e) => e.name === 'dbt') && engines.some((e) => e.name === 'interp')) {
    console.log('\ntranslator / interpreter (median of per-run ratios, min..max):');
    for (const q of ratios(samples, 'dbt', 'interp')) console.log(`  ${q.workload.padEnd(13)} ${q.ratio.toFixed(1).padStart(6)}x  (${q.min.toFixed(1)}..${q.max.toFixed(1)})`);
  }
  mkdirSync(dirname(args.svg), { recursive: true });
  writeFileSync(args.svg, svgChart(recs, 'wasmvisor guest workloads'));
  console.log(`\nchart: ${args.svg}`);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(recs, null, 2) + '\n');
    console.log(`records: ${args.json}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
