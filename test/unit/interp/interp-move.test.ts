/**
 * Interpreter: MOV forms (moffs included), MOVZX/MOVSX, LEA address/operand-size truncation,
 * XCHG, XLAT, LAHF/SAHF, single-flag instructions and hint NOPs (SDM vol. 2).
 */
import { describe, expect, it } from 'vitest';
import { SEG_DS, SEG_ES, SEG_FS } from '../../../translator/abi.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { DATA, F, dwords, exec, expectCompleted, expectFlags, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESI = 6;

function setBase(vm: Vm, seg: number, base: number): void {
  vm.cpu.setSegment(seg, 0x10, base, 0xffffffff | 0, vm.cpu.segFlags(seg));
}

describe('LEA', () => {
  it('16-bit addressing wraps the address to 16 bits, then zero-extends it', () => {
    const regs = { [EBX]: 0x1234fff0, [ESI]: 0x00000010 };
    const r = exec('lea eax, [bx+si+0x10]', { regs });
    expectRegs(r, regs, { [EAX]: 0x00000010 });
  });
  it('a 16-bit operand size keeps only the low word of a 32-bit address', () => {
    const regs = { [EBX]: 0x10000, [ECX]: 0x4001 };
    const r = exec('lea ax, [ebx+ecx*4+8]', { regs });
    expectRegs(r, regs, { [EAX]: 0xa1a2000c });
  });
});

describe('MOV, MOVZX, MOVSX', () => {
  it('moffs loads and stores, with a segment override', () => {
    const r = exec(`mov eax, [${DATA}]\nmov [${DATA + 4}], al\nmov dx, [fs:0x100]`, {
      mem: { [DATA]: dwords(0x11223344, 0, 0xaabbccdd) },
      setup: (vm) => setBase(vm, SEG_FS, DATA + 8 - 0x100),
    });
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: 0x11223344, [EDX]: 0xc1c2ccdd });
    expect(r.d(DATA + 4)).toBe(0x44);
  });
  it('MOV r/m16, imm16 writes two bytes only', () => {
    const r = exec(`mov word [${DATA}], 0xbeef`, { mem: { [DATA]: dwords(0x12345678) } });
    expectRegs(r, {}, {});
    expect(r.d(DATA)).toBe(0x1234beef);
  });
  it('MOVZX/MOVSX from bytes and words, at both operand sizes', () => {
    const r = exec(`movsx ax, bl\nmovzx ecx, word [${DATA}]\nmovsx edx, byte [${DATA + 2}]\nmovsx esi, word [${DATA}]`, {
      regs: { [EBX]: 0x000000f0 },
      mem: { [DATA]: [0x34, 0x92, 0x80] },
    });
    expectRegs(r, { [EBX]: 0xf0 }, { [EAX]: 0xa1a2fff0, [ECX]: 0x9234, [EDX]: 0xffffff80, [ESI]: 0xffff9234 });
  });
});

describe('XCHG and XLAT', () => {
  it('XCHG exchanges a register with memory', () => {
    const r = exec(`xchg [${DATA}], ecx\nxchg dl, dh\nxchg eax, ebx`, { mem: { [DATA]: dwords(0x55667788) } });
    expectRegs(r, {}, { [ECX]: 0x55667788, [EDX]: 0xc1c2c4c3, [EAX]: 0xd1d2d3d4, [EBX]: 0xa1a2a3a4 });
    expect(r.d(DATA)).toBe(0xb1b2b3b4);
  });
  it('XLAT reads DS:[EBX + AL], honours a segment override and 16-bit addressing', () => {
    const table = Array.from({ length: 256 }, (_, k) => k ^ 0x5a);
    let r = exec('xlatb', { regs: { [EAX]: 0x111111f0, [EBX]: DATA }, mem: { [DATA]: table } });
    expectRegs(r, { [EBX]: DATA }, { [EAX]: 0x111111f0 ^ 0x5a });
    r = exec('db 0x26, 0xd7', {
      regs: { [EAX]: 0x3, [EBX]: 0x10 },
      mem: { [DATA + 0x13]: [0x99] },
      setup: (vm) => setBase(vm, SEG_ES, DATA),
    });
    expectRegs(r, { [EBX]: 0x10 }, { [EAX]: 0x99 });
    r = exec('a16 xlatb', { regs: { [EAX]: 0x02, [EBX]: 0x1234ffff }, mem: { [0x0001]: [0x77] } });
    expectRegs(r, { [EBX]: 0x1234ffff }, { [EAX]: 0x77 });
  });
});

describe('flags moves and single-flag instructions', () => {
  it('LAHF stores SF ZF AF PF CF with bit 1 set; SAHF loads them and keeps OF', () => {
    let r = exec('lahf', { flags: F.SF | F.ZF | F.AF | F.PF | F.CF | F.OF });
    expectRegs(r, {}, { [EAX]: 0xa1a2d7a4 });
    r = exec('sahf', { regs: { [EAX]: 0x0000ff00 }, flags: F.OF });
    expectFlags(r, 0x8d5, 0x8d5);
    r = exec('sahf', { regs: { [EAX]: 0x00002a00 }, flags: F.OF | F.CF | F.ZF });
    expectFlags(r, 0xfff, F.OF | 0x002);
  });
  it('CLC STC CMC CLD STD', () => {
    let r = exec('stc\ncmc\nstd', { flags: F.ZF });
    expectFlags(r, F.CF | F.DF | F.ZF, F.DF | F.ZF);
    r = exec('stc\nstd\ncld\ncmc\ncmc', {});
    expectFlags(r, F.CF | F.DF, F.CF);
    expectRegs(r, {}, {});
  });
});

describe('NOP forms', () => {
  it('hint NOPs and NOP Ev decode a memory operand but never access it', () => {
    const r = exec('db 0x0f, 0x18, 0x05\ndd 0x50000\ndb 0x0f, 0x1f, 0x05\ndd 0x50000\ndb 0x0f, 0x1e, 0x00\nnop', {
      setup: (vm) => vm.cpu.setSegment(SEG_DS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_DS)),
    });
    expectCompleted(r);
    expectRegs(r, {}, {});
  });
});
