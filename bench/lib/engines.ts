/**
 * Engines the benchmark can run a workload on. An engine loads a workload once and then runs it
 * again and again from its start (translations, like a real machine's caches, persist between
 * runs). Peers (v86, native execution) plug in here by implementing `BenchEngine` (lib/types.ts).
 */
import type { BenchEngine } from './types.ts';
import { runOnVm } from './vm-runner.ts';

/** Our interpreter. */
export const interpEngine: BenchEngine = {
  name: 'interp',
  load: (w, image) => runOnVm('interp', w, image),
};

/** Our translator (default tier-up policy). */
export const dbtEngine: BenchEngine = {
  name: 'dbt',
  load: (w, image) => runOnVm('dbt', w, image),
};

export const ENGINES: readonly BenchEngine[] = [interpEngine, dbtEngine];

/** The translator translating everything on first execution: used to warm binaryen up. */
export const warmupEngine: BenchEngine = {
  name: 'dbt-force',
  load: (w, image) => runOnVm('dbt', w, image, true),
};
