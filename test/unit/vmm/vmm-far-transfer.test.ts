/**
 * Far control transfers (SDM vol. 3, 5.8; vol. 2, JMP/CALL/RET): direct and indirect far JMP and
 * CALL to code segments (conforming and not), through 32- and 16-bit call gates with the stack
 * switch and parameter copy, far RET to the same and an outer level (data segments nulled), the
 * privilege and type checks with their error codes, and real-mode far transfers.
 */
import { describe, expect, it } from 'vitest';
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_SS, SEGF_USABLE } from '../../../translator/abi.ts';
import { runProgram, runReal, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun, PmProgram } from './vmm-harness.ts';

const GDT = `
  SEGDESC 0x10000, 0x0FFFF, 0x9A, 0x0   ; 0x30 16-bit code, base 10000h (the program's origin)
  SEGDESC 0, 0xFFFFF, 0x9E, 0xC         ; 0x38 conforming code DPL 0
  SEGDESC 0, 0xFFFFF, 0x1A, 0xC         ; 0x40 code, not present
  GATE 0x08, A(gate32_target), 0xEC, 2  ; 0x48 32-bit call gate DPL 3 -> ring 0, 2 params
  GATE 0x08, A(gate32_target), 0x8C, 0  ; 0x50 32-bit call gate DPL 0
  GATE 0x08, A(gate32_target), 0x6C, 0  ; 0x58 32-bit call gate DPL 3, not present
  GATE 0x30, gate16_target - $$, 0xE4, 3 ; 0x60 16-bit call gate DPL 3 -> 16-bit ring 0, 3 params
  SEGDESC 0, 0x000FF, 0x9A, 0x4         ; 0x68 code limit FFh
  GATE 0x18, A(user_code), 0xEC, 0      ; 0x70 call gate to ring-3 code
  SEGDESC 0, 0xFFFFF, 0xBA, 0xC         ; 0x78 ring-1 code
  GATE 0x78, A(ring1_code), 0xEC, 0     ; 0x80 call gate to ring 1
  SEGDESC 0, 0x0000F, 0xB6, 0x4         ; 0x88 ring-1 expand-down data, limit Fh
`;

/** The vector of the exception stub the run halted in, with its error code; or 'none'. */
function exc(r: GuestRun): string {
  const v = stubVector(r);
  if (v < 0) return 'none';
  return [10, 11, 12, 13].includes(v) ? `${v}(0x${stack(r, 1)[0].toString(16)})` : String(v);
}

function run(body: string, extra = '', more: Partial<PmProgram> = {}): GuestRun {
  const r = runProgram({
    body, gdt: GDT, ...more,
    extra: `
      gate32_target: hlt
      ring1_code: ud2
      user_code: ud2
      bits 16
      gate16_target: hlt
      code16: mov ebx, esp
              mov ecx, [esp]
              o32 retf
      bits 32
      ${extra}`,
  });
  expect(r.result.reason).toBe('halted');
  return r;
}

describe('far JMP/CALL to code segments', () => {
  it('JMP ptr16:32 loads CS with RPL = CPL; CALL m16:32 pushes CS and EIP; RETF returns', () => {
    const r = run('call far [ptr]\nafter: jmp 0x3b:done', `
      ptr: dd callee
           dw 0x08
      callee: mov ebx, [esp]
              mov ecx, [esp+4]
              retf
      done: hlt`);
    const c = r.vm.cpu;
    // The conforming segment 0x38 is entered with RPL = CPL 0 whatever the selector's RPL.
    expect([c.eip, c.segSel(SEG_CS), c.s[3], c.s[1], c.s[4]]).toEqual([r.sym('done') + 1, 0x38, r.sym('after'), 0x08, 0x80000]);
  });

  it('CALL to a 16-bit segment pushes 32-bit values by the caller operand size; RETF o32 returns', () => {
    const r = run('call 0x30:(code16 - $$)\nafter: hlt');
    const c = r.vm.cpu;
    expect([c.eip, c.segSel(SEG_CS), c.s[4], c.s[3], c.s[1]]).toEqual([r.sym('after') + 1, 0x08, 0x80000, 0x80000 - 8, r.sym('after')]);
  });

  it.each([
    ['a null selector', 'jmp 0x00:0', '13(0x0)'],
    ['a data segment', 'jmp 0x10:0', '13(0x10)'],
    ['a not-present code segment', 'jmp 0x40:0', '11(0x40)'],
    ['an offset past the limit', 'jmp 0x68:0x100', '13(0x0)'],
    ['a busy TSS', 'jmp 0x28:0', '13(0x28)'],
    ['an LDT selector with LDTR null', 'jmp 0x0c:0', '13(0xc)'],
  ])('%s: %s', (_what, insn, want) => {
    const r = run(`f: ${insn}`);
    expect(exc(r)).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.segSel(SEG_CS)).toBe(0x08);
  });

  it('from CPL 3: a conforming DPL-0 segment keeps CPL 3; a non-conforming one is #GP(sel)', () => {
    const r = run('TO_RING3 user\nuser: jmp 0x38:conf\nconf: mov eax, cs\nf: jmp 0x08:0');
    expect(exc(r)).toBe('13(0x8)');
    expect(r.vm.cpu.s[0]).toBe(0x3b);
    expect(stack(r, 4)).toEqual([0x08, r.sym('f'), 0x3b, 0x10002]); // RF set in a fault's EFLAGS image
  });
});

