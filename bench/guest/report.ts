/**
 * bench:guest's summary: per workload and runner the median, min and max host seconds over the
 * successful runs, our median over v86's and QEMU's, the guest clock's drift against the host's;
 * the wasmvisor statistics per workload (--stats); an SVG chart. Pure functions: run.ts prints.
 */
import { median } from '../boot/report.ts';
import type { RunResult } from './session.ts';

/** Workloads in table order, with what each does (the names the guest program knows, + boot). */
export const WORKLOADS: readonly { name: string; what: string; unit: string }[] = [
  { name: 'boot', what: "runner start to the bench init's first console line (host-measured)", unit: 'boot' },
  { name: 'compute', what: 'xorshift32 + LCG mixing loop, 125 M iterations, ~2 G instructions', unit: 'iteration' },
  { name: 'calls', what: '78 M calls of a small non-inlined function', unit: 'call' },
  { name: 'memcpy', what: 'rep movsl of 64 KiB, 300 000 times', unit: 'copy' },
  { name: 'getppid', what: "1 M getppid() through libc (vDSO entry, sysenter or int 0x80)", unit: 'call' },
  { name: 'pagefault', what: '100 rounds of mmap 4 MiB, touch its 1024 pages, check, munmap', unit: 'round' },
  { name: 'fork', what: '1000 fork + _exit + waitpid', unit: 'fork' },
  { name: 'pipe', what: '10 000 one-byte round trips between two processes over two pipes', unit: 'round trip' },
  { name: 'sigfpe', what: '30 000 integer divisions by zero, SIGFPE handler siglongjmps out', unit: 'signal' },
];

/** The runner our times are divided by, in column order. */
export const PEERS: readonly { name: string; title: string }[] = [
  { name: 'v86', title: 'v86' },
  { name: 'qemu', title: 'QEMU' },
];

/** Statistics of one workload under one runner, over its successful runs. */
export interface Cell {
  runs: number;
  median: number;
  min: number;
  max: number;
  /** Median of (guest elapsed / host elapsed - 1) x 100, CLOCK_MONOTONIC and CLOCK_REALTIME. */
  driftPct?: number;
  realDriftPct?: number;
  /** Iterations the guest ran (the same in every run). */
  n?: number;
}

export interface WorkloadSummary {
  workload: string;
  /** runner name -> cell (absent: no successful measurement). */
  cells: Record<string, Cell>;
  /** Our median over each peer's median. */
  ratios: Record<string, number>;
}

/** Summarizes every run into one row per workload. */
export function summarize(runs: readonly RunResult[], workloads: readonly string[], runners: readonly string[], ours = 'wasmvisor'): WorkloadSummary[] {
  return workloads.map((w) => {
    const cells: Record<string, Cell> = {};
    for (const r of runners) {
      const mine = runs.filter((x) => x.runner === r);
      if (w === 'boot') {
        const t = mine.map((x) => x.bootSeconds).filter((v): v is number => v !== null);
        if (t.length) cells[r] = { runs: t.length, median: median(t), min: Math.min(...t), max: Math.max(...t) };
        continue;
      }
      const ok = mine.flatMap((x) => x.workloads.filter((y) => y.workload === w && y.ok && y.hostSeconds > 0));
      if (!ok.length) continue;
      const t = ok.map((y) => y.hostSeconds);
      cells[r] = {
        runs: t.length,
        median: median(t),
        min: Math.min(...t),
        max: Math.max(...t),
        driftPct: median(ok.map((y) => (y.guestMonoSeconds / y.hostSeconds - 1) * 100)),
        realDriftPct: median(ok.map((y) => (y.guestRealSeconds / y.hostSeconds - 1) * 100)),
        n: ok[0].n,
      };
    }
    const ratios: Record<string, number> = {};
    for (const p of PEERS) {
      const a = cells[ours];
      const b = cells[p.name];
      if (a && b && b.median > 0) ratios[p.name] = a.median / b.median;
    }
    return { workload: w, cells, ratios };
  });
}

const secs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toFixed(3));

const pct = (v: number | undefined): string => (v === undefined ? '' : `${v >= 0 ? '+' : ''}${Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1)}%`);

