/**
 * Measuring the translator: the steady-state cost of translating a guest's code, per block.
 *
 * The translation time the tier accumulates while a guest runs (DbtStats.translateMs) includes
 * V8 compiling binaryen's JS glue and our emitters lazily (a process's first few thousand
 * translations cost up to several times the steady state), GC, and other processes. This module
 * separates the steady state: it translates the tier's last regions again (from the inputs the
 * tier remembers, `Dbt.recentTranslations`), round after round, and reports the later rounds.
 * Nothing is installed: the tier, its cache and the guest are unchanged. The public API exposes
 * it as `Program.measureTranslation` (src/program.ts).
 */
import { WASM_IMPORT_MODULE } from '../../translator/abi.ts';
import { formRegion } from '../../translator/scan/region.ts';
import { translateRegions } from '../../translator/translate.ts';
import type { Dbt } from './dbt.ts';

/** At least this many rounds are measured, whatever `minBlocks` says. */
export const MIN_ROUNDS = 6;

/**
 * Steady-state translation cost of `dbt`'s recent regions: translates them again (region
 * forming, Wasm emission, `WebAssembly.Module` and `Instance`, as the tier does) round after
 * round until `minBlocks` blocks have been translated and at least MIN_ROUNDS rounds have run,
 * and returns the median microseconds per block over the second half of the rounds. Null if
 * the tier has translated nothing yet (or binaryen is not loaded), or if none of the code it
 * translated is still there to translate again.
 */
export function measureTranslation(dbt: Dbt, minBlocks: number): number | null {
  const replay = dbt.recentTranslations();
  if (!replay) return null;
  const { backend, inputs, limits } = replay;
  const perBlock: number[] = [];
  let total = 0;
  while (total < minBlocks || perBlock.length < MIN_ROUNDS) {
    let blocks = 0;
    const t0 = performance.now();
    for (const q of inputs) {
      const bs = formRegion(q.page, q.entries, limits, q.accept);
      if (bs.length === 0) continue; // the code was overwritten since: nothing to translate
      const mod = translateRegions(backend, [{ blocks: bs, mode: q.mode }]);
      const imports = replay.imports();
      new WebAssembly.Instance(new WebAssembly.Module(mod.bytes as Uint8Array<ArrayBuffer>), { [WASM_IMPORT_MODULE]: imports });
      blocks += bs.length;
    }
    if (blocks === 0) return null;
    perBlock.push(((performance.now() - t0) * 1000) / blocks);
    total += blocks;
  }
  const late = perBlock.slice(perBlock.length >> 1).sort((a, b) => a - b);
  return late[late.length >> 1];
}
