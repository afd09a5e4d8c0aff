/**
 * `npm run oracle -- [options]`: runs every covered table row against the reference (the real
 * CPU, or QEMU where the host cannot run 32-bit code; reference.ts) and prints the reference, the
 * per-row table, the excluded rows with reasons, and `N passed, M failed` (exit status 1 if
 * anything failed, 2 on a harness error).
 *
 *   --seed S          case seed (default 1)
 *   --cases N         cases per row form (default 200)
 *   --row R           one row by name, or a regular expression over row names
 *   --engine E        interp (default) or dbt (force-translate mode)
 *   --setup S         flat0 (CPL 0, paging off; default) or user3 (CPL 3, paging on)
 *   --reference R     native (the real CPU) or qemu (qemu-system-i386); default: native where
 *                     the host runs i386 code, else qemu (also ORACLE_REFERENCE)
 *   --code16          run in a 16-bit code segment (the runner's LDT selector 0x07)
 *   --verbose         print the mismatching cases (disassembly, state, differences)
 *   --examples K      mismatches kept per row for --verbose (default 3)
 *   --progress        print each row as it completes
 *   --cross-check     also run every case on the real CPU and report the known deviations of
 *                     the reference that it contradicts (validates deviations.ts; needs a host
 *                     that runs i386 code)
 *   --deviations      print the known deviations of the references (Markdown) and exit
 */
import { formatReport, rowLine, TABLE_HEADER } from './report.ts';
import { deviationTable } from './deviations.ts';
import { runOracle } from './oracle.ts';
import { REFERENCE_KINDS } from './reference.ts';
import type { ReferenceKind } from './reference.ts';
import { SETUPS } from './vm-setup.ts';

const USAGE = 'usage: npm run oracle -- [--seed S] [--cases N] [--row NAME|REGEX] [--engine interp|dbt] [--setup flat0|user3] [--reference native|qemu] [--code16] [--verbose] [--examples K] [--progress] [--cross-check] [--deviations]';

function parse(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const known = new Set(['crosscheck', 'deviations', 'seed', 'cases', 'row', 'engine', 'setup', 'reference', 'verbose', 'examples', 'progress', 'code16']);
  const flags = new Set(['verbose', 'progress', 'code16', 'deviations', 'crosscheck']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (m) m[1] = m[1].replace(/-/g, '');
    if (!m || !known.has(m[1])) throw new Error(`unknown option '${a}'\n${USAGE}`);
    if (flags.has(m[1])) out[m[1]] = '1';
    else {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new Error(`option --${m[1]} needs a value\n${USAGE}`);
      out[m[1]] = v;
    }
  }
  return out;
}

function int(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<number> {
  const a = parse(process.argv.slice(2));
  if (a.deviations === '1') {
    console.log(deviationTable());
    return 0;
  }
  const engine = a.engine ?? 'interp';
  if (engine !== 'interp' && engine !== 'dbt') throw new Error(`--engine must be interp or dbt\n${USAGE}`);
  const setup = SETUPS[a.setup ?? 'flat0'];
  if (!setup) throw new Error(`--setup must be one of ${Object.keys(SETUPS).join(', ')}\n${USAGE}`);
  const reference = a.reference as ReferenceKind | undefined;
  if (reference !== undefined && !REFERENCE_KINDS.includes(reference)) throw new Error(`--reference must be native or qemu\n${USAGE}`);
  const progress = a.progress === '1';
  if (progress) console.log(TABLE_HEADER);
  const rep = await runOracle({
    seed: int(a.seed, 1, 'seed'),
    cases: int(a.cases, 200, 'cases'),
    rows: a.row,
    engine,
    setup,
    reference,
    crossCheck: a.crosscheck === '1',
    code16: a.code16 === '1',
    examples: int(a.examples, 3, 'examples'),
    onRow: progress ? (r) => console.log(rowLine(r)) : undefined,
  });
  console.log(`reference: ${rep.reference}`);
  console.log(`oracle: engine ${engine}${engine === 'dbt' ? ' (force-translate)' : ''}, setup ${setup.name} (${setup.description})${a.code16 === '1' ? ', 16-bit code segment' : ''}`);
  console.log(formatReport(rep, a.verbose === '1'));
  return rep.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
