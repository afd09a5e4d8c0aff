/**
 * Segment-register loads (SDM vol. 3, 3.4–3.5, 5.5–5.7): MOV/POP/LxS into DS, ES, FS, GS, SS with
 * every type and privilege check and its exact error code, null selectors, the accessed bit,
 * LDT selectors, the MOV SS shadow, MOV from segment registers, PUSH/POP Sreg, ARPL, and real
 * mode loads (which keep the hidden limit: unreal mode).
 */
import { describe, expect, it } from 'vitest';
import {
  EX_GP, EX_NP, EX_SS, EX_UD, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEGF_USABLE,
} from '../../../translator/abi.ts';
import { runPm, runProgram, runReal, stack, STD_GDT_NO_TSS, stubVector } from './vmm-harness.ts';
import type { GuestRun } from './vmm-harness.ts';

/** Extra GDT entries from 0x28 used by these tests. */
const GDT = `
  SEGDESC 0x12345, 0x00FFF, 0x92, 0x4  ; 0x30 data, base 12345h, limit FFFh, not yet accessed
  SEGDESC 0, 0xFFFFF, 0x98, 0xC        ; 0x38 execute-only code
  SEGDESC 0, 0xFFFFF, 0x9A, 0xC        ; 0x40 readable code
  SEGDESC 0, 0xFFFFF, 0x12, 0xC        ; 0x48 data, not present
  SEGDESC 0, 0xFFFFF, 0x90, 0xC        ; 0x50 read-only data
  SEGDESC 0x20000, 0x0000F, 0x82, 0x0  ; 0x58 LDT (16 bytes: two descriptors)
  SEGDESC 0, 0xFFFFF, 0xB2, 0xC        ; 0x60 data DPL 1
  SEGDESC 0, 0xFFFFF, 0x9E, 0xC        ; 0x68 conforming readable code DPL 0
  SEGDESC 0x1000, 0x0FFFF, 0x96, 0x4   ; 0x70 expand-down data
`;

/** The exception that stopped the run: '#GP(0x28)' style, or 'none' if it halted in the body. */
function exc(r: GuestRun): string {
  const v = stubVector(r);
  if (v < 0) return 'none';
  const names: Record<number, string> = { [EX_GP]: '#GP', [EX_NP]: '#NP', [EX_SS]: '#SS', [EX_UD]: '#UD', 10: '#TS' };
  const hasCode = [8, 10, 11, 12, 13, 14, 17].includes(v);
  return hasCode ? `${names[v] ?? v}(0x${stack(r, 1)[0].toString(16)})` : (names[v] ?? String(v));
}

/** Runs `body` and returns the exception and the faulting EIP relative to the label `f`. */
function tryBody(body: string): { exc: string; r: GuestRun } {
  const r = runProgram({ body, gdt: GDT });
  expect(r.result.reason).toBe('halted');
  return { exc: exc(r), r };
}

