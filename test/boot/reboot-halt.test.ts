/**
 * Boot tier: a guest `reboot` resets the machine through the FADT's reset register (port 0xCF9)
 * and, as QEMU does without -no-reboot, the machine boots again; `halt` then stops the CPU with
 * interrupts off, which ends the run as "halted for good" (104), not as a power-off.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, Machine, buildGuest } from '../../src/index.ts';

describe.skipIf(process.env.WASMVISOR_SKIP_BOOT === '1')('reboot and halt in the default guest', () => {
  it('reboots on `reboot` (the machine boots again), then ends with 104 on `halt`', async () => {
    const guest = await buildGuest({});
    const m = await Machine.create({ kernel: new Uint8Array(readFileSync(guest.kernel)), initrd: new Uint8Array(readFileSync(guest.initrd)), cmdline: guest.cmdline });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('/ # ', { timeoutMs: 480_000, fromStart: true });
    m.write('reboot\n');
    await m.waitFor(/reboot: Restarting system/, { timeoutMs: 120_000 });
    // The second boot: the kernel's banner-less boot reaches the marker and the prompt again.
    await m.waitFor(guest.marker, { timeoutMs: 480_000 });
    await m.waitFor('/ # ', { timeoutMs: 60_000 });
    expect(m.stats().resets).toBe(1);
    m.write('halt\n');
    expect(await m.exited).toEqual({ reason: 'halt', exitCode: EXIT_CODES.halt, detail: 'the CPU halted with interrupts disabled' });
    expect(m.consoleText()).toMatch(/reboot: System halted/);
  }, 900_000);
});
