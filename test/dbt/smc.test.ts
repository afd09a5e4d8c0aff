/**
 * Self-modifying code under the translator: a write to a page holding translated code
 * invalidates what was translated from it, a region that rewrites its own page leaves after the
 * writing instruction, and the new bytes run next — as in the interpreter (the reference), which
 * sees a modification at the very next instruction.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX, R_EBX } from '../../translator/abi.ts';
import { Vm } from '../../runtime/vm.ts';
import type { DbtOptions } from '../../runtime/dbt/dbt.ts';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

interface Setup { engine: 'interp' | 'dbt'; force?: boolean; dbt?: Omit<DbtOptions, 'forceTranslate'> }
const SETUPS: Setup[] = [
  { engine: 'interp' },
  { engine: 'dbt', force: true },
  { engine: 'dbt', dbt: { threshold: 3 } },
];

async function run(setup: Setup, pages: [number, number[]][], budget = 1_000_000): Promise<Vm> {
  const vm = new Vm({ memorySize: 1 << 20, engine: setup.engine, forceTranslate: setup.force, dbt: { validate: true, ...setup.dbt } });
  await vm.prepare();
  vm.resetFlat32(0x1000, 0x80000);
  for (const [addr, bytes] of pages) vm.writePhys(addr, bytes);
  vm.stopOnFault = true;
  const r = vm.run(budget);
  expect(r.reason).toBe('fault');
  expect(r.fault?.vector).toBe(6); // the closing UD2
  return vm;
}

describe('self-modifying code', () => {
  it.each(SETUPS)('sees a write to the next instruction of the same block (%o)', async (setup) => {
    // mov byte [0x100c], 0x05 ; 0x1007: mov eax, 0x01020304 ; ud2
    const code = [0xc6, 0x05, ...le32(0x1008), 0x05, 0xb8, ...le32(0x01020304), 0x0f, 0x0b];
    const vm = await run(setup, [[0x1000, code]]);
    expect(vm.cpu.s[R_EAX]).toBe(0x01020305);
  });

  it.each(SETUPS)('runs a loop that rewrites its own immediate every iteration (%o)', async (setup) => {
    const code = [
      0xb9, ...le32(1000), // mov ecx, 1000
      0x31, 0xdb, // xor ebx, ebx
      // top (0x1007):
      0x89, 0x0d, ...le32(0x100e), // mov [0x100e], ecx   (the imm32 of the next instruction)
      0xb8, ...le32(0), // 0x100d: mov eax, imm32
      0x01, 0xc3, // add ebx, eax
      0x49, // dec ecx
      0x75, 0xf0, // jnz top (0x1007)
      0x0f, 0x0b,
    ];
    const vm = await run(setup, [[0x1000, code]]);
    expect(vm.cpu.s[R_EBX]).toBe(500500);
    // Force-translate mode translates the loop, so every patch invalidates a region. (With a
    // threshold the block never gets hot: each patch drops it from the decoded-block cache too.)
    if (setup.force) expect(vm.stats().dbt?.invalidations).toBeGreaterThan(0);
  });

  it.each(SETUPS)('retranslates a routine in another page after it was patched (%o)', async (setup) => {
    const a = [
      0xe8, ...le32(0x3000 - 0x1005), // call 0x3000
      0x89, 0xc3, // mov ebx, eax
      0xc6, 0x05, ...le32(0x3001), 0x02, // mov byte [0x3001], 2
      0xe8, ...le32(0x3000 - 0x1013), // call 0x3000
      0x01, 0xc3, // add ebx, eax
      0x0f, 0x0b,
    ];
    const b = [0xb8, ...le32(1), 0xc3]; // mov eax, 1; ret
    const vm = await run(setup, [[0x1000, a], [0x3000, b]]);
    expect(vm.cpu.s[R_EBX]).toBe(3);
  });

  it('drops translations when the host writes guest memory (loaders, DMA)', async () => {
    const vm = new Vm({ memorySize: 1 << 20, engine: 'dbt', forceTranslate: true });
    await vm.prepare();
    vm.stopOnFault = true;
    for (const imm of [7, 9]) {
      vm.resetFlat32(0x1000, 0x80000);
      vm.writePhys(0x1000, [0xb8, ...le32(imm), 0x0f, 0x0b]);
      vm.run(100);
      expect(vm.cpu.s[R_EAX]).toBe(imm);
    }
  });
});
