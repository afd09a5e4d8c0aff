/**
 * Sensitive and privileged instructions emulated inside translated code (translator/emit/vmm.ts):
 * CLI, STI, PUSHF, POPF, PUSH/POP/MOV of segment registers, RDTSC. Each program runs under the
 * interpreter (the reference semantics: the VMM's handlers) and under the translator in
 * force-translate mode, and the full state must agree: registers, EIP, EFLAGS, every segment
 * register's selector and cache, the stack, how the run ended, and the count of each
 * instruction by reason (whether it left translated code or not). The programs take the fast
 * paths and each way off them: IOPL checks at CPL 3, POPF's privilege rules, TF, a pending
 * interrupt at STI and POPF, faulting and null selectors, mode changes.
 */
import { describe, expect, it } from 'vitest';
import { R_EAX, R_EDX, SEG_CS } from '../../translator/abi.ts';
import { EMPTY_BUS } from '../../runtime/cpu.ts';
import type { Vm } from '../../runtime/vm.ts';
import { readTsc } from '../../runtime/vmm/msr.ts';
import { runProgramIn, runState, withIrq } from '../unit/vmm/vmm-harness.ts';
import type { GuestRun, PmProgram } from '../unit/vmm/vmm-harness.ts';

const IRQ: Partial<PmProgram> = { idt: { 0x30: 'GATE 0x08, A(irq_handler), 0x8E, 0' }, extra: 'irq_handler: hlt' };

function state(r: GuestRun): Record<string, unknown> {
  const { vm } = r;
  return {
    ...runState(r),
    stack0: Array.from(vm.readPhys(0x80000 - 64, 64)),
    stack3: Array.from(vm.readPhys(0x7f000 - 64, 64)),
    data: Array.from(vm.readPhys(0x20000, 32)),
    classes: vm.classStats(),
  };
}

/** Runs `p` in both engines and expects equal states; returns the translator's run. */
async function same(p: PmProgram, setup?: (vm: Vm) => void): Promise<GuestRun> {
  const a = await runProgramIn('interp', p, { setup });
  const b = await runProgramIn('dbt', p, { setup });
  expect(state(b)).toEqual(state(a));
  return b;
}

