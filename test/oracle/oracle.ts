/**
 * The oracle run: selects rows, generates cases per (row, form), runs them in batches on the
 * reference (reference.ts: the real CPU or QEMU) and in the VM, compares, and aggregates per row. Used by the CLI (run.ts) and by the fast
 * subset in the default test suite (test/unit/oracle/oracle-fast.test.ts).
 *
 * Determinism: each (row, form) draws from its own generator seeded by (seed, row name, form
 * label), so `--row X` regenerates exactly the cases the full run made for X.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TABLE } from '../../translator/isa/table.ts';
import type { Row } from '../../translator/isa/types.ts';
import { dispatchProblems } from '../../runtime/dispatch.ts';
import type { Engine } from '../../runtime/vm.ts';
import { compareOutcomes } from './compare.ts';
import { explainByDeviations, sdmExclusion, sdmUndefined } from './deviations.ts';
import { formsOf, exclusionReason } from './forms.ts';
import { CaseBuilder, EncodeMismatch, GenReject } from './gen.ts';
import type { Hook } from './gen.ts';
import { hookFor } from './gen-rows.ts';
import { getReference } from './reference.ts';
import type { ReferenceKind } from './reference.ts';
import { Rng } from './rng.ts';
import type { Form, GenContext, OracleCase, Outcome, RowGenerator, VmSetup, X87Plugin } from './types.ts';
import { VmRunner } from './vm-run.ts';

export interface OracleOptions {
  readonly seed: number;
  /** Cases per (row, form). */
  readonly cases: number;
  /** A row name, or a regular expression over row names. */
  readonly rows?: string;
  readonly engine: Engine;
  readonly setup: VmSetup;
  /** The reference to compare with (default: reference.ts decides; see referenceKind). */
  readonly reference?: ReferenceKind;
  /** Run every case in a 16-bit code segment (default operand and address size 16). */
  readonly code16?: boolean;
  /** The x87 plug-in; undefined = load test/oracle/gen-x87.ts if it exists. */
  readonly x87?: X87Plugin | null;
  /** Mismatching cases kept per row for the report. */
  readonly examples?: number;
  /** Called as each row completes. */
  readonly onRow?: (r: RowReport) => void;
  /**
   * Also run every case on the real CPU and check each known deviation of the (non-native)
   * reference against it: an excused case on which the VM and the real CPU disagree means the
   * deviation's precondition is too broad, or the VM is wrong there (OracleReport.contradicted).
   * Needs a host that runs i386 code.
   */
  readonly crossCheck?: boolean;
}

export type RowStatus = 'ok' | 'mismatch' | 'no-handler' | 'no-generator' | 'generator-error';

export interface Mismatch {
  readonly c: OracleCase;
  /** The reference's outcome. */
  readonly ref: Outcome;
  readonly vm: Outcome;
  readonly diffs: readonly string[];
}

export interface RowReport {
  readonly row: Row;
  status: RowStatus;
  forms: number;
  cases: number;
  mismatches: number;
  /** Cases that differ only where the reference is known to deviate from the SDM (deviations.ts). */
  deviations: number;
  /** Cases counted as failed (mismatches, or every planned case of a row that cannot run). */
  failed: number;
  readonly examples: Mismatch[];
  detail?: string;
}

export interface OracleReport {
  /** The reference the cases ran on (Reference.name). */
  readonly reference: string;
  readonly rows: RowReport[];
  readonly excluded: { row: Row; reason: string }[];
  passed: number;
  failed: number;
  /** With crossCheck: excused cases on which the VM and the real CPU disagree, and some of them. */
  readonly contradicted: { count: number; examples: { c: OracleCase; ids: string[]; diffs: string[] }[] };
  /** Cases that differ only by known deviations of the reference (deviations.ts); not passed. */
  deviationCases: number;
  /** Those cases by deviation id (a case needing two deviations counts under both). */
  readonly deviations: Map<string, number>;
  readonly timing: { genMs: number; referenceMs: number; vmMs: number; totalMs: number };
}

