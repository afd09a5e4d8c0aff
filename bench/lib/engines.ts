/**
 * Engines the benchmark can run a workload on. An engine loads a workload once and then runs it
 * again and again from its start (translations, like a real machine's caches, persist between
 * runs). Peers (v86, native execution) plug in here by implementing `BenchEngine`.
 */
import { EAX_TO_EDI, runOnVm } from './vm-runner.ts';
import type { Workload } from './workloads.ts';

export interface Loaded {
  /** Runs the workload once from its start; returns the guest instructions executed. */
  run(): number;
  /**
   * Translation statistics, for engines that translate: blocks translated and milliseconds spent
   * during the runs, and the steady-state cost (median us per block of re-translating them).
   */
  translation(): { blocks: number; ms: number; steadyUsPerBlock: number | null } | null;
}

export interface BenchEngine {
  readonly name: string;
  load(w: Workload, image: Uint8Array): Promise<Loaded>;
}

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

export { EAX_TO_EDI };
