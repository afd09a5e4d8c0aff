/**
 * Task management (SDM vol. 3, chapter 7): JMP and CALL to a TSS or task gate, IRET with NT back
 * to the previous task, an exception through a task gate (the #DF task Linux uses), the state
 * saved and loaded, busy bits, NT and the back link, CR0.TS, the #TS/#GP checks before the commit
 * point and the faults raised in the new task after it, and LTR/STR.
 */
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, SEG_CS, SEG_DS, SEG_SS, TR_SEL } from '../../../translator/abi.ts';
import { runProgram, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun, PmProgram } from './vmm-harness.ts';

/** A 32-bit TSS: EIP, EFLAGS, ESP, CS, the selector for ES/SS/DS/FS/GS, EAX, then a 16-bit limit sanity pad. */
const TSS_MACRO = `
%macro TSS32 7
  dd 0                                  ; 0x00 back link
  dd 0x70000, 0x10, 0, 0, 0, 0          ; 0x04 ESP0 SS0 ESP1 SS1 ESP2 SS2
  dd 0                                  ; 0x1C CR3
  dd %1, %2                             ; 0x20 EIP EFLAGS
  dd %6, 0, 0, 0                        ; 0x28 EAX ECX EDX EBX
  dd %3, 0, 0, 0                        ; 0x38 ESP EBP ESI EDI
  dd %5, %4, %5, %7, %5, %5             ; 0x48 ES CS SS DS FS GS
  dd 0, 0                               ; 0x60 LDT, T and I/O map base
%endmacro
`;

const GDT = `
  SEGDESC A(tss_b), 0x67, 0x89, 0x0     ; 0x30 task B's TSS
  GATE 0x30, 0, 0xE5, 0                 ; 0x38 task gate to B, DPL 3
  SEGDESC A(tss_b), 0x20, 0x89, 0x0     ; 0x40 a TSS descriptor with a too-small limit
  SEGDESC 0, 0xFFFFF, 0x92, 0xC         ; 0x48 data
`;

function run(body: string, taskB: string, tssB = 'TSS32 A(task_b), 0x2, 0x60000, 0x08, 0x10, 0xb0b, 0x10', more: Partial<PmProgram> = {}): GuestRun {
  return runProgram({
    body: `${TSS_MACRO}\n${body}`, gdt: GDT, ...more,
    extra: `task_b: ${taskB}\nalign 16\ntss_b: ${tssB}`,
  });
}

const TSS_TYPE = (r: GuestRun, sel: number): number => r.vm.readPhys(r.sym('gdt') + sel + 5, 1)[0];

describe('JMP and CALL to a task', () => {
  it('JMP to a TSS saves the old state, loads the new one, moves the busy bit, sets CR0.TS; no link, no NT', () => {
    const r = run('mov eax, 0x11111111\nmov esi, 0x5150\nf: jmp 0x30:0\nafter: hlt', 'hlt');
    const c = r.vm.cpu;
    const tss = r.sym('tss');
    expect([c.eip, c.s[TR_SEL >> 2], c.s[0], c.s[4], c.s[6]]).toEqual([r.sym('task_b') + 1, 0x30, 0xb0b, 0x60000, 0]);
    expect(c.s[CR >> 2] & 8).toBe(8);
    expect(c.s[EFLAGS >> 2] & 0x4000).toBe(0);
    expect([r.d(tss + 0x20), r.d(tss + 0x28), r.d(tss + 0x40), r.d(tss + 0x38), r.d(tss + 0x4c), r.d(tss + 0x50)])
      .toEqual([r.sym('after'), 0x11111111, 0x5150, 0x80000, 0x08, 0x10]);
    expect([TSS_TYPE(r, 0x28), TSS_TYPE(r, 0x30), r.d(r.sym('tss_b'))]).toEqual([0x89, 0x8b, 0]);
  });

  it('CALL through a task gate links and nests; IRET in the new task returns and clears the busy bit', () => {
    const r = run('mov eax, 1\npushfd\npop ebx\ncall 0x38:0\nafter: hlt', 'mov eax, 99\npushfd\npop ecx\nmov [ss:0x60000 - 4], ecx\niretd\nb_after:\n jmp task_b');
    const c = r.vm.cpu;
    const tb = r.sym('tss_b');
    expect([c.eip, c.s[TR_SEL >> 2], c.s[0], c.s[EFLAGS >> 2] & 0x4000]).toEqual([r.sym('after') + 1, 0x28, 1, 0]);
    expect(r.d(0x60000 - 4) & 0x4000).toBe(0x4000); // NT was set while task B ran
    expect([r.d(tb), r.d(tb + 0x20), r.d(tb + 0x28), r.d(tb + 0x24) & 0x4000]).toEqual([0x28, r.sym('b_after'), 99, 0]);
    expect([TSS_TYPE(r, 0x28), TSS_TYPE(r, 0x30)]).toEqual([0x8b, 0x89]);
  });

  it('checks before the switch: busy TSS #GP(sel), short TSS #TS(sel), IRET with NT to a non-busy task #TS(link)', () => {
    expect(stubVector(run('f: jmp 0x28:0', 'hlt'))).toBe(13);
    const short = run('f: jmp 0x40:0', 'hlt');
    expect([stubVector(short), stack(short, 2)[0], stack(short, 2)[1]]).toEqual([10, 0x40, short.sym('f')]);
    const iret = run('mov dword [tss], 0x30\npushfd\nor dword [esp], 0x4000\npopfd\nf: iretd', 'hlt');
    expect([stubVector(iret), stack(iret, 1)[0], stack(iret, 2)[1], iret.vm.cpu.s[TR_SEL >> 2]]).toEqual([10, 0x30, iret.sym('f'), 0x28]);
  });

  it('a bad DS in the new task faults after the commit point: #TS(sel) in task B at its first instruction', () => {
    const r = run('f: jmp 0x30:0', 'hlt', 'TSS32 A(task_b), 0x2, 0x60000, 0x08, 0x10, 0, 0x99');
    const c = r.vm.cpu;
    expect([stubVector(r), c.s[TR_SEL >> 2], c.segSel(SEG_DS), c.s[4]]).toEqual([10, 0x30, 0x99, 0x60000 - 16]);
    expect(stack(r, 4)).toEqual([0x98, r.sym('task_b'), 0x08, 0x10002]);
    expect(TSS_TYPE(r, 0x30)).toBe(0x8b);
  });
});

