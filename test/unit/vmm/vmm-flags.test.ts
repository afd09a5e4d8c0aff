/**
 * The IOPL-sensitive flag instructions (SDM vol. 2, PUSHF/POPF/CLI/STI): which EFLAGS bits POPF
 * may change at each CPL and IOPL (silently keeping the others), the PUSHF image, AC and ID
 * writable (ID toggling is how software detects CPUID), CLI/STI #GP(0) when CPL > IOPL, and the
 * VMM exit counts of these instructions.
 */
import { describe, expect, it } from 'vitest';
import { EFLAGS } from '../../../translator/abi.ts';
import { runProgram, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun } from './vmm-harness.ts';

function run(body: string): GuestRun {
  const r = runProgram({ body, idt: { 0x30: 'GATE 0x08, A(stubs) + 2 * 31, 0xEE, 0' } });
  return r;
}

/** Ends a ring-3 body: INT 30h goes to the vector-31 stub at CPL 0 with EFLAGS on the stack. */
const TO_KERNEL = 'int 0x30';

describe('POPF', () => {
  it('at CPL 0 changes everything but RF, VM, VIF, VIP; AC and ID are writable', () => {
    // (TF left out: it would single-step.)
    const r = run('push ~0x100\npopfd\npushfd\npop eax\npush 0\npopfd\npushfd\npop ebx');
    expect([r.vm.cpu.s[0] >>> 0, r.vm.cpu.s[3]]).toEqual([0x00247ed7, 0x2]);
  });

  it('at CPL 3 with IOPL 0 silently keeps IF and IOPL, changes the rest', () => {
    const r = run(`push 0x23\npush 0x7f000\npush 0x202\npush 0x1b\npush user\niretd
      user: push 0x3000 | 0x400 | 0x1
            popfd
            ${TO_KERNEL}`);
    expect(stubVector(r)).toBe(31);
    expect(stack(r, 3)[2]).toBe(0x202 | 0x400 | 0x1);
  });

  it('at CPL 3 with IOPL 3 changes IF but not IOPL; a 16-bit POPF leaves the upper half alone', () => {
    const r = run(`push 0x23\npush 0x7f000\npush 0x3202 | 0x40000\npush 0x1b\npush user\niretd
      user: push 0x40000
            popfd
            push word 0x0001
            o16 popf
            ${TO_KERNEL}`);
    expect(stack(r, 3)[2]).toBe(0x3002 | 0x40000 | 0x1);
  });
});

describe('PUSHF', () => {
  it('pushes EFLAGS with the computed status flags; 16-bit PUSHF pushes FLAGS', () => {
    const r = run('mov al, 0xff\nadd al, 1\npushfd\npop eax\no16 pushf\npop bx');
    expect([r.vm.cpu.s[0], r.vm.cpu.s[3] & 0xffff]).toEqual([0x57, 0x57]);
  });
});

describe('CLI and STI', () => {
  it('CPL 3 with IOPL 0: #GP(0); with IOPL 3 allowed', () => {
    const r = run('TO_RING3 user\nuser:\nf: cli');
    expect([stubVector(r), stack(r, 1)[0], stack(r, 2)[1]]).toEqual([13, 0, r.sym('f')]);
    const ok = run(`push 0x23\npush 0x7f000\npush 0x3002\npush 0x1b\npush user\niretd\nuser: sti\nnop\ncli\nsti\n${TO_KERNEL}`);
    expect(stack(ok, 3)[2]).toBe(0x3202);
    expect([ok.vm.exits.cli, ok.vm.exits.sti]).toEqual([1, 2]);
  });

  it('CLI and STI at CPL 0 clear and set IF', () => {
    const r = run('sti\npushfd\ncli\npop eax');
    expect([r.vm.cpu.s[0] & 0x200, r.vm.cpu.s[EFLAGS >> 2] & 0x200]).toEqual([0x200, 0]);
    expect([r.vm.exits.pushf, r.vm.exits.sti, r.vm.exits.cli]).toEqual([1, 1, 1]);
  });
});
