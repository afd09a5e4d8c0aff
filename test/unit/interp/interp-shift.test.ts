/**
 * Interpreter: shifts, rotates and double shifts at the edges of their definitions (SDM vol. 2):
 * counts at and beyond the operand width, counts masked to zero, rotates through carry modulo
 * 9/17, memory destinations, and the flags each case defines.
 */
import { describe, expect, it } from 'vitest';
import { DATA, F, dwords, exec, expectCompleted, expectFlags, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EBX = 3;
const SZPC = F.SF | F.ZF | F.PF | F.CF;

describe('SHL / SHR / SAR', () => {
  it('SHL r8 by 8 shifts everything out: CF = old bit 0; by 9 CF = 0', () => {
    let regs: Record<number, number> = { [EAX]: 0x11111181, [ECX]: 8 };
    let r = exec('shl al, cl', { regs });
    expectRegs(r, regs, { [EAX]: 0x11111100 });
    expectFlags(r, SZPC, F.CF | F.ZF | F.PF);
    regs = { [EAX]: 0x11111181, [ECX]: 9 };
    r = exec('shl al, cl', { regs, flags: F.CF });
    expectRegs(r, regs, { [EAX]: 0x11111100 });
    expectFlags(r, SZPC, F.ZF | F.PF);
  });
  it('SAR r8 by more than 8 fills with the sign; CF = sign', () => {
    const regs = { [EAX]: 0x00000081, [ECX]: 20 };
    const r = exec('sar al, cl', { regs });
    expectRegs(r, regs, { [EAX]: 0xff });
    expectFlags(r, SZPC, F.CF | F.SF | F.PF);
  });
  it('SHR r32 by 1: OF = old MSB; SHL by 1: OF = MSB xor CF', () => {
    let r = exec('shr eax, 1', { regs: { [EAX]: 0x80000001 } });
    expectRegs(r, {}, { [EAX]: 0x40000000 });
    expectFlags(r, SZPC | F.OF, F.CF | F.OF | F.PF);
    r = exec('shl eax, 1', { regs: { [EAX]: 0xc0000000 } });
    expectRegs(r, {}, { [EAX]: 0x80000000 });
    expectFlags(r, SZPC | F.OF, F.CF | F.SF | F.PF);
    r = exec('db 0xd0, 0xf0', { regs: { [EAX]: 0x40 } }); // D0 /6: SAL AL, 1 (alias of SHL)
    expectRegs(r, {}, { [EAX]: 0x80 });
    expectFlags(r, SZPC | F.OF, F.SF | F.OF);
  });
  it('a count masked to 0 changes neither the operand nor any flag (register and memory)', () => {
    const flags = F.CF | F.OF | F.ZF | F.AF;
    let regs: Record<number, number> = { [EAX]: 0x12345678, [ECX]: 32 };
    let r = exec('shl eax, cl', { regs, flags });
    expectRegs(r, regs, {});
    expectFlags(r, 0x8d5, flags);
    regs = { [EAX]: 0x12345678, [ECX]: 0x40 };
    r = exec(`sar dword [${DATA}], cl\nrol dword [${DATA}], cl`, { regs, flags, mem: { [DATA]: dwords(0x87654321) } });
    expectRegs(r, regs, {});
    expectFlags(r, 0x8d5, flags);
    expectCompleted(r);
    expect(r.d(DATA)).toBe(0x87654321);
  });
  it('memory destination is read, shifted and written back', () => {
    const r = exec(`shr word [${DATA}], 4`, { mem: { [DATA]: [0x34, 0x12, 0x99] } });
    expectCompleted(r);
    expectRegs(r, {}, {});
    expectFlags(r, SZPC, 0);
    expect(r.d(DATA)).toBe(0x990123);
  });
});

describe('rotates', () => {
  it('ROL r8 by 8 leaves the value but updates CF from bit 0', () => {
    const regs = { [EAX]: 0x81, [ECX]: 8 };
    const r = exec('rol al, cl', { regs });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, F.CF);
  });
  it('RCL r8 by 9 and RCR r16 by 17 rotate the full circle through CF', () => {
    let regs: Record<number, number> = { [EAX]: 0x81, [ECX]: 9 };
    let r = exec('rcl al, cl', { regs, flags: F.CF });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, F.CF);
    regs = { [EAX]: 0x8001, [ECX]: 17 };
    r = exec('rcr ax, cl', { regs });
    expectRegs(r, regs, {});
    expectFlags(r, F.CF, 0);
    regs = { [EAX]: 0x81, [ECX]: 10 }; // 10 mod 9 = 1
    r = exec('rcl al, cl', { regs });
    expectRegs(r, regs, { [EAX]: 0x02 });
    expectFlags(r, F.CF, F.CF);
  });
  it('RCR by 1: OF = MSB xor CF before; RCL r32 by 1: OF = MSB xor new CF', () => {
    let r = exec('rcr ax, 1', { regs: { [EAX]: 0xffff0001 }, flags: F.CF });
    expectRegs(r, {}, { [EAX]: 0xffff8000 });
    expectFlags(r, F.CF | F.OF, F.CF | F.OF);
    r = exec('rcr eax, 1', { regs: { [EAX]: 0x00000003 } });
    expectRegs(r, {}, { [EAX]: 0x00000001 });
    expectFlags(r, F.CF | F.OF, F.CF);
    r = exec('rcl eax, 1', { regs: { [EAX]: 0x80000000 } });
    expectRegs(r, {}, { [EAX]: 0 });
    expectFlags(r, F.CF | F.OF, F.CF | F.OF);
    r = exec('rcl eax, 31', { regs: { [EAX]: 0x00000002 }, flags: F.CF });
    // A 33-bit rotate left by 31 is a rotate right by 2: EAX bit 1 goes to CF, the old CF to bit 30.
    expectRegs(r, {}, { [EAX]: 0x40000000 });
    expectFlags(r, F.CF, F.CF);
  });
  it('rotates change only CF and OF', () => {
    const r = exec('ror eax, 4', { regs: { [EAX]: 0x12345678 }, flags: F.ZF | F.SF | F.PF | F.AF });
    expectRegs(r, {}, { [EAX]: 0x81234567 });
    expectFlags(r, F.ZF | F.SF | F.PF | F.AF | F.CF, F.ZF | F.SF | F.PF | F.AF | F.CF);
  });
});

