/**
 * The CLI end to end (src/cli/main.ts with injected I/O): a bare-metal multiboot image from the
 * system tests, booted like `qemu -kernel`, its port-0xE9 output on stdout, the exit code from
 * isa-debug-exit; and clear errors for bad images and files.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/main.ts';
import { buildImage, EXPECTED_DIR, listTests } from '../system/images.ts';

function io(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (b: Buffer) => (o += b.toString()));
  stderr.on('data', (b: Buffer) => (e += b.toString()));
  const stdin = new PassThrough();
  return { io: { stdin, stdout, stderr }, out: () => o, err: () => e };
}

describe('wasmvisor run', () => {
  it('boots a multiboot image, shows its debug-console output and returns its exit code', async () => {
    const t = listTests().find((x) => x.name === 'msr-cpuid');
    expect(t).toBeDefined();
    const image = buildImage(t!);
    const expected = readFileSync(`${EXPECTED_DIR}/msr-cpuid.txt`, 'utf8');
    const status = Number(/^exit (\d+)$/m.exec(expected)![1]);
    const c = io();
    const code = await main(['run', '-kernel', image, '-m', '32M', '--accel', 'interp', '--stats'], c.io);
    expect(code).toBe(status);
    const body = expected.replace(/^exit \d+\n?$/m, '').trim();
    expect(c.out().replace(/\r/g, '').trim()).toBe(body);
    expect(c.err()).toMatch(/VMM exits by reason/);
    expect(c.err()).toMatch(/cpuid\s+3/);
  });

  it('rejects a file that is not a kernel with a one-line message and exit code 1', async () => {
    const c = io();
    const code = await main(['run', '--kernel', new URL(import.meta.url).pathname], c.io);
    expect(code).toBe(1);
    expect(c.err()).toMatch(/^wasmvisor: not a bzImage: missing HdrS magic/m);
    expect(c.err()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports a missing file and a usage error with exit code 2', async () => {
    const a = io();
    expect(await main(['run', '--kernel', '/nonexistent/k'], a.io)).toBe(2);
    expect(a.err()).toMatch(/cannot read kernel '\/nonexistent\/k': no such file/);
    const b = io();
    expect(await main(['run', '--frobnicate'], b.io)).toBe(2);
  });
});
