/**
 * Boot tier: the `wasmvisor` command with the default Debian guest, as a user at a terminal
 * meets it (a real process in a pseudo-terminal, test/cli/pty-drive.py): the guest knows the
 * terminal's size, Ctrl-C interrupts a foreground command, Ctrl-Z suspends it and `fg` resumes
 * it (the shell owns the console as its controlling terminal, with default signal
 * dispositions), and a kernel panic ends the run at once with status 102, reported through the
 * pvpanic device. Also a panic before /init (an initramfs of random bytes), which only the
 * console line can reveal.
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

type Step = { expect: string; timeout?: number } | { send: string } | { signal: string } | { termios: true };

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
      { send: 'echo size=$(stty size | tr " " x)\r' }, { expect: 'size=\\d+x\\d+', timeout: 60 },
      { send: "sh -c 'echo ready-$((40+2)); exec sleep 30'\r" }, { expect: 'ready-42', timeout: 60 },
      { send: '\u0003' }, { expect: '/ # ', timeout: 20 },
      { send: 'echo status=$((0+$?))\r' }, { expect: 'status=\\d+', timeout: 60 },
      { send: "sh -c 'echo ready-$((50+1)); exec sleep 40'\r" }, { expect: 'ready-51', timeout: 60 },
      { send: '\u001a' }, { expect: 'Stopped', timeout: 20 },
      { send: 'fg\r' }, { expect: 'sleep 40', timeout: 20 },
      { send: '\u0003' }, { expect: '/ # ', timeout: 20 },
      { send: 'echo status=$((1+$?))\r' }, { expect: 'status=\\d+', timeout: 60 },
      { send: 'echo c > /proc/sysrq-trigger\r' },
    ]);
    expect(r.error).toBeNull();
    const out = r.output.replace(/\r/g, '');
    expect(out).toContain('\nsize=33x101\n');
    // 130 = 128 + SIGINT: sleep died of Ctrl-C within its 30 s, then again after fg (+1).
    expect(out).toContain('\nstatus=130\n');
    expect(out).toMatch(/\[1\]\+ +Stopped +sh -c/);
    expect(out).toContain('\nstatus=131\n');
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
      const r = ptyRun(24, 80, ['--kernel', guest.kernel, '--initrd', junk, '--append', guest.cmdline], []);
      expect(r.status).toBe(102);
      expect(r.output).toMatch(/wasmvisor: guest kernel panic \("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)", recognised on the console\)/);
      expect(readFileSync(junk).length).toBe(65536);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
