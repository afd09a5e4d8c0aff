/**
 * Worker-thread entry of the watched fuzzer (watch.ts): runs fuzz() with the options it was
 * given, publishing each input to the shared progress buffer, and posts the result back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz } from './fuzz.ts';
import type { FuzzOptions } from './fuzz.ts';

const data = workerData as { opts: Omit<FuzzOptions, 'progress'>; progress: SharedArrayBuffer };
const result = fuzz({ ...data.opts, progress: new Int32Array(data.progress) });
parentPort?.postMessage(result);
