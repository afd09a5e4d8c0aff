/**
 * The boot benchmark's summary: per runner, the median/min/max time to the prompt over its
 * successful boots, and each median divided by the medians of two references — our translator
 * ("dbt") and QEMU — so "v86 ÷ dbt = 1.5" reads "v86 takes 1.5× as long as our translator".
 * Pure functions: the CLI (run.ts) does the printing.
 */
import type { BootResult } from './runner.ts';

/** Everything measured for one runner. */
export interface RunnerSummary {
  name: string;
  label: string;
  /** Version string from the probe, or null when the runner was not available. */
  version: string | null;
  /** Why the runner did not run (when version is null). */
  unavailable?: string;
  runs: BootResult[];
  /** Over successful runs only; absent when none succeeded. */
  median?: number;
  min?: number;
  max?: number;
  cpuMedian?: number;
}

/** The references ratios are taken against, in column order. */
export const REFERENCES = ['dbt', 'qemu'] as const;

/** Median of a non-empty list (the mean of the middle two for even lengths). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/** Fills in the statistics of a summary from its runs. */
export function summarize(s: RunnerSummary): RunnerSummary {
  const t = s.runs.filter((r) => r.ok && r.secondsToPrompt !== null).map((r) => r.secondsToPrompt as number);
  const cpu = s.runs.filter((r) => r.ok && r.cpuSeconds !== undefined).map((r) => r.cpuSeconds as number);
  const out: RunnerSummary = { ...s };
  if (t.length) {
    out.median = median(t);
    out.min = Math.min(...t);
    out.max = Math.max(...t);
  }
  if (cpu.length) out.cpuMedian = median(cpu);
  return out;
}

/** `summary.median ÷ reference.median`, or undefined when either is missing. */
export function ratio(s: RunnerSummary, all: readonly RunnerSummary[], ref: string): number | undefined {
  const r = all.find((x) => x.name === ref);
  if (s.median === undefined || r?.median === undefined || r.median <= 0) return undefined;
  return s.median / r.median;
}

/** The note column: why it did not run, the first failure, or the runner's own detail. */
function note(s: RunnerSummary): string {
  if (s.version === null) return `not available: ${s.unavailable ?? 'unknown reason'}`;
  const failed = s.runs.filter((r) => !r.ok);
  const parts: string[] = [];
  if (failed.length) parts.push(`${failed.length} of ${s.runs.length} failed: ${failed[0].detail}`);
  const ok = s.runs.find((r) => r.ok);
  if (ok?.detail) parts.push(ok.detail);
  return [s.version, ...parts].join('; ');
}

/** The results table (plain text, aligned columns, one row per runner). */
export function formatTable(all: readonly RunnerSummary[]): string {
  const secs = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
  const times = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  const multi = all.some((s) => s.runs.length > 1);
  const head = ['runner', 'engine', multi ? 'median s' : 'seconds', ...(multi ? ['min s', 'max s'] : []), 'cpu s', 'ok', ...REFERENCES.map((r) => `÷ ${r}`), 'notes'];
  const rows = all.map((s) => [
    s.name,
    s.label,
    secs(s.median),
    ...(multi ? [secs(s.min), secs(s.max)] : []),
    secs(s.cpuMedian),
    `${s.runs.filter((r) => r.ok).length}/${s.runs.length}`,
    ...REFERENCES.map((r) => times(ratio(s, all, r))),
    note(s),
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]): string =>
    cells.map((c, k) => (k === cells.length - 1 ? c : k < 2 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
