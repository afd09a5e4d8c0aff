/**
 * The region cache's memory budget: over budget, least recently used regions are evicted (not
 * everything), evicted code is translated again when it runs again, and results stay correct.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX } from '../../translator/abi.ts';
import { Vm } from '../../runtime/vm.ts';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

describe('region cache budget', () => {
  it('evicts least recently used regions and stays correct', async () => {
    // 24 routines, one per page, each adding its page number to EAX; a driver calls them all,
    // three times over.
    // Whole pages per region ('reachable'), so that the driver is one region and a few routines
    // fit in the budget beside it (force-translate with 'executed' makes a region per block).
    const vm = new Vm({ memorySize: 1 << 20, engine: 'dbt', forceTranslate: true, dbt: { cacheBudget: 32 << 10, regionScope: 'reachable' } });
    await vm.prepare();
    vm.resetFlat32(0x1000, 0x80000);
    const N = 24;
    const driver: number[] = [0xb9, ...le32(3)]; // mov ecx, 3
    const loopTop = 0x1000 + driver.length;
    for (let k = 0; k < N; k++) {
      const at = 0x1000 + driver.length;
      const target = 0x10000 + k * 0x1000;
      driver.push(0xe8, ...le32(target - (at + 5))); // call routine k
      vm.writePhys(target, [0x05, ...le32(k + 1), 0xc3]); // add eax, k + 1; ret
    }
    const at = 0x1000 + driver.length;
    driver.push(0x49, 0x0f, 0x85, ...le32(loopTop - (at + 7)), 0x0f, 0x0b); // dec ecx; jnz top; ud2
    vm.writePhys(0x1000, driver);
    vm.stopOnFault = true;
    const r = vm.run(1_000_000);
    expect(r.fault?.vector).toBe(6);
    expect(vm.cpu.s[R_EAX]).toBe(3 * ((N * (N + 1)) / 2));
    const st = vm.stats().dbt;
    expect(st?.evictions).toBeGreaterThan(0);
    // Evicted down to 75 % of the budget, not to nothing.
    expect(st?.liveRegions).toBeGreaterThan(1);
    expect(st?.cacheBytes).toBeLessThanOrEqual(32 << 10);
    // Regions were translated again after eviction: more translations than distinct pages.
    expect(st?.regions).toBeGreaterThan(N + 1);
  });
});
