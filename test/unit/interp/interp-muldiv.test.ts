/**
 * Interpreter: MUL, IMUL (all forms), DIV, IDIV and the decimal adjustments, checked against the
 * SDM definitions (64-bit expectations computed with BigInt here). Faults must leave every
 * register as it was, with EIP at the faulting instruction.
 */
import { describe, expect, it } from 'vitest';
import { CODE, DATA, F, exec, expectCompleted, expectFlags, expectRegs } from './interp-harness.ts';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3;
const CO = F.CF | F.OF;
const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));

function expectFault(src: string, regs: Record<number, number>, vector: number): void {
  const r = exec(src, { regs });
  expect(r.fault?.vector).toBe(vector);
  expect(r.eip).toBe(CODE);
  expectRegs(r, regs, {});
}

describe('MUL / IMUL one-operand', () => {
  it('MUL r32 forms the full unsigned 64-bit product', () => {
    const regs = { [EAX]: 0xffffffff, [EBX]: 0xffffffff };
    const r = exec('mul ebx', { regs });
    expectCompleted(r);
    expectRegs(r, regs, { [EAX]: 1, [EDX]: 0xfffffffe });
    expectFlags(r, CO, CO);
  });
  it('MUL r32 with a product that fits clears CF and OF', () => {
    const regs = { [EAX]: 3, [EBX]: 5 };
    const r = exec('stc\nmul ebx', { regs });
    expectRegs(r, regs, { [EAX]: 15, [EDX]: 0 });
    expectFlags(r, CO, 0);
  });
  it('IMUL r32: 64-bit signed product; CF=OF when EDX is not the sign of EAX', () => {
    let regs: Record<number, number> = { [EAX]: 0xffffffff, [EBX]: 0x80000000 };
    let r = exec('imul ebx', { regs });
    expectRegs(r, regs, { [EAX]: 0x80000000, [EDX]: 0 });
    expectFlags(r, CO, CO);
    regs = { [EAX]: 0xfffffffe, [EBX]: 0x40000000 };
    r = exec('imul ebx', { regs });
    expectRegs(r, regs, { [EAX]: 0x80000000, [EDX]: 0xffffffff });
    expectFlags(r, CO, 0);
  });
  it('IMUL r8 writes AX only; MUL m16 writes DX:AX only', () => {
    let regs: Record<number, number> = { [EAX]: 0x12345680, [ECX]: 0xabcdefff };
    let r = exec('imul cl', { regs });
    expectRegs(r, regs, { [EAX]: 0x12340080 });
    expectFlags(r, CO, CO);
    regs = { [EAX]: 0x1234ffff, [EDX]: 0x5678aaaa };
    r = exec(`mul word [${DATA}]`, { regs, mem: { [DATA]: [0xff, 0xff] } });
    expectRegs(r, regs, { [EAX]: 0x12340001, [EDX]: 0x5678fffe });
    expectFlags(r, CO, CO);
  });
});

describe('IMUL with a truncated result', () => {
  it('sets CF=OF exactly when the signed product does not fit (32-bit)', () => {
    const regs = { [EBX]: 0x10000 };
    let r = exec('imul eax, ebx, 0x8000', { regs });
    expectRegs(r, regs, { [EAX]: 0x80000000 });
    expectFlags(r, CO, CO);
    r = exec('imul eax, ebx, -0x8000', { regs });
    expectRegs(r, regs, { [EAX]: 0x80000000 });
    expectFlags(r, CO, 0);
  });
  it('16-bit forms keep the upper half of the destination', () => {
    const regs = { [EBX]: 0x00008000 };
    let r = exec('imul ax, bx, -1', { regs });
    expectRegs(r, regs, { [EAX]: 0xa1a28000 });
    expectFlags(r, CO, CO);
    r = exec('imul bx, bx', { regs: { [EBX]: 0x7777ff00 } });
    expectRegs(r, { [EBX]: 0x7777ff00 }, { [EBX]: 0x77770000 });
    expectFlags(r, CO, CO);
  });
  it('IMUL r32, r/m32 with a memory source', () => {
    const regs = { [ECX]: 0xfffffffd };
    const r = exec(`imul ecx, [${DATA}]`, { regs, mem: { [DATA]: [0x07, 0, 0, 0] } });
    expectRegs(r, regs, { [ECX]: u32(-21n) });
    expectFlags(r, CO, 0);
  });
});

