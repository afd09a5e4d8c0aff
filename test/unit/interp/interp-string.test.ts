/**
 * Interpreter: string instructions with and without REP/REPE/REPNE (SDM vol. 2): direction,
 * overlap, page crossing, 16-bit addressing with index wrap, the source-segment override,
 * restartable long runs, a precise page fault in the middle of a run, and stores into the
 * code being executed.
 */
import { describe, expect, it } from 'vitest';
import { CR, SEG_DS, SEG_ES, SEG_FS } from '../../../translator/abi.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { CODE, DATA, F, exec, expectCompleted, expectFlags, expectRegs, identityPaging } from './interp-harness.ts';

const EAX = 0, ECX = 1, ESI = 6, EDI = 7;

const pattern = (n: number, seed = 1): number[] => Array.from({ length: n }, (_, k) => (k * 7 + seed * 13 + (k >> 8)) & 0xff);

function setBase(vm: Vm, seg: number, base: number): void {
  vm.cpu.setSegment(seg, 0x10, base, 0xffffffff | 0, vm.cpu.segFlags(seg));
}

describe('MOVS', () => {
  it('REP MOVSB copies forward across page boundaries', () => {
    const src = DATA + 0xf80, dst = DATA + 0x3f00, n = 0x1300;
    const bytes = pattern(n);
    const regs = { [ESI]: src, [EDI]: dst, [ECX]: n };
    const r = exec('rep movsb', { regs, mem: { [src]: bytes } });
    expectCompleted(r);
    expectRegs(r, regs, { [ESI]: src + n, [EDI]: dst + n, [ECX]: 0 });
    expect(Array.from(r.vm.readPhys(dst, n))).toEqual(bytes);
    expect(r.b(dst + n)).toBe(0);
  });
  it('REP MOVSD with DF = 1 copies backward', () => {
    const src = DATA, dst = DATA + 0x1000;
    const bytes = pattern(64);
    const regs = { [ESI]: src + 60, [EDI]: dst + 60, [ECX]: 16 };
    const r = exec('rep movsd', { regs, flags: F.DF, mem: { [src]: bytes } });
    expectRegs(r, regs, { [ESI]: src - 4, [EDI]: dst - 4, [ECX]: 0 });
    expect(Array.from(r.vm.readPhys(dst, 64))).toEqual(bytes);
  });
  it('a forward copy into its own source repeats the pattern element by element', () => {
    let r = exec('rep movsb', { regs: { [ESI]: DATA, [EDI]: DATA + 1, [ECX]: 16 }, mem: { [DATA]: [0xab, 1, 2, 3] } });
    expect(Array.from(r.vm.readPhys(DATA, 18))).toEqual([...Array(17).fill(0xab), 0]);
    // Dword elements, destination 2 bytes ahead: each element re-reads the 2 bytes just written.
    r = exec('rep movsd', { regs: { [ESI]: DATA, [EDI]: DATA + 2, [ECX]: 3 }, mem: { [DATA]: [1, 2, 3, 4, 5, 6, 7, 8] } });
    expect(Array.from(r.vm.readPhys(DATA, 14))).toEqual([1, 2, 1, 2, 3, 4, 3, 4, 7, 8, 7, 8, 0, 0]);
  });
  it('the source segment can be overridden; the destination is always ES', () => {
    const regs = { [ESI]: 0x10, [EDI]: 0x20, [ECX]: 2 };
    const r = exec('rep fs movsb', {
      regs,
      mem: { [DATA + 0x10]: [0x11, 0x22], [0x10]: [0xee, 0xee] },
      setup: (vm) => {
        setBase(vm, SEG_FS, DATA);
        setBase(vm, SEG_DS, 0x30000);
        setBase(vm, SEG_ES, DATA + 0x100);
      },
    });
    expectRegs(r, regs, { [ESI]: 0x12, [EDI]: 0x22, [ECX]: 0 });
    expect(r.w(DATA + 0x120)).toBe(0x2211);
  });
  it('16-bit addressing uses SI/DI/CX, wraps them at 64 KiB and keeps the upper halves', () => {
    const regs = { [ESI]: 0x1234fffe, [EDI]: 0x56780100, [ECX]: 0xabcd0004 };
    const r = exec('a16 rep movsb', { regs, mem: { [0xfffe]: [1, 2], [0]: [3, 4] } });
    expectRegs(r, regs, { [ESI]: 0x12340002, [EDI]: 0x56780104, [ECX]: 0xabcd0000 });
    expect(r.d(0x100)).toBe(0x04030201);
  });
  it('F2 (REPNE) on MOVS repeats like REP', () => {
    const regs = { [ESI]: DATA, [EDI]: DATA + 0x100, [ECX]: 3 };
    const r = exec('db 0xf2, 0xa4', { regs, mem: { [DATA]: [7, 8, 9] } });
    expectRegs(r, regs, { [ESI]: DATA + 3, [EDI]: DATA + 0x103, [ECX]: 0 });
    expect(Array.from(r.vm.readPhys(DATA + 0x100, 3))).toEqual([7, 8, 9]);
  });
});

