/**
 * Runs one bare-metal image on our machine from the command line (a debugging aid for the
 * system tests): the debug-console output goes to stdout, the stop reason and statistics to
 * stderr, and the process exits with the guest's isa-debug-exit status (low 8 bits).
 *
 *   npx tsx test/system/run-image.ts IMAGE [--raw-real] [--engine interp|dbt] [--append ARGS]
 */
import { readFileSync } from 'node:fs';
import { runBareMetalAsync } from '../../runtime/bare/bare-machine.ts';
import { ImageError } from '../../runtime/loaders/image-error.ts';

const argv = process.argv.slice(2);
const image = argv.find((a, k) => !a.startsWith('--') && (k === 0 || !['--engine', '--append'].includes(argv[k - 1])));
if (!image) {
  console.error('usage: run-image.ts IMAGE [--raw-real] [--engine interp|dbt] [--append ARGS]');
  process.exit(2);
}
const engineArg = argv[argv.indexOf('--engine') + 1];
const engine = argv.includes('--engine') && engineArg === 'dbt' ? 'dbt' : 'interp';
const append = argv.includes('--append') ? argv[argv.indexOf('--append') + 1] : undefined;
try {
  const r = await runBareMetalAsync(readFileSync(image), {
    engine,
    forceTranslate: engine === 'dbt',
    onOutput: (b) => process.stdout.write(String.fromCharCode(b)),
    ...(argv.includes('--raw-real') ? { format: 'raw' as const } : {}),
    ...(append !== undefined ? { cmdline: `${image} ${append}` } : {}),
  });
  console.error(`stop: ${r.reason}${r.detail ? ` (${r.detail})` : ''}; ${r.stats.instructions} instructions in ${r.stats.ms.toFixed(0)} ms`);
  console.error(`exits: ${JSON.stringify(r.stats.exits)}`);
  process.exit(r.exitCode === null ? 124 : r.exitCode & 0xff);
} catch (e) {
  if (e instanceof ImageError) {
    console.error(`run-image: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
