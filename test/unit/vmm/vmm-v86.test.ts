/**
 * Virtual-8086 mode (SDM vol. 3, chapter 20, without the VME extensions): entry through IRETD
 * from CPL 0 with VM set, real-mode-style segment loads, IOPL-sensitive instructions (#GP(0)
 * unless IOPL = 3), interrupts and exceptions into ring 0 with the segment registers pushed and
 * cleared, and IRETD back to virtual-8086 mode.
 */
import { describe, expect, it } from 'vitest';
import { EFLAGS, MODE, MODE_VM86, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from '../../../translator/abi.ts';
import { runProgram, stack, stubVector } from './vmm-harness.ts';
import type { GuestRun } from './vmm-harness.ts';

/** Enters virtual-8086 mode at `v86_entry` (CS 1000h = the program origin) with EFLAGS `flags`. */
function enter(flags: number, v86: string, extra = ''): GuestRun {
  return runProgram({
    body: `
      push 0x0077         ; GS
      push 0x0066         ; FS
      push 0x0055         ; DS
      push 0x0044         ; ES
      push 0x0900         ; SS
      push 0x0ff0         ; ESP
      push ${flags}       ; EFLAGS
      push 0x1000         ; CS
      push v86_entry - $$ ; EIP
      iretd`,
    idt: {
      0x30: 'GATE 0x08, A(ring0), 0xEE, 0',
      3: 'GATE 0x08, A(ring0), 0xEE, 0',
    },
    extra: `
      ring0: mov [ss:saved], esp
             hlt
      saved: dd 0
      bits 16
      v86_entry:
      ${v86}
      bits 32
      ${extra}`,
  });
}

describe('virtual-8086 mode', () => {
  it('IRETD with VM = 1 from CPL 0 loads all six segments as base = selector << 4, limit FFFFh, CPL 3', () => {
    const r = enter(0x23002, 'mov ax, 0x1234\nmov ds, ax\nmov word [0x10], 0xbeef\nmov bx, ss\nint 0x30\nafter:');
    const c = r.vm.cpu;
    // Interrupted in ring 0 now; the v86 state is in the frame.
    expect(stack(r, 9)).toEqual([r.sym('after') - 0x10000, 0x1000, 0x23002, 0x0ff0, 0x0900, 0x0044, 0x1234, 0x0066, 0x0077]);
    expect(r.w(0x12340 + 0x10)).toBe(0xbeef);
    expect(c.s[3] & 0xffff).toBe(0x0900);
    // The interrupt left VM mode: CPL 0, VM clear, data segments null.
    expect([c.cpl, c.s[EFLAGS >> 2] & 0x20000, c.s[MODE >> 2] & MODE_VM86, c.segSel(SEG_CS), c.segSel(SEG_SS)]).toEqual([0, 0, 0, 0x08, 0x10]);
    expect([SEG_ES, SEG_DS, SEG_FS, SEG_GS].map((s) => c.segSel(s))).toEqual([0, 0, 0, 0]);
    expect(c.s[4]).toBe(0x70000 - 36);
  });

  it('segment registers as loaded by the IRETD, and stack use through SS:SP', () => {
    const r = enter(0x23002, 'push word 0xabcd\nmov cx, sp\nint 0x30');
    expect(r.w(0x9000 + 0x0ff0 - 2)).toBe(0xabcd);
    expect(r.vm.cpu.s[1] & 0xffff).toBe(0x0fee);
  });

  it.each([
    ['INT n', 'int 0x30'],
    ['CLI', 'cli'],
    ['PUSHF', 'pushf'],
    ['POPF', 'popf'],
    ['IRET', 'iret'],
  ])('IOPL 0: %s is #GP(0), delivered to ring 0 with the v86 frame', (_what, insn) => {
    const r = enter(0x20002, `f: ${insn}`);
    expect(stubVector(r)).toBe(13);
    expect(stack(r, 6)).toEqual([0, r.sym('f') - 0x10000, 0x1000, 0x30002, 0x0ff0, 0x0900]);
  });

  it('IOPL 0: INT3 is not IOPL-sensitive and goes through its DPL-3 gate', () => {
    const r = enter(0x20002, 'int3\nafter:');
    expect(r.vm.cpu.eip).toBe(r.sym('ring0') + 8);
    expect(stack(r, 3)).toEqual([r.sym('after') - 0x10000, 0x1000, 0x20002]);
  });

  it('IOPL 3: PUSHF/POPF/CLI/STI work; IRET pops a 16-bit frame and keeps IOPL', () => {
    const r = enter(0x23202, `
      pushf
      pop dx
      cli
      push word 0x0202         ; FLAGS with IOPL 0: IOPL must stay 3
      push word 0x1000
      push word back - $$
      iret
      back: pushf
      pop si
      int 0x30`);
    const c = r.vm.cpu;
    expect([c.s[2] & 0xffff, c.s[6] & 0xffff]).toEqual([0x3202, 0x3202]);
  });

  it('a ring-0 handler returns to virtual-8086 mode with IRETD', () => {
    const r = enter(0x23002, 'int 0x30\nmov bx, 0x5555\nint 0x30', `
      ring0_2: iretd`);
    // First INT 30h: the handler halted; continue it with IRETD by resuming at ring0_2.
    const c = r.vm.cpu;
    c.eip = r.sym('ring0_2');
    c.halted = false;
    const res = r.vm.run(1000);
    expect(res.reason).toBe('halted');
    expect([c.s[3] & 0xffff, c.cpl]).toEqual([0x5555, 0]);
    expect(stack(r, 4)).toEqual([r.sym('v86_entry') - 0x10000 + 7, 0x1000, 0x23002, 0x0ff0]);
  });
});
