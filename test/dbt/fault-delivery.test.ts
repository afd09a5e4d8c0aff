/**
 * Faults raised in translated code are delivered through the IDT by the translator tier itself
 * (runtime/dbt/dbt.ts deliverFault): no JS exception reaches the run loop, and the handler's
 * compiled code is entered directly. The guest state must equal the interpreter's exactly —
 * registers, flags, segments, stacks, memory, retired instructions and exception counts — for
 * faults reported by a region's exit code (#DE) and by a helper (#GP from a segment limit check,
 * #PF from a TLB miss), for a handler that faults itself (#DF), and with stopOnFault.
 */
import { describe, expect, it } from 'vitest';
import { CR } from '../../translator/abi.ts';
import { runProgramIn, runState } from '../unit/vmm/vmm-harness.ts';
import type { GuestRun, PmProgram } from '../unit/vmm/vmm-harness.ts';

function state(r: GuestRun): Record<string, unknown> {
  const { vm } = r;
  return {
    ...runState(r),
    cr2: vm.cpu.s[(CR >> 2) + 2] >>> 0,
    stack: Array.from(vm.readPhys(0x80000 - 64, 64)),
    data: Array.from(vm.readPhys(0x20000, 64)),
  };
}

async function same(p: PmProgram, budget?: number): Promise<GuestRun> {
  const a = await runProgramIn('interp', p, { budget });
  const b = await runProgramIn('dbt', p, { budget });
  expect(state(b)).toEqual(state(a));
  return b;
}

/** #DE handler: counts in [0x20000], skips the 2-byte DIV, returns. */
const DE: Partial<PmProgram> = {
  idt: { 0: 'GATE 0x08, A(de_handler), 0x8E, 0' },
  extra: `
de_handler:
  inc dword [0x20000]
  add dword [esp], 2
  iretd`,
};

describe('faults delivered from translated code', () => {
  it('#DE (a region exit code) 200 times: the handler runs translated, no run-loop turn', async () => {
    const r = await same({
      ...DE,
      body: `
  mov ecx, 200
  xor ebx, ebx
.loop:
  mov eax, ecx
  xor edx, edx
  div ebx            ; #DE: the handler skips it
  add [0x20004], eax
  dec ecx
  jnz .loop
  hlt`,
    });
    expect(r.vm.exits['exception 0']).toBe(200);
    const st = r.vm.stats().dbt!;
    expect(st.delivered).toBeGreaterThanOrEqual(190);
  });

  it('#GP from a helper (segment limit) with an error code, 100 times', async () => {
    const r = await same({
      gdt: 'SEGDESC 0, 0xFFF, 0x92, 0x4    ; 0x30: data, base 0, limit 0xfff (byte granular)',
      idt: { 13: 'GATE 0x08, A(gp_handler), 0x8E, 0' },
      body: `
  mov ax, 0x30
  mov fs, ax
  mov ecx, 100
.loop:
  mov eax, [fs:0x2000]   ; beyond the limit: #GP(0); 7 bytes
  inc dword [0x20008]
  dec ecx
  jnz .loop
  hlt`,
      extra: `
gp_handler:
  pop dword [0x2000c]    ; the error code
  inc dword [0x20000]
  add dword [esp], 7
  iretd`,
    });
    expect(r.vm.exits['exception 13']).toBe(100);
    expect(r.vm.stats().dbt!.delivered).toBeGreaterThanOrEqual(90);
  });

  it('a fault whose gate is not present becomes #NP, then #DF, in both engines', async () => {
    const r = await same({
      idt: { 0: 'GATE 0x08, A(de_never), 0x0E, 0   ; not present' },
      body: `
  mov ecx, 3
  xor ebx, ebx
  div ebx
  hlt`,
      extra: `
de_never:
  hlt`,
    });
    // The #DF stub (vector 8) halted: the delivery nested inside the translator tier's.
    expect(r.vm.cpu.eip >>> 0).toBe(r.sym('stubs') + 8 * 2 + 1);
    expect(r.vm.exits['exception 0']).toBe(1);
  });

  it('a #GP handler that faults again at its first instruction keeps the budget bounded', async () => {
    const budget = 5000;
    const r = await same({
      gdt: 'SEGDESC 0, 0xFFF, 0x92, 0x4',
      idt: { 13: 'GATE 0x08, A(gp_loop), 0x8E, 0' },
      body: `
  mov ax, 0x30
  mov fs, ax
  jmp gp_loop
  hlt`,
      extra: `
gp_loop:
  mov esp, 0x80000
  mov eax, [fs:0x2000]   ; #GP again, forever: only the budget ends it
  hlt`,
    }, budget);
    expect(r.result.reason).toBe('budget');
  });
});