describe('exceptions through task gates', () => {
  it('#DF through a task gate (as Linux does): switch to the #DF task, error code on its stack, back link set', () => {
    const r = run('mov ax, 0x99\nf: mov ds, ax', 'hlt', undefined, {
      idt: { 13: 'GATE 0x08, A(stubs), 0x0E, 0', 8: 'GATE 0x30, 0, 0x85, 0' },
    });
    const c = r.vm.cpu;
    const tss = r.sym('tss');
    expect([c.eip, c.s[TR_SEL >> 2], c.s[4], r.d(0x60000 - 4), c.s[EFLAGS >> 2] & 0x4000]).toEqual([r.sym('task_b') + 1, 0x30, 0x60000 - 4, 0, 0x4000]);
    expect([r.d(r.sym('tss_b')), r.d(tss + 0x20), TSS_TYPE(r, 0x28), TSS_TYPE(r, 0x30)]).toEqual([0x28, r.sym('f'), 0x8b, 0x8b]);
    expect(c.segSel(SEG_CS)).toBe(0x08);
    expect(c.segSel(SEG_SS)).toBe(0x10);
  });
});

describe('LTR and STR', () => {
  it('STR stores TR; LTR marks the new TSS busy; a busy TSS, a null selector or a data segment are #GP', () => {
    const r = run('str eax\nmov cx, 0x30\nltr cx\nstr ebx\nmov dx, 0x28\nf: ltr dx', 'hlt');
    expect([r.vm.cpu.s[0], r.vm.cpu.s[3], TSS_TYPE(r, 0x30), stubVector(r), stack(r, 1)[0]]).toEqual([0x28, 0x30, 0x8b, 13, 0x28]);
    const nul = run('xor ax, ax\nf: ltr ax', 'hlt');
    expect([stubVector(nul), stack(nul, 1)[0]]).toEqual([13, 0]);
    const data = run('mov ax, 0x48\nf: ltr ax', 'hlt');
    expect([stubVector(data), stack(data, 1)[0]]).toEqual([13, 0x48]);
  });

  it('LTR at CPL 3 is #GP(0)', () => {
    const r = run('TO_RING3 user\nuser: mov ax, 0x30\nf: ltr ax', 'hlt');
    expect([stubVector(r), stack(r, 1)[0], stack(r, 2)[1]]).toEqual([13, 0, r.sym('f')]);
  });
});

describe('16-bit TSS', () => {
  it('JMP to a 16-bit TSS loads IP, FLAGS, the word registers (upper halves kept) and ES CS SS DS; FS/GS stay', () => {
    const r = runProgram({
      body: 'mov ax, 0x48\nmov fs, ax\nmov eax, 0xaaaa0000\nf: jmp 0x30:0\nafter:',
      gdt: '  SEGDESC A(tss16), 0x2B, 0x81, 0x0  ; 0x30 a 16-bit TSS\n  SEGDESC 0x10000, 0xFFFF, 0x9A, 0x4 ; 0x38 code at the program origin\n' +
        '  SEGDESC 0, 0xFFFF, 0x92, 0x0 ; 0x40 small data\n  SEGDESC 0, 0xFFFFF, 0x92, 0xC ; 0x48 flat data\n',
      extra: `
        task16: hlt
        align 16
        tss16: dw 0, 0, 0, 0, 0, 0, 0      ; link, SP0 SS0, SP1 SS1, SP2 SS2
               dw task16 - $$              ; IP
               dw 0x0046                   ; FLAGS
               dw 0x1234, 0, 0, 0          ; AX CX DX BX
               dw 0x7000, 0, 0, 0          ; SP BP SI DI
               dw 0x40, 0x38, 0x40, 0x40   ; ES CS SS DS
               dw 0                        ; LDT`,
    });
    const c = r.vm.cpu;
    expect([c.eip, c.segSel(SEG_CS), c.s[TR_SEL >> 2], c.s[0] >>> 0, c.s[4], c.s[EFLAGS >> 2]]).toEqual([r.sym('task16') - 0x10000 + 1, 0x38, 0x30, 0xaaaa1234, 0x87000, 0x46]);
    expect([c.segSel(SEG_DS), c.segLimit(SEG_DS), c.segSel(4), c.segSel(5)]).toEqual([0x40, 0xffff, 0x48, 0x10]);
    expect([r.d(r.sym('tss') + 0x20), TSS_TYPE(r, 0x30)]).toEqual([r.sym('after'), 0x83]);
  });
});
