/**
 * Serial backpressure: while nobody reads `Machine.serial.output`, the guest's output is held
 * back — the UART keeps THRE clear, so a guest that waits for it waits; a guest that does not
 * is stopped once a few KiB are held — and memory stays bounded. When reading resumes, every
 * byte arrives, in order (guests: test/cli/guests/flood.asm, 50 000 numbered lines). The CLI
 * gets the same from `pipe()`: a stdout nobody reads holds the guest back, and the output is
 * complete once it is read.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/index.ts';
import { guestImage } from '../cli/guests.ts';

const LINES = 50_000;
const EXPECTED = Array.from({ length: LINES }, (_, k) => k.toString(16).padStart(8, '0') + '\n').join('');
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bytes the machine holds for the reader: the stream's buffers. */
function buffered(m: Machine): number {
  const s = m.serial.output as unknown as { readableLength: number; writableLength: number };
  return s.readableLength + s.writableLength;
}

async function floodUnread(image: string): Promise<void> {
  const m = await Machine.create({ memory: 32 << 20, kernel: new Uint8Array(readFileSync(guestImage(image))), engine: 'dbt' });
  await m.start();
  // Nobody reads: the output stops at the stream's buffers (64 KiB at most), far short of the
  // 450 000 bytes the guest has to say.
  await pause(1500);
  const held = buffered(m);
  const icount = m.stats().instructions;
  await pause(1500);
  expect(held).toBeGreaterThan(0);
  expect(buffered(m)).toBe(held);
  expect(held).toBeLessThanOrEqual(64 << 10);
  // The guest runs on, polling LSR for a THRE that does not come.
  expect(m.stats().instructions).toBeGreaterThan(icount);
  // Now read it all: every line, in order, then the guest's exit.
  let text = '';
  m.serial.output.on('data', (b: Buffer) => (text += b.toString('latin1')));
  const exit = await m.exited;
  expect(exit).toMatchObject({ reason: 'exit', exitCode: 1 });
  expect(text.length).toBe(EXPECTED.length);
  expect(text === EXPECTED).toBe(true);
}

describe('serial backpressure', () => {
  it('holds a guest that waits for THRE while the stream is unread, and loses nothing', async () => {
    await floodUnread('flood');
  }, 120_000);

  it('stops a guest that ignores THRE once output is held back, and loses nothing', async () => {
    const m = await Machine.create({ memory: 32 << 20, kernel: new Uint8Array(readFileSync(guestImage('flood-blind'))), engine: 'dbt' });
    await m.start();
    await pause(1500);
    const held = buffered(m);
    const icount = m.stats().instructions;
    await pause(1500);
    // The CPU stands still: no instruction ran while the output was held.
    expect(m.stats().instructions).toBe(icount);
    expect(buffered(m)).toBe(held);
    expect(held).toBeLessThanOrEqual(64 << 10);
    let text = '';
    m.serial.output.on('data', (b: Buffer) => (text += b.toString('latin1')));
    expect(await m.exited).toMatchObject({ reason: 'exit', exitCode: 1 });
    expect(text === EXPECTED).toBe(true);
  }, 120_000);

  it('holds the CLI back while its stdout is not read; the output is complete when it is', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli.ts'), 'run', '-kernel', guestImage('flood'), '-m', '32M'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.pause();
    await pause(4000);
    // Still running: it cannot finish while its output waits.
    expect(child.exitCode).toBeNull();
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString('latin1')));
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, err).toBe(1);
    expect(text.length).toBe(EXPECTED.length);
    expect(text === EXPECTED).toBe(true);
  }, 120_000);
});