describe('call gates', () => {
  it('CALL through a 32-bit gate from CPL 3: inner stack from the TSS, 2 dwords copied, frame SS ESP p1 p0 CS EIP', () => {
    const r = run('TO_RING3 user\nuser: push 0x1111\npush 0x2222\nf: call 0x4b:0xdead\nafter: hlt');
    const c = r.vm.cpu;
    expect([c.eip, c.cpl, c.segSel(SEG_CS), c.segSel(SEG_SS), c.s[4]]).toEqual([r.sym('gate32_target') + 1, 0, 0x08, 0x10, 0x70000 - 24]);
    expect(stack(r, 6)).toEqual([r.sym('after'), 0x1b, 0x2222, 0x1111, 0x7f000 - 8, 0x23]);
  });

  it('RETF 8 back to CPL 3 releases the parameters on both stacks and nulls ring-0 data segments', () => {
    const r = run('TO_RING3 user\nuser: push 0x1111\npush 0x2222\ncall 0x4b:0\nafter: mov eax, [esp - 8]\nud2', `
      ring0: mov ax, 0x10
             mov es, ax
             mov ax, 0x23
             mov fs, ax
             retf 8`, { gdt: GDT.replace('GATE 0x08, A(gate32_target), 0xEC, 2', 'GATE 0x08, A(ring0), 0xEC, 2') });
    const c = r.vm.cpu;
    expect(stubVector(r)).toBe(6); // the UD2 in ring 3 ends the test
    expect(stack(r, 5)).toEqual([r.sym('after') + 4, 0x1b, 0x10002, 0x7f000, 0x23]);
    // DS (ring-0 data) was already nulled by the IRET into ring 3; ES loaded in ring 0 is nulled by RETF.
    expect([c.segSel(SEG_ES), c.segFlags(SEG_ES) & SEGF_USABLE, c.segSel(SEG_FS), c.segSel(SEG_DS)]).toEqual([0, 0, 0x23, 0]);
    expect(c.s[0]).toBe(0x2222);
  });

  it('CALL through a 16-bit gate copies words and pushes a 16-bit frame', () => {
    const r = run('TO_RING3 user\nuser: push word 0xaaaa\npush word 0xbbbb\npush word 0xcccc\nf: call 0x63:0\nafter: hlt');
    const c = r.vm.cpu;
    expect(c.cpl).toBe(0);
    expect([c.eip, c.segSel(SEG_CS), c.s[4]]).toEqual([r.sym('gate16_target') - 0x10000 + 1, 0x30, 0x70000 - 14]);
    const w = (k: number): number => r.w(0x70000 - 14 + 2 * k);
    expect([0, 1, 2, 3, 4, 5, 6].map(w)).toEqual([r.sym('after') & 0xffff, 0x1b, 0xcccc, 0xbbbb, 0xaaaa, (0x7f000 - 6) & 0xffff, 0x23]);
  });

  it.each([
    ['gate DPL below CPL', 'call 0x53:0', '13(0x50)'],
    ['gate not present', 'call 0x5b:0', '11(0x58)'],
    ['JMP through a gate to a more privileged segment', 'jmp 0x4b:0', '13(0x8)'],
  ])('%s: %s', (_what, insn, want) => {
    const r = run(`TO_RING3 user\nuser:\nf: ${insn}`);
    expect(exc(r)).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
    expect(r.vm.cpu.s[4]).toBe(0x70000 - 24);
  });

  it('an inner SS (from the TSS) that is not writable data is #TS(ss); a too-small inner stack #SS(ss)', () => {
    // Through a gate to ring 1, so that the fault itself is delivered on the good ring-0 stack.
    const bad = run('mov dword [tss + 0x10], 0x08\nTO_RING3 user\nuser:\nf: call 0x83:0');
    expect(exc(bad)).toBe('10(0x8)');
    expect(stack(bad, 2)[1]).toBe(bad.sym('f'));
    const small = run('mov dword [tss + 0x0c], 0x10\nmov dword [tss + 0x10], 0x89\nTO_RING3 user\nuser:\nf: call 0x83:0');
    expect(exc(small)).toBe('12(0x88)');
    expect(stack(small, 2)[1]).toBe(small.sym('f'));
    // With room: ring 1 runs (its UD2 then enters ring 0 from ring 1).
    const good = run('mov dword [tss + 0x0c], 0x20\nmov dword [tss + 0x10], 0x89\nTO_RING3 user\nuser:\nf: call 0x83:0\nafter:');
    expect(exc(good)).toBe('6');
    expect(stack(good, 5)).toEqual([good.sym('ring1_code'), 0x79, 0x10002, 0x10, 0x89]);
    expect([good.d(0x10), good.d(0x14), good.d(0x18), good.d(0x1c)]).toEqual([good.sym('after'), 0x1b, 0x7f000, 0x23]);
  });

  it('CALL through a gate to the same level pushes CS:EIP on the current stack', () => {
    const r = run('TO_RING3 user\nuser:\nf: call 0x73:0\nafter: hlt');
    expect(exc(r)).toBe('6'); // the UD2 at user_code, reached at CPL 3
    expect(stack(r, 5)).toEqual([r.sym('user_code'), 0x1b, 0x10002, 0x7f000 - 8, 0x23]);
    expect([r.d(0x7f000 - 8), r.d(0x7f000 - 4)]).toEqual([r.sym('after'), 0x1b]);
  });
});