const CASES: Record<string, PmProgram> = {
  'CLI, STI, PUSHF, POPF at CPL 0 (every flag POPF may change, 16- and 32-bit)': {
    body: `
  cli
  pushfd
  sti
  pushfd
  push dword 0x00277fd7   ; ID AC NT IOPL=3 OF DF IF TF=0 SF ZF AF PF CF, RF and VM set (never popped)
  and dword [esp], ~0x100
  or dword [esp], 0x30000
  popfd
  pushfd
  pushf
  push word 0x08d5
  popf
  pushfd
  push dword 0x202
  popfd
  mov eax, [esp]
  mov ebx, [esp + 4]
  add esp, 8
  cli`,
  },
  'PUSH and POP of segment registers, MOV to and from them (null ES, FS from memory)': {
    body: `
  push es
  push cs
  push ss
  push ds
  push fs
  push gs
  push word ds
  o16 push fs
  mov ax, 0x10
  mov ds, ax
  mov [0x20000], word 0x10
  mov fs, [0x20000]
  xor ecx, ecx
  mov es, cx
  pop ax
  pop gs
  pop ebx
  pop es
  pop fs
  mov ecx, ds
  mov [0x20004], gs
  mov dx, ss
  mov esi, cs
  add esp, 8`,
  },
  'a segment load that faults: selector past the GDT limit (#GP), and a not-present one (#NP)': {
    body: `
  mov ax, 0x400
  mov gs, ax`,
  },
  'a not-present data segment (#NP)': {
    gdt: 'SEGDESC 0, 0xFFFFF, 0x12, 0xC    ; 0x30 data, not present',
    body: `
  mov ax, 0x30
  mov ds, ax`,
  },
  'a data segment load that changes the mode (DS no longer flat): the region leaves after it': {
    gdt: 'SEGDESC 0x1000, 0xFFFFF, 0x92, 0xC    ; 0x30 data at base 0x1000',
    body: `
  mov ax, 0x30
  mov ds, ax
  mov eax, [0x1f000]
  mov ax, 0x10
  mov ds, ax
  mov ebx, [0x20000]`,
  },
  'at CPL 3 with IOPL 0: PUSHF, POPF keeps IF and IOPL, CLI faults': {
    body: `
  pushfd
  or dword [esp], 0x3000
  popfd
  TO_RING3 A(user)`,
    extra: `
user:
  mov ax, 0x23
  mov ds, ax
  push ds
  pop es
  pushfd
  push dword 0x00000ed7
  popfd
  pushfd
  push dword 0x00000000
  popfd
  pushfd
  cli`,
  },
  'at CPL 3 with IOPL 3: CLI, STI and POPF of IF are allowed': {
    body: `
  pushfd
  or dword [esp], 0x3000
  popfd
  TO_RING3 A(user)`,
    extra: `
user:
  cli
  pushfd
  sti
  push dword 0x3000
  popfd
  pushfd
  mov ax, 0x10
  mov ds, ax`,
  },
  'VERR and VERW at CPL 0 and 3: writable, read-only, code, null, past the limit, DPL 0 from CPL 3 or RPL 3': {
    gdt: 'SEGDESC 0, 0xFFFFF, 0xF0, 0xC    ; 0x30 read-only data, DPL 3\n  SEGDESC 0, 0xFFFFF, 0x9A, 0xC    ; 0x38 code, readable, DPL 0',
    body: `
  mov cx, 0x13
  verw cx
  setz byte [0x20010]
  mov cx, 0x10
  verw cx
  setz byte [0x20011]
  mov word [0x20000], 0x10
  verw [0x20000]
  setz al
  mov cx, 0x33
  verw cx
  setz ah
  verr cx
  setz bl
  mov cx, 0x38
  verr cx
  setz bh
  verw cx
  setz dl
  xor ecx, ecx
  verr cx
  setz dh
  mov cx, 0x800
  verw cx
  pushfd
  TO_RING3 A(user)`,
    extra: `
user:
  mov cx, 0x10
  verw cx
  setz al
  mov cx, 0x23
  verw cx
  setz ah
  mov cx, 0x33
  verr cx
  setz bl
  mov cx, 0x38
  verr cx
  setz bh
  pushfd
  cli`,
  },
  'MOV from CR0, CR2, CR3, CR4 at CPL 0, and at CPL 3 (#GP)': {
    body: `
  mov eax, 0x12345
  mov cr2, eax
  mov ebx, cr0
  mov ecx, cr2
  mov edx, cr3
  mov esi, cr4
  TO_RING3 A(user)`,
    extra: `
user:
  mov edi, cr0`,
  },
  'POPF setting TF: the single-step trap comes after the next instruction': {
    body: `
  pushfd
  or dword [esp], 0x100
  popfd
  nop
  second: nop`,
  },
};

describe('VMM rows in translated code give the interpreter\'s state', () => {
  it.each(Object.entries(CASES))('%s', async (_name, p) => {
    await same(p);
  });

  it('STI with an interrupt pending: the interrupt waits for the shadow', async () => {
    const r = await same({ ...IRQ, body: 'out 0x80, al\nnop\nsti\nmov eax, 1\nsecond: mov ebx, 2\nhlt' }, withIrq);
    expect(r.vm.cpu.eip).toBe(r.sym('irq_handler') + 1);
    expect(r.d(0x80000 - 12)).toBe(r.sym('second'));
  });

  it('POPF setting IF with an interrupt pending: it is taken right after the POPF', async () => {
    const r = await same({ ...IRQ, body: 'out 0x80, al\nnop\npush dword 0x202\npopfd\nafter: mov eax, 1\nhlt' }, withIrq);
    expect(r.d(0x80000 - 12)).toBe(r.sym('after'));
  });

  it('STI with nothing pending, then an interrupt raised inside the next instruction: taken after it', async () => {
    const r = await same({ ...IRQ, body: 'sti\nout 0x80, al\nafter: mov eax, 1\nhlt' }, withIrq);
    expect(r.d(0x80000 - 12)).toBe(r.sym('after'));
  });

  it('translated code does the work itself: no exits for the fast paths at CPL 0', async () => {
    const r = await runProgramIn('dbt', CASES['CLI, STI, PUSHF, POPF at CPL 0 (every flag POPF may change, 16- and 32-bit)']);
    expect(r.vm.vmmInline).toMatchObject({ cli: 2, sti: 1, pushf: 5, popf: 3 });
    expect(r.vm.exits.pushf ?? 0).toBe(0);
  });
});