/** Loads gen-x87.ts's `x87Plugin` if the file exists. */
export async function loadX87Plugin(): Promise<X87Plugin | undefined> {
  const url = new URL('./gen-x87.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  const mod = (await import(url.href)) as { x87Plugin?: X87Plugin };
  return mod.x87Plugin;
}

/** Builds one case for `row` in `form` with the core pipeline and an optional extra hook. */
export function generateWith(row: Row, form: Form, ctx: GenContext, hook?: Hook): OracleCase {
  return new CaseBuilder(row, form, ctx).build(hook ?? hookFor(row));
}

/** The core generator, as a RowGenerator (every non-x87 row). */
export const CORE_GENERATOR: RowGenerator = {
  handles: (row) => row.fpu !== true,
  generate: (row, form, ctx) => generateWith(row, form, ctx),
};

function seedOf(seed: number, ...parts: string[]): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
  }
  return h;
}

/** Rows selected by `spec` (exact name, else a regular expression). */
export function selectRows(spec: string | undefined): Row[] {
  const rows = TABLE.filter((r) => r.op >= 0 || r.name === 'invalid' || r.name === 'tooLong');
  if (!spec) return rows;
  const exact = rows.filter((r) => r.name === spec);
  if (exact.length) return exact;
  const re = new RegExp(spec);
  return rows.filter((r) => re.test(r.name));
}

const BATCH = 4000;

interface Pending {
  readonly report: RowReport;
  readonly cases: OracleCase[];
}

/** Runs the oracle. */
/**
 * Why `row` is not compared at `cpl` with a reference of `kind` (the harness cannot run it
 * there, or the SDM leaves the encoding to the real CPU), or undefined when it is.
 */
export function notCompared(row: Row, cpl: number, kind: ReferenceKind): string | undefined {
  return exclusionReason(row, cpl, kind) ?? sdmExclusion(row, kind);
}

let gc: (() => void) | null = null;

/**
 * A full garbage collection after each batch of the translator engine. Force-translated cases
 * make a Wasm module per block, tens of thousands per run, and V8 gives a dead module's code
 * space back only when a GC collects it, which the oracle's small JS heap rarely triggers: the
 * full `--engine dbt` run died with "Commit wasm code space ... out of memory". The function is
 * V8's `gc`, exposed for this process once.
 */
