/**
 * Interrupt and exception delivery (SDM vol. 3, chapter 6): INT n / INT3 / INTO / INT1 through
 * interrupt and trap gates (32- and 16-bit), privilege changes with the stack switch, gate DPL
 * checks for software interrupts only, IDT limit / type / present checks with IDT-format error
 * codes, the EXT bit for external interrupts, double-fault and triple-fault rules, real-mode
 * IVT delivery, and IRET back to the same or an outer level.
 */
import { describe, expect, it } from 'vitest';
import { CR, EFLAGS, SEG_CS, SEG_SS } from '../../../translator/abi.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { runProgram, runReal, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun, PmProgram } from './vmm-harness.ts';

/** 'vector(error code)' for vectors with an error code, else 'vector'; 'none' if not in a stub. */
function exc(r: GuestRun): string {
  const v = stubVector(r);
  if (v < 0) return 'none';
  return [8, 10, 11, 12, 13, 14, 17].includes(v) ? `${v}(0x${stack(r, 1)[0].toString(16)})` : String(v);
}

function run(p: PmProgram, setup?: (vm: Vm) => void): GuestRun {
  const r = runProgram(p, { setup });
  return r;
}

/** A handler that records ESP (through SS: DS may be null) and halts: `handler` in `extra`. */
const HANDLER = 'handler: mov [ss:saved_esp], esp\n  hlt\nsaved_esp: dd 0';
/** EIP after the handler's HLT. */
const HANDLER_HALT = 8;

describe('software interrupts at CPL 0', () => {
  it('INT n through a 32-bit interrupt gate pushes EFLAGS, CS, next EIP and clears IF, TF, NT', () => {
    const r = run({
      body: 'push 0x4202 | 0x100\npopfd\nint 0x21\nafter: hlt',
      idt: { 0x21: 'GATE 0x08, A(handler), 0x8E, 0' },
      extra: HANDLER,
    });
    const c = r.vm.cpu;
    expect(c.eip).toBe(r.sym('handler') + HANDLER_HALT);
    expect(stack(r, 3)).toEqual([r.sym('after'), 0x08, 0x4302]);
    expect(c.s[EFLAGS >> 2] & 0x4300).toBe(0); // IF, TF and NT cleared
    expect(c.s[4]).toBe(0x80000 - 12);
  });

  it('a trap gate leaves IF set; a 16-bit gate pushes a 16-bit frame and enters with a 16-bit offset', () => {
    const r = run({
      body: 'sti\nint 0x22\nafter: hlt',
      gdt: '  SEGDESC 0x10000, 0xFFFF, 0x9A, 0x0 ; 0x30 16-bit code at the program origin\n',
      idt: { 0x22: 'GATE 0x30, trap16 - $$, 0x87, 0' },
      extra: 'bits 16\ntrap16: pushf\npop ax\nhlt\nbits 32',
    });
    const c = r.vm.cpu;
    expect([c.eip, c.segSel(SEG_CS), c.s[4], c.s[0] & 0x200]).toEqual([r.sym('trap16') - 0x10000 + 3, 0x30, 0x80000 - 6, 0x200]);
    expect([r.w(0x80000 - 6), r.w(0x80000 - 4), r.w(0x80000 - 2)]).toEqual([r.sym('after') & 0xffff, 0x08, 0x202]);
  });

  it('INTO traps with vector 4 when OF = 1 and does nothing when OF = 0', () => {
    const r = run({ body: 'xor eax, eax\ninto\nmov al, 0x7f\nadd al, 1\ninto\nafter: hlt' });
    expect(exc(r)).toBe('4');
    expect(stack(r, 3)).toEqual([r.sym('after'), 0x08, 0x892]); // OF SF AF from 7Fh + 1
  });
});

