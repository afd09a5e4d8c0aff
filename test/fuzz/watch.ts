/**
 * The fuzzer under a watchdog: fuzz() runs in a worker thread and publishes every input to a
 * shared buffer before running it; the main thread watches the input counter. An input that
 * keeps the VM busy for `hangSeconds` (an instruction that loops in the host, e.g. a REP form
 * that never yields) is reported like a crash, with its bytes, and the worker is terminated.
 * With keepGoing, a new worker resumes after the hung input (same seed, so the same inputs).
 */
import { Worker } from 'node:worker_threads';
import { PROGRESS_WORDS, readProgress } from './fuzz.ts';
import type { FuzzCrash, FuzzInput, FuzzOptions, FuzzResult } from './fuzz.ts';

export interface FuzzHang {
  readonly input: FuzzInput;
  readonly seconds: number;
}

export interface WatchedResult extends FuzzResult {
  readonly hangs: FuzzHang[];
}

/** Most hangs reported with keepGoing before the run gives up. */
const MAX_HANGS = 20;

type Attempt = { result: FuzzResult } | { hang: FuzzHang };

function runWorker(opts: Omit<FuzzOptions, 'progress'>, hangSeconds: number): Promise<Attempt> {
  const shared = new SharedArrayBuffer(PROGRESS_WORDS * 4);
  const progress = new Int32Array(shared);
  // The worker is plain Node: it registers tsx itself, then loads worker.ts.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const source = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(source, { eval: true, workerData: { opts, progress: shared } });
  return new Promise((resolve, reject) => {
    let last = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const n = Atomics.load(progress, 0);
      if (n !== last) {
        last = n;
        since = Date.now();
        return;
      }
      if (Date.now() - since < hangSeconds * 1000) return;
      clearInterval(timer);
      const input = readProgress(progress);
      void worker.terminate();
      if (input) resolve({ hang: { input, seconds: (Date.now() - since) / 1000 } });
      else reject(new Error('fuzz: the worker made no progress before its first input'));
    }, 250);
    worker.once('message', (result: FuzzResult) => {
      clearInterval(timer);
      void worker.terminate();
      resolve({ result });
    });
    worker.once('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
  });
}

/**
 * Runs the fuzzer in a worker thread with a hang watchdog. Without keepGoing it stops at the
 * first crash or hang; with it, it collects distinct crashes and resumes after each hang.
 */
export async function fuzzWatched(opts: Omit<FuzzOptions, 'progress' | 'skip'>, hangSeconds = 10): Promise<WatchedResult> {
  const endings: Record<string, number> = {};
  const crashes: FuzzCrash[] = [];
  const hangs: FuzzHang[] = [];
  let inputs = 0;
  let ms = 0;
  let skip = 0;
  for (;;) {
    const t0 = performance.now();
    const a = await runWorker({ ...opts, skip }, hangSeconds);
    if ('result' in a) {
      const r = a.result;
      inputs += r.inputs;
      ms += r.ms;
      for (const [k, v] of Object.entries(r.endings)) endings[k] = (endings[k] ?? 0) + v;
      for (const c of r.crashes) if (!crashes.some((x) => x.error.split('\n')[0] === c.error.split('\n')[0])) crashes.push(c);
      return { inputs, endings, crashes, ms, hangs };
    }
    hangs.push(a.hang);
    inputs += a.hang.input.index + 1 - skip;
    ms += performance.now() - t0;
    endings['host hang'] = (endings['host hang'] ?? 0) + 1;
    skip = a.hang.input.index + 1;
    if (!opts.keepGoing || hangs.length >= MAX_HANGS || skip >= opts.count) return { inputs, endings, crashes, ms, hangs };
  }
}
