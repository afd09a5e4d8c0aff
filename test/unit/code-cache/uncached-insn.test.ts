/**
 * Instructions that cross a page run uncached (a code-cache block depends on one physical page).
 * Their decoded form is reused from a small per-CPU cache only while their bytes are unchanged,
 * and the fetch cache remembers "uncached here": a loop that rewrites the part of such an
 * instruction lying in the next page must see the new bytes at once, in both engines.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX, R_EBX, R_ECX } from '../../../translator/abi.ts';
import { Vm } from '../../../runtime/vm.ts';

const CODE = 0x1ff0;
// 1ff0 mov ecx, 3 | 1ff5 xor ebx, ebx | 1ff7 7 x nop
// 1ffe mov eax, 0x44332211   (bytes 1ffe..2002: crosses into page 2000)
// 2003 add ebx, eax | 2005 mov byte [0x2002], 0x55 (the immediate's top byte, in page 2000)
// 200c dec ecx | 200d jnz 1ffe | 200f hlt
const PROGRAM = [
  0xb9, 0x03, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
  0xb8, 0x11, 0x22, 0x33, 0x44, 0x01, 0xc3, 0xc6, 0x05, 0x02, 0x20, 0x00, 0x00, 0x55,
  0x49, 0x75, 0xef, 0xf4,
];

describe('page-crossing instructions', () => {
  for (const [engine, force] of [['interp', false], ['dbt', false], ['dbt', true]] as const) {
    it(`${engine}${force ? ' (force-translate)' : ''}: a rewritten page-crossing instruction runs its new bytes`, async () => {
      const vm = new Vm({ memorySize: 1 << 20, engine, forceTranslate: force });
      await vm.prepare();
      vm.resetFlat32(CODE, 0x8000);
      vm.writePhys(CODE, PROGRAM);
      const r = vm.run(1000);
      expect(r.reason).toBe('halted');
      expect(r.executed).toBe(2 + 7 + 3 * 5 + 1);
      const s = vm.cpu.s;
      expect(s[R_EAX] >>> 0).toBe(0x55332211);
      expect(s[R_EBX] >>> 0).toBe((0x44332211 + 2 * 0x55332211) >>> 0);
      expect(s[R_ECX]).toBe(0);
    });
  }
});