describe('SHLD / SHRD', () => {
  it('32-bit forms fill from the source register', () => {
    const regs = { [EAX]: 0x12345678, [EBX]: 0x9abcdef0 };
    let r = exec('shld eax, ebx, 8', { regs });
    expectRegs(r, regs, { [EAX]: 0x3456789a });
    expectFlags(r, SZPC, F.PF);
    r = exec('shrd eax, ebx, 4', { regs });
    expectRegs(r, regs, { [EAX]: 0x01234567 });
    expectFlags(r, SZPC, F.CF);
  });
  it('16-bit SHLD by 16 yields the source; CF = old bit 0 of the destination', () => {
    const regs = { [EAX]: 0xaaaa1235, [EBX]: 0x5678 };
    const r = exec('shld ax, bx, 16', { regs });
    expectRegs(r, regs, { [EAX]: 0xaaaa5678 });
    expectFlags(r, SZPC, F.CF | F.PF);
  });
  it('16-bit SHRD by more than 16 (undefined in the SDM) repeats the source like the reference host', () => {
    const regs = { [EAX]: 0x1234, [EBX]: 0x5678, [ECX]: 20 };
    const r = exec('shrd ax, bx, cl', { regs });
    expectRegs(r, regs, { [EAX]: 0x8567 });
    expectFlags(r, F.CF, 0);
  });
  it('a count of 0 is a no-op, flags included', () => {
    const regs = { [EAX]: 0x12345678, [EBX]: 0x9abcdef0, [ECX]: 0x20 };
    const r = exec('shld eax, ebx, cl\nshrd eax, ebx, 0', { regs, flags: F.CF | F.ZF });
    expectRegs(r, regs, {});
    expectFlags(r, 0x8d5, F.CF | F.ZF);
  });
});
