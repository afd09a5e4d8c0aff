/**
 * The state a BIOS leaves, on the PC without one (runtime/pc/bios-state.ts): a multiboot kernel
 * that only sets an IDT gate for vector 08h and waits with `sti; hlt` (cli/guests/timer-wait.asm)
 * wakes on the timer — the 8259As and the PIT programmed as SeaBIOS leaves them, IRQ 0 through
 * the local APIC's virtual wire — under both engines, and under qemu-system-i386 (after
 * SeaBIOS) with the same exit status.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureIo } from './cli-io.ts';
import { guestImage } from './guests.ts';

describe('a multiboot kernel on the state a BIOS leaves', () => {
  for (const accel of ['interp', 'dbt']) {
    it(`wakes from sti; hlt on the timer at vector 08h (${accel})`, async () => {
      const c = captureIo();
      expect(await main(['run', '-kernel', guestImage('timer-wait'), '-m', '32M', '--accel', accel, '--timeout', '60'], c.io)).toBe(7);
    });
  }
});

const qemu = spawnSync('qemu-system-i386', ['--version']);
describe.skipIf(qemu.error !== undefined)('the same kernel under qemu-system-i386', () => {
  it('wakes the same way', () => {
    const r = spawnSync('qemu-system-i386', ['-nodefaults', '-display', 'none', '-no-reboot', '-cpu', 'pentium2', '-m', '32',
      '-kernel', guestImage('timer-wait'), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'], { timeout: 20_000 });
    expect(r.status).toBe(7);
  });
});
