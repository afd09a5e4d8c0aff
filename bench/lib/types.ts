/**
 * The contract between the workload benchmark (bench/run.ts) and the engines it measures
 * (lib/engines.ts, lib/vm-runner.ts; peers such as v86 or native execution would implement it
 * too). Types only, in a module of their own so that bench/run.ts, engines.ts and vm-runner.ts
 * share them without importing each other.
 */
import type { Workload } from './workloads.ts';

/** A workload loaded on an engine, ready to run again and again. */
export interface Loaded {
  /** Runs the workload once from its start, checks its result; returns the guest instructions executed. */
  run(): number;
  /**
   * Translation statistics, for engines that translate: blocks translated and milliseconds spent
   * during the runs, and the steady-state cost (median us per block of re-translating them).
   */
  translation(): { blocks: number; ms: number; steadyUsPerBlock: number | null } | null;
}

/** An engine: loads a workload image once (translations then persist between runs). */
export interface BenchEngine {
  readonly name: string;
  load(w: Workload, image: Uint8Array): Promise<Loaded>;
}