describe('software interrupts from CPL 3', () => {
  const idt = {
    0x30: 'GATE 0x08, A(handler), 0xEE, 0', // DPL 3 interrupt gate
    0x31: 'GATE 0x08, A(handler), 0x8E, 0', // DPL 0
    3: 'GATE 0x08, A(handler), 0x8E, 0', // INT3 with DPL 0
    1: 'GATE 0x08, A(handler), 0x8E, 0', // #DB with DPL 0
  };

  it('INT n through a DPL-3 gate switches to the ring-0 stack: SS ESP EFLAGS CS EIP', () => {
    const r = run({ body: 'TO_RING3 user\nuser: int 0x30\nafter:', idt, extra: HANDLER });
    const c = r.vm.cpu;
    expect([c.eip, c.cpl, c.segSel(SEG_CS), c.segSel(SEG_SS), c.s[4]]).toEqual([r.sym('handler') + HANDLER_HALT, 0, 0x08, 0x10, 0x70000 - 20]);
    expect(stack(r, 5)).toEqual([r.sym('after'), 0x1b, 0x2, 0x7f000, 0x23]);
  });

  it.each([
    ['INT n through a DPL-0 gate', 'int 0x31', '13(0x18a)'],
    ['INT3 through a DPL-0 gate', 'int3', '13(0x1a)'],
    ['INT n beyond the IDT limit', 'int 0x40', '13(0x202)'],
  ])('%s: #GP with an IDT error code, EXT = 0', (_what, insn, want) => {
    const r = run({ body: `TO_RING3 user\nuser:\nf: ${insn}`, idt, extra: HANDLER });
    expect(exc(r)).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
  });

  it('INT1 (ICEBP) is not checked against the gate DPL', () => {
    const r = run({ body: 'TO_RING3 user\nuser: int1\nafter:', idt, extra: HANDLER });
    expect(r.vm.cpu.eip).toBe(r.sym('handler') + HANDLER_HALT);
    expect(stack(r, 2)).toEqual([r.sym('after'), 0x1b]);
  });
});

describe('IDT checks and nested faults', () => {
  it.each([
    ['a not-present gate', 'GATE 0x08, A(handler), 0x0E, 0', '11(0x182)'],
    ['a call gate in the IDT', 'GATE 0x08, A(handler), 0x8C, 0', '13(0x182)'],
    ['a null code selector', 'GATE 0x00, A(handler), 0x8E, 0', '13(0x0)'],
    ['a data segment as the target', 'GATE 0x10, A(handler), 0x8E, 0', '13(0x10)'],
  ])('INT 0x30 via %s: %s', (_what, gate, want) => {
    const r = run({ body: 'f: int 0x30', idt: { 0x30: gate }, extra: HANDLER });
    expect(exc(r)).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
  });

  it('an external interrupt through a not-present gate: #NP with EXT = 1', () => {
    let pending = true;
    const r = run({ body: 'sti\nnop\nf: jmp f', idt: { 0x30: 'GATE 0x08, A(handler), 0x0E, 0' }, extra: HANDLER }, (vm) => {
      vm.irq = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x30; } };
      vm.notifyInterrupt();
    });
    expect(exc(r)).toBe('11(0x183)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
  });

  it('#GP whose gate is not present (#NP): contributory + contributory = #DF with error code 0', () => {
    const r = run({ body: 'mov ax, 0x99\nf: mov ds, ax', idt: { 13: 'GATE 0x08, A(handler), 0x0E, 0' }, extra: HANDLER });
    expect(exc(r)).toBe('8(0x0)');
    expect(stack(r, 4)).toEqual([0, r.sym('f'), 0x08, 0x2]);
  });

  it('#DF whose gate is not present too: triple fault', () => {
    const r = run({
      body: 'mov ax, 0x99\nf: mov ds, ax',
      idt: { 13: 'GATE 0x08, A(handler), 0x0E, 0', 8: 'GATE 0x08, A(handler), 0x0E, 0' },
      extra: HANDLER,
    });
    expect(r.result.reason).toBe('triple-fault');
    expect(r.result.detail).toBe('#NP(0x43) while delivering #DF');
    expect(r.vm.cpu.eip).toBe(r.sym('f'));
  });

  it('a benign exception (#UD) whose gate is not present: the #NP is delivered on its own', () => {
    const r = run({ body: 'f: ud2', idt: { 6: 'GATE 0x08, A(handler), 0x0E, 0' }, extra: HANDLER });
    expect(exc(r)).toBe('11(0x33)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
  });

  it('#PF whose gate is not present: #DF', () => {
    const r = run({
      body: `
        mov edi, 0x90000          ; page directory
        mov dword [edi], 0x91003  ; PDE 0 -> page table, present, writable
        mov ecx, 0
      .map: lea eax, [ecx * 4 + 0x91000]
        mov edx, ecx
        shl edx, 12
        or edx, 3
        mov [eax], edx
        inc ecx
        cmp ecx, 1024
        jne .map
        mov dword [0x91000 + 0x300 * 4], 0   ; 0x300000 not present
        mov cr3, edi
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        f: mov eax, [0x300004]`,
      idt: { 14: 'GATE 0x08, A(handler), 0x0E, 0' },
      extra: HANDLER,
    });
    expect(exc(r)).toBe('8(0x0)');
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.s[(CR >> 2) + 2]).toBe(0x300004);
  });
});

