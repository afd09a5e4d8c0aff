/**
 * The assembled PC machine with small nasm "kernels" loaded through the Linux boot protocol:
 * timer interrupts through the PIC in real time (every period, also after a long slice), the
 * serial console both ways, and the ways a run ends (isa-debug-exit, ACPI power-off, a halt for
 * good (HLT with IF = 0), a panic (pvpanic or the console line), reset through the i8042 and a
 * triple fault, stop()), and the ACPI tables a Linux kernel finds.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { assembleKernel, fakeBzImage } from './fake-bzimage.ts';

/** PIC setup as Linux does it (vectors 0x30/0x38), then only `mask` unmasked on the master. */
const PIC_INIT = (mask: number): string => `
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
  mov al, ${mask}
  out 0x21, al
  mov al, 0xff
  out 0xa1, al`;

/** puts: prints the NUL-terminated string at ESI on COM1, polling LSR.THRE. */
const PUTS = `
puts:
  lodsb
  test al, al
  jz .done
  mov ah, al
.wait:
  mov dx, 0x3fd
  in al, dx
  test al, 0x20
  jz .wait
  mov dx, 0x3f8
  mov al, ah
  out dx, al
  jmp puts
.done:
  ret`;

function machine(source: string, extra: Partial<ConstructorParameters<typeof PcMachine>[0]> = {}): PcMachine {
  const kernel = fakeBzImage({ kernel: assembleKernel(source), initSize: 0x10000 });
  return new PcMachine({ memory: 32 << 20, kernel, cmdline: 'console=ttyS0', ...extra });
}

