/**
 * Descriptor-table instructions and descriptor probes (SDM vol. 2): SGDT/SIDT/LGDT/LIDT with 32-
 * and 16-bit operand size, SLDT/STR/SMSW register and memory forms, LMSW, LAR/LSL/VERR/VERW
 * (which descriptor types each accepts, the privilege rule, ZF), SYSENTER/SYSEXIT, and what
 * faults at CPL 3 or in real mode.
 */
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, SEG_CS, SEG_SS } from '../../../translator/abi.ts';
import { runProgram, runReal, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun } from './vmm-harness.ts';

const GDT = `
  SEGDESC 0, 0xFFFFF, 0x98, 0xC         ; 0x30 execute-only code DPL 0
  SEGDESC 0, 0xFFFFF, 0x90, 0xC         ; 0x38 read-only data DPL 0
  GATE 0x08, 0, 0xEC, 0                 ; 0x40 call gate DPL 3
  GATE 0x08, 0, 0x8E, 0                 ; 0x48 interrupt gate (not valid for LAR)
  SEGDESC 0, 0xFFFFF, 0xFE, 0xC         ; 0x50 conforming code DPL 3
  SEGDESC 0, 0xFFFFF, 0x9E, 0xC         ; 0x58 conforming code DPL 0
  SEGDESC 0x1234, 0x00345, 0xF2, 0x0    ; 0x60 byte-granular data DPL 3, limit 345h
`;

function run(body: string): GuestRun {
  return runProgram({ body, gdt: GDT, idt: { 0x30: 'GATE 0x08, A(stubs) + 2 * 31, 0xEE, 0' } });
}

describe('SGDT/SIDT/LGDT/LIDT', () => {
  it('SGDT stores limit and base; with 16-bit operand size the base top byte is 0 (also at CPL 3)', () => {
    const r = run(`
      mov dword [0x3000], 0xffffffff
      mov dword [0x3004], 0xffffffff
      sgdt [0x3000]
      lgdt [fake]
      o16 sgdt [0x3008]
      lgdt [gdtr]
      TO_RING3 user
      user: sidt [ss:0x3010]
            int 0x30
      fake: dw 0x1234
            dd 0xaabbccdd`);
    expect(stubVector(r)).toBe(31);
    expect([r.w(0x3000), r.d(0x3002), r.w(0x3008), r.d(0x300a)]).toEqual([r.sym('gdt_end') - r.sym('gdt') - 1, r.sym('gdt'), 0x1234, 0x00bbccdd]);
    expect([r.w(0x3010), r.d(0x3012)]).toEqual([r.sym('idt_end') - r.sym('idt') - 1, r.sym('idt')]);
  });

  it('LGDT with 16-bit operand size loads a 24-bit base; LGDT at CPL 3 is #GP(0)', () => {
    const r = run('o16 lgdt [fake]\nsgdt [0x3000]\nlgdt [gdtr]\nTO_RING3 user\nuser:\nf: lgdt [ss:fake]\nfake: dw 0x1234\ndd 0xaabbccdd');
    expect([r.w(0x3000), r.d(0x3002)]).toEqual([0x1234, 0x00bbccdd]);
    expect([stubVector(r), stack(r, 1)[0], stack(r, 2)[1]]).toEqual([13, 0, r.sym('f')]);
  });
});

describe('SLDT, STR, SMSW, LMSW', () => {
  it('register forms with 32-bit operands zero-extend (SMSW gives all of CR0); memory forms store a word', () => {
    const r = run(`
      mov eax, -1
      str eax
      mov ebx, -1
      o16 str bx
      mov ecx, -1
      sldt ecx
      mov dword [0x3000], -1
      str [0x3000]
      mov edx, cr0
      or edx, 0x10000
      mov cr0, edx
      mov esi, -1
      smsw esi
      mov edi, -1
      o16 smsw di
      mov dword [0x3004], -1
      smsw [0x3004]`);
    const c = r.vm.cpu;
    const cr0 = c.s[CR >> 2];
    expect([c.s[0], c.s[3] >>> 0, c.s[1], r.d(0x3000)]).toEqual([0x28, 0xffff0028, 0, 0xffff0028]);
    expect([c.s[6], c.s[7] >>> 0, r.d(0x3004)]).toEqual([cr0, (0xffff0000 | (cr0 & 0xffff)) >>> 0, (0xffff0000 | (cr0 & 0xffff)) >>> 0]);
    expect(cr0 & 0x10000).toBe(0x10000);
  });

  it('LMSW loads MP/EM/TS and can set but not clear PE; at CPL 3 it is #GP(0)', () => {
    const r = run('mov ax, 0x000a\nlmsw ax\nsmsw ebx\nTO_RING3 user\nuser:\nf: lmsw ax');
    expect(r.vm.cpu.s[3] & 0xf).toBe(0xb); // PE stays set
    expect([stubVector(r), stack(r, 1)[0]]).toEqual([13, 0]);
  });

  it('SLDT and STR are #UD in real mode; SMSW and SGDT work there', () => {
    const r = runReal(`
      start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        mov word [6 * 4], ud
        mov word [6 * 4 + 2], 0
        smsw bx
        sgdt [0x3000]
        f: sldt ax
        hlt
      ud: hlt`);
    expect([r.vm.cpu.eip, r.w(0x7000 - 6), r.vm.cpu.s[3] & 0xffff, r.w(0x3000)]).toEqual([r.sym('ud') + 1, r.sym('f'), 0x0010, 0xffff]);
  });
});

