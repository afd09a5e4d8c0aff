/**
 * `--bios FILE` (QEMU's `-bios`): a 64 KiB firmware image (cli/guests/bios-rom.asm) runs from
 * the reset vector, F000:FFF0 with CS based at FFFF0000h: it reads a marker through the copy of
 * the image below 4 GiB, jumps to the copy at F0000h and prints the reset state it found; its
 * POST codes show with `-d post`. The same image under qemu-system-i386 prints the same and
 * ends with the same status. Also: images QEMU would refuse, and --bios with --kernel.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureIo } from './cli-io.ts';
import { guestImage } from './guests.ts';

const ROM_OUTPUT = 'reset vector: EDX=00000652 CR0=60000010 EFLAGS=00000002 high copy = low copy: 1';

describe('wasmvisor run --bios', () => {
  for (const accel of ['interp', 'dbt']) {
    it(`runs the firmware from the reset vector (${accel}), with its POST codes traced`, async () => {
      const c = captureIo();
      const code = await main(['run', '-bios', guestImage('bios-rom'), '-m', '32M', '--accel', accel, '-d', 'post'], c.io);
      expect(code).toBe(15);
      expect(c.out().replace(/\r/g, '').trim()).toBe(ROM_OUTPUT);
      expect(c.err()).toMatch(/^post 0x01\npost 0x02$/m);
    });
  }

  it('refuses an image that is not a multiple of 64 KiB, and --bios with --kernel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-bios-'));
    try {
      const odd = join(dir, 'odd.rom');
      writeFileSync(odd, new Uint8Array(1000));
      const a = captureIo();
      expect(await main(['run', '--bios', odd], a.io)).toBe(2);
      expect(a.err()).toMatch(/BIOS image must be a non-empty multiple of 64 KiB/);
      const b = captureIo();
      expect(await main(['run', '--bios', odd, '--kernel', odd], b.io)).toBe(2);
      expect(b.err()).toMatch(/--bios and --kernel exclude each other/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const qemu = spawnSync('qemu-system-i386', ['--version']);
describe.skipIf(qemu.error !== undefined)('the same firmware under qemu-system-i386 -bios', () => {
  it('prints the same reset state and exits with the same status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-bios-'));
    try {
      const out = join(dir, 'debugcon.txt');
      writeFileSync(out, '');
      const r = spawnSync('qemu-system-i386', ['-nodefaults', '-display', 'none', '-no-reboot', '-cpu', 'pentium2', '-m', '32',
        '-bios', guestImage('bios-rom'), '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-debugcon', `file:${out}`], { timeout: 20_000 });
      expect(r.status).toBe(15);
      expect(readFileSync(out, 'latin1').trim()).toBe(ROM_OUTPUT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
