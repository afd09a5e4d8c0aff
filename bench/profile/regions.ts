/**
 * Where the host's time goes, from a V8 CPU profile of wasmvisor (`node --cpu-prof`): by category
 * (translated regions, their memory accessors, the hub, interpreter and run loop, translation,
 * VMM, devices, GC), over time, and per translated region — named after its guest address when
 * the run had WASMVISOR_REGION_NAMES=1 (translator/translate.ts `names`), and then, with
 * --kallsyms, after the guest kernel's symbol (a `/proc/kallsyms` of the same kernel, booted with
 * `nokaslr` so that the addresses match).
 *
 *   WASMVISOR_REGION_NAMES=1 node --cpu-prof --cpu-prof-dir=DIR ... (any run of the built package)
 *   npx tsx bench/profile/regions.ts DIR/X.cpuprofile [--last SEC | --from SEC --to SEC]
 *       [--timeline SEC] [--kallsyms FILE] [--top N]
 *
 * Self time only (the function on top of the stack at each sample). See translator/README.md.
 */
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame }
interface Profile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

const REGION = /^r\d+_([0-9a-f]+)_m(\d+)$/;
const CATEGORIES = ['regions', 'accessors', 'hub', 'interpreter', 'run loop', 'translation', 'vmm', 'devices', 'other js', 'gc', 'idle'] as const;
type Category = typeof CATEGORIES[number];

/** The category of a sampled frame. */
export function categoryOf(cf: CallFrame): Category {
  const fn = cf.functionName;
  if (cf.url.startsWith('wasm')) {
    if (REGION.test(fn)) return 'regions';
    if (/^(ld|st|tw)(8|16|32)$/.test(fn)) return 'accessors';
    return 'hub';
  }
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  const u = cf.url;
  if (/\/runtime\/(interp\/|interpreter\.|dispatch\.|code-cache\.)|\/translator\/(decoder|scan)\//.test(u)) return 'interpreter';
  if (/\/runtime\/(vm\.|dbt\/)/.test(u)) return 'run loop';
  if (/\/translator\/|binaryen/.test(u) || fn === 'compile' || fn === 'Instance') return 'translation';
  if (/\/runtime\/(vmm|x87)\/|\/runtime\/(cpu|memory|lazy-flags)\./.test(u)) return 'vmm';
  if (/\/runtime\/(devices|pc|block)\//.test(u)) return 'devices';
  return 'other js';
}

function loadSymbols(file: string): { at: number[]; name: string[] } {
  const rows = readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
    .filter((a) => a.length >= 3 && /^[tT]$/.test(a[1])).map((a) => [parseInt(a[0], 16), a[2]] as const)
    .sort((a, b) => a[0] - b[0]);
  return { at: rows.map((r) => r[0]), name: rows.map((r) => r[1]) };
}

function symbolize(syms: { at: number[]; name: string[] }, addr: number): string {
  let lo = 0;
  let hi = syms.at.length - 1;
  if (hi < 0 || addr < syms.at[0]) return `0x${addr.toString(16)}`;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syms.at[mid] <= addr) lo = mid;
    else hi = mid - 1;
  }
  return syms.name[lo];
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const k = args.indexOf(name);
    return k >= 0 ? args[k + 1] : undefined;
  };
  const file = args.find((a, k) => !a.startsWith('--') && (k === 0 || !args[k - 1].startsWith('--')));
  if (!file) {
    process.stderr.write('usage: regions.ts PROFILE.cpuprofile [--last SEC | --from SEC --to SEC] [--timeline SEC] [--kallsyms FILE] [--top N]\n');
    process.exit(2);
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let t = p.startTime;
  const times = p.timeDeltas.map((d) => (t += d));
  const endSec = (times[times.length - 1] - p.startTime) / 1e6;
  const last = opt('--last');
  const from = last !== undefined ? endSec - Number(last) : Number(opt('--from') ?? 0);
  const to = last !== undefined ? endSec : Number(opt('--to') ?? endSec);
  const syms = opt('--kallsyms') !== undefined ? loadSymbols(opt('--kallsyms') as string) : null;
  const top = Number(opt('--top') ?? 30);
  const bucket = opt('--timeline') !== undefined ? Number(opt('--timeline')) : 0;

  const cats = new Map<Category, number>();
  const regions = new Map<string, number>();
  const timeline = new Map<number, Map<Category, number>>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const sec = (times[i] - p.startTime) / 1e6;
    const cf = byId.get(p.samples[i])?.callFrame;
    if (!cf) continue;
    const cat = categoryOf(cf);
    if (bucket > 0) {
      const b = Math.floor(sec / bucket);
      const row = timeline.get(b) ?? new Map<Category, number>();
      row.set(cat, (row.get(cat) ?? 0) + 1);
      timeline.set(b, row);
    }
    if (sec < from || sec > to) continue;
    total++;
    cats.set(cat, (cats.get(cat) ?? 0) + 1);
    if (cat === 'regions') {
      const m = REGION.exec(cf.functionName) as RegExpExecArray;
      const key = syms ? `${symbolize(syms, parseInt(m[1], 16))} (mode ${m[2]})` : `${m[1]} (mode ${m[2]})`;
      regions.set(key, (regions.get(key) ?? 0) + 1);
    } else if (cat !== 'idle' && cat !== 'gc') {
      const key = `[${cat}] ${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}`;
      regions.set(key, (regions.get(key) ?? 0) + 1);
    }
  }
  const pct = (n: number, of: number): string => (of ? (100 * n) / of : 0).toFixed(1).padStart(5);
  console.log(`${file}: ${total} samples in ${from.toFixed(1)}..${to.toFixed(1)} s`);
  console.log(CATEGORIES.map((c) => `${c} ${pct(cats.get(c) ?? 0, total).trim()}%`).join(', '));
  console.log(`\ntop ${top} (translated regions${syms ? ' by kernel symbol' : ' by first EIP'}, other functions by category):`);
  for (const [k, n] of [...regions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(n, total)}  ${k}`);
  if (bucket > 0) {
    console.log(`\ntimeline (% of samples per ${bucket} s):`);
    console.log('   sec ' + CATEGORIES.map((c) => c.slice(0, 10).padStart(11)).join(''));
    for (const [b, row] of [...timeline].sort((x, y) => x[0] - y[0])) {
      const n = [...row.values()].reduce((a, c) => a + c, 0);
      console.log(String(b * bucket).padStart(6) + ' ' + CATEGORIES.map((c) => pct(row.get(c) ?? 0, n).padStart(11)).join(''));
    }
  }
}

main();
