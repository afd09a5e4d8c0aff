/**
 * Interpreter: BT/BTS/BTR/BTC (register offsets reaching beyond the memory operand, immediate
 * offsets masked), BSF/BSR, BSWAP, SETcc and CMOVcc (SDM vol. 2).
 */
import { describe, expect, it } from 'vitest';
import { SEG_DS } from '../../../translator/abi.ts';
import { CODE, DATA, F, dwords, exec, expectCompleted, expectFlags, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3;

describe('bit test and modify', () => {
  it('BT m32, r32 with a negative offset addresses the dword before the operand', () => {
    // offset -1 = bit 31 of the dword at EA - 4.
    const regs = { [EBX]: DATA + 4, [ECX]: 0xffffffff };
    const r = exec('bt [ebx], ecx', { regs, mem: { [DATA]: dwords(0x80000000, 0) } });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, F.CF);
  });
  it('BTS m32, r32 with offset 100 sets bit 4 of the dword at EA + 12', () => {
    const regs = { [EBX]: DATA, [ECX]: 100 };
    const r = exec('bts [ebx], ecx', { regs, mem: { [DATA]: dwords(0, 0, 0, 0x01) } });
    expectCompleted(r);
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, 0);
    expect(r.d(DATA + 12)).toBe(0x11);
    expect(r.d(DATA)).toBe(0);
  });
  it('BTR m16, r16 with offset -1 clears bit 15 of the word at EA - 2', () => {
    const regs = { [EBX]: DATA + 2, [ECX]: 0x5555ffff };
    const r = exec('btr [ebx], cx', { regs, mem: { [DATA]: [0xff, 0xff, 0x77, 0x77] } });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, F.CF);
    expect(r.d(DATA)).toBe(0x77777fff);
  });
  it('BTC r32, imm8 masks the offset to 5 bits; other status flags are kept', () => {
    const regs = { [EAX]: 0x00000002 };
    const r = exec('btc eax, 33', { regs, flags: F.ZF | F.SF });
    expectRegs(r, regs, { [EAX]: 0 });
    expectFlags(r, F.CF | F.ZF, F.CF | F.ZF);
  });
  it('BT m16, imm8 does not reach beyond the operand', () => {
    const regs = { [EBX]: DATA };
    const r = exec('bt word [ebx], 17', { regs, mem: { [DATA]: [0x02, 0x00, 0x00, 0x00] } });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, F.CF);
  });
});

describe('bit scan and byte swap', () => {
  it('BSF/BSR find the lowest/highest set bit and clear ZF', () => {
    let r = exec('bsf eax, ecx', { regs: { [ECX]: 0x00f00100 } });
    expectRegs(r, { [ECX]: 0x00f00100 }, { [EAX]: 8 });
    expectFlags(r, F.ZF, 0);
    r = exec('bsr ax, cx', { regs: { [ECX]: 0xffff0101 } });
    expectRegs(r, { [ECX]: 0xffff0101 }, { [EAX]: 0xa1a20008 });
    expectFlags(r, F.ZF, 0);
  });
  it('a zero source sets ZF and leaves the destination unchanged', () => {
    const regs = { [ECX]: 0xffff0000 };
    const r = exec(`bsf ax, cx\nbsr edx, dword [${DATA}]`, { regs, mem: { [DATA]: dwords(0) } });
    expectRegs(r, regs, {});
    expectFlags(r, F.ZF, F.ZF);
  });
  it('BSWAP r32 reverses the bytes; with a 16-bit operand it clears the low word', () => {
    const r = exec('bswap eax\ndb 0x66, 0x0f, 0xcb', { regs: { [EAX]: 0x12345678, [EBX]: 0xaabbccdd } });
    expectRegs(r, {}, { [EAX]: 0x78563412, [EBX]: 0xaabb0000 });
  });
});

describe('SETcc and CMOVcc', () => {
  it('SETcc after CMP distinguishes signed and unsigned order', () => {
    const regs = { [EAX]: 0xffffffff, [EBX]: 1 };
    const r = exec('cmp eax, ebx\nsetb cl\nsetl ch\nseta dl\nsetg dh', { regs });
    expectRegs(r, regs, { [ECX]: 0xb1b20100, [EDX]: 0xc1c20001 });
  });
  it('CMOVcc with a false condition keeps all 32 bits of the destination', () => {
    const regs = { [EAX]: 0x11112222, [ECX]: 0x33334444 };
    let r = exec('cmp eax, eax\ncmovne eax, ecx', { regs });
    expectRegs(r, regs, {});
    r = exec('cmp eax, eax\ncmove eax, ecx\ncmovz dx, cx', { regs });
    expectRegs(r, regs, { [EAX]: 0x33334444, [EDX]: 0xc1c24444 });
  });
  it('CMOVcc reads a memory source even when the condition is false (and faults)', () => {
    const r = exec('cmp eax, eax\ncmovne eax, [0x12000]', {
      setup: (vm) => vm.cpu.setSegment(SEG_DS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_DS)),
    });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expect(r.eip).toBe(CODE + 2);
    expectRegs(r, {}, {});
  });
});