describe('STOS and LODS', () => {
  it('REP STOSD to an unaligned address and REP STOSW', () => {
    const regs = { [EAX]: 0x11223344, [EDI]: DATA + 1, [ECX]: 3 };
    let r = exec('rep stosd', { regs });
    expectRegs(r, regs, { [EDI]: DATA + 13, [ECX]: 0 });
    expect(Array.from(r.vm.readPhys(DATA, 14))).toEqual([0, 0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11, 0]);
    r = exec('rep stosw', { regs: { ...regs, [EDI]: DATA, [ECX]: 2 }, flags: F.DF });
    expect(Array.from(r.vm.readPhys(DATA - 2, 6))).toEqual([0x44, 0x33, 0x44, 0x33, 0, 0]);
    expectRegs(r, { ...regs, [EDI]: DATA, [ECX]: 2 }, { [EDI]: DATA - 4, [ECX]: 0 });
  });
  it('REP with a zero count touches nothing', () => {
    const regs = { [ESI]: 0x7ffffff0, [EDI]: 0x7ffffff0, [ECX]: 0 };
    const r = exec('rep movsd\nrep stosb\nrepe cmpsb\nrepne scasd\nrep lodsw', { regs, flags: F.CF | F.ZF });
    expectCompleted(r);
    expectRegs(r, regs, {});
    expectFlags(r, 0x8d5, F.CF | F.ZF);
  });
  it('a long REP STOSB completes across restarts (the instruction re-executes in chunks)', () => {
    const n = 300_000;
    const regs = { [EAX]: 0x5a, [EDI]: 0x100000, [ECX]: n };
    const r = exec('rep stosb', { regs });
    expectCompleted(r);
    expectRegs(r, regs, { [EDI]: 0x100000 + n, [ECX]: 0 });
    expect(r.executed).toBeGreaterThan(2);
    const mem = r.vm.readPhys(0x100000, n + 1);
    expect(mem.subarray(0, n).every((b) => b === 0x5a)).toBe(true);
    expect(mem[n]).toBe(0);
  });
  it('a long backward REP MOVSW (element path) completes across restarts', () => {
    const n = 5000;
    const src = 0x100000, dst = 0x200000;
    const bytes = pattern(2 * n, 3);
    const regs = { [ESI]: src + 2 * n - 2, [EDI]: dst + 2 * n - 2, [ECX]: n };
    const r = exec('rep movsw', { regs, flags: F.DF, mem: { [src]: bytes } });
    expectCompleted(r);
    expectRegs(r, regs, { [ESI]: src - 2, [EDI]: dst - 2, [ECX]: 0 });
    expect(r.executed).toBeGreaterThanOrEqual(5);
    expect(Array.from(r.vm.readPhys(dst, 2 * n))).toEqual(bytes);
  });
  it('LODS loads the accumulator; REP LODSB leaves the last byte', () => {
    const regs = { [ESI]: DATA, [ECX]: 3 };
    let r = exec('rep lodsb', { regs, mem: { [DATA]: [1, 2, 3, 4] } });
    expectRegs(r, regs, { [EAX]: 0xa1a2a303, [ESI]: DATA + 3, [ECX]: 0 });
    r = exec('lodsw\nlodsd', { regs, mem: { [DATA]: [1, 2, 3, 4, 5, 6] } });
    expectRegs(r, regs, { [EAX]: 0x06050403, [ESI]: DATA + 6 });
  });
});

