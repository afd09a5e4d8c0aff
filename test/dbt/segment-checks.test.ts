/**
 * Accesses through segments whose offsets are not linear addresses (FS and GS in a flat mode)
 * are checked inline in translated code against the state block's ranges (abi.ts SEG_RD_LO...),
 * with the base added; only a failing check calls the helper that faults. Full state equal to
 * the interpreter: a based FS with every access size up to its limit, an expand-down GS, a
 * read-only segment written, and accesses that straddle the limit (each faults with #GP(0),
 * which the handler counts and skips).
 */
import { describe, expect, it } from 'vitest';
import { runProgramIn, runState } from '../unit/vmm/vmm-harness.ts';
import type { GuestRun, PmProgram } from '../unit/vmm/vmm-harness.ts';

function state(r: GuestRun): Record<string, unknown> {
  return { ...runState(r), data: Array.from(r.vm.readPhys(0x20000, 0x1100)), faults: r.vm.exits['exception 13'] ?? 0 };
}

const PROGRAM: PmProgram = {
  gdt: [
    'SEGDESC 0x20000, 0xFFF, 0x92, 0x4    ; 0x30: data at 0x20000, limit 0xfff, byte granular',
    'SEGDESC 0x20000, 0xEFF, 0x96, 0x4    ; 0x38: expand-down data at 0x20000, valid 0xf00..0xffff',
    'SEGDESC 0x20000, 0xFFF, 0x90, 0x4    ; 0x40: read-only data',
  ].join('\n  '),
  idt: { 13: 'GATE 0x08, A(gp_handler), 0x8E, 0' },
  body: `
  mov ax, 0x30
  mov fs, ax
  mov ax, 0x38
  mov gs, ax
  xor ecx, ecx
.fill:                       ; bytes, words and dwords through FS up to the limit
  mov [fs:ecx], cl
  add ecx, 1
  cmp ecx, 0x1000
  jb .fill
  xor ecx, ecx
  xor ebx, ebx
.sum:
  movzx eax, word [fs:ecx]
  add ebx, eax
  add ebx, [fs:ecx]
  add ecx, 4
  cmp ecx, 0xffc
  jbe .sum
  mov [fs:0xffc], ebx
  mov esi, 0xfff0            ; expand-down GS: 0xf00..0xffff valid with B = 0
  mov dword [gs:0xf00], 0x11223344
  add ebx, [gs:0xf00]
  mov [gs:esi], ebx
  ; each of these faults: straddles FS's limit, below GS's range, a write to a read-only segment
  mov eax, [fs:0xffe]        ; 64 A1 disp32
  mov ax, 0x40
  mov es, ax
  mov eax, [gs:0xeff]        ; 65 A1 disp32
  mov byte [es:0x10], 1
  mov ax, 0x10
  mov es, ax
  hlt`,
  extra: `
gp_handler:                  ; count, then skip the faulting instruction (its prefix tells which)
  add esp, 4
  inc dword [0x21000]
  push eax
  mov eax, [esp + 4]
  movzx eax, byte [eax]      ; first byte: 64h (FS), 65h (GS), 26h (ES) prefix
  cmp al, 0x26
  je .es
  add dword [esp + 4], 6     ; mov eax, [fs/gs:disp32]: 64/65 A1 disp32
  pop eax
  iretd
.es:
  add dword [esp + 4], 8     ; mov byte [es:disp32], imm8: 26 C6 05 disp32 imm8
  pop eax
  iretd`,
};

describe('inline segment checks in translated code', () => {
  it('FS/GS accesses equal the interpreter, faults included', async () => {
    const a = await runProgramIn('interp', PROGRAM, { budget: 200_000 });
    const b = await runProgramIn('dbt', PROGRAM, { budget: 200_000 });
    expect(state(b)).toEqual(state(a));
    expect(state(a).faults).toBe(3);
    expect(a.result.reason).toBe('halted');
  });
});
