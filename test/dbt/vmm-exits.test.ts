/**
 * VMM work: the sensitive-heavy benchmark workload (PUSHF, POPF, CLI, STI, IN, OUT in a loop)
 * must count every sensitive, privileged and I/O instruction once, by reason, whichever engine
 * runs it: as a VMM exit (the interpreter, the translator's stub) or as VMM work translated code
 * did itself (emit/vmm.ts: PUSHF, POPF, CLI, STI, IN, OUT at CPL 0 with no interrupt pending); the
 * class counts are the same either way.
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
    const counted: Record<string, number> = { ...vm.exits };
    for (const [k, n] of Object.entries(vm.vmmInline)) counted[k] = (counted[k] ?? 0) + n;
    expect(counted).toEqual({
      pushf: ITER,
      popf: ITER,
      cli: ITER + 1, // one more before the final HLT
      sti: ITER,
      io: 2 * ITER,
      hlt: 1,
    });
    if (s.engine === 'interp') expect(vm.vmmInline).toEqual({});
    else {
      // HLT leaves; the flag instructions and port I/O stay in translated code once it runs.
      for (const k of ['pushf', 'popf', 'cli', 'sti']) expect(vm.vmmInline[k], k).toBeGreaterThan(ITER * 0.9);
      expect(vm.vmmInline.io).toBeGreaterThan(2 * ITER * 0.9);
    }
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