describe('DIV / IDIV', () => {
  it('DIV r32 divides the 64-bit EDX:EAX exactly', () => {
    const n = (0x12345677n << 32n) | 0x9abcdef0n;
    const d = 0x12345678n;
    const regs = { [EDX]: 0x12345677, [EAX]: 0x9abcdef0, [EBX]: 0x12345678 };
    const r = exec('div ebx', { regs });
    expectCompleted(r);
    expectRegs(r, regs, { [EAX]: u32(n / d), [EDX]: u32(n % d) });
  });
  it('DIV r16 keeps the upper halves of EAX and EDX', () => {
    const regs = { [EDX]: 0xaaaa0001, [EAX]: 0xbbbb0000, [ECX]: 0xcccc0002 };
    const r = exec('div cx', { regs });
    expectRegs(r, regs, { [EAX]: 0xbbbb8000, [EDX]: 0xaaaa0000 });
  });
  it('raises #DE on a zero divisor or a quotient overflow, changing nothing', () => {
    expectFault('div ebx', { [EDX]: 0, [EAX]: 5, [EBX]: 0 }, 0);
    expectFault('div ebx', { [EDX]: 2, [EAX]: 0, [EBX]: 2 }, 0);
    expectFault('idiv ebx', { [EDX]: 0x80000000, [EAX]: 0, [EBX]: 0xffffffff }, 0);
    expectFault('idiv ebx', { [EDX]: 0xffffffff, [EAX]: 0x80000000, [EBX]: 0xffffffff }, 0);
    expectFault('idiv bl', { [EAX]: 0x8000, [EBX]: 0xff }, 0);
    expectFault('div bl', { [EAX]: 0x100, [EBX]: 1 }, 0);
  });
  it('IDIV truncates toward zero; the remainder has the dividend sign', () => {
    let regs: Record<number, number> = { [EDX]: 0xffffffff, [EAX]: u32(-7n), [EBX]: 2 };
    let r = exec('idiv ebx', { regs });
    expectRegs(r, regs, { [EAX]: u32(-3n), [EDX]: u32(-1n) });
    regs = { [EDX]: 0xffffffff, [EAX]: 0x80000000, [EBX]: 1 };
    r = exec('idiv ebx', { regs });
    expectRegs(r, regs, { [EAX]: 0x80000000, [EDX]: 0 });
    regs = { [EDX]: 0, [EAX]: 0x0000ff80, [EBX]: 1 };
    r = exec('idiv bl', { regs });
    expectRegs(r, regs, { [EAX]: 0x00000080 });
    // -1000000000001 / 1000: quotient needs the full 64-bit dividend.
    const n = -1000000000001n;
    regs = { [EDX]: u32(n >> 32n), [EAX]: u32(n), [EBX]: 1000 };
    r = exec('idiv ebx', { regs });
    expectRegs(r, regs, { [EAX]: u32(n / 1000n), [EDX]: u32(n % 1000n) });
  });
});

describe('decimal and ASCII adjustments', () => {
  const SZAPC = F.SF | F.ZF | F.AF | F.PF | F.CF;
  it('DAA after 79h + 35h gives 14h with carry (BCD 114)', () => {
    const r = exec('mov al, 0x79\nadd al, 0x35\ndaa');
    expectRegs(r, {}, { [EAX]: 0xa1a2a314 });
    expectFlags(r, SZAPC, F.CF | F.AF | F.PF);
  });
  it('DAS after 35h - 47h gives 88h with borrow (BCD -12)', () => {
    const r = exec('mov al, 0x35\nsub al, 0x47\ndas');
    expectRegs(r, {}, { [EAX]: 0xa1a2a388 });
    expectFlags(r, SZAPC, F.CF | F.AF | F.SF | F.PF);
  });
  it('AAA adds 106h to AX (a carry out of AL reaches AH), AAS subtracts 6 then 1 from AH', () => {
    let r = exec('aaa', { regs: { [EAX]: 0x000000fb } });
    expectRegs(r, { [EAX]: 0xfb }, { [EAX]: 0x0201 });
    expectFlags(r, F.CF | F.AF, F.CF | F.AF);
    r = exec('aas', { regs: { [EAX]: 0x00000205 }, flags: F.AF });
    expectRegs(r, { [EAX]: 0x205 }, { [EAX]: 0x000f });
    expectFlags(r, F.CF | F.AF, F.CF | F.AF);
    r = exec('aaa', { regs: { [EAX]: 0x00000305 }, flags: F.CF });
    expectRegs(r, { [EAX]: 0x305 }, { [EAX]: 0x0305 });
    expectFlags(r, F.CF | F.AF, 0);
  });
  it('AAM / AAD with the default and other bases; AAM 0 raises #DE', () => {
    let r = exec('aam', { regs: { [EAX]: 0x1234003f } });
    expectRegs(r, { [EAX]: 0x1234003f }, { [EAX]: 0x12340603 });
    expectFlags(r, F.SF | F.ZF | F.PF, F.PF);
    r = exec('aad', { regs: { [EAX]: 0x12340709 } });
    expectRegs(r, { [EAX]: 0x12340709 }, { [EAX]: 0x1234004f });
    r = exec('db 0xd5, 0x10', { regs: { [EAX]: 0x00000305 } });
    expectRegs(r, { [EAX]: 0x305 }, { [EAX]: 0x35 });
    expectFault('db 0xd4, 0x00', { [EAX]: 0x1234 }, 0);
  });
});
