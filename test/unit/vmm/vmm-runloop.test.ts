/**
 * Interrupt-delivery semantics of the run loop (SDM vol. 3, 6.8.3 and 17.3.1): the one-
 * instruction shadows of STI and MOV SS (the latter also holding back the single-step trap),
 * the TF trap after the instruction that follows the one setting TF, with DR6.BS, no TF trap
 * after INT n, HLT woken by an interrupt, and RF cleared after one instruction.
 */
import { describe, expect, it } from 'vitest';
import { DR, EFLAGS } from '../../../translator/abi.ts';
import { runProgram, stack, stubVector, withIrq } from './vmm-harness.ts';
import type { GuestRun, PmProgram } from './vmm-harness.ts';

function run(p: PmProgram): GuestRun {
  return runProgram({ ...p, idt: { 0x30: 'GATE 0x08, A(irq_handler), 0x8E, 0', ...p.idt }, extra: `${p.extra ?? ''}\nirq_handler: hlt` }, { setup: withIrq });
}

describe('interrupt shadows', () => {
  it('after STI the interrupt waits for one more instruction', () => {
    const r = run({ body: 'out 0x80, al\nnop\nsti\nmov eax, 1\nsecond: mov ebx, 2\nhlt' });
    expect(r.vm.cpu.eip).toBe(r.sym('irq_handler') + 1);
    expect(stack(r, 1)[0]).toBe(r.sym('second'));
  });

  it('MOV SS inside the STI shadow opens its own: the interrupt comes one instruction later still', () => {
    const r = run({ body: 'out 0x80, al\nmov ax, 0x10\nsti\nmov ss, ax\nmov eax, 1\nsecond: mov ebx, 2\nhlt' });
    expect(stack(r, 1)[0]).toBe(r.sym('second'));
    expect(r.vm.cpu.s[0]).toBe(1);
  });

  it('an interrupt raised by the instruction in the STI shadow is taken right after it', () => {
    // Nothing is pending at STI (no shadow is needed: translator/abi.ts IRQ_WAITING); the OUT
    // raises one, which the shadow would not hold back past the OUT either.
    const r = run({ body: 'sti\nout 0x80, al\nafter_out: mov eax, 1\nhlt' });
    expect(r.vm.cpu.eip).toBe(r.sym('irq_handler') + 1);
    expect(stack(r, 1)[0]).toBe(r.sym('after_out'));
    expect(r.vm.cpu.s[0]).not.toBe(1);
  });

  it('with IF = 1 an interrupt raised by a device is taken right after the instruction that raised it', () => {
    // The device sets EXIT_REQUEST; the interpreter leaves the block at the next boundary.
    const r = run({ body: 'sti\nnop\nout 0x80, al\nafter_out: jmp next\nnext: mov eax, 1\nhlt' });
    expect(stack(r, 1)[0]).toBe(r.sym('after_out'));
  });
});

describe('single-step (TF)', () => {
  const SET_TF = 'pushfd\nor dword [esp], 0x100\npopfd';

  it('POPF setting TF traps after the next instruction, with DR6.BS and TF in the pushed EFLAGS', () => {
    const r = run({ body: `${SET_TF}\nnop\nsecond: nop\nhlt` });
    expect(stubVector(r)).toBe(1);
    expect(stack(r, 3)).toEqual([r.sym('second'), 0x08, 0x102]);
    expect(r.vm.cpu.s[(DR >> 2) + 6] & 0x4000).toBe(0x4000);
    expect(r.vm.cpu.s[EFLAGS >> 2] & 0x100).toBe(0);
  });

  it('MOV SS holds the trap back for one instruction', () => {
    const r = run({ body: `mov ax, 0x10\n${SET_TF}\nmov ss, ax\nnop\nthird: nop\nhlt` });
    expect(stubVector(r)).toBe(1);
    expect(stack(r, 1)[0]).toBe(r.sym('third'));
  });

  it('INT n under TF: no trap after it (the handler runs with TF clear)', () => {
    const r = run({ body: `${SET_TF}\nint 0x30\nhlt` });
    expect(r.vm.cpu.eip).toBe(r.sym('irq_handler') + 1);
    expect(stack(r, 3)[2] & 0x100).toBe(0x100);
  });
});

describe('HLT and RF', () => {
  it('HLT stops the run; an interrupt then resumes after the HLT', () => {
    const r = run({ body: 'sti\nhlt\nafter: nop' });
    expect(r.result.reason).toBe('halted');
    expect(r.vm.cpu.eip).toBe(r.sym('after'));
    r.vm.cpu.io.portOut(0x80, 1, 0);
    const res = r.vm.run(100);
    expect(res.reason).toBe('halted');
    expect(r.vm.cpu.eip).toBe(r.sym('irq_handler') + 1);
    expect(stack(r, 1)[0]).toBe(r.sym('after'));
  });

  it('RF loaded by IRETD is cleared once the next instruction completes', () => {
    const r = run({ body: 'pushfd\nor dword [esp], 0x10000\npush 0x08\npush target\niretd\ntarget: nop\nint 0x30' });
    expect(stack(r, 3)[2] & 0x10000).toBe(0);
    expect(r.vm.cpu.s[EFLAGS >> 2] & 0x10000).toBe(0);
  });
});