describe('PcMachine', () => {
  it('delivers PIT interrupts through the PIC in real time, prints on COM1, exits via 0xF4', async () => {
    const m = machine(`
  mov esp, 0x90000
  mov eax, irq0
  mov [idt + 0x30*8], ax
  mov word [idt + 0x30*8 + 2], 0x10
  mov word [idt + 0x30*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + 0x30*8 + 6], ax
  lidt [idtr]
  ${PIC_INIT(0xfe)}
  mov al, 0x34          ; channel 0, LSB/MSB, mode 2
  out 0x43, al
  mov al, 1193 & 0xff   ; 1 kHz
  out 0x40, al
  mov al, 1193 >> 8
  out 0x40, al
  mov esi, hello
  call puts
  sti
.idle:
  hlt
  cmp dword [ticks], 20
  jb .idle
  cli
  mov esi, bye
  call puts
  mov al, 0x21
  out 0xf4, al
  hlt
irq0:
  inc dword [ticks]
  push eax
  mov al, 0x20
  out 0x20, al
  pop eax
  iretd
${PUTS}
hello: db "boot", 10, 0
bye: db "20 ticks", 10, 0
align 4
ticks: dd 0
idtr: dw 0x31*8 - 1
  dd idt
idt: times 0x31 dq 0
`);
    const t0 = m.clock.now();
    const r = await m.run({ maxInstructions: 5_000_000 });
    const ms = (m.clock.now() - t0) / 1e6;
    expect(r).toMatchObject({ reason: 'exit', exitCode: 0x43 });
    expect(new TextDecoder().decode(m.takeSerialOutput())).toBe('boot\n20 ticks\n');
    // 20 periods of 1 ms: at least 19 ms of real time passed (the CPU slept in between).
    expect(ms).toBeGreaterThanOrEqual(19);
    expect(ms).toBeLessThan(2000);
  });

  it('delivers every PIT period that passed during one slice: the next tick follows each acknowledge', () => {
    const clock = new ManualClock();
    const out: number[] = [];
    const m = machine(`
  mov esp, 0x90000
  mov eax, irq0
  mov [idt + 0x30*8], ax
  mov word [idt + 0x30*8 + 2], 0x10
  mov word [idt + 0x30*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + 0x30*8 + 6], ax
  lidt [idtr]
  ${PIC_INIT(0xfe)}
  mov al, 0x34          ; channel 0, LSB/MSB, mode 2
  out 0x43, al
  mov al, 1193 & 0xff   ; 1 kHz
  out 0x40, al
  mov al, 1193 >> 8
  out 0x40, al
  mov al, 'R'
  out 0xe9, al
  sti
.spin:
  jmp .spin
irq0:
  push eax
  mov al, 'T'
  out 0xe9, al
  mov al, 0x20
  out 0x20, al
  pop eax
  iretd
align 4
idtr: dw 0x31*8 - 1
  dd idt
idt: times 0x31 dq 0
`, { clock, onDebugOutput: (b) => out.push(...b) });
    m.step(10_000);
    expect(String.fromCharCode(...out)).toBe('R');
    // 10.5 ms pass while the CPU runs one slice (as a translation or a busy host would make it).
    clock.advance(10.5e6);
    m.step(10_000); // the timers are brought up to date after the slice: the first tick is raised
    m.step(10_000); // the CPU takes it, and each acknowledge lets the next owed tick through
    expect(String.fromCharCode(...out)).toBe('R' + 'T'.repeat(10));
    m.step(10_000);
    expect(out.length).toBe(11);
    expect(m.devices.pit.state.owed).toBe(0);
  });

  it('feeds serial input to the guest and halts for good on HLT with interrupts disabled', async () => {
    const out: number[] = [];
    const m = machine(`
  mov ecx, 3
.next:
  mov dx, 0x3fd
.wait:
  in al, dx
  test al, 1
  jz .wait
  mov dx, 0x3f8
  in al, dx
  sub al, 0x20          ; upper case
  out 0xe9, al
  loop .next
  cli
  hlt
`, { onDebugOutput: (b) => out.push(...b) });
    m.serialInput('abc');
    const r = await m.run({ maxInstructions: 1_000_000 });
    expect(r).toMatchObject({ reason: 'halt', detail: 'the CPU halted with interrupts disabled' });
    expect(String.fromCharCode(...out)).toBe('ABC');
  });

  it('sends debug-console output to onDebugOutput', async () => {
    const out: number[] = [];
    const m = machine(`
  mov al, 'O'
  out 0xe9, al
  mov al, 'K'
  out 0xe9, al
  cli
  hlt
`, { onDebugOutput: (b) => out.push(...b) });
    expect((await m.run()).reason).toBe('halt');
    expect(String.fromCharCode(...out)).toBe('OK');
  });

  it('powers off when the guest enters S5 through PM1a_CNT (as QEMU: SLP_TYP 0, SLP_EN)', async () => {
    const m = machine(`
  mov dx, 0x604
  in ax, dx
  test ax, 1            ; SCI_EN: always in ACPI mode
  jz .bad
  mov ax, 0x0c00 | 1    ; SLP_TYP 3 (not a state of ours) with SLP_EN: ignored
  or ax, 0x2000
  out dx, ax
  mov ax, 0x2000        ; SLP_TYP 0 = S5, SLP_EN
  out dx, ax
.bad:
  mov al, 7
  out 0xf4, al
`);
    expect(await m.run({ maxInstructions: 100_000 })).toMatchObject({ reason: 'poweroff', detail: 'ACPI S5 (soft off) through PM1a_CNT' });
  });

  it('ends the run with a panic when the guest writes PANICKED to pvpanic, after its report ends', async () => {
    const m = machine(`
  mov dx, 0x505
  in al, dx
  cmp al, 3             ; PANICKED | CRASH_LOADED supported
  jne .bad
  mov al, 1
  out dx, al
  mov esi, report
  call puts
  jmp $                 ; a panicking kernel spins with interrupts on
.bad:
  mov al, 7
  out 0xf4, al
${PUTS}
report: db "Kernel panic - not syncing: test", 10, "---[ end Kernel panic - not syncing: test ]---", 10, 0
`);
    const r = await m.run();
    expect(r).toMatchObject({ reason: 'panic', detail: '"Kernel panic - not syncing: test", reported through pvpanic' });
    expect(new TextDecoder().decode(m.takeSerialOutput())).toMatch(/---\[ end Kernel panic - not syncing: test \]---\n$/);
  });

  it('recognises a panic on the console when the kernel has no pvpanic driver', async () => {
    const m = machine(`
  mov esi, report
  call puts
  mov al, 0xfe          ; panic=-1: the kernel resets at once
  out 0x64, al
  jmp $
${PUTS}
report: db "[    1.234567] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", 10, 0
`);
    const r = await m.run();
    expect(r).toMatchObject({ reason: 'panic', detail: '"Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", recognised on the console' });
    expect(m.resets).toBe(0);
    // Not when told not to: the reset then reboots the guest, which prints the line again.
    const plain = machine('mov esi, report\ncall puts\nmov al, 0\nout 0xf4, al\n' + PUTS + '\nreport: db "Kernel panic - not syncing: x", 10, 0', { consolePanic: false });
    expect(await plain.run()).toMatchObject({ reason: 'exit', exitCode: 1 });
  });

  it('puts ACPI tables where Linux looks: an RSDP in 0xE0000-0xFFFFF, its RSDT, FADT and DSDT', () => {
    const m = machine('cli\nhlt');
    const bios = m.vm.readPhys(0xe0000, 0x20000);
    let rsdp = -1;
    for (let a = 0; a < bios.length; a += 16) {
      if (new TextDecoder().decode(bios.subarray(a, a + 8)) === 'RSD PTR ') {
        rsdp = a;
        break;
      }
    }
    expect(rsdp).toBeGreaterThanOrEqual(0);
    const sum = (b: Uint8Array): number => b.reduce((x, y) => (x + y) & 0xff, 0);
    expect(sum(bios.subarray(rsdp, rsdp + 20))).toBe(0);
    const dv = new DataView(bios.buffer, bios.byteOffset);
    const table = (addr: number): { sig: string; bytes: Uint8Array } => {
      const len = m.vm.readPhys(addr + 4, 4).reduce((v, b, k) => v + b * 2 ** (8 * k), 0);
      const bytes = m.vm.readPhys(addr, len);
      return { sig: new TextDecoder().decode(bytes.subarray(0, 4)), bytes };
    };
    const rsdt = table(dv.getUint32(rsdp + 16, true));
    expect(rsdt.sig).toBe('RSDT');
    expect(sum(rsdt.bytes)).toBe(0);
    const fadt = table(new DataView(rsdt.bytes.buffer).getUint32(36, true));
    expect(fadt.sig).toBe('FACP');
    expect(sum(fadt.bytes)).toBe(0);
    const f = new DataView(fadt.bytes.buffer);
    expect({ sci: f.getUint16(46, true), pm1aEvt: f.getUint32(56, true), pm1aCnt: f.getUint32(64, true), tmr: f.getUint32(76, true), reset: f.getUint32(120, true), resetValue: f.getUint8(128) })
      .toEqual({ sci: 9, pm1aEvt: 0x600, pm1aCnt: 0x604, tmr: 0x608, reset: 0xcf9, resetValue: 6 });
    const dsdt = table(f.getUint32(40, true));
    expect(dsdt.sig).toBe('DSDT');
    expect(sum(dsdt.bytes)).toBe(0);
    expect(table(f.getUint32(36, true)).sig).toBe('FACS');
  });

  it('reboots on a guest reset, keeping RAM; or ends the run (onReset stop)', async () => {
    // Counts its boots in RAM above everything the loader writes, resets twice via the i8042.
    const src = `
  mov esi, hello
  call puts
  inc dword [0x1800000]
  cmp dword [0x1800000], 3
  jae .done
  mov al, 0xfe
  out 0x64, al
  jmp $
.done:
  mov al, 0
  out 0xf4, al
${PUTS}
hello: db "boot", 10, 0
`;
    const m = machine(src);
    expect(await m.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'exit', exitCode: 1 });
    expect(m.resets).toBe(2);
    expect(new TextDecoder().decode(m.takeSerialOutput())).toBe('boot\nboot\nboot\n');

    const once = machine(src, { onReset: 'stop' });
    expect(await once.run({ maxInstructions: 1_000_000 })).toMatchObject({ reason: 'reset', detail: 'reset by the keyboard controller' });
  });

  it('treats a triple fault as a reset', async () => {
    // No IDT (limit 0): UD2's #UD cannot be delivered, nor the #GP and #DF that follow.
    const m = machine('ud2', { onReset: 'stop' });
    const r = await m.run({ maxInstructions: 10_000 });
    expect(r.reason).toBe('reset');
    expect(r.detail).toMatch(/^reset by a triple-fault/);
    // Rebooting into the same immediate triple fault would loop forever: the run ends instead.
    const loop = machine('ud2');
    expect((await loop.run()).detail).toMatch(/reset loop: no instruction completed since boot\)$/);
  });

  it('stops on request', async () => {
    const m = machine(`
  jmp $
`);
    setTimeout(() => m.stop(), 20);
    const r = await m.run();
    expect(r.reason).toBe('stopped');
    expect(r.executed).toBeGreaterThan(0);
  });
});
