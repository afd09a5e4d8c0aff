/**
 * Interpreter: near control transfers (Jcc, JMP, CALL, RET, LOOP family, JCXZ/JECXZ) and BOUND:
 * 16-bit target wrapping, the CS-limit check before anything changes, the count register chosen
 * by the address size, and #BR (SDM vol. 2).
 */
import { describe, expect, it } from 'vitest';
import { SEG_CS } from '../../../translator/abi.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { CODE, DATA, STACK, dwords, exec, expectCompleted, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4;

describe('jumps, calls and returns', () => {
  it('a backward Jcc loop runs to completion', () => {
    const r = exec('mov ecx, 5\nxor eax, eax\nl: add eax, ecx\ndec ecx\njnz l');
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: 15, [ECX]: 0 });
  });
  it('CALL pushes the return address; RET and RET imm16 pop it', () => {
    let r = exec('call f\nmov ebx, 1\njmp done\nf: mov eax, [esp]\nret\ndone:');
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: CODE + 5, [EBX]: 1 });
    r = exec('push 1\npush 2\ncall f\njmp done\nf: ret 8\ndone:');
    expectCompleted(r);
    expectRegs(r, {}, {});
  });
  it('indirect CALL and JMP through a register and through memory', () => {
    const r = exec('mov edx, f\ncall edx\ncall [pf]\njmp [pt]\nud2\nf: inc ecx\nret\npf: dd f\npt: dd t\nt: mov ebx, 2', {
      regs: { [ECX]: 0 },
    });
    expectCompleted(r);
    expectRegs(r, { [ECX]: 0 }, { [ECX]: 2, [EBX]: 2, [EDX]: CODE + 21 });
  });
  it('a 16-bit operand size wraps the target to 16 bits', () => {
    // 66 E9 rel16 at CODE: next = CODE + 4; target = (CODE + 4 + 0xF000) & 0xFFFF = 4.
    const r = exec('db 0x66, 0xe9\ndw 0xf000', { mem: { [4]: [0x0f, 0x0b] } });
    expect(r.fault?.vector).toBe(6);
    expect(r.eip).toBe(4);
    expectRegs(r, {}, {});
  });
  it('CALL and RET in 16-bit code push and pop 16-bit return addresses', () => {
    const r = exec('call f\njmp done\nf: mov ax, [esp]\nret\ndone:', { code16: true });
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: 0xa1a20000 | (CODE + 3) });
  });
  it('a target beyond the CS limit raises #GP(0) before the CALL pushes anything', () => {
    const limit = (vm: Vm): void =>
      vm.cpu.setSegment(SEG_CS, 0x08, 0, 0x1fff, vm.cpu.segFlags(SEG_CS) & ~0x8000);
    let r = exec('call 0x3000', { setup: limit });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expect(r.eip).toBe(CODE);
    expectRegs(r, {}, {});
    r = exec('nop\nje 0x3000', { setup: limit, flags: 0x40 });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expect(r.eip).toBe(CODE + 1);
    r = exec('push 0x3000\nret', { setup: limit });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expectRegs(r, {}, { [ESP]: STACK - 4 });
  });
});

describe('LOOP and JCXZ', () => {
  it('LOOP with 16-bit addressing counts in CX and keeps the upper half of ECX', () => {
    const regs = { [ECX]: 0x00010003, [EAX]: 0 };
    const r = exec('l: inc eax\nloop l, cx', { regs });
    expectCompleted(r);
    expectRegs(r, regs, { [EAX]: 3, [ECX]: 0x00010000 });
  });
  it('LOOPE stops at the first ZF = 0; LOOPNE at the first ZF = 1', () => {
    let r = exec('mov ecx, 10\nxor eax, eax\nl: inc eax\ncmp eax, 4\nloopne l');
    expectRegs(r, {}, { [EAX]: 4, [ECX]: 6 });
    r = exec('mov ecx, 10\nxor eax, eax\nl: inc eax\ncmp eax, 1\nloope l');
    expectRegs(r, {}, { [EAX]: 2, [ECX]: 8 });
  });
  it('LOOP with ECX = 0 wraps and runs 2^32 times in principle: one step leaves ECX = FFFFFFFF', () => {
    const r = exec('loop next\nnext:', { regs: { [ECX]: 0 } });
    expectRegs(r, { [ECX]: 0 }, { [ECX]: 0xffffffff });
  });
  it('JECXZ tests ECX, JCXZ (16-bit addressing) tests CX', () => {
    const regs = { [ECX]: 0x00010000, [EAX]: 0 };
    const r = exec('jecxz a\ninc eax\na: jcxz b\ninc eax\ninc eax\nb:', { regs });
    expectRegs(r, regs, { [EAX]: 1 });
  });
});

describe('BOUND', () => {
  const mem = { [DATA]: dwords(0xfffffffb, 10) };
  it('passes inside the signed bounds and raises #BR outside', () => {
    for (const [idx, ok] of [[10, true], [0xfffffffb, true], [11, false], [0xfffffffa, false]] as const) {
      const r = exec(`bound eax, [${DATA}]`, { regs: { [EAX]: idx }, mem });
      if (ok) expectCompleted(r);
      else {
        expect(r.fault?.vector).toBe(5);
        expect(r.eip).toBe(CODE);
      }
      expectRegs(r, { [EAX]: idx }, {});
    }
  });
  it('the 16-bit form compares signed words', () => {
    const r = exec(`bound ax, [${DATA}]`, { regs: { [EAX]: 0x0000fff0 }, mem: { [DATA]: [0xf0, 0xff, 0x00, 0x80] } });
    expect(r.fault?.vector).toBe(5); // bounds -16 .. -32768: empty range
    const r2 = exec(`bound ax, [${DATA}]`, { regs: { [EAX]: 0x7777fff0 }, mem: { [DATA]: [0xf0, 0xff, 0x00, 0x00] } });
    expectCompleted(r2);
  });
});
