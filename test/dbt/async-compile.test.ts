/**
 * Background compilation (DbtOptions.asyncCompile, which PcMachine uses): a hot block is
 * interpreted while its region's module compiles and runs compiled once the module is installed
 * at a return to the event loop; a page written meanwhile makes the finished module be thrown
 * away (its code is translated again from the new bytes); results equal the interpreter's.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX, R_ECX } from '../../translator/abi.ts';
import { Vm } from '../../runtime/vm.ts';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const eventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `mov ecx, n; top: add eax, k; dec ecx; jnz top; ud2` at 0x1000. */
function loop(n: number, k: number): number[] {
  const code = [0xb9, ...le32(n), 0x05, ...le32(k), 0x49];
  const at = 0x1000 + code.length;
  return [...code, 0x0f, 0x85, ...le32(0x1000 + 5 - (at + 6)), 0x0f, 0x0b];
}

function machine(engine: 'dbt' | 'interp'): Vm {
  const vm = new Vm({ memorySize: 1 << 20, engine, dbt: { asyncCompile: true, threshold: 50 } });
  vm.resetFlat32(0x1000, 0x80000);
  vm.stopOnFault = true;
  return vm;
}

/** Runs slices of `slice` instructions until the ud2 at the end, turning the event loop between them. */
async function runToEnd(vm: Vm, slice: number): Promise<number> {
  for (let slices = 1; ; slices++) {
    const r = vm.run(slice);
    if (r.reason === 'fault') {
      expect(r.fault?.vector).toBe(6);
      return slices;
    }
    await eventLoopTurn();
    // Let a compile that has finished on a V8 worker reach the main thread.
    if (vm.dbt?.compiling) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('background compilation of regions', () => {
  it('interprets until the module is installed, then runs it; state equals the interpreter', async () => {
    const vm = machine('dbt');
    await vm.prepare();
    vm.writePhys(0x1000, loop(200_000, 3));
    // One slice: the loop gets hot, its module is compiling, nothing is installed yet.
    vm.run(5_000);
    expect(vm.dbt?.compiling).toBe(1);
    expect(vm.stats().dbt?.regions).toBe(0);
    // Installed at a return to the event loop once the compile has finished.
    while (vm.dbt?.compiling) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(vm.stats().dbt?.regions).toBe(1);
    // From then on the loop runs compiled: a slice interprets at most the block it starts in
    // (the last slice may have ended inside the loop's block, where no region entry is).
    const misses = vm.stats().dbt?.misses ?? 0;
    expect(vm.run(5_000).executed).toBe(5_000);
    expect((vm.stats().dbt?.misses ?? 0) - misses).toBeLessThanOrEqual(1);
    await runToEnd(vm, 5_000);
    expect(vm.stats().dbt?.regions).toBe(1);

    const ref = machine('interp');
    ref.writePhys(0x1000, loop(200_000, 3));
    await runToEnd(ref, 5_000);
    expect(vm.cpu.s[R_EAX]).toBe(ref.cpu.s[R_EAX]);
    expect(vm.cpu.s[R_ECX]).toBe(0);
    expect(vm.cpu.eip).toBe(ref.cpu.eip);
  });

  it('throws away a module whose page was written while it compiled', async () => {
    const vm = machine('dbt');
    await vm.prepare();
    vm.writePhys(0x1000, loop(100_000, 3));
    vm.run(5_000);
    expect(vm.dbt?.compiling).toBe(1);
    // The host rewrites the loop's increment (as a DMA or another CPU would): the code cache
    // drops the page's blocks, and the module made from the old bytes must not be installed.
    const eaxBefore = vm.cpu.s[R_EAX];
    // Additions still to come: ECX, or one fewer when the slice ended between ADD and DEC.
    const addsLeft = vm.cpu.s[R_ECX] - (vm.cpu.eip === 0x1000 + 10 ? 1 : 0);
    vm.writePhys(0x1000 + 6, le32(7));
    while (vm.dbt?.compiling) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(vm.stats().dbt?.regions).toBe(0);
    // The rest of the loop adds 7 per iteration, translated anew from the new bytes.
    await runToEnd(vm, 5_000);
    expect(vm.stats().dbt?.regions).toBe(1);
    expect(vm.cpu.s[R_EAX]).toBe((eaxBefore + 7 * addsLeft) | 0);
  });
});
