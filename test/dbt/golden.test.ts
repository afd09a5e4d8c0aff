/**
 * Golden tests: guest bytes -> the WAT the translator emits for them, for a few representative
 * regions. A change in code generation shows up here as a diff to read; bless it with
 * `npx vitest run test/dbt/golden.test.ts -u` only after reading that diff.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MODE_CS32, MODE_FLAT, MODE_PE, MODE_SS32 } from '../../translator/abi.ts';
import { formatInsn } from '../../translator/decoder/disasm.ts';
import { formRegion } from '../../translator/scan/region.ts';
import type { CodePage } from '../../translator/scan/scan-block.ts';
import { translateRegions } from '../../translator/translate.ts';
import { loadWasmBackend } from '../../translator/wasm/backend.ts';
import type { WasmBackend } from '../../translator/wasm/backend.ts';

const FLAT32 = MODE_CS32 | MODE_SS32 | MODE_PE | MODE_FLAT;
const REAL = 0;
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

interface Golden { name: string; mode: number; code: number[] }

const GOLDEN: Golden[] = [
  {
    // A counted loop: compare-and-branch fusion, a self loop with registers in locals.
    name: 'alu-loop',
    mode: FLAT32,
    code: [0x31, 0xc0, 0xb9, ...le32(100), 0x01, 0xc8, 0x83, 0xf0, 0x55, 0x49, 0x75, 0xf8, 0xf4],
  },
  {
    // Frame setup, a load and a store through the soft TLB (inline fast paths), call/ret.
    name: 'memory-call',
    mode: FLAT32,
    code: [
      0x55, 0x89, 0xe5, 0x8b, 0x45, 0x08, 0x03, 0x05, ...le32(0x9000), 0xa3, ...le32(0x9004),
      0xe8, ...le32(1), 0xf4, 0xc3, // call +1 (to the ret); hlt; ret
    ],
  },
  {
    // Sensitive and I/O instructions become calls to the interp stub (VMM exits).
    name: 'vmm-stubs',
    mode: FLAT32,
    code: [0x9c, 0x9d, 0xfa, 0xe4, 0x80, 0x04, 0x01, 0xe6, 0x80, 0xfb, 0xf4],
  },
  {
    // REP MOVSD (page-chunk fast path) and a divide with its #DE exit.
    name: 'string-div',
    mode: FLAT32,
    code: [0xfc, 0xf3, 0xa5, 0x31, 0xd2, 0xf7, 0xf3, 0xf4],
  },
  {
    // 16-bit real-mode code: segment checks through the linr/linw helpers.
    name: 'real-mode',
    mode: REAL,
    code: [0x8b, 0x07, 0x01, 0x47, 0x02, 0x43, 0x43, 0x75, 0xf7, 0xf4],
  },
];

let backend: WasmBackend;
beforeAll(async () => {
  backend = await loadWasmBackend();
});

describe('golden WAT', () => {
  it.each(GOLDEN)('$name', async (g) => {
    const u8 = new Uint8Array(0x2000);
    u8.set(g.code, 0x1000);
    const code32 = (g.mode & MODE_CS32) !== 0;
    const page: CodePage = { u8, hostPage: 0x1000, physPage: 0x1000, eipBase: 0x1000, csLimit: code32 ? 0xffffffff : 0xffff, code32 };
    const blocks = formRegion(page, [0x1000]);
    const mod = translateRegions(backend, [{ blocks, mode: g.mode }], { text: true, validate: true });
    const listing = blocks.map((b) => b.insns.map((i) => `;; ${i.eip.toString(16).padStart(8, '0')}  ${formatInsn(i)}`).join('\n')).join('\n;;\n');
    await expect(`${listing}\n\n${mod.text}`).toMatchFileSnapshot(`golden/${g.name}.wat`);
  });
});

describe('region names for host profiles (TranslateOptions.names)', () => {
  it('names each region function after its first block and emits a name section only when asked', () => {
    const u8 = new Uint8Array(0x2000);
    u8.set(GOLDEN[1].code, 0x1000);
    const page: CodePage = { u8, hostPage: 0x1000, physPage: 0x1000, eipBase: 0x1000, csLimit: 0xffffffff, code32: true };
    const blocks = formRegion(page, [0x1000]);
    const named = translateRegions(backend, [{ blocks, mode: FLAT32 }], { names: true });
    const plain = translateRegions(backend, [{ blocks, mode: FLAT32 }]);
    expect(named.regions[0].exportName).toBe(`r0_1000_m${FLAT32}`);
    expect(plain.regions[0].exportName).toBe('r0');
    const sectionNames = (bytes: Uint8Array): string => {
      const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
      return WebAssembly.Module.customSections(mod, 'name').map((s) => new TextDecoder('latin1').decode(s)).join('');
    };
    expect(sectionNames(named.bytes)).toContain(`r0_1000_m${FLAT32}`);
    expect(sectionNames(plain.bytes)).toBe('');
    // The flag does not stay on for later modules.
    expect(sectionNames(translateRegions(backend, [{ blocks, mode: FLAT32 }]).bytes)).toBe('');
  });
});
