/**
 * Runs every system test image (or those named) under qemu-system-i386 and under our
 * bare-metal machine, and compares both with the expected file in test/system/expected/.
 *
 *   npx tsx test/system/compare-qemu.ts [--update] [--bless-ours] [--engine interp|dbt] [name...]
 *
 * --update rewrites an expected file from QEMU's output (read the diff before committing:
 * QEMU is the reference, not an oracle beyond doubt). Without it, a test passes when QEMU
 * still produces the expected text and our machine produces the same. Tests marked
 * `@qemu-deviates` have an expected file written from the SDM: our machine must match it, and
 * QEMU's difference is only reported. For those, --bless-ours writes our machine's output as
 * the expected file: only after checking every line of it against the SDM (git diff).
 * Exit status 0 if all passed.
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import type { Engine } from '../../runtime/vm.ts';
import { devicesAvailable } from './devices.ts';
import { buildImage, EXPECTED_DIR, listTests, runOurs, runQemu } from './images.ts';

const argv = process.argv.slice(2);
const update = argv.includes('--update');
const blessOurs = argv.includes('--bless-ours');
let engine: Engine = 'interp';
const names: string[] = [];
for (let k = 0; k < argv.length; k++) {
  const a = argv[k];
  if (a === '--update' || a === '--bless-ours') continue;
  if (a === '--engine') {
    const e = argv[++k];
    if (e !== 'interp' && e !== 'dbt') throw new Error(`--engine must be interp or dbt, not ${e}`);
    engine = e;
  } else if (a.startsWith('-')) {
    console.error(`unknown option ${a}`);
    process.exit(2);
  } else names.push(a);
}

const all = listTests();
const tests = names.length ? all.filter((t) => names.includes(t.name)) : all;
for (const n of names) if (!all.some((t) => t.name === n)) console.error(`no test named ${n}`);

function firstDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let k = 0; k < Math.max(x.length, y.length); k++) {
    if (x[k] !== y[k]) return `line ${k + 1}:\n    want: ${JSON.stringify(x[k] ?? '<end>')}\n    got:  ${JSON.stringify(y[k] ?? '<end>')}`;
  }
  return '';
}

let failed = 0;
mkdirSync(EXPECTED_DIR, { recursive: true });
for (const t of tests) {
  const img = buildImage(t);
  const qemu = runQemu(t, img);
  const expected = existsSync(t.expected) ? readFileSync(t.expected, 'latin1') : null;
  if (t.qemuDeviates !== null) {
    const ours = (await runOurs(t, readFileSync(img), engine, engine === 'dbt')).text;
    if (blessOurs && ours !== expected) {
      writeFileSync(t.expected, ours, 'latin1');
      console.log(`${t.name}: expected file written from our machine: review it against the SDM`);
      continue;
    }
    const note = qemu === expected ? 'QEMU now matches the expected file: drop @qemu-deviates?' : `QEMU deviates as known (${t.qemuDeviates}) at ${firstDiff(expected ?? '', qemu)}`;
    if (expected === null) {
      failed++;
      console.log(`FAIL ${t.name}\n  no expected file: write it from the SDM (QEMU is not the reference here)`);
    } else if (ours !== expected) {
      failed++;
      console.log(`FAIL ${t.name}\n  our machine (${engine}) differs from the SDM-derived expected file at ${firstDiff(expected, ours)}\n  note: ${note}`);
    } else {
      console.log(`ok   ${t.name} (expected file from the SDM)\n  note: ${note}`);
    }
    continue;
  }
  if (update && qemu !== expected) {
    writeFileSync(t.expected, qemu, 'latin1');
    console.log(`${t.name}: expected file ${expected === null ? 'created' : 'updated'} from QEMU`);
  }
  const want = update ? qemu : expected;
  const problems: string[] = [];
  if (want === null) problems.push('no expected file (run with --update)');
  else if (qemu !== want) problems.push(`QEMU differs from the expected file at ${firstDiff(want, qemu)}`);
  if (!devicesAvailable(t.needs)) {
    console.log(`${problems.length ? 'FAIL' : 'skip'} ${t.name}: our machine cannot attach ${t.needs.join(', ')} yet${problems.length ? `\n  ${problems.join('\n  ')}` : ''}`);
    if (problems.length) failed++;
    continue;
  }
  const ours = (await runOurs(t, readFileSync(img), engine, engine === 'dbt')).text;
  if (ours !== qemu) problems.push(`our machine (${engine}) differs from QEMU at ${firstDiff(qemu, ours)}`);
  if (problems.length) {
    failed++;
    console.log(`FAIL ${t.name}\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`ok   ${t.name}`);
  }
}
console.log(`${tests.length - failed}/${tests.length} passed`);
process.exit(failed ? 1 : 0);