describe('port I/O in translated code', () => {
  /** A device that answers IN with a value made of the port and size, and logs every access. */
  function logged(log: string[]) {
    return (vm: Vm): void => {
      vm.cpu.io = {
        ...EMPTY_BUS,
        portIn: (port, size) => {
          log.push(`in ${port.toString(16)}/${size}`);
          return (port * 0x01010101 + size) >>> 0;
        },
        portOut: (port, size, v) => {
          log.push(`out ${port.toString(16)}/${size} ${(v >>> 0).toString(16)}`);
          if (port === 0x99) vm.requestStop();
        },
      };
    };
  }

  it('IN and OUT of every width, immediate and DX ports, at CPL 0 and at CPL 3 (the TSS bitmap allows it), then a #GP', async () => {
    const p: PmProgram = {
      body: `
  mov eax, 0x89abcdef
  out 0x70, al
  out 0x71, ax
  out 0x72, eax
  mov dx, 0x3f8
  out dx, al
  out dx, ax
  out dx, eax
  in al, 0x40
  mov ebx, eax
  in ax, 0x41
  mov ecx, eax
  in eax, 0x42
  mov esi, eax
  mov dx, 0x1f0
  in al, dx
  in ax, dx
  in eax, dx
  TO_RING3 A(user)`,
      extra: `
user:
  mov edi, 7
  in al, 0x60
  mov dx, 0x3f8
  out dx, al`,
    };
    const logs: string[][] = [[], []];
    const a = await runProgramIn('interp', p, { setup: logged(logs[0]) });
    const b = await runProgramIn('dbt', p, { setup: logged(logs[1]) });
    expect(state(b)).toEqual(state(a));
    expect(logs[1]).toEqual(logs[0]);
    // Port 0x60 is clear in the bitmap the standard TSS implies (offset 0: its own zero bytes);
    // port 0x3f8's bit lies past the TSS limit: #GP.
    expect(logs[0]).toHaveLength(13);
    expect(b.vm.vmmInline.io).toBe(13 + 1); // the faulting OUT is counted too
  });

  it('a device that asks for the run loop during an OUT stops the run right after it', async () => {
    const p: PmProgram = { body: 'mov al, 1\nout 0x99, al\nafter: mov ebx, 5\nhlt' };
    const logs: string[][] = [[], []];
    const a = await runProgramIn('interp', p, { setup: logged(logs[0]) });
    const b = await runProgramIn('dbt', p, { setup: logged(logs[1]) });
    expect(a.result.reason).toBe('stopped');
    expect(state(b)).toEqual(state(a));
    expect(b.vm.cpu.eip).toBe(b.sym('after'));
  });
});

describe('RDTSC in translated code', () => {
  it('reads the guest TSC: between the values read before and after the run, and increasing', async () => {
    const p: PmProgram = { body: 'rdtsc\nmov esi, eax\nmov edi, edx\nmov ecx, 2000\nl: loop l\nrdtsc' };
    let before = 0;
    const r = await runProgramIn('dbt', p, { setup: (vm) => { before = readTsc(vm.cpu); } });
    const after = readTsc(r.vm.cpu);
    const s = r.vm.cpu.s;
    const first = (s[7] >>> 0) * 2 ** 32 + (s[6] >>> 0);
    const second = (s[R_EDX] >>> 0) * 2 ** 32 + (s[R_EAX] >>> 0);
    expect(first).toBeGreaterThanOrEqual(before);
    expect(second).toBeGreaterThan(first);
    expect(second).toBeLessThanOrEqual(after);
    expect(r.vm.vmmInline.rdtsc).toBe(2);
  });

  it('faults with #GP(0) at CPL 3 when CR4.TSD is set, as in the interpreter', async () => {
    const p: PmProgram = {
      body: 'mov eax, cr4\nor eax, 4\nmov cr4, eax\nTO_RING3 A(user)',
      extra: 'user:\n  mov eax, 5\n  rdtsc',
    };
    const r = await same(p);
    expect(r.vm.cpu.segSel(SEG_CS) & 3).toBe(0);
    expect(r.vm.cpu.s[R_EAX]).toBe(5);
  });
});