/** A runner's cell: "median (min..max)" with more than one run. */
function timeCell(c: Cell | undefined): string {
  if (!c) return '-';
  return c.runs > 1 ? `${secs(c.median)} (${secs(c.min)}..${secs(c.max)})` : secs(c.median);
}

/** Monotonic drift, and the realtime drift when it says something else. */
function driftCell(c: Cell | undefined): string {
  if (!c || c.driftPct === undefined) return '-';
  const rt = c.realDriftPct;
  return rt !== undefined && Math.abs(rt - c.driftPct) >= 0.5 ? `${pct(c.driftPct)} (rt ${pct(rt)})` : pct(c.driftPct);
}

/** Aligned plain-text table; the first `left` columns are left-aligned. */
export function alignTable(head: string[], rows: string[][], left = 1): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]): string => cells.map((c, k) => (k < left ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ').trimEnd();
  return [line(head), line(head.map((_, k) => '-'.repeat(widths[k]))), ...rows.map(line)].join('\n');
}

/** The results table: one row per workload. */
export function formatTable(rows: readonly WorkloadSummary[], runners: readonly string[], ours = 'wasmvisor'): string {
  const peers = runners.includes(ours) ? PEERS.filter((p) => runners.includes(p.name) && ours !== p.name) : [];
  const head = ['workload', 'n', ...runners.map((r) => `${r} s`), ...peers.map((p) => `÷ ${p.title}`), ...runners.map((r) => `drift ${r}`)];
  const body = rows.map((s) => {
    const n = Object.values(s.cells).find((c) => c.n !== undefined)?.n;
    return [
      s.workload,
      n === undefined ? '' : n.toLocaleString('en-US'),
      ...runners.map((r) => timeCell(s.cells[r])),
      ...peers.map((p) => (s.ratios[p.name] === undefined ? '-' : `${s.ratios[p.name].toFixed(2)}x`)),
      ...runners.map((r) => (s.workload === 'boot' ? '' : driftCell(s.cells[r]))),
    ];
  });
  return alignTable(head, body);
}

// ---- wasmvisor statistics --------------------------------------------------------------------

/** Median of each key over several delta records (a key missing from one counts as 0 there). */
export function medianDeltas(deltas: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(deltas.flatMap((d) => Object.keys(d)))];
  return Object.fromEntries(keys.map((k) => [k, median(deltas.map((d) => d[k] ?? 0))]));
}

/** Groups "group.key" paths: the part before the first dot, or "" for top-level keys. */
export function groupKeys(delta: Record<string, number>): Map<string, [string, number][]> {
  const groups = new Map<string, [string, number][]>();
  for (const [path, v] of Object.entries(delta)) {
    const dot = path.indexOf('.');
    const g = dot < 0 ? '' : path.slice(0, dot);
    const k = dot < 0 ? path : path.slice(dot + 1);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push([k, v]);
  }
  return groups;
}

const num = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en-US') : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
const perIt = (v: number, n: number): string => {
  const x = v / n;
  return x >= 100 ? num(Math.round(x)) : x >= 0.01 ? x.toPrecision(3) : x.toExponential(1);
};

/**
 * The --stats section for one workload: instructions (per iteration and per host second), by
 * class, VMM exits (total, top reasons with per-iteration counts), then every other group of
 * counters (cache, translator, and whatever the machine reports later) with its non-zero keys.
 */