describe('CMPS and SCAS', () => {
  it('REPE CMPSB stops after the first difference, flags from [ESI] - [EDI]', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8], b = [1, 2, 3, 4, 5, 9, 7, 8];
    const regs = { [ESI]: DATA, [EDI]: DATA + 0x100, [ECX]: 8 };
    const r = exec('repe cmpsb', { regs, mem: { [DATA]: a, [DATA + 0x100]: b } });
    expectRegs(r, regs, { [ESI]: DATA + 6, [EDI]: DATA + 0x106, [ECX]: 2 });
    expectFlags(r, 0x8d5, F.CF | F.SF | F.AF);
  });
  it('REPE CMPSD over equal strings runs out the count with ZF = 1', () => {
    const a = pattern(40);
    const regs = { [ESI]: DATA, [EDI]: DATA + 0x100, [ECX]: 10 };
    const r = exec('repe cmpsd', { regs, mem: { [DATA]: a, [DATA + 0x100]: a } });
    expectRegs(r, regs, { [ESI]: DATA + 40, [EDI]: DATA + 0x128, [ECX]: 0 });
    expectFlags(r, 0x8d5, F.ZF | F.PF);
  });
  it('REPNE SCASB finds a terminator (the strlen idiom)', () => {
    const regs = { [EAX]: 0, [EDI]: DATA, [ECX]: 0xffffffff };
    const r = exec('repne scasb', { regs, mem: { [DATA]: [0x68, 0x65, 0x6c, 0x6c, 0x6f, 0, 0x21] } });
    expectRegs(r, regs, { [EDI]: DATA + 6, [ECX]: 0xfffffff9 });
    expectFlags(r, F.ZF, F.ZF);
  });
  it('SCASW compares AX with ES:[DI] and moves DI only', () => {
    const regs = { [EAX]: 0x12340100, [EDI]: DATA + 2, [ESI]: 0 };
    const r = exec('scasw', { regs, flags: F.DF, mem: { [DATA + 2]: [0x00, 0x02] } });
    expectRegs(r, regs, { [EDI]: DATA });
    expectFlags(r, 0x8d5, F.CF | F.SF | F.PF);
  });
});

describe('faults and self-modifying code', () => {
  it('a page fault in the middle of REP MOVSD leaves the completed iterations and EIP at the instruction', () => {
    const src = DATA, dst = DATA + 0x1ff0;
    const bytes = pattern(64);
    const regs = { [ESI]: src, [EDI]: dst, [ECX]: 16 };
    const r = exec('rep movsd', { regs, mem: { [src]: bytes }, setup: (vm) => identityPaging(vm, [DATA + 0x2000]) });
    expect(r.fault?.vector).toBe(14);
    expect(r.eip).toBe(CODE);
    expectRegs(r, regs, { [ESI]: src + 16, [EDI]: dst + 16, [ECX]: 12 });
    expect(r.vm.cpu.s[(CR >> 2) + 2] >>> 0).toBe(DATA + 0x2000);
    expect(Array.from(r.vm.readPhys(dst, 16))).toEqual(bytes.slice(0, 16));
  });
  it('REP STOSB over the following instruction takes effect before it executes', () => {
    const r = exec('mov edi, patch\nmov ecx, 5\nmov al, 0x90\nrep stosb\npatch: mov eax, 0x11111111');
    expectCompleted(r);
    expectRegs(r, {}, { [EAX]: 0xa1a2a390, [ECX]: 0, [EDI]: r.end });
  });
  it('MOVS reads through a faulting source segment before writing', () => {
    const regs = { [ESI]: 0x20000, [EDI]: DATA, [ECX]: 2 };
    const r = exec('rep movsb', {
      regs,
      setup: (vm) => vm.cpu.setSegment(SEG_DS, 0x10, 0, 0xffff, vm.cpu.segFlags(SEG_DS)),
    });
    expect(r.fault?.toString()).toBe('#GP(0x0)');
    expectRegs(r, regs, {});
  });
});