describe('SYSENTER and SYSEXIT in translated code', () => {
  /** Sets IA32_SYSENTER_CS/ESP/EIP, then 50 round trips CPL 3 -> 0 -> 3 counted in memory. */
  const roundTrips = (cs: number, last: string): PmProgram => ({
    body: `
  mov ecx, 0x174
  xor edx, edx
  mov eax, ${cs}
  wrmsr
  mov ecx, 0x175
  mov eax, 0x7e000
  wrmsr
  mov ecx, 0x176
  mov eax, kentry
  wrmsr
  mov esi, 50
  mov ecx, 0x7f000
  mov edx, user
  sysexit`,
    extra: `
kentry:
  inc dword [0x20004]
  mov [0x20008], esp
  dec esi
  jz .out
  mov ecx, 0x7f000
  mov edx, user
  sysexit
.out:
${last}
user:
  inc dword [0x20000]
  mov [0x2000c], esp
  sysenter`,
  });

  it('50 round trips: the fast paths give the interpreter\'s state and leave no exits', async () => {
    const r = await same(roundTrips(0x08, '  hlt'));
    expect(r.d(0x20000)).toBe(50);
    expect(r.vm.vmmInline.sysenter).toBe(50);
    expect(r.vm.vmmInline.sysexit).toBeGreaterThanOrEqual(49);
    expect(r.vm.exits.sysenter ?? 0).toBe(0);
  });

  it('SYSENTER with a null SYSENTER_CS, and SYSEXIT at CPL 3, fault (#GP) as in the interpreter', async () => {
    // After the round trips: SYSENTER_CS = 0, then SYSENTER (at CPL 0): #GP(0), whose stub halts.
    const nullCs = await same(roundTrips(0x08, `
  mov ecx, 0x174
  xor eax, eax
  xor edx, edx
  wrmsr
  sysenter`));
    expect(nullCs.vm.exits['exception 13']).toBe(1);
    // User code that executes SYSEXIT: #GP(0) at CPL 3, delivered on the TSS's stack.
    const p = roundTrips(0x08, '  hlt');
    const atCpl3 = await same({ ...p, extra: (p.extra ?? '').replace('  mov [0x2000c], esp\n  sysenter', '  mov [0x2000c], esp\n  sysexit') });
    expect(atCpl3.vm.exits['exception 13']).toBe(1);
    expect(atCpl3.vm.cpu.cpl).toBe(0);
  });
});

describe('a segment load that changes the mode', () => {
  it('leaves for the next block in the new mode, not through a jump-cache entry made in the old one', async () => {
    // x_routine runs three times in the flat mode (entered through the chain, so the jump cache
    // knows it), then DS gets base 0x20000 right before it: its read of [0x100] must now see
    // 0x20100, as in the interpreter.
    const r = await same({
      gdt: 'SEGDESC 0x20000, 0xFFFFF, 0x92, 0xC    ; 0x30: data at base 0x20000',
      body: `
  mov dword [0x100], 0x11111111
  mov dword [0x20100], 0x22222222
  mov ecx, 3
.warm:
  call x_routine
  dec ecx
  jnz .warm
  push done
  mov ax, 0x30
  jmp load_ds`,
      extra: `
load_ds:
  mov ds, ax
x_routine:
  mov eax, [0x100]
  ret
done:
  mov bx, 0x10
  mov ds, bx
  hlt`,
    });
    expect(r.vm.cpu.s[0] >>> 0).toBe(0x22222222);
  });
});

