/**
 * Every way a run ends gives its own exit status (args.ts EXIT_CODE_TABLE, README "Exit codes"):
 * the CLI end to end on tiny multiboot images (test/cli/guests), the library's exit value for
 * the same images, QEMU's status for the images where QEMU defines one, and signals to the real
 * process in a pseudo-terminal (the terminal restored).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureIo } from './cli-io.ts';
import { EXIT_CODES, Machine } from '../../src/index.ts';
import type { MachineExit } from '../../src/index.ts';
import { readFileSync } from 'node:fs';
import { guestImage } from './guests.ts';

const ROOT = join(import.meta.dirname, '..', '..');

async function cli(image: string, ...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo();
  const code = await main(['run', '-kernel', guestImage(image), '-m', '32M', '--accel', 'interp', ...extra], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('wasmvisor run: one exit status per way the run ends', () => {
  it('0 for an ACPI power-off, its message on a line of its own', async () => {
    const r = await cli('poweroff');
    expect(r.code).toBe(0);
    expect(r.out).toBe('powering off');
    expect(r.err).toBe('\nwasmvisor: guest powered off (ACPI S5 (soft off) through PM1a_CNT)\n');
  });

  it('(v << 1) | 1 for isa-debug-exit', async () => {
    expect((await cli('exit')).code).toBe(43);
  });

  it('104 for HLT with interrupts off (halted for good), not 0', async () => {
    const r = await cli('halt');
    expect(r.code).toBe(104);
    expect(r.err).toMatch(/guest halted for good \(the CPU halted with interrupts disabled\); exit code 104/);
  });

  it('100 for a triple fault with -no-reboot; without it the guest boots again, as QEMU', async () => {
    const once = await cli('triple', '-no-reboot');
    expect(once.code).toBe(100);
    expect(once.err).toMatch(/guest reset \(reset by a triple-fault.*\); stopping \(-no-reboot\), exit code 100/);
    const twice = await cli('reboot');
    expect(twice.code).toBe(43);
    expect(twice.out).toBe('first boot\n');
  });

  it('102 for a kernel panic reported through pvpanic', async () => {
    const r = await cli('pvpanic');
    expect(r.code).toBe(102);
    expect(r.err).toMatch(/guest kernel panic \("Kernel panic - not syncing: test image", reported through pvpanic\); exit code 102/);
  });

  it('124 when --timeout expires', async () => {
    const r = await cli('spin', '--timeout', '0.5');
    expect(r.code).toBe(124);
    expect(r.out).toBe('spinning\n');
    expect(r.err).toMatch(/timed out after 0.5 s/);
  });

  it('0 when --exit-on matches', async () => {
    expect((await cli('spin', '--exit-on', 'spin+ing')).code).toBe(0);
  });
});

describe('Machine: the same reasons and codes in the exit value', () => {
  async function exitOf(image: string, onReset: 'stop' | 'reboot' = 'stop', consolePanic = true): Promise<MachineExit> {
    const m = await Machine.create({ memory: 32 << 20, kernel: new Uint8Array(readFileSync(guestImage(image))), engine: 'interp', onReset, consolePanic });
    m.serial.output.resume();
    await m.start();
    return m.exited;
  }

  it('reports poweroff, exit, halt, reset, panic and stopped, each with its code', async () => {
    expect(await exitOf('poweroff')).toMatchObject({ reason: 'poweroff', exitCode: EXIT_CODES.poweroff });
    expect(await exitOf('exit')).toMatchObject({ reason: 'exit', exitCode: 43 });
    expect(await exitOf('halt')).toMatchObject({ reason: 'halt', exitCode: EXIT_CODES.halt });
    expect(await exitOf('triple')).toMatchObject({ reason: 'reset', exitCode: EXIT_CODES.reset });
    expect(await exitOf('reboot', 'reboot')).toMatchObject({ reason: 'exit', exitCode: 43 });
    expect(await exitOf('pvpanic')).toMatchObject({ reason: 'panic', exitCode: EXIT_CODES.panic });
    expect(await exitOf('panic-line')).toEqual({
      reason: 'panic', exitCode: EXIT_CODES.panic,
      detail: '"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", recognised on the console',
    });
    expect(await exitOf('panic-line', 'stop', false)).toMatchObject({ reason: 'exit', exitCode: 7 });
    const m = await Machine.create({ memory: 32 << 20, kernel: new Uint8Array(readFileSync(guestImage('spin'))), engine: 'interp' });
    await m.start();
    await m.waitFor('spinning', { fromStart: true });
    expect(await m.stop()).toMatchObject({ reason: 'stopped', exitCode: EXIT_CODES.stopped });
    await expect(m.start()).rejects.toThrow(/already stopped \(stopped\); create a new one/);
    const codes = Object.entries(EXIT_CODES).filter(([k]) => k !== 'signalBase').map(([, v]) => v);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) if (c !== 0 && c < 124) expect(c % 2, `code ${c} is not an isa-debug-exit status`).toBe(0);
  });
});

describe('Machine.resizeConsole', () => {
  it('sends "ROWS COLS" on COM2, the control line, and checks its arguments', async () => {
    const m = await Machine.create({ memory: 32 << 20, kernel: new Uint8Array(readFileSync(guestImage('com2-echo'))), engine: 'interp' });
    let debug = '';
    m.debugConsole.on('data', (b: Buffer) => (debug += b.toString()));
    expect(() => m.resizeConsole(0, 80)).toThrow(/rows must be an integer from 1 to 9999/);
    expect(() => m.resizeConsole(24, 1.5)).toThrow(/cols must be/);
    m.resizeConsole(48, 160);
    await m.start();
    expect(await m.exited).toMatchObject({ reason: 'exit', exitCode: 1 });
    expect(debug).toBe('48 160\n');
  });
});

const qemu = spawnSync('qemu-system-i386', ['--version']);
describe.skipIf(qemu.error !== undefined)('the same images under qemu-system-i386', () => {
  function qemuStatus(image: string, ...extra: string[]): number | null {
    const r = spawnSync('qemu-system-i386', ['-kernel', guestImage(image), '-m', '32', '-display', 'none', '-serial', 'null',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...extra], { timeout: 20_000 });
    return r.status;
  }
  it('gives the status we give for power-off, isa-debug-exit and a reboot (no -no-reboot)', () => {
    expect(qemuStatus('poweroff')).toBe(0);
    expect(qemuStatus('exit')).toBe(43);
    expect(qemuStatus('reboot')).toBe(43);
  });
  it('cannot tell a triple fault or a panic from a power-off or an error: we can (100, 102)', () => {
    expect(qemuStatus('triple', '-no-reboot')).toBe(0);
    expect(qemuStatus('pvpanic', '-device', 'pvpanic', '-action', 'panic=exit-failure')).toBe(1);
  });
});

describe('wasmvisor run | head: the reader of stdout goes away', () => {
  it('ends the run with 141 (as SIGPIPE would) and one line, not a crash', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', '-kernel', guestImage('flood'), '-m', '32M'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(err).toMatch(/wasmvisor: standard output closed \(EPIPE\)\n$/);
    expect(err).not.toMatch(/Unhandled|\n\s+at /);
    expect(code).toBe(141);
  }, 120_000);
});

const python = spawnSync('python3', ['--version']);
describe.skipIf(python.error !== undefined)('wasmvisor killed by a signal (a real process in a pseudo-terminal)', () => {
  function ptyRun(signal: string): { output: string; status: number; termios: (boolean | null)[]; error: unknown } {
    const steps = [{ expect: 'spinning', timeout: 60 }, { termios: true }, { signal }];
    const r = spawnSync('python3', [join(import.meta.dirname, 'pty-drive.py'), '24', '80', '--', process.execPath, '--import', 'tsx',
      join(ROOT, 'src', 'cli.ts'), 'run', '-kernel', guestImage('spin'), '-m', '32M', '--accel', 'interp'], { input: JSON.stringify(steps), encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ReturnType<typeof ptyRun>;
  }
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
    it(`exits ${code} on ${signal}, the terminal back in canonical mode with echo`, () => {
      const r = ptyRun(signal);
      expect(r.error).toBeNull();
      expect(r.status).toBe(code);
      // Raw while running; restored after.
      expect(r.termios).toEqual([false, true]);
      expect(r.output).toMatch(new RegExp(`wasmvisor: killed by ${signal}`));
    }, 120_000);
  }
});
