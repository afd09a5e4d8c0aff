/**
 * Interpreter: PUSH/POP (ESP as operand and as base), PUSHA/POPA, ENTER (nesting levels, 16-bit
 * operand size), LEAVE, a 16-bit stack segment, and precise faults (SDM vol. 2).
 */
import { describe, expect, it } from 'vitest';
import { SEG_DS, SEG_SS, SEGF_DB } from '../../../translator/abi.ts';
import { CODE, STACK, dwords, exec, expectCompleted, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EDX = 2, ESP = 4, EBP = 5;

describe('PUSH / POP', () => {
  it('PUSH ESP pushes the value before the push; POP ESP loads the popped value', () => {
    let r = exec('push esp\npop eax');
    expectRegs(r, {}, { [EAX]: STACK });
    r = exec('push dword 0x12340\npop esp');
    expectRegs(r, {}, { [ESP]: 0x12340 });
  });
  it('POP m32 with an ESP base computes the address after the increment', () => {
    const r = exec('push dword 1\npush dword 2\npop dword [esp]\npop eax');
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: 2 });
    expect(r.d(STACK - 4)).toBe(2);
  });
  it('PUSH imm8 sign-extends to the operand size; PUSH m16 pushes a word', () => {
    const r = exec('push byte -2\npush word -3\npush word [esp]');
    expectRegs(r, {}, { [ESP]: STACK - 8 });
    expect(r.d(STACK - 4)).toBe(0xfffffffe);
    expect(r.w(STACK - 6)).toBe(0xfffd);
    expect(r.w(STACK - 8)).toBe(0xfffd);
  });
  it('a POP whose store faults leaves ESP unchanged', () => {
    const r = exec('push dword 7\npop dword [0x50000]', {
      setup: (vm) => vm.cpu.setSegment(SEG_DS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_DS)),
    });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expect(r.eip).toBe(CODE + 2);
    expectRegs(r, {}, { [ESP]: STACK - 4 });
  });
});

describe('PUSHA / POPA', () => {
  it('PUSHAD stores the original ESP; POPAD restores all but ESP', () => {
    const r = exec('pushad\nmov dword [esp+12], 0\nmov eax, 0\nmov ebx, 0\nmov edi, 0\nmov ebp, 0\npopad');
    expectCompleted(r);
    expectRegs(r, {}, {});
    expect(r.d(STACK - 32)).toBe(0x91929394); // EDI slot
    expect(r.d(STACK - 4)).toBe(0xa1a2a3a4); // EAX slot
  });
  it('PUSHAW pushes 16-bit registers (SP as before); POPAW writes only low words', () => {
    const r = exec('pushaw\nmov eax, 0x55550000\npopaw');
    expectRegs(r, {}, { [EAX]: 0x5555a3a4 });
    expect(r.w(STACK - 10)).toBe(STACK & 0xffff);
    expect(r.w(STACK - 16)).toBe(0x9394);
  });
});

describe('ENTER / LEAVE', () => {
  it('ENTER with nesting level 3 copies two frame pointers and pushes the new one', () => {
    const frame = 0x70000;
    const regs = { [EBP]: frame };
    const r = exec('enter 16, 3', { regs, mem: { [frame - 8]: dwords(0xbbbbbbbb, 0xaaaaaaaa) } });
    expectCompleted(r);
    expectRegs(r, regs, { [EBP]: STACK - 4, [ESP]: STACK - 32 });
    expect([r.d(STACK - 4), r.d(STACK - 8), r.d(STACK - 12), r.d(STACK - 16)])
      .toEqual([frame, 0xaaaaaaaa, 0xbbbbbbbb, STACK - 4]);
  });
  it('ENTER level 0 and LEAVE undo each other', () => {
    const regs = { [EBP]: 0x12345678 };
    const r = exec('enter 0x100, 0\nmov eax, ebp\nleave', { regs });
    expectRegs(r, regs, { [EAX]: STACK - 4 });
  });
  it('a 16-bit ENTER on a 32-bit stack writes only BP', () => {
    const regs = { [EBP]: 0x12345678 };
    const r = exec('o16 enter 8, 0', { regs });
    expectRegs(r, regs, { [EBP]: 0x12340000 | ((STACK - 2) & 0xffff), [ESP]: STACK - 10 });
    expect(r.w(STACK - 2)).toBe(0x5678);
  });
});

describe('16-bit stack segment', () => {
  it('SP wraps within 64 KiB and the upper half of ESP is kept', () => {
    const regs = { [ESP]: 0x12340000, [EBP]: 0x00001000 };
    const r = exec('push dword 0xcafe\npush bp\npop cx\npop edx', {
      regs,
      setup: (vm) => vm.cpu.setSegment(SEG_SS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_SS) & ~SEGF_DB),
    });
    expectCompleted(r);
    expectRegs(r, regs, { [ECX]: 0xb1b21000, [EDX]: 0xcafe });
    expect(r.d(0xfffc)).toBe(0xcafe);
  });
  it('LEAVE uses SP = BP at the stack width', () => {
    const regs = { [ESP]: 0x12340100, [EBP]: 0xabcd0200 };
    const r = exec('leave', {
      regs,
      mem: { [0x200]: [0x34, 0x12] },
      setup: (vm) => vm.cpu.setSegment(SEG_SS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_SS) & ~SEGF_DB),
    });
    expectRegs(r, regs, { [ESP]: 0x12340204, [EBP]: 0x00001234 });
  });
});
