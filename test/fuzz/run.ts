/**
 * `npm run fuzz -- --count N [--seed S] [--budget B] [--keep-going] [--hang-seconds T]`: runs the
 * decoder and interpreter fuzzer (fuzz.ts) under a watchdog (watch.ts). Exits 1 at the first
 * host crash or hang after printing the input, or with --keep-going after listing one input per
 * distinct crash (e.g. every row without a handler) and every hang.
 */
import { formatCrash, formatInput } from './fuzz.ts';
import { fuzzWatched } from './watch.ts';

const USAGE = 'usage: npm run fuzz -- --count N [--seed S] [--budget B] [--keep-going] [--hang-seconds T]';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let count = 100_000;
  let seed = 1;
  let budget = 24;
  let hangSeconds = 10;
  let keepGoing = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer\n${USAGE}`);
      return v;
    };
    if (a === '--count') count = num();
    else if (a === '--seed') seed = num();
    else if (a === '--budget') budget = num();
    else if (a === '--hang-seconds') hangSeconds = num();
    else if (a === '--keep-going') keepGoing = true;
    else throw new Error(`unknown option '${a}'\n${USAGE}`);
  }
  const r = await fuzzWatched({ count, seed, budget, keepGoing }, hangSeconds);
  const rate = Math.round(r.inputs / (r.ms / 1000));
  const endings = Object.entries(r.endings).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`fuzz: ${r.inputs} inputs in ${(r.ms / 1000).toFixed(1)} s (${rate}/s), seed ${seed}, budget ${budget}`);
  console.log(`endings: ${endings}`);
  for (const c of r.crashes) console.log(formatCrash(c, seed));
  for (const h of r.hangs) {
    console.log(`host hang at input #${h.input.index} (seed ${seed}): no progress for ${h.seconds.toFixed(0)} s`);
    console.log(formatInput(h.input).join('\n'));
    console.log(`  ${h.instruction}`);
  }
  const problems = r.crashes.length + r.hangs.length;
  if (problems) console.log(`${r.crashes.length} distinct host crashes, ${r.hangs.length} hangs`);
  return problems ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