describe('reloading a segment register with the descriptor it holds', () => {
  it('changes nothing inline, and takes the VMM path when the GDT entry changed or lost its accessed bit', async () => {
    // GDT entry 0x30: data at base 0x20000. DS is loaded with it, then reloaded 20 times in a
    // loop (inline, no change); then the entry's base is rewritten in memory (the reload must
    // pick it up) and its accessed bit cleared (the reload must set it).
    const r = await same({
      gdt: 'SEGDESC 0x20000, 0xFFFFF, 0x93, 0xC    ; 0x30: data at 0x20000, accessed',
      body: `
  mov ax, 0x30
  mov ds, ax
  mov ecx, 20
.again:
  mov ds, ax
  inc dword [0x100]        ; at 0x20100
  dec ecx
  jnz .again
  mov bx, 0x10
  mov es, bx
  mov byte [es:gdt + 0x30 + 4], 0x03   ; base 0x030000 now
  mov ds, ax
  inc dword [0x100]        ; at 0x30100
  and byte [es:gdt + 0x30 + 5], 0xfe   ; accessed bit cleared
  mov ds, ax
  mov eax, [es:gdt + 0x30 + 4]
  mov [es:0x20200], eax    ; the descriptor's high word as the reload left it
  mov ax, 0x10
  mov ds, ax
  hlt`,
    });
    expect(r.d(0x20100)).toBe(20);
    expect(r.d(0x30100)).toBe(1);
    expect(r.d(0x20200) & 0x100).toBe(0x100);
  });

  it('FS and GS take other selectors inline (data, read-only, null, a base), and leave the rest to the VMM', async () => {
    // 0x30: read-write data at 0x20000, accessed; 0x38: read-only data, DPL 3, accessed;
    // 0x40: readable code (ldseg); 0x48: expand-down data (ldseg); 0x50: data not yet accessed
    // (ldseg sets the bit). The loop loads FS and GS back and forth between the kernel's and a
    // user's selectors, as Linux does on every system call.
    const r = await same({
      gdt: [
        'SEGDESC 0x20000, 0xFFFFF, 0x93, 0xC    ; 0x30',
        'SEGDESC 0, 0xFFFFF, 0xF1, 0xC          ; 0x38',
        'SEGDESC 0, 0xFFFFF, 0x9B, 0xC          ; 0x40',
        'SEGDESC 0, 0x00FFF, 0x97, 0x4          ; 0x48',
        'SEGDESC 0x30000, 0xFFFFF, 0x92, 0xC    ; 0x50',
      ].join('\n  '),
      body: `
  mov ecx, 20
  xor edx, edx
.again:
  mov ax, 0x30
  mov fs, ax
  add edx, [fs:0x100]      ; at 0x20100
  inc dword [fs:0x104]
  mov ax, 0x3b
  mov gs, ax
  add edx, [gs:0x20108]
  push word 0
  pop fs
  mov bx, 3
  mov gs, bx
  push word 0x30
  pop gs
  inc dword [gs:0x10c]
  dec ecx
  jnz .again
  mov ax, 0x40
  mov fs, ax
  mov esi, [fs:0x20100]
  mov ax, 0x48
  mov gs, ax
  mov ax, 0x50
  mov fs, ax
  mov eax, [es:gdt + 0x50 + 4]
  mov [0x20200], eax       ; the descriptor's high word as the load left it
  mov ax, 0x38
  mov fs, ax
  mov dword [fs:0x20110], 1   ; read-only: #GP`,
    });
    expect(r.d(0x20104)).toBe(20);
    expect(r.d(0x2010c)).toBe(20);
    expect(r.d(0x20200) & 0x100).toBe(0x100);
    expect(r.vm.exits['exception 13']).toBe(1);
    expect(r.vm.vmmInline['mov-seg']).toBeGreaterThanOrEqual(60);
    expect(r.vm.vmmInline['pop-seg']).toBeGreaterThanOrEqual(40);
  });

  it('at CPL 3, reloading the DPL-0 data segment the kernel left in DS faults (#GP)', async () => {
    const r = await same({
      body: `
  mov ecx, 0x174
  xor edx, edx
  mov eax, 0x08
  wrmsr
  mov ecx, 0x7f000
  mov edx, user
  sysexit`,
      extra: `
user:
  mov ax, ds
  mov ds, ax               ; DS = 0x10, DPL 0: #GP(0x10) at CPL 3
  hlt`,
    });
    expect(r.vm.exits['exception 13']).toBe(1);
  });
});
