/**
 * Runs a workload on wasmvisor through the public API (`Program`, src/program.ts): the flat
 * 32-bit image loaded at LOAD_ADDRESS, each run restarting at the entry with the same registers
 * (without touching the code pages, so translations survive between runs).
 */
import { Program } from '../../src/index.ts';
import type { Engine } from '../../src/index.ts';
import type { Loaded } from './types.ts';
import { LOAD_ADDRESS } from './workloads.ts';
import type { Workload } from './workloads.ts';

/** Initial ESP of every workload (they set their own, at the same place). */
const STACK = 0x80000;
const MAX_INSNS = 2_000_000_000;
/** Blocks re-translated to measure the steady-state translation cost (Program.measureTranslation). */
const STEADY_BLOCKS = 3000;

export async function runOnVm(engine: Engine, w: Workload, image: Uint8Array, forceTranslate = false): Promise<Loaded> {
  const p = await Program.create({ image, loadAddress: LOAD_ADDRESS, stack: STACK, memory: w.memorySize, engine, forceTranslate });
  return {
    run(): number {
      const r = p.run({ maxInstructions: MAX_INSNS });
      if (r.reason !== 'halted') {
        throw new Error(`${w.name} on ${engine}: stopped with '${r.reason}' ${r.fault?.description ?? ''} at EIP 0x${r.registers.eip.toString(16)}`);
      }
      const bad = w.check(r.registers);
      if (bad) throw new Error(`${w.name} on ${engine}: wrong result: ${bad}`);
      return r.instructions;
    },
    translation() {
      const t = p.stats().translator;
      if (!t) return null;
      return { blocks: t.blocks, ms: t.translateMs, steadyUsPerBlock: p.measureTranslation({ minBlocks: STEADY_BLOCKS }) };
    },
  };
}
