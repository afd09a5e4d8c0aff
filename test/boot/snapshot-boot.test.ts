/**
 * Boot tier: snapshots of the default Debian guest through the CLI, as a user takes them: the
 * guest boots in a pseudo-terminal (test/cli/pty-drive.py), a shell variable is set, Ctrl-A s
 * writes a snapshot (`--snapshot-file`), Ctrl-A x quits; a second `wasmvisor run --restore`
 * process — on the other engine — continues the same shell: the variable is still set, the
 * kernel's uptime went on from where it was, and the guest powers off normally.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGuest } from '../../src/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.WASMVISOR_SKIP_BOOT === '1' || spawnSync('python3', ['--version']).error !== undefined;

interface PtyResult { output: string; status: number; error: unknown }
type Step = { expect: string; timeout?: number } | { send: string } | { exit: number };

function ptyRun(args: string[], steps: Step[]): PtyResult {
  const r = spawnSync('python3', [join(ROOT, 'test', 'cli', 'pty-drive.py'), '24', '80', '--', process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', ...args],
    { input: JSON.stringify(steps), encoding: 'utf8', cwd: ROOT, timeout: 900_000, maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PtyResult;
}

describe.skipIf(skip)('a snapshot of the default guest (Ctrl-A s, --restore)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-snapshot-boot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    await buildGuest({});
  }, 600_000);

  it('continues the same shell in a new process, on the other engine', () => {
    const file = join(dir, 'guest.snap');
    // Markers are computed by the guest, so the terminal's echo of a command cannot match them.
    const a = ptyRun(['--snapshot-file', file], [
      { expect: '/ # ', timeout: 600 },
      { send: 'X=kept-$((6*7)); cut -d. -f1 /proc/uptime | sed s/^/up-/\r' }, { expect: 'up-\\d+\\r*\\n', timeout: 60 },
      { send: '\u0001s' }, { expect: 'snapshot saved to', timeout: 120 },
      { send: '\u0001x' }, { exit: 60 },
    ]);
    expect(a.error, a.output.slice(-3000)).toBeNull();
    expect(a.status).toBe(0);
    expect(existsSync(file)).toBe(true);
    const upBefore = Number(/\nup-(\d+)\r*\n/.exec(a.output.replace(/\r/g, ''))![1]);

    const b = ptyRun(['--restore', file, '--accel', 'interp'], [
      { expect: 'restored the snapshot', timeout: 120 },
      { send: 'echo "$X" up-$(cut -d. -f1 /proc/uptime)\r' }, { expect: 'kept-42 up-\\d+\\r*\\n', timeout: 120 },
      { send: 'poweroff -f\r' }, { exit: 120 },
    ]);
    expect(b.error, b.output.slice(-3000)).toBeNull();
    const upAfter = Number(/kept-42 up-(\d+)\r*\n/.exec(b.output.replace(/\r/g, ''))![1]);
    // The guest's clock goes on from the snapshot (not from 0, not from the host's time since).
    expect(upAfter).toBeGreaterThanOrEqual(upBefore);
    expect(upAfter).toBeLessThan(upBefore + 60);
    expect(b.status).toBe(0);
  }, 1_200_000);
});
