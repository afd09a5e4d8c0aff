/**
 * Boot tier: the default guest with the machine's I/O APIC and the ACPI MADT that describes it
 * (runtime/devices/io-apic.ts, runtime/pc/acpi-tables.ts). The Debian kernel finds the I/O APIC
 * in the MADT, switches to symmetric I/O mode, checks that the PIT's IRQ0 arrives on GSI 2 and
 * makes the local APIC's timer its tick: /proc/interrupts lists the legacy devices on IO-APIC
 * lines (the timer on pin 2, COM1 on pin 4) and the local timer's count (LOC) grows. The serial
 * console, on an IO-APIC line now, carries this whole conversation.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, buildGuest } from '../../src/index.ts';
import type { GuestImages } from '../../src/index.ts';

describe.skipIf(process.env.WASMVISOR_SKIP_BOOT === '1')('the default guest with the I/O APIC and the local APIC timer', () => {
  let guest: GuestImages;
  let machine: Machine;

  beforeAll(async () => {
    guest = await buildGuest({});
    machine = await Machine.create({ kernel: new Uint8Array(readFileSync(guest.kernel)), initrd: new Uint8Array(readFileSync(guest.initrd)), cmdline: guest.cmdline, onReset: 'stop' });
    machine.serial.output.resume();
    await machine.start();
    await machine.waitFor(guest.marker, { timeoutMs: 1_200_000, fromStart: true });
    await machine.waitFor('/ # ', { timeoutMs: 120_000, fromStart: true });
  }, 1_500_000);

  afterAll(async () => {
    await machine?.stop();
  });

  /** Runs a command; its output is printed between markers the shell computes (not echoed). */
  let serial = 0;
  async function shell(cmd: string): Promise<string> {
    const n = ++serial;
    const begin = `__begin_${n * 1000 + 1}__`;
    const end = `__end_${n * 1000 + 2}__`;
    const wait = machine.waitFor(new RegExp(`${end}\\r?\\n`), { timeoutMs: 120_000 });
    const before = machine.consoleText().length;
    machine.write(`${cmd} > /tmp/out 2>&1; echo __begin_$((${n}*1000+1))__; cat /tmp/out; echo __end_$((${n}*1000+2))__\n`);
    await wait;
    const text = machine.consoleText().slice(before).replace(/\r/g, '');
    const a = text.indexOf(`${begin}\n`);
    return text.slice(a + begin.length + 1, text.indexOf(end, a)).replace(/\n$/, '');
  }

  it('finds the I/O APIC in the MADT and switches to symmetric I/O mode with the timer on pin 2', async () => {
    const dmesg = await shell('dmesg');
    expect(dmesg).toMatch(/IOAPIC\[0\]: apic_id 0, version 17, address 0xfec00000, GSI 0-23/);
    expect(dmesg).toMatch(/APIC: Switch to symmetric I\/O mode setup/);
    expect(dmesg).toMatch(/\.\.TIMER: vector=0x\w+ apic1=0 pin1=2 apic2=-1 pin2=-1/);
    expect(dmesg).toMatch(/ACPI: Using IOAPIC for interrupt routing/);
    expect(dmesg).not.toMatch(/virtual wire|IO-APIC \+ timer doesn't work|MP-BIOS bug/);
  }, 300_000);

  it('lists the timer and the serial ports on IO-APIC lines, and the local APIC timer ticks', async () => {
    const first = await shell('cat /proc/interrupts');
    expect(first).toMatch(/^\s*0:\s+\d+\s+IO-APIC\s+2-edge\s+timer$/m);
    expect(first).toMatch(/^\s*4:\s+\d+\s+IO-APIC\s+4-edge\s+ttyS0$/m);
    expect(first).not.toMatch(/XT-PIC/);
    // COM1 has interrupted (this conversation), through pin 4.
    expect(Number(/^\s*4:\s+(\d+)/m.exec(first)?.[1])).toBeGreaterThan(0);
    const loc = (text: string): number => Number(/^LOC:\s+(\d+)/m.exec(text)?.[1]);
    const before = loc(first);
    expect(before).toBeGreaterThan(0);
    await shell('sleep 1');
    const after = loc(await shell('cat /proc/interrupts'));
    expect(after).toBeGreaterThan(before);
  }, 300_000);

  it('still powers off through ACPI (the SCI is on pin 9, level-triggered)', async () => {
    expect(await shell('cat /proc/interrupts')).toMatch(/^\s*9:\s+\d+\s+IO-APIC\s+9-fasteoi\s+acpi$/m);
    machine.write('poweroff\n');
    expect(await machine.exited).toMatchObject({ reason: 'poweroff' });
  }, 300_000);
});
