/**
 * Worker-thread entry of the watched fuzzer (watch.ts). In 'fuzz' mode it runs fuzz() with the
 * options it was given, publishing each input to the shared progress buffer, and posts the
 * result back; in 'replay' mode it replays one input step by step (replayStepwise) so the
 * watcher can name the instruction a hang is stuck in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz, replayStepwise } from './fuzz.ts';
import type { FuzzInput, FuzzOptions } from './fuzz.ts';

type Job =
  | { kind: 'fuzz'; opts: Omit<FuzzOptions, 'progress'>; progress: SharedArrayBuffer }
  | { kind: 'replay'; input: FuzzInput; budget: number; progress: SharedArrayBuffer };

const job = workerData as Job;
if (job.kind === 'fuzz') {
  parentPort?.postMessage(fuzz({ ...job.opts, progress: new Int32Array(job.progress) }));
} else {
  replayStepwise(job.input, job.budget, new Int32Array(job.progress));
  parentPort?.postMessage('done');
}