function fullGc(): void {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

export async function runOracle(opts: OracleOptions): Promise<OracleReport> {
  const t0 = performance.now();
  const x87 = opts.x87 === undefined ? await loadX87Plugin() : opts.x87 ?? undefined;
  const generators: RowGenerator[] = [...(x87?.generators ?? []), CORE_GENERATOR];
  const missing = new Set(dispatchProblems().missing);
  const reference = getReference(opts.reference);
  const cpu = opts.crossCheck ? getReference('native') : undefined;
  const runner = new VmRunner({ engine: opts.engine, setup: opts.setup, seed: opts.seed, x87 });
  await runner.prepare();
  const examplesPerRow = opts.examples ?? 3;
  const report: OracleReport = {
    reference: reference.name, rows: [], excluded: [], passed: 0, failed: 0, deviationCases: 0, deviations: new Map(), contradicted: { count: 0, examples: [] }, timing: { genMs: 0, referenceMs: 0, vmMs: 0, totalMs: 0 },
  };

  let queue: Pending[] = [];
  let queued = 0;
  const finishRow = (r: RowReport): void => {
    if (r.status === 'ok' && r.mismatches > 0) r.status = 'mismatch';
    report.failed += r.failed;
    report.passed += r.cases - r.mismatches - r.deviations;
    report.deviationCases += r.deviations;
    opts.onRow?.(r);
  };
  const flush = (): void => {
    const all = queue.flatMap((p) => p.cases);
    let t = performance.now();
    const refOut = reference.run(all, opts.seed);
    const cpuOut = cpu?.run(all, opts.seed);
    report.timing.referenceMs += performance.now() - t;
    t = performance.now();
    let k = 0;
    for (const p of queue) {
      const r = p.report;
      for (const c of p.cases) {
        const n = refOut[k++];
        const v = runner.run(c);
        if (v.kind === 'no-handler') {
          r.status = 'no-handler';
          r.detail = v.message;
        }
        const sdm = reference.kind === 'native' ? undefined : sdmUndefined(c);
        const diffs = compareOutcomes(c, n, v, x87, sdm);
        const deviation = diffs.length ? explainByDeviations(reference, c, n, v, x87) : undefined;
        if (deviation) {
          r.deviations++;
          for (const id of deviation) report.deviations.set(id, (report.deviations.get(id) ?? 0) + 1);
          if (cpu && cpuOut && !exclusionReason(c.row, opts.setup.cpl, 'native')) {
            const real = cpuOut[k - 1];
            const d = compareOutcomes(c, real, v, x87);
            if (d.length && !explainByDeviations(cpu, c, real, v, x87)) {
              report.contradicted.count++;
              if (report.contradicted.examples.length < 60) report.contradicted.examples.push({ c, ids: deviation, diffs: d });
            }
          }
        } else if (diffs.length) {
          r.mismatches++;
          r.failed++;
          if (r.examples.length < examplesPerRow) r.examples.push({ c, ref: n, vm: v, diffs });
        }
      }
      finishRow(r);
    }
    report.timing.vmMs += performance.now() - t;
    queue = [];
    queued = 0;
    if (opts.engine === 'dbt') fullGc();
  };

  for (const row of selectRows(opts.rows)) {
    const reason = notCompared(row, opts.setup.cpl, reference.kind);
    if (reason) {
      report.excluded.push({ row, reason });
      continue;
    }
    const gen = generators.find((g) => g.handles(row));
    const forms = gen?.forms?.(row) ?? formsOf(row);
    const r: RowReport = { row, status: 'ok', forms: forms.length, cases: 0, mismatches: 0, deviations: 0, failed: 0, examples: [] };
    report.rows.push(r);
    if (!gen) {
      r.status = 'no-generator';
      r.detail = 'x87 row: test/oracle/gen-x87.ts provides no generator for it';
      r.failed = forms.length * opts.cases;
      finishRow(r);
      continue;
    }
    if (missing.has(row.name)) {
      r.status = 'no-handler';
      r.detail = 'no interpreter handler';
      r.failed = forms.length * opts.cases;
      finishRow(r);
      continue;
    }
    const t = performance.now();
    const cases: OracleCase[] = [];
    for (const form of forms) {
      const rng = new Rng(seedOf(opts.seed, row.name, form.label, opts.code16 ? 'code16' : ''));
      const ctx: GenContext = { rng, setup: opts.setup, code16: opts.code16 === true };
      let made = 0;
      for (let attempt = 0; made < opts.cases && attempt < opts.cases * 4 + 20; attempt++) {
        try {
          const c = gen.generate(row, form, ctx);
          if (!c) continue;
          cases.push(c);
          made++;
        } catch (e) {
          if (e instanceof GenReject) continue;
          r.status = 'generator-error';
          r.detail = e instanceof EncodeMismatch ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
          break;
        }
      }
      if (r.status === 'generator-error') break;
      if (made < opts.cases) r.detail = `${form.label}: only ${made} of ${opts.cases} cases could be generated`;
    }
    report.timing.genMs += performance.now() - t;
    if (r.status === 'generator-error') {
      r.failed = forms.length * opts.cases;
      finishRow(r);
      continue;
    }
    r.cases = cases.length;
    queue.push({ report: r, cases });
    queued += cases.length;
    if (queued >= BATCH) flush();
  }
  if (queue.length) flush();
  report.timing.totalMs = performance.now() - t0;
  return report;
}