describe('IRET in protected mode', () => {
  it('IRET to the same level restores CS:EIP and EFLAGS (IF and IOPL at CPL 0)', () => {
    const r = run({ body: 'pushfd\nor dword [esp], 0x3200\npush 0x08\npush back\niretd\nback: pushfd\npop ebx' });
    expect([r.vm.cpu.s[3] & 0x3200, r.vm.cpu.s[4]]).toEqual([0x3200, 0x80000]);
  });

  it('IRET from CPL 0 loads IOPL and IF; at CPL 3 POPF changes IF only when CPL <= IOPL, never IOPL', () => {
    const idt = { 0x30: 'GATE 0x08, A(ring0), 0xEE, 0', 0x31: 'GATE 0x08, A(handler), 0xEE, 0' };
    const r = run({
      body: 'push 0x23\npush 0x7f000\npush 0x202\npush 0x1b\npush user\niretd\nuser: int 0x30',
      idt,
      extra: `
        ring0: push 0x23
               push 0x7e000
               push 0x3002          ; IOPL 3, IF 0: both allowed from CPL 0
               push 0x1b
               push user2
               iretd
        user2: pushfd
               pop ebx
               push 0x0202          ; IOPL 0, IF 1 from CPL 3 with IOPL 3: only IF changes
               popfd
               pushfd
               pop eax
               int 0x31
        after2:
        ${HANDLER}`,
    });
    const c = r.vm.cpu;
    expect([c.s[3], c.s[0]]).toEqual([0x3002, 0x3202]);
    expect(stack(r, 5)).toEqual([r.sym('after2'), 0x1b, 0x3202, 0x7e000, 0x23]);
  });

  it('at CPL 3 with IOPL 0, IRET to the same level changes neither IOPL nor IF', () => {
    const r = run({
      body: 'push 0x23\npush 0x7f000\npush 0x202\npush 0x1b\npush user\niretd\nuser: push 0x3000\npush 0x1b\npush user2\niretd\nuser2: int 0x31',
      idt: { 0x31: 'GATE 0x08, A(handler), 0xEE, 0' },
      extra: HANDLER,
    });
    expect(stack(r, 5)).toEqual([r.sym('user2') + 2, 0x1b, 0x202, 0x7f000, 0x23]);
  });

  it.each([
    ['a null CS', 'push 0\npush 0', '13(0x0)'],
    ['CS RPL below CPL', 'push 0x08\npush 0', '13(0x8)'],
  ])('IRET from CPL 3 with %s', (_what, pushes, want) => {
    const r = run({ body: `TO_RING3 user\nuser: pushfd\n${pushes}\nf: iretd` });
    expect(exc(r)).toBe(want);
  });
});

describe('real-address mode', () => {
  it('INT n pushes FLAGS, CS, IP and clears IF/TF; IRET returns; IDTR.base is honoured', () => {
    const r = runReal(`
      start:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        lidt [ivtr]
        mov word [0x1000 + 0x21 * 4], handler
        mov word [0x1000 + 0x21 * 4 + 2], 0
        sti
        int 0x21
      after:
        hlt
      handler:
        mov bx, sp
        mov cx, [bx + 4]
        pushf
        pop dx
        iret
      ivtr: dw 0x3ff
            dd 0x1000`);
    const c = r.vm.cpu;
    expect(c.eip).toBe(r.sym('after') + 1);
    expect([c.s[3] & 0xffff, c.s[1] & 0xffff, c.s[2] & 0x200, c.s[4]]).toEqual([0x7000 - 6, 0x0202 | (c.s[1] & 0xd5), 0, 0x7000]);
    expect(c.s[EFLAGS >> 2] & 0x200).toBe(0x200); // IRET restored IF
  });
});