export function formatStats(workload: string, n: number, delta: Record<string, number>, hostSeconds: number | undefined, topExits = 12): string {
  const unit = WORKLOADS.find((w) => w.name === workload)?.unit ?? 'iteration';
  const out: string[] = [];
  const groups = groupKeys(delta);
  const top = new Map(groups.get('') ?? []);
  const insns = top.get('instructions') ?? 0;
  const insnNotes = [...(n > 1 ? [`${perIt(insns, n)} per ${unit}`] : []), ...(hostSeconds ? [`${(insns / hostSeconds / 1e6).toFixed(0)} MIPS over host time`] : [])];
  out.push(
    `${workload}: n=${n.toLocaleString('en-US')}${hostSeconds !== undefined ? `, host ${secs(hostSeconds)} s` : ''}` +
      `, ${num(insns)} guest instructions${insnNotes.length ? ` (${insnNotes.join(', ')})` : ''}`,
  );
  const row = (label: string, entries: [string, number][], sortDesc: boolean, limit = Infinity, withPer = false): void => {
    const nz = entries.filter(([, v]) => v !== 0);
    if (!nz.length) return;
    const list = sortDesc ? [...nz].sort((a, b) => b[1] - a[1]) : nz;
    const shown = list.slice(0, limit).map(([k, v]) => `${k} ${num(v)}${withPer && n > 1 ? ` (${perIt(v, n)}/${unit})` : ''}`);
    const rest = list.length - shown.length;
    out.push(`  ${label.padEnd(12)} ${shown.join(', ')}${rest > 0 ? `, ... ${rest} more` : ''}`);
  };
  row('by class', groups.get('instructionsByClass') ?? [], true);
  const exits = (groups.get('exits') ?? []).filter(([, v]) => v !== 0);
  const exitTotal = exits.reduce((a, [, v]) => a + v, 0);
  const exitNotes = [...(n > 1 ? [`${perIt(exitTotal, n)}/${unit}`] : []), ...(insns && exitTotal ? [`one per ${num(Math.round(insns / exitTotal))} instructions`] : [])];
  out.push(`  ${'VMM exits'.padEnd(12)} ${num(exitTotal)} total${exitNotes.length ? ` (${exitNotes.join(', ')})` : ''}`);
  row('  top', exits, true, topExits, true);
  for (const [g, entries] of groups) {
    if (g === '' || g === 'instructionsByClass' || g === 'exits') continue;
    row(g, entries, false);
  }
  row('other', [...top].filter(([k]) => k !== 'instructions'), false);
  return out.join('\n');
}

// ---- SVG -------------------------------------------------------------------------------------

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Grouped bars of host seconds per workload and runner (log scale), min..max whiskers. */
export function svgChart(rows: readonly WorkloadSummary[], runners: readonly string[], title: string): string {
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
  const shown = rows.filter((r) => Object.keys(r.cells).length);
  const group = runners.length * 26 + 34;
  const W = Math.max(420, 100 + shown.length * group);
  const H = 380;
  const top = 44;
  const bottom = 310;
  const cells = shown.flatMap((r) => Object.values(r.cells));
  const maxV = Math.max(0.01, ...cells.map((c) => c.max));
  const minV = Math.max(1e-4, Math.min(maxV / 10, ...cells.map((c) => c.min)) / 2);
  const lo = Math.log10(minV);
  const hi = Math.log10(maxV) + 0.15;
  const y = (v: number): number => bottom - ((Math.log10(Math.max(v, minV)) - lo) / (hi - lo)) * (bottom - top);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="60" y1="${bottom}" x2="${W - 10}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="60" y1="${yy}" x2="${W - 10}" y2="${yy}" stroke="#ddd"/>`, `<text x="55" y="${yy + 4}" text-anchor="end">${e >= 0 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  parts.push(`<text x="15" y="${(top + bottom) / 2}" transform="rotate(-90 15 ${(top + bottom) / 2})" text-anchor="middle">host seconds (log; lower is faster)</text>`);
  shown.forEach((r, i) => {
    const x0 = 80 + i * group;
    runners.forEach((name, j) => {
      const c = r.cells[name];
      if (!c) return;
      const x = x0 + j * 26;
      parts.push(`<rect x="${x}" y="${y(c.median)}" width="20" height="${bottom - y(c.median)}" fill="${colors[j % colors.length]}"><title>${esc(`${r.workload} / ${name}: ${secs(c.median)} s (${secs(c.min)}..${secs(c.max)}, ${c.runs} runs)`)}</title></rect>`);
      if (c.runs > 1) parts.push(`<line x1="${x + 10}" y1="${y(c.min)}" x2="${x + 10}" y2="${y(c.max)}" stroke="#000"/>`);
    });
    parts.push(`<text x="${x0 + (runners.length * 26) / 2 - 3}" y="${bottom + 16}" text-anchor="middle">${esc(r.workload)}</text>`);
  });
  runners.forEach((name, j) => {
    parts.push(`<rect x="${80 + j * 110}" y="${H - 30}" width="12" height="12" fill="${colors[j % colors.length]}"/>`, `<text x="${96 + j * 110}" y="${H - 20}">${esc(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
