/**
 * The fuzzer under a watchdog: fuzz() runs in a worker thread and publishes every input to a
 * shared buffer before running it; the main thread watches the input counter. An input that
 * keeps the VM busy for `hangSeconds` (an instruction that loops in the host, e.g. a REP form
 * that never yields) is reported like a crash, with its bytes, and the worker is terminated.
 * With keepGoing, a new worker resumes after the hung input (same seed, so the same inputs).
 */
import { Worker } from 'node:worker_threads';
import { describeStep, progressEndings, PROGRESS_WORDS, readProgress, STEP_WORDS } from './fuzz.ts';
import type { FuzzCrash, FuzzInput, FuzzOptions, FuzzResult } from './fuzz.ts';

export interface FuzzHang {
  readonly input: FuzzInput;
  readonly seconds: number;
  /** The instruction the input hangs in when replayed alone, or why that is unknown. */
  readonly instruction: string;
}

export interface WatchedResult extends FuzzResult {
  readonly hangs: FuzzHang[];
}

/** Most hangs reported with keepGoing before the run gives up. */
const MAX_HANGS = 20;

type Attempt = { result: FuzzResult } | { hang: { input: FuzzInput; seconds: number }; endings: Record<string, number> };

/** Starts worker.ts with `job` (the worker registers tsx itself: it is plain Node). */
function startWorker(job: object): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const source = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(source, { eval: true, workerData: job });
}

/**
 * Waits for `worker`'s message while watching counter word 0 of `progress`: resolves with the
 * message, or with 'hang' after `hangSeconds` without progress (the worker is terminated).
 */
function watch<T>(worker: Worker, progress: Int32Array, hangSeconds: number): Promise<{ message: T } | { hang: number }> {
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
      void worker.terminate();
      resolve({ hang: (Date.now() - since) / 1000 });
    }, 250);
    worker.once('message', (message: T) => {
      clearInterval(timer);
      void worker.terminate();
      resolve({ message });
    });
    worker.once('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
  });
}

async function runFuzzWorker(opts: Omit<FuzzOptions, 'progress'>, hangSeconds: number): Promise<Attempt> {
  const shared = new SharedArrayBuffer(PROGRESS_WORDS * 4);
  const progress = new Int32Array(shared);
  const w = await watch<FuzzResult>(startWorker({ kind: 'fuzz', opts, progress: shared }), progress, hangSeconds);
  if ('message' in w) return { result: w.message };
  const input = readProgress(progress);
  if (!input) throw new Error('fuzz: the worker made no progress before its first input');
  return { hang: { input, seconds: w.hang }, endings: progressEndings(progress) };
}

/** Replays a hung input alone, step by step, to name the instruction it hangs in. */
async function diagnose(input: FuzzInput, budget: number, hangSeconds: number): Promise<string> {
  const shared = new SharedArrayBuffer(STEP_WORDS * 4);
  const step = new Int32Array(shared);
  const w = await watch<string>(startWorker({ kind: 'replay', input, budget, progress: shared }), step, hangSeconds);
  if ('message' in w) return 'does not hang when replayed alone in a fresh VM (depends on earlier inputs)';
  return `hangs in ${describeStep(step)}`;
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
    const a = await runFuzzWorker({ ...opts, skip }, hangSeconds);
    if ('result' in a) {
      const r = a.result;
      inputs += r.inputs;
      ms += r.ms;
      for (const [k, v] of Object.entries(r.endings)) endings[k] = (endings[k] ?? 0) + v;
      for (const c of r.crashes) if (!crashes.some((x) => x.error.split('\n')[0] === c.error.split('\n')[0])) crashes.push(c);
      return { inputs, endings, crashes, ms, hangs };
    }
    hangs.push({ ...a.hang, instruction: await diagnose(a.hang.input, opts.budget ?? 24, hangSeconds) });
    for (const [k, v] of Object.entries(a.endings)) endings[k] = (endings[k] ?? 0) + v;
    inputs += a.hang.input.index + 1 - skip;
    ms += performance.now() - t0;
    endings['host hang'] = (endings['host hang'] ?? 0) + 1;
    skip = a.hang.input.index + 1;
    if (!opts.keepGoing || hangs.length >= MAX_HANGS || skip >= opts.count) return { inputs, endings, crashes, ms, hangs };
  }
}
