/**
 * The hub's Wasm `testcc` and `flags` helpers (translator/emit/flags.ts addFlagHelpers) against
 * the reference, runtime/lazy-flags.ts: for every record kind and size, operands from a fixed
 * pseudo-random sequence and the edge values, every condition code, and materialized EFLAGS
 * (with LF_OP left as LF_NONE) must be equal; LF_NONE reads EFLAGS itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EFLAGS, HELPER_INDEX, HELPERS, LF_A, LF_B, LF_C, LF_NONE, LF_OP, LF_RES, LFK_ADC, LFK_ADD, LFK_DEC, LFK_INC, LFK_LOGIC, LFK_SBB,
  LFK_SHIFT, LFK_SUB, SZ16, SZ32, SZ8, WASM_HUB_NAME, WASM_IMPORT_MODULE, WASM_MEMORY_NAME,
} from '../../translator/abi.ts';
import { hubModule } from '../../translator/translate.ts';
import { loadWasmBackend } from '../../translator/wasm/backend.ts';
import { getEflags, testCC } from '../../runtime/lazy-flags.ts';

let hub: (k: number, a: number, b: number, c: number) => number;
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const s = new Int32Array(memory.buffer, 0, 64);

beforeAll(async () => {
  const backend = await loadWasmBackend();
  const js = Object.fromEntries(Object.keys(HELPERS).map((n) => [n, () => { throw new Error(`JS helper ${n} called`); }]));
  const mod = new WebAssembly.Module(hubModule(backend, 1) as Uint8Array<ArrayBuffer>);
  const inst = new WebAssembly.Instance(mod, { [WASM_IMPORT_MODULE]: { ...js, [WASM_MEMORY_NAME]: memory } });
  hub = inst.exports[WASM_HUB_NAME] as typeof hub;
});

/** A fixed xorshift sequence, so a failure repeats. */
function* values(n: number): Generator<number> {
  const edges = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
  for (const e of edges) yield e | 0;
  let x = 0x2545f491;
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    yield x | 0;
  }
}

const MASK = [0xff, 0xffff, 0xffffffff];
const KINDS = { LFK_ADD, LFK_ADC, LFK_SUB, LFK_SBB, LFK_LOGIC, LFK_INC, LFK_DEC, LFK_SHIFT };

describe('the hub\'s Wasm testcc and flags give runtime/lazy-flags.ts\'s results', () => {
  it.each(Object.entries(KINDS))('%s, all sizes', (_name, kind) => {
    let cases = 0;
    for (const sz of [SZ8, SZ16, SZ32]) {
      const mask = MASK[sz];
      const vals = [...values(200)];
      for (let k = 0; k < vals.length; k++) {
        const a = vals[k] & mask;
        const b = vals[(k * 7 + 3) % vals.length] & mask;
        // Records as the emitters write them: the result of the operation, masked to the size.
        const carry = vals[(k * 13 + 5) % vals.length] & 3;
        const res = (kind === LFK_SUB || kind === LFK_SBB || kind === LFK_DEC ? a - b - (kind === LFK_SBB ? carry & 1 : 0)
          : kind === LFK_LOGIC || kind === LFK_SHIFT ? a ^ b : a + b + (kind === LFK_ADC ? carry & 1 : 0)) & mask;
        const eflags = (vals[(k * 3 + 1) % vals.length] & 0x3f7fd5) | 0x2;
        const set = (): void => {
          s[LF_OP >> 2] = (kind << 2) | sz;
          s[LF_A >> 2] = a;
          s[LF_B >> 2] = b;
          s[LF_RES >> 2] = res;
          s[LF_C >> 2] = carry;
          s[EFLAGS >> 2] = eflags;
        };
        for (let cc = 0; cc < 16; cc++) {
          set();
          const want = testCC(s, cc) ? 1 : 0;
          set();
          expect(hub(HELPER_INDEX.testcc, cc, 0, 0), `${_name} size ${sz} a=${a} b=${b} res=${res} c=${carry} cc=${cc}`).toBe(want);
          cases++;
        }
        set();
        const want = getEflags(s);
        expect(hub(HELPER_INDEX.flags, 0, 0, 0) >>> 0, `${_name} size ${sz} a=${a} b=${b} res=${res}`).toBe(want >>> 0);
        expect(s[EFLAGS >> 2] >>> 0).toBe(want >>> 0);
        expect(s[LF_OP >> 2]).toBe(LF_NONE);
      }
    }
    expect(cases).toBeGreaterThan(3 * 200 * 16);
  });

  it('LF_NONE: the conditions and flags come from EFLAGS', () => {
    for (const eflags of values(300)) {
      const e = (eflags & 0x3f7fd5) | 0x2;
      for (let cc = 0; cc < 16; cc++) {
        s[LF_OP >> 2] = LF_NONE;
        s[EFLAGS >> 2] = e;
        expect(hub(HELPER_INDEX.testcc, cc, 0, 0)).toBe(testCC(s, cc) ? 1 : 0);
      }
      expect(hub(HELPER_INDEX.flags, 0, 0, 0)).toBe(e);
    }
  });
});
