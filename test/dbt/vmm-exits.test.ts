/**
 * VMM exits: the sensitive-heavy benchmark workload (PUSHF, POPF, CLI, STI, IN, OUT in a loop)
 * must produce exactly one VMM exit per sensitive, privileged and I/O instruction, counted by
 * reason, whichever engine runs it: translated code never runs these instructions as plain Wasm,
 * it calls the VMM's handlers, which report each exit.
 */
import { describe, expect, it } from 'vitest';
import { Vm } from '../../runtime/vm.ts';
import { workloadImage } from '../../bench/lib/workloads.ts';

const ITER = 20000; // bench/workloads/sensitive.asm

const SETUPS = [
  { name: 'interpreter', engine: 'interp' as const },
  { name: 'translator', engine: 'dbt' as const, dbt: { threshold: 50 } },
  { name: 'translator, force-translate', engine: 'dbt' as const, force: true },
];

describe('VMM exits of the sensitive workload', () => {
  it.each(SETUPS)('$name', async (s) => {
    const vm = new Vm({ memorySize: 1 << 20, engine: s.engine, forceTranslate: s.force, dbt: s.dbt });
    await vm.prepare();
    vm.resetFlat32(0x1000, 0x80000);
    vm.writePhys(0x1000, workloadImage('sensitive'));
    const r = vm.run(10_000_000);
    expect(r.reason).toBe('halted');
    expect(vm.exits).toEqual({
      pushf: ITER,
      popf: ITER,
      cli: ITER + 1, // one more before the final HLT
      sti: ITER,
      io: 2 * ITER,
      hlt: 1,
    });
    const classes = vm.classStats();
    expect(classes['sensitive-non-trapping']).toBe(2 * ITER);
    expect(classes.privileged).toBe(2 * ITER + 2);
    expect(classes.io).toBe(2 * ITER);
    // mov esp, mov ecx, xor ebx; per iteration add bl, al / add ebx, ecx / dec ecx; mov eax, ebx.
    expect(classes.innocuous).toBe(3 * ITER + 4);
    expect(classes.control).toBe(ITER); // jnz
    expect(r.executed).toBe(vm.cpu.icount);
    if (s.engine === 'dbt') expect(vm.stats().dbt?.regions).toBeGreaterThan(0);
  });
});