describe('far RET checks', () => {
  it.each([
    ['CPL 3, RPL below CPL', 'TO_RING3 user\nuser: push 0x08\npush 0', '13(0x8)'],
    ['CPL 3, to a data segment', 'TO_RING3 user\nuser: push 0x23\npush 0', '13(0x20)'],
    ['CPL 0, outer level with a null SS', 'push 0\npush 0x7f000\npush 0x1b\npush user_code', '13(0x0)'],
    ['CPL 0, outer level with SS RPL 0', 'push 0x20\npush 0x7f000\npush 0x1b\npush user_code', '13(0x20)'],
    ['CPL 0, outer level with a DPL-0 SS', 'push 0x13\npush 0x7f000\npush 0x1b\npush user_code', '13(0x10)'],
  ])('%s', (_what, pushes, want) => {
    const r = run(`${pushes}\nf: retf`);
    expect(exc(r)).toBe(want);
    expect(stack(r, 2)[1]).toBe(r.sym('f'));
  });

  it('CPL 0 to an outer level: SS:ESP popped, CPL 3, ring-0 DS nulled', () => {
    const r = run('push 0x23\npush 0x7f000\npush 0x1b\npush user_code\nretf');
    expect(exc(r)).toBe('6');
    expect(stack(r, 5)).toEqual([r.sym('user_code'), 0x1b, 0x10002, 0x7f000, 0x23]);
    expect(r.vm.cpu.segSel(SEG_DS)).toBe(0);
  });
});

describe('real-address mode', () => {
  it('CALL FAR pushes CS and IP; RETF pops them; CS base follows the selector', () => {
    const r = runReal(`
      start:
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        call 0x07c0:(far_target - 0x7c00)
      back: hlt
      far_target:
        mov ax, cs
        mov bx, [0x7000 - 4 - 0x7c00 + 0x7c00]
        retf`);
    const c = r.vm.cpu;
    expect([c.eip, c.segSel(SEG_CS), c.segBase(SEG_CS), c.s[0] & 0xffff, c.s[4]]).toEqual([r.sym('back') + 1, 0, 0, 0x07c0, 0x7000]);
    expect([r.w(0x7000 - 2), r.w(0x7000 - 4)]).toEqual([0, r.sym('back')]);
  });
});


