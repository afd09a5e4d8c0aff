/**
 * Boot tier: the `wasmvisor` command with the default Debian guest, as a user at a terminal
 * meets it (a real process in a pseudo-terminal, test/cli/pty-drive.py): the guest knows the
 * terminal's size, at boot and after a resize, Ctrl-C interrupts a foreground command, Ctrl-Z suspends it and `fg` resumes
 * it (the shell owns the console as its controlling terminal, with default signal
 * dispositions), and a kernel panic ends the run at once with status 102, reported through the
 * pvpanic device. Also a panic before /init (an initramfs of random bytes), which only the
 * console line can reveal, and a kernel whose compressed payload is corrupt: its decompressor
 * halts with interrupts off, which is a halt (104), not a power-off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuest } from '../../src/index.ts';
import type { GuestImages } from '../../src/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.WASMVISOR_SKIP_BOOT === '1' || spawnSync('python3', ['--version']).error !== undefined;

interface PtyResult { output: string; status: number; termios: (boolean | null)[]; error: unknown }

type Step = { expect: string; timeout?: number } | { send: string } | { signal: string } | { termios: true } | { resize: [number, number] } | { exit: number };

function ptyRun(rows: number, cols: number, args: string[], steps: Step[]): PtyResult {
  const r = spawnSync('python3', [join(ROOT, 'test', 'cli', 'pty-drive.py'), String(rows), String(cols), '--', process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', ...args],
    { input: JSON.stringify(steps), encoding: 'utf8', cwd: ROOT, timeout: 600_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PtyResult;
}

describe.skipIf(skip)('wasmvisor run with the default guest, in a terminal', () => {
  let guest: GuestImages;
  beforeAll(async () => {
    guest = await buildGuest({});
  }, 600_000);

  it('passes the terminal size; Ctrl-C, Ctrl-Z and fg work; a panic ends the run with 102 through pvpanic', () => {
    // Each marker is computed by the guest's shell, so the terminal's echo of the typed command
    // cannot match it: when "ready-42" appears, the command runs as the foreground job.
    const r = ptyRun(33, 101, [], [
      { expect: '/ # ', timeout: 480 },
      { send: 'echo size=$(stty size | tr " " x)\r' }, { expect: 'size=\\d+x\\d+\\r*\\n', timeout: 60 },
      { send: "sh -c 'echo ready-$((40+2)); exec sleep 30'\r" }, { expect: 'ready-42', timeout: 60 },
      { send: '\u0003' }, { expect: '/ # ', timeout: 60 },
      { send: 'echo status=$((0+$?))\r' }, { expect: 'status=\\d+\\r*\\n', timeout: 60 },
      // The job says when it runs again after fg (its CONT trap), so ^C reaches it in the foreground.
      { send: "sh -c 'trap \"echo cont-\\$((60+1))\" CONT; echo ready-$((50+1)); while :; do sleep 1; done'\r" }, { expect: 'ready-51', timeout: 60 },
      { send: '\u001a' }, { expect: 'Stopped[^\\n]*\\n', timeout: 60 },
      { send: 'fg\r' }, { expect: 'cont-61', timeout: 60 },
      { send: '\u0003' }, { expect: '/ # ', timeout: 60 },
      { send: 'echo status=$((1+$?))\r' }, { expect: 'status=\\d+\\r*\\n', timeout: 60 },
      // A resize reaches the guest's terminal (through COM2 and its agent): the foreground job
      // gets SIGWINCH, and stty reports the new size.
      { send: "sh -c 'trap \"echo winch-\\$((7*11)) \\$(stty size | tr \\\" \\\" x)\" WINCH; echo ready-$((60+3)); while :; do sleep 1; done'\r" },
      { expect: 'ready-63', timeout: 60 },
      { resize: [40, 120] }, { expect: 'winch-77 \\d+x\\d+\\r*\\n', timeout: 60 },
      { send: '\u0003' }, { expect: '/ # ', timeout: 60 },
      { send: 'echo size=$(stty size | tr " " x)\r' }, { expect: 'size=\\d+x\\d+\\r*\\n', timeout: 60 },
      { send: 'echo c > /proc/sysrq-trigger\r' }, { exit: 120 },
    ]);
    expect(r.error, r.output.slice(-3000)).toBeNull();
    const out = r.output.replace(/\r/g, '');
    expect(out).toContain('\nsize=33x101\n');
    // 130 = 128 + SIGINT: sleep died of Ctrl-C within its 30 s, then again after fg (+1).
    expect(out).toContain('\nstatus=130\n');
    expect(out).toMatch(/\[1\]\+ +Stopped +sh -c/);
    expect(out).toContain('\nstatus=131\n');
    expect(out).toContain('\nwinch-77 40x120\n');
    expect(out).toContain('\nsize=40x120\n');
    expect(out).toMatch(/Kernel panic - not syncing: sysrq triggered crash/);
    expect(out).toMatch(/wasmvisor: guest kernel panic \("Kernel panic - not syncing: sysrq triggered crash", reported through pvpanic\); exit code 102/);
    expect(r.status).toBe(102);
    expect(r.termios.at(-1)).toBe(true);
  }, 600_000);

  it('ends with 102 when the kernel panics before /init (no pvpanic yet): the console line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-boot-'));
    try {
      const junk = join(dir, 'junk.img');
      const bytes = new Uint8Array(65536);
      for (let k = 0; k < bytes.length; k++) bytes[k] = (k * 2654435761) >>> 24; // not an archive
      writeFileSync(junk, bytes);
      const r = ptyRun(24, 80, ['--kernel', guest.kernel, '--initrd', junk, '--append', guest.cmdline], [{ exit: 480 }]);
      expect(r.status).toBe(102);
      expect(r.output).toMatch(/wasmvisor: guest kernel panic \("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)", recognised on the console\)/);
      expect(readFileSync(junk).length).toBe(65536);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('ends with 104 (halted for good) when the kernel\'s payload is corrupt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-boot-'));
    try {
      const k = readFileSync(guest.kernel);
      // The compressed payload (boot protocol: payload_offset at 0x248, payload_length at 0x24C,
      // from the protected-mode code after the setup sectors): damage its middle.
      const setup = ((k[0x1f1] || 4) + 1) * 512;
      const at = setup + k.readUInt32LE(0x248) + (k.readUInt32LE(0x24c) >> 1);
      for (let i = 0; i < 64; i++) k[at + i] ^= 0x5a;
      const bad = join(dir, 'vmlinuz');
      writeFileSync(bad, k);
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', '--kernel', bad, '--append', 'console=ttyS0 earlyprintk=serial,ttyS0,115200'],
        { cwd: ROOT, encoding: 'latin1', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
      expect(r.stdout).toMatch(/XZ-compressed data is corrupt/);
      expect(r.stderr).toMatch(/wasmvisor: guest halted for good \(the CPU halted with interrupts disabled\); exit code 104/);
      expect(r.status).toBe(104);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