describe('MOV to DS/ES/FS/GS in protected mode', () => {
  it('loads base, byte limit and attributes and sets the accessed bit in the GDT', () => {
    const { exc: e, r } = tryBody('mov ax, 0x30\nmov es, ax');
    expect(e).toBe('none');
    const c = r.vm.cpu;
    expect([c.segSel(SEG_ES), c.segBase(SEG_ES), c.segLimit(SEG_ES), c.segFlags(SEG_ES)])
      .toEqual([0x30, 0x12345, 0xfff, SEGF_USABLE | 0x4093]);
    expect(r.vm.readPhys(r.sym('gdt') + 0x30 + 5, 1)[0]).toBe(0x93);
  });

  it('a null selector makes the register unusable: a later access is #GP(0) at that instruction', () => {
    const { exc: e, r } = tryBody('mov ax, 3\nmov fs, ax\nf: mov eax, [fs:0]');
    expect(e).toBe('#GP(0x0)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.segSel(SEG_FS)).toBe(3);
    expect(r.vm.cpu.segFlags(SEG_FS) & SEGF_USABLE).toBe(0);
  });

  it.each([
    ['beyond the GDT limit', 0x400, '#GP(0x400)'],
    ['a system descriptor (LDT)', 0x58, '#GP(0x58)'],
    ['execute-only code', 0x38, '#GP(0x38)'],
    ['RPL 3 above DPL 0', 0x33, '#GP(0x30)'],
    ['a data segment that is not present', 0x48, '#NP(0x48)'],
    ['readable code', 0x40, 'none'],
    ['conforming readable code with RPL 3', 0x6b, 'none'],
    ['an LDT selector while LDTR is null', 0x0c, '#GP(0xc)'],
  ])('%s: %s', (_what, sel, want) => {
    const { exc: e, r } = tryBody(`mov ax, ${sel}\nmov bx, gs\nf: mov gs, ax`);
    expect(e).toBe(want);
    if (want !== 'none') {
      expect(stack(r, 2)[1]).toBe(r.sym('f'));
      expect(r.vm.cpu.segSel(SEG_GS)).toBe(0x10); // unchanged
    } else {
      expect(r.vm.cpu.segSel(SEG_GS)).toBe(sel);
    }
  });

  it('LDT selectors after LLDT; beyond the LDT limit is #GP(sel)', () => {
    const body = `
      mov edi, 0x20000
      mov dword [edi+8], 0x0000FFFF      ; LDT entry 1: flat data, DPL 0
      mov dword [edi+12], 0x00CF9200
      mov ax, 0x58
      lldt ax
      mov ax, 0x0c
      mov ds, ax
      mov ax, 0x14
      f: mov es, ax`;
    const { exc: e, r } = tryBody(body);
    expect(e).toBe('#GP(0x14)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.segSel(SEG_DS)).toBe(0x0c);
    expect(r.vm.cpu.segLimit(SEG_DS)).toBe(0xffffffff);
    expect(r.d(0x20000 + 12)).toBe(0x00cf9300); // accessed bit set in the LDT
  });
});

describe('MOV to SS in protected mode', () => {
  it.each([
    ['a null selector', 0, '#GP(0x0)'],
    ['RPL different from CPL', 0x13, '#GP(0x10)'],
    ['read-only data', 0x50, '#GP(0x50)'],
    ['DPL 1 at CPL 0', 0x60, '#GP(0x60)'],
    ['code', 0x40, '#GP(0x40)'],
    ['a data segment that is not present', 0x48, '#SS(0x48)'],
  ])('%s: %s', (_what, sel, want) => {
    const { exc: e, r } = tryBody(`mov ax, ${sel}\nf: mov ss, ax`);
    expect(e).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.segSel(SEG_SS)).toBe(0x10);
  });

  it('an expand-down stack segment: pushes above the limit work; below it #SS(0), whose delivery on the same stack escalates to #DF and a triple fault', () => {
    const r = runProgram({ body: 'mov ax, 0x70\nmov ss, ax\nmov esp, 0x10008\npush eax\npush eax\nf: push eax', gdt: GDT });
    expect(r.result.reason).toBe('triple-fault');
    expect(r.result.detail).toBe('#SS(0x1) while delivering #DF');
    expect(r.vm.cpu.s[4]).toBe(0x10000);
    expect(r.vm.cpu.eip).toBe(r.sym('f'));
    expect([r.d(0x1000 + 0x10004), r.d(0x1000 + 0x10000)]).toEqual([0x70, 0x70]); // the two pushes, at base + offset
  });

  it('MOV CS is #UD', () => {
    const { exc: e, r } = tryBody('f: db 0x8e, 0xc8');
    expect(e).toBe('#UD');
    expect(stack(r, 1)[0]).toBe(r.sym('f'));
  });
});

describe('segment loads at CPL 3', () => {
  it('a DPL-0 data segment is #GP(sel); the fault enters ring 0 on the TSS stack with the full frame', () => {
    const r = runProgram({ body: 'TO_RING3 user\nuser: mov ax, 0x23\nmov ds, ax\nmov ss, ax\nmov ax, 0x10\nf: mov es, ax', gdt: GDT });
    expect(exc(r)).toBe('#GP(0x10)');
    const c = r.vm.cpu;
    expect([c.cpl, c.segSel(1), c.segSel(SEG_SS), c.s[4]]).toEqual([0, 0x08, 0x10, 0x70000 - 24]);
    // error code, EIP, CS, EFLAGS, ESP, SS of the interrupted ring-3 code
    expect(stack(r, 6)).toEqual([0x10, r.sym('f'), 0x1b, 0x2 | 0x10000, 0x7f000, 0x23]);
    expect(c.segSel(SEG_DS)).toBe(0x23);
  });
});

describe('PUSH/POP Sreg, MOV from Sreg, LxS', () => {
  it('PUSH DS pushes the selector zero-extended with 32-bit operands, a word with 16-bit', () => {
    const r = tryBody('mov dword [0x7fff8], -1\nmov dword [0x7fffc], -1\npush ds\no16 push es').r;
    expect(r.vm.cpu.s[4]).toBe(0x80000 - 6);
    expect([r.d(0x7fffc), r.d(0x7fff8)]).toEqual([0x10, 0x0010ffff]);
  });

  it('POP SS with a bad selector faults with ESP unchanged; POP DS pops a dword', () => {
    const r = tryBody('push 0x30\npop ds\npush 0x50\nf: pop ss').r;
    expect(exc(r)).toBe('#GP(0x50)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.segSel(SEG_DS)).toBe(0x30);
    expect(r.d(0x80000 - 4)).toBe(0x50); // the value POP SS refused is still on the stack
    expect(r.vm.cpu.s[4]).toBe(0x80000 - 4 - 16); // below it: the #GP frame (error code, EIP, CS, EFLAGS)
  });

  it('MOV r32, Sreg zero-extends; MOV r16, Sreg keeps the upper half; MOV m, Sreg writes a word', () => {
    const r = tryBody('mov eax, -1\nmov eax, ss\nmov ebx, -1\no16 mov bx, ds\nmov dword [0x3000], -1\nmov [0x3000], es');
    expect([r.r.vm.cpu.s[0], r.r.vm.cpu.s[3] >>> 0, r.r.d(0x3000)]).toEqual([0x10, 0xffff0010, 0xffff0010]);
  });

  it('LDS/LES/LFS/LGS/LSS load offset then selector; a refused selector leaves the register alone', () => {
    const body = `
      mov dword [0x3000], 0x11223344
      mov word [0x3004], 0x30
      lgs ecx, [0x3000]
      mov word [0x3004], 0x20
      mov edx, 7
      f: lss edx, [0x3000]`;
    const r = tryBody(body).r;
    expect(exc(r)).toBe('#GP(0x20)'); // DPL 3 stack segment at CPL 0
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect([r.vm.cpu.s[1], r.vm.cpu.segSel(SEG_GS), r.vm.cpu.segBase(SEG_GS), r.vm.cpu.s[2]]).toEqual([0x11223344, 0x30, 0x12345, 7]);
  });

  it('ARPL raises the RPL and sets ZF, or clears ZF', () => {
    const r = tryBody('mov ax, 0x31\nmov bx, 0x13\narpl ax, bx\nsetz cl\nmov word [0x3000], 0x23\narpl [0x3000], bx\nsetz ch');
    expect([r.r.vm.cpu.s[0] & 0xffff, r.r.vm.cpu.s[1] & 0xffff, r.r.w(0x3000)]).toEqual([0x33, 0x0001, 0x23]);
  });
});

describe('real-address mode', () => {
  it('MOV Sreg sets base = selector << 4 and keeps the hidden limit; ARPL is #UD', () => {
    const r = runReal(`
      start:
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ax, 0x1234
        mov es, ax
        mov word [0x18], ud_handler   ; IVT entry 6 (#UD)
        mov word [0x1a], 0
        f: arpl ax, bx
        hlt
      ud_handler:
        hlt`);
    const c = r.vm.cpu;
    expect([c.segSel(SEG_ES), c.segBase(SEG_ES), c.segLimit(SEG_ES)]).toEqual([0x1234, 0x12340, 0xffff]);
    expect(c.eip).toBe(r.sym('ud_handler') + 1);
    expect([r.w(0x7000 - 2), r.w(0x7000 - 4), r.w(0x7000 - 6)]).toEqual([0x0046, 0x0000, r.sym('f')]); // FLAGS (ZF PF from XOR), CS, IP
  });

  it('unreal mode: a 4 GiB DS loaded in protected mode keeps its limit after returning to real mode', () => {
    const r = runPm(`
      start:
        lgdt [gdtr]
        mov ax, 0x10
        mov ds, ax
        jmp 0x28:pm16 - $$      ; a 64 KiB 16-bit code segment first (SDM 9.9.2)
      bits 16
      pm16:
        mov eax, cr0
        and al, 0xFE
        mov cr0, eax
        jmp 0x1000:real - $$
      real:
        mov ax, 0x100
        mov ds, ax
        mov dword [dword 0x200000], 0x55aa55aa
        hlt
      bits 32
      align 8
      ${STD_GDT_NO_TSS}
        SEGDESC 0x10000, 0xFFFF, 0x9A, 0x0
      gdt_end:
      gdtr: dw gdt_end - gdt - 1
            dd gdt`);
    const c = r.vm.cpu;
    expect(r.result.reason).toBe('halted');
    expect([c.segSel(SEG_DS), c.segBase(SEG_DS), c.segLimit(SEG_DS)]).toEqual([0x100, 0x1000, 0xffffffff]);
    expect(r.d(0x201000)).toBe(0x55aa55aa);
  });
});
