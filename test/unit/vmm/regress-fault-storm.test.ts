/**
 * Regression (fuzzer, seed 1, input #27193 and later ones in real mode with faults delivered):
 * earlier inputs had left IVT entry 13 at FFFF:FFFF, where the instruction crosses the CS
 * limit, so every #GP was delivered to a handler whose fetch raised #GP again. No instruction
 * retired, and the run loop counted only retired instructions against the budget: vm.run never
 * returned. Each delivered exception now consumes one unit of budget (the machine still loops,
 * as the processor would, but in slices).
 */
import { describe, expect, it } from 'vitest';
import { R_ESP, SEG_CS, SEG_SS } from '../../../translator/abi.ts';
import { Vm } from '../../../runtime/vm.ts';

/** Real mode; IVT[13] = FFFF:FFFF holding `89 C0` (MOV AX, AX: its second byte is past the limit). */
function storm(engine: 'interp' | 'dbt'): Vm {
  const vm = new Vm({ memorySize: 2 << 20, engine });
  vm.resetReal();
  vm.writePhys(13 * 4, [0xff, 0xff, 0xff, 0xff]);
  vm.writePhys(0xffff0 + 0xffff, [0x89, 0xc0]);
  vm.cpu.setSegment(SEG_CS, 0xffff, 0xffff0, 0xffff, vm.cpu.segFlags(SEG_CS));
  vm.cpu.eip = 0xffff;
  vm.cpu.setSegment(SEG_SS, 0, 0, 0xffff, vm.cpu.segFlags(SEG_SS));
  vm.cpu.s[R_ESP] = 0x8000;
  vm.cpu.refreshMode();
  return vm;
}

describe('a fault storm returns from run()', () => {
  for (const engine of ['interp', 'dbt'] as const) {
    it(`${engine}: #GP delivered to a handler that raises #GP at once: one delivery per unit of budget`, () => {
      const vm = storm(engine);
      const r = vm.run(1000);
      expect(r).toEqual({ reason: 'budget', executed: 0 });
      expect(vm.exits['exception 13']).toBe(1000);
      // 1000 frames of FLAGS, CS, IP; the last one returns to FFFF:FFFF.
      expect(vm.cpu.s[R_ESP]).toBe(0x8000 - 6 * 1000);
      expect([...vm.readPhys(0x8000 - 6 * 1000, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]);
      expect([vm.cpu.segSel(SEG_CS), vm.cpu.eip]).toEqual([0xffff, 0xffff]);
      // The next slice goes on where this one stopped.
      expect(vm.run(10)).toEqual({ reason: 'budget', executed: 0 });
      expect(vm.exits['exception 13']).toBe(1010);
    });
  }

  it('deliveries and retired instructions share the budget', () => {
    const vm = storm('interp');
    // IVT[6] → 0000:0500: INC BX; UD2 (one instruction retires per #UD delivered).
    vm.writePhys(6 * 4, [0x00, 0x05, 0x00, 0x00]);
    vm.writePhys(0x500, [0x43, 0x0f, 0x0b]);
    vm.cpu.setSegment(SEG_CS, 0, 0, 0xffff, vm.cpu.segFlags(SEG_CS));
    vm.cpu.eip = 0x500;
    vm.cpu.s[3] = 0;
    const r = vm.run(100);
    expect(r).toEqual({ reason: 'budget', executed: 50 });
    expect(vm.cpu.s[3]).toBe(50);
    expect(vm.exits['exception 6']).toBe(50);
  });
});