describe('LAR, LSL, VERR, VERW', () => {
  /** Runs a probe on `sel` at CPL 0 or 3; returns [ZF, destination] (destination preset to -1). */
  function probe(insn: string, sel: number, cpl3 = false): [number, number] {
    const code = `mov eax, -1\nmov cx, ${sel}\n${insn}\nsetz bl\nmovzx ebx, bl`;
    const r = cpl3 ? run(`TO_RING3 user\nuser: ${code}\nint 0x30`) : run(code);
    return [r.vm.cpu.s[3], r.vm.cpu.s[0] >>> 0];
  }

  it.each([
    ['flat data (limit 19..16 reads as 0)', 0x10, false, [1, 0x00c09300]],
    ['16-bit operand size', 0x10, false, [1, 0xffff9300], 'o16 lar ax, cx'],
    ['a call gate', 0x40, false, [1, 0x0000ec00]],
    ['the busy TSS', 0x28, false, [1, 0x00008b00]],
    ['an interrupt gate', 0x48, false, [0, 0xffffffff]],
    ['a null selector', 0, false, [0, 0xffffffff]],
    ['beyond the GDT limit', 0x3f8, false, [0, 0xffffffff]],
    ['DPL-0 data from CPL 3', 0x10, true, [0, 0xffffffff]],
    ['DPL-0 conforming code from CPL 3', 0x58, true, [1, 0x00c09e00]],
    ['DPL-3 data with RPL 3 from CPL 3 (never loaded: A clear)', 0x63, true, [1, 0x0000f200]],
  ])('LAR on %s', (_what, sel, cpl3, want, insn = 'lar eax, cx') => {
    expect(probe(insn as string, sel as number, cpl3 as boolean)).toEqual(want);
  });

  it.each([
    ['a page-granular segment', 0x10, [1, 0xffffffff]],
    ['a byte-granular segment', 0x60, [1, 0x345]],
    ['the TSS', 0x28, [1, 0x67]],
    ['a call gate', 0x40, [0, 0xffffffff]],
  ])('LSL on %s', (_what, sel, want) => {
    expect(probe('lsl eax, cx', sel as number)).toEqual(want);
  });

  it.each([
    ['verr', 0x30, 0], ['verr', 0x08, 1], ['verr', 0x38, 1], ['verr', 0x28, 0], ['verr', 0, 0],
    ['verw', 0x38, 0], ['verw', 0x10, 1], ['verw', 0x08, 0],
  ])('%s on %s gives ZF = %s', (insn, sel, zf) => {
    expect(probe(`${insn} cx`, sel as number)[0]).toBe(zf);
  });

  it('VERW on DPL-0 data from CPL 3 is ZF = 0; VERR on DPL-0 conforming code from CPL 3 is ZF = 1', () => {
    expect(probe('verw cx', 0x10, true)[0]).toBe(0);
    expect(probe('verr cx', 0x58, true)[0]).toBe(1);
  });
});

describe('SYSENTER and SYSEXIT', () => {
  const MSRS = `
    mov ecx, 0x174
    mov eax, 0x08
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x6f000
    wrmsr
    mov ecx, 0x176
    mov eax, kernel
    wrmsr`;

  it('SYSEXIT enters CPL 3 with CS = MSR + 16, SS = MSR + 24; SYSENTER returns to CPL 0 with IF cleared', () => {
    const r = run(`${MSRS}
      mov ecx, 0x7e000
      mov edx, user
      sti
      sysexit
      user: mov ebx, cs
            mov esi, ss
            mov edi, esp
            sysenter
      kernel: hlt`);
    const c = r.vm.cpu;
    expect([c.eip, c.cpl, c.segSel(SEG_CS), c.segSel(SEG_SS), c.s[4]]).toEqual([r.sym('kernel') + 1, 0, 0x08, 0x10, 0x6f000]);
    expect([c.s[3], c.s[6], c.s[7], c.s[EFLAGS >> 2] & 0x200]).toEqual([0x1b, 0x23, 0x7e000, 0]);
    expect([r.vm.exits.sysenter, r.vm.exits.sysexit]).toEqual([1, 1]);
  });

  it('SYSENTER with IA32_SYSENTER_CS = 0 and SYSEXIT at CPL 3 are #GP(0)', () => {
    const r0 = run('f: sysenter');
    expect([stubVector(r0), stack(r0, 1)[0], stack(r0, 2)[1]]).toEqual([13, 0, r0.sym('f')]);
    const r3 = run(`${MSRS}\nTO_RING3 user\nuser:\nf: sysexit\nkernel: hlt`);
    expect([stubVector(r3), stack(r3, 1)[0], stack(r3, 2)[1]]).toEqual([13, 0, r3.sym('f')]);
  });
});

