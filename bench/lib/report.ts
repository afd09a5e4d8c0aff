/**
 * The workload benchmark's results: records, translator/interpreter ratios with their spread,
 * and an SVG bar chart. Pure functions; bench/run.ts does the I/O.
 */

/** One measurement run of one workload on one engine. */
export interface Sample {
  workload: string;
  engine: string;
  /** Guest instructions per run of the workload. */
  instructions: number;
  /** Mean seconds per run, and benchmark.js's relative margin of error (percent). */
  seconds: number;
  rme: number;
  /** Translation: blocks translated and milliseconds spent (cumulative for the engine's VM). */
  blocks: number;
  translateMs: number;
  /** Steady-state translation cost (median us per block of re-translating the same regions). */
  steadyUsPerBlock: number | null;
}

/** The JSON record per (workload, engine): the median over runs, plus the spread. */
export interface BenchRecord {
  workload: string;
  engine: string;
  mips: number;
  /** Steady-state translation time per block (median over runs), microseconds. */
  translateUsPerBlock: number | null;
  /** Translation time per block as it happened during the runs (median over runs). */
  translateUsPerBlockInRun: number | null;
  mipsMin: number;
  mipsMax: number;
  runs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const mipsOf = (s: Sample): number => s.instructions / s.seconds / 1e6;

export function records(samples: readonly Sample[]): BenchRecord[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${s.workload}\u0000${s.engine}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(s);
  }
  return [...groups.values()].map((g) => {
    const mips = g.map(mipsOf);
    const last = g[g.length - 1];
    const steady = g.map((s) => s.steadyUsPerBlock).filter((v): v is number => v !== null);
    const inRun = g.filter((s) => s.blocks > 0).map((s) => (s.translateMs * 1000) / s.blocks);
    return {
      workload: last.workload,
      engine: last.engine,
      mips: median(mips),
      translateUsPerBlock: steady.length ? median(steady) : null,
      translateUsPerBlockInRun: inRun.length ? median(inRun) : null,
      mipsMin: Math.min(...mips),
      mipsMax: Math.max(...mips),
      runs: g.length,
    };
  });
}

export interface Ratio {
  workload: string;
  /** Median of per-run ratios, and their min and max. */
  ratio: number;
  min: number;
  max: number;
}

/** engine `num` ÷ engine `den` per workload, from runs paired by index. */
export function ratios(samples: readonly Sample[], num: string, den: string): Ratio[] {
  const out: Ratio[] = [];
  const workloads = [...new Set(samples.map((s) => s.workload))];
  for (const w of workloads) {
    const a = samples.filter((s) => s.workload === w && s.engine === num);
    const b = samples.filter((s) => s.workload === w && s.engine === den);
    const n = Math.min(a.length, b.length);
    if (n === 0) continue;
    const rs = Array.from({ length: n }, (_, k) => mipsOf(a[k]) / mipsOf(b[k]));
    out.push({ workload: w, ratio: median(rs), min: Math.min(...rs), max: Math.max(...rs) });
  }
  return out;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A grouped bar chart of MIPS per workload and engine, log scale. */
export function svgChart(recs: readonly BenchRecord[], title: string): string {
  const workloads = [...new Set(recs.map((r) => r.workload))];
  const engines = [...new Set(recs.map((r) => r.engine))];
  const colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];
  const W = 120 + workloads.length * (engines.length * 28 + 30);
  const H = 360;
  const top = 40;
  const bottom = 300;
  const maxV = Math.max(1, ...recs.map((r) => r.mipsMax));
  const minV = Math.max(0.1, Math.min(...recs.map((r) => r.mipsMin)) / 2);
  const lo = Math.log10(minV);
  const hi = Math.log10(maxV) + 0.1;
  const y = (v: number): number => bottom - ((Math.log10(Math.max(v, minV)) - lo) / (hi - lo)) * (bottom - top);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="60" y1="${bottom}" x2="${W - 10}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="60" y1="${yy}" x2="${W - 10}" y2="${yy}" stroke="#ddd"/>`, `<text x="55" y="${yy + 4}" text-anchor="end">${10 ** e}</text>`);
  }
  parts.push(`<text x="15" y="${(top + bottom) / 2}" transform="rotate(-90 15 ${(top + bottom) / 2})" text-anchor="middle">guest MIPS (log)</text>`);
  workloads.forEach((w, i) => {
    const x0 = 80 + i * (engines.length * 28 + 30);
    engines.forEach((e, j) => {
      const r = recs.find((q) => q.workload === w && q.engine === e);
      if (!r) return;
      const x = x0 + j * 28;
      parts.push(`<rect x="${x}" y="${y(r.mips)}" width="22" height="${bottom - y(r.mips)}" fill="${colors[j % colors.length]}"><title>${esc(`${w} / ${e}: ${r.mips.toFixed(1)} MIPS`)}</title></rect>`);
      parts.push(`<line x1="${x + 11}" y1="${y(r.mipsMin)}" x2="${x + 11}" y2="${y(r.mipsMax)}" stroke="#000"/>`);
    });
    parts.push(`<text x="${x0 + (engines.length * 28) / 2 - 3}" y="${bottom + 16}" text-anchor="middle">${esc(w)}</text>`);
  });
  engines.forEach((e, j) => {
    parts.push(`<rect x="${80 + j * 90}" y="${H - 28}" width="12" height="12" fill="${colors[j % colors.length]}"/>`, `<text x="${96 + j * 90}" y="${H - 18}">${esc(e)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
