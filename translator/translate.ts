/**
 * The translator's entry point: guest blocks and a mode in, a Wasm module's bytes and region
 * metadata out. One module may hold several regions (module compile has a fixed cost of
 * ~100-200 us, so the runtime batches regions that become hot together); each region is one
 * exported function named `r<k>`.
 *
 * Pure: the caller provides the loaded backend and the scanned blocks; nothing here touches
 * runtime state.
 */
import type { ScannedBlock } from './scan/scan-block.ts';
import { addFlagHelpers } from './emit/flags.ts';
import { emitRegion } from './emit/region.ts';
import type { RegionCode } from './emit/region.ts';
import type { WasmBackend } from './wasm/backend.ts';

export interface RegionRequest {
  readonly blocks: readonly ScannedBlock[];
  /** MODE_* bits the code was scanned in and will run in. */
  readonly mode: number;
  /** The region's slot in the shared region table (abi.ts JUMP_CACHE); 0 when it is not installed. */
  readonly slot?: number;
}

export interface TranslatedModule {
  readonly bytes: Uint8Array;
  /** Per request, in order: the export name and what the runtime needs to enter it. */
  readonly regions: readonly (RegionCode & { readonly exportName: string })[];
  /** The module in binaryen's text format, when asked for (golden tests, out_asm traces). */
  readonly text?: string;
}

export interface TranslateOptions {
  /** Also return the text form. */
  readonly text?: boolean;
  /** Validate the module before emitting it (tests; costs about as much as emitting). */
  readonly validate?: boolean;
  /**
   * Name each region function after its first block, `r<k>_<eip hex>_m<mode>`, and emit a name
   * section, so that a CPU profile of the host (`node --cpu-prof`) attributes time per region
   * (bench/profile/regions.ts). The runtime enables it with WASMVISOR_REGION_NAMES=1.
   */
  readonly names?: boolean;
}

/** Translates regions into one module. */
export function translateRegions(backend: WasmBackend, requests: readonly RegionRequest[], opts: TranslateOptions = {}): TranslatedModule {
  const mb = backend.newModule();
  try {
    const regions = requests.map((r, k) => {
      const exportName = opts.names ? `r${k}_${(r.blocks[0].eip >>> 0).toString(16)}_m${r.mode}` : `r${k}`;
      return { ...emitRegion(mb, exportName, r.blocks, r.mode, r.slot ?? 0), exportName };
    });
    if (opts.validate && !mb.validate()) throw new Error('translator: emitted an invalid module');
    const text = opts.text ? mb.text() : undefined;
    const bytes = mb.finish(opts.names === true);
    return { bytes, regions, text };
  } finally {
    mb.dispose();
  }
}

/**
 * The hub module (wasm/backend.ts `hubModule`) with the helpers the translator implements in
 * Wasm itself: `testcc` and `flags` (emit/flags.ts `addFlagHelpers`). It imports the memory and
 * the remaining JS helpers. `names`: with a name section (as TranslateOptions.names).
 */
export function hubModule(backend: WasmBackend, initialSlots: number, names = false): Uint8Array {
  return backend.hubModule(initialSlots, addFlagHelpers, names);
}
