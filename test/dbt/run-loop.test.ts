/**
 * The translator tier and the run loop: budgets are exact (a slice never runs past its budget,
 * compiled loops included), an interrupt requested while compiled code loops is taken at the
 * next back edge, and a stop request ends a slice promptly.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX } from '../../translator/abi.ts';
import { EMPTY_BUS } from '../../runtime/cpu.ts';
import type { IoBus } from '../../runtime/cpu.ts';
import { Vm } from '../../runtime/vm.ts';

/** A loop that never ends (16-bit real mode at 0000:1000): sti; L: inc ax; add bx, ax; jmp L. */
const LOOP16 = [0xfb, 0x40, 0x01, 0xc3, 0xeb, 0xfb];
/** The vector 8 handler at 0000:2000: mov byte [0x3000], 1; hlt. */
const HANDLER16 = [0xc6, 0x06, 0x00, 0x30, 0x01, 0xf4];

async function realModeVm(): Promise<Vm> {
  const vm = new Vm({ memorySize: 1 << 20, engine: 'dbt', forceTranslate: true });
  await vm.prepare();
  // Real mode, CS = DS = SS = 0.
  for (let seg = 0; seg < 6; seg++) vm.cpu.setSegment(seg, 0, 0, 0xffff, vm.cpu.segFlags(seg));
  vm.cpu.eip = 0x1000;
  vm.cpu.s[4] = 0x8000;
  vm.writePhys(0x1000, LOOP16);
  vm.writePhys(0x2000, HANDLER16);
  vm.writePhys(8 * 4, [0x00, 0x20, 0x00, 0x00]); // IVT[8] = 0000:2000
  vm.cpu.refreshMode();
  return vm;
}

describe('run loop with compiled code', () => {
  it('executes exactly the budget, compiled loops included', async () => {
    const vm = await realModeVm();
    let total = 0;
    for (const n of [1, 2, 3, 7, 100, 1001, 5000, 33333]) {
      const before = vm.cpu.icount;
      const r = vm.run(n);
      expect(r.reason).toBe('budget');
      expect(r.executed).toBe(n);
      expect(vm.cpu.icount - before).toBe(n);
      total += n;
    }
    // 1 STI, then 3 instructions per iteration: AX counts the iterations begun.
    const iterations = Math.floor((total - 1) / 3) + ((total - 1) % 3 >= 1 ? 1 : 0);
    expect(vm.cpu.s[R_EAX] & 0xffff).toBe(iterations & 0xffff);
    expect(vm.stats().dbt?.hits).toBeGreaterThan(0);
  });

  it('takes an interrupt raised while a compiled loop runs at its next back edge', async () => {
    // The loop stores AX to device memory (ES:0010 = 0x100000, past the 1 MiB of RAM) every
    // iteration; the device raises an interrupt on its 5000th write, from inside compiled code.
    let writes = 0;
    let pending = false;
    let axAtRaise = -1;
    const bus: IoBus = {
      ...EMPTY_BUS,
      mmioWrite: (_addr, _size, value) => {
        if (++writes === 5000) {
          pending = true;
          axAtRaise = value;
          vm.notifyInterrupt();
        }
      },
    };
    const vm = new Vm({ memorySize: 1 << 20, engine: 'dbt', forceTranslate: true, io: bus });
    await vm.prepare();
    for (let seg = 0; seg < 6; seg++) vm.cpu.setSegment(seg, 0, 0, 0xffff, vm.cpu.segFlags(seg));
    vm.cpu.setSegment(0, 0xffff, 0xffff0, 0xffff, vm.cpu.segFlags(0));
    vm.cpu.eip = 0x1000;
    vm.cpu.s[4] = 0x8000;
    // sti; L: inc ax; mov [es:0x10], ax; jmp L
    vm.writePhys(0x1000, [0xfb, 0x40, 0x26, 0xa3, 0x10, 0x00, 0xeb, 0xf9]);
    // handler: mov [0x3002], ax; mov byte [0x3000], 1; hlt
    vm.writePhys(0x2000, [0xa3, 0x02, 0x30, 0xc6, 0x06, 0x00, 0x30, 0x01, 0xf4]);
    vm.writePhys(8 * 4, [0x00, 0x20, 0x00, 0x00]);
    vm.cpu.refreshMode();
    vm.irq = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 8; } };
    const r = vm.run(1_000_000);
    expect(r.reason).toBe('halted');
    expect(vm.readPhys(0x3000, 1)[0]).toBe(1);
    expect(writes).toBe(5000);
    // Taken at the back edge right after the raising write: AX had not moved on.
    const ax = vm.readPhys(0x3002, 2);
    expect(ax[0] | (ax[1] << 8)).toBe(axAtRaise);
    expect(vm.stats().dbt?.hits).toBeGreaterThan(0);
  });

  it('stops a compiled loop on request', async () => {
    const vm = await realModeVm();
    vm.run(1000);
    vm.requestStop();
    const r = vm.run(1_000_000);
    expect(r.reason).toBe('stopped');
    expect(r.executed).toBeLessThanOrEqual(3);
  });

  it('counts exactly with a budget of 2^31 and more (the int32 BUDGET is clamped per entry)', async () => {
    // 32-bit flat: mov ecx, 3000000; L: dec ecx; jnz L; hlt  ->  1 + 2 * 3000000 + 1 instructions.
    const vm = new Vm({ memorySize: 1 << 20, engine: 'dbt', forceTranslate: true });
    await vm.prepare();
    vm.resetFlat32(0x1000, 0x8000);
    vm.writePhys(0x1000, [0xb9, 0xc0, 0xc6, 0x2d, 0x00, 0x49, 0x75, 0xfd, 0xf4]);
    const r = vm.run(3_000_000_000);
    expect(r.reason).toBe('halted');
    expect(r.executed).toBe(2 + 2 * 3_000_000);
    expect(vm.stats().dbt?.regions).toBeGreaterThan(0);
  });
});
