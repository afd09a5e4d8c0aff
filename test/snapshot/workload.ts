/**
 * The snapshot tests' guest and helpers: a small kernel (Linux boot protocol, test/devices/
 * fake-bzimage.ts) that exercises what a snapshot must carry — paging with 4 MiB pages, a 1 kHz
 * PIT interrupt through the PIC whose handler reads the TSC, x87 arithmetic, a pseudo-random
 * walk writing 1 MiB of memory, polled serial output — and ends by printing a checksum that
 * depends only on its own computation (not on timing) and exiting through isa-debug-exit. And
 * the comparison of two machines' complete state.
 */
import { createHash } from 'node:crypto';
import { BUDGET, DBT_INLINE, DBT_INLINE_MAX, DBT_INSN, FPU_SLOT, FPU_TMP, SCRATCH, STATE_SIZE } from '../../translator/abi.ts';
import type { ManualClock } from '../../runtime/devices/clock.ts';
import type { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { PC_DEVICES } from '../../runtime/snapshot/devices.ts';
import { assembleKernel, fakeBzImage } from '../devices/fake-bzimage.ts';

/** Iterations of the main loop (a dot is printed every 4096). */
export const ITERATIONS = 1 << 16;

const SOURCE = `
  mov esp, 0x90000
  mov eax, irq0
  mov [idt + 0x30*8], ax
  mov word [idt + 0x30*8 + 2], 0x10
  mov word [idt + 0x30*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + 0x30*8 + 6], ax
  lidt [idtr]
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x30
  out 0x21, al
  mov al, 0x38
  out 0xa1, al
  mov al, 4
  out 0x21, al
  mov al, 2
  out 0xa1, al
  mov al, 1
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  mov al, 0x34          ; PIT channel 0, LSB/MSB, mode 2, 1 kHz
  out 0x43, al
  mov al, 1193 & 0xff
  out 0x40, al
  mov al, 1193 >> 8
  out 0x40, al
  ; leave every device in a state of its own, which a snapshot must carry
  mov al, 0x34          ; CMOS byte 0x34 (free)
  out 0x70, al
  mov al, 0x5a
  out 0x71, al
  mov al, 0x60          ; i8042: write the command byte (the mouse interrupt on too)
  out 0x64, al
  mov al, 0x47
  out 0x60, al
  mov eax, 0x80000008   ; PCI configuration address: host bridge, register 8
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0x2ff         ; COM2 scratch register
  mov al, 0xa5
  out dx, al
  mov dx, 0x602         ; PM1a_EN: power button
  mov ax, 0x0100
  out dx, ax
  mov al, 0x42          ; POST code
  out 0x80, al
  mov dword [0xfee00080], 0x10   ; local APIC task priority (before paging hides its page)
  mov dword [0xfec00000], 0      ; I/O APIC: its ID register ...
  mov dword [0xfec00010], 0x0a000000 ; ... set to 10
  mov dword [0xfec00000], 0x2f   ; entry 15's high dword left selected
  ; identity-map 32 MiB with 4 MiB pages
  mov edi, 0x200000
  mov eax, 0x83
  mov ecx, 8
.pd:
  mov [edi], eax
  add eax, 0x400000
  add edi, 4
  loop .pd
  mov eax, cr4
  or eax, 0x10
  mov cr4, eax
  mov eax, 0x200000
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  fninit
  fld1
  sti
  mov ebx, 12345
  xor ebp, ebp
.loop:
  imul ebx, ebx, 1103515245
  add ebx, 12345
  mov eax, ebx
  shr eax, 8
  and eax, 0xffffc
  xor [0x400000 + eax], ebx
  add [sum], ebx
  fmul dword [factor]
  inc ebp
  test ebp, 0xfff
  jnz .loop
  mov al, '.'
  call putc
  cmp ebp, ${ITERATIONS}
  jb .loop
  ; checksum of the buffer and the sum
  mov esi, 0x400000
  mov ecx, 0x40000
  mov edx, [sum]
.ck:
  lodsd
  rol edx, 5
  xor edx, eax
  loop .ck
  fstp dword [fres]
  xor edx, [fres]
  mov al, 10
  call putc
  mov ecx, 8
.hex:
  rol edx, 4
  mov eax, edx
  and eax, 15
  mov al, [digits + eax]
  call putc
  loop .hex
  mov al, 10
  call putc
  mov al, dl
  and al, 0x7f
  out 0xf4, al
  hlt

putc:
  push edx
  mov ah, al
.wait:
  mov dx, 0x3fd
  in al, dx
  test al, 0x20
  jz .wait
  mov dx, 0x3f8
  mov al, ah
  out dx, al
  pop edx
  ret

irq0:
  push eax
  push edx
  inc dword [ticks]
  rdtsc
  xor [tscmix], eax
  mov al, 0x20
  out 0x20, al
  pop edx
  pop eax
  iret

align 4
factor: dd 1.0000001
sum: dd 0
fres: dd 0
ticks: dd 0
tscmix: dd 0
digits: db '0123456789abcdef'
idtr: dw 256*8-1
      dd idt
align 8
idt: times 256*8 db 0
`;

let cached: Uint8Array | null = null;

/** The workload as a bzImage. */
export function workloadKernel(): Uint8Array {
  cached ??= fakeBzImage({ kernel: assembleKernel(SOURCE), initSize: 0x10000 });
  return cached;
}

/** Guest instructions per step and the machine time that passes per step. */
export const SLICE = 20_000;
export const STEP_NS = 300_000;

/** Runs `n` slices of SLICE instructions, advancing the clock STEP_NS after each. */
export function steps(pc: PcMachine, clock: ManualClock, n: number): void {
  for (let k = 0; k < n; k++) {
    const r = pc.step(SLICE);
    if (r.reason !== 'budget') throw new Error(`the workload ended early: ${r.reason} ${r.detail ?? ''}`);
    clock.advance(STEP_NS);
  }
}

/** Everything a machine's future depends on, for comparison. */
export interface MachineImage {
  icount: number;
  halted: boolean;
  /** The CPU state block. */
  state: Uint8Array;
  ram: Uint8Array;
  devices: Record<string, unknown>;
  clockNs: number;
}

export function imageOf(pc: PcMachine): MachineImage {
  const vm = pc.vm;
  const devices: Record<string, unknown> = {};
  for (const d of PC_DEVICES) devices[d.name] = JSON.parse(new TextDecoder().decode(d.save(pc.devices)));
  return {
    icount: vm.cpu.icount,
    halted: vm.cpu.halted,
    state: vm.mem.u8.slice(0, STATE_SIZE),
    ram: vm.mem.ram().slice(),
    devices,
    clockNs: pc.clock.now(),
  };
}

/**
 * Words of the state block that are not CPU state but the translator's scratch (translator/abi.ts
 * says so for each): the slice countdown set on every entry to translated code, helper scratch,
 * the running region and its epilogue words, per-region counters moved into statistics, the x87
 * temporaries. They differ with what happened to run translated, and nothing reads them before
 * writing them.
 */
const SCRATCH_WORDS: readonly (readonly [number, number])[] = [
  [BUDGET, 4], [SCRATCH, 16], [DBT_INSN, 16], [DBT_INLINE, 4 * DBT_INLINE_MAX], [FPU_TMP, 2 * FPU_SLOT],
];

export function architectural(state: Uint8Array): Uint8Array {
  const out = state.slice();
  for (const [at, n] of SCRATCH_WORDS) out.fill(0, at, at + n);
  return out;
}

/** The first index where two byte arrays differ, or -1. */
export function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return k;
  return -1;
}

/** A machine image in a form a child process can print as JSON: RAM as its SHA-256. */
export interface ImageDigest {
  icount: number;
  halted: boolean;
  clockNs: number;
  state: string;
  ram: string;
  devices: Record<string, unknown>;
}

export function digestOf(m: MachineImage): ImageDigest {
  return {
    icount: m.icount, halted: m.halted, clockNs: m.clockNs,
    state: Buffer.from(architectural(m.state)).toString('hex'),
    ram: createHash('sha256').update(m.ram).digest('hex'),
    devices: m.devices,
  };
}
