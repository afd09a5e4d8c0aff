/**
 * The CLI end to end (src/cli/main.ts with injected I/O): a bare-metal multiboot image from the
 * system tests, booted like `qemu -kernel`, its port-0xE9 output on stdout, the exit code from
 * isa-debug-exit; and clear errors for bad images and files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureIo } from './cli-io.ts';
import { buildImage, EXPECTED_DIR, listTests } from '../system/images.ts';

describe('wasmvisor run', () => {
  it('boots a multiboot image, shows its debug-console output and returns its exit code', async () => {
    const t = listTests().find((x) => x.name === 'msr-cpuid');
    expect(t).toBeDefined();
    const image = buildImage(t!);
    const expected = readFileSync(`${EXPECTED_DIR}/msr-cpuid.txt`, 'utf8');
    const status = Number(/^exit (\d+)$/m.exec(expected)![1]);
    const c = captureIo();
    const code = await main(['run', '-kernel', image, '-m', '32M', '--accel', 'interp', '--stats'], c.io);
    expect(code).toBe(status);
    const body = expected.replace(/^exit \d+\n?$/m, '').trim();
    expect(c.out().replace(/\r/g, '').trim()).toBe(body);
    expect(c.err()).toMatch(/VMM exits by reason/);
    expect(c.err()).toMatch(/cpuid\s+3/);
  });

  it('rejects a file that is not a kernel with a one-line message and exit code 2', async () => {
    const c = captureIo();
    const code = await main(['run', '--kernel', new URL(import.meta.url).pathname], c.io);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/^wasmvisor: not a bzImage: missing HdrS magic/m);
    expect(c.err()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports a missing file and a usage error with exit code 2', async () => {
    const a = captureIo();
    expect(await main(['run', '--kernel', '/nonexistent/k'], a.io)).toBe(2);
    expect(a.err()).toMatch(/cannot read kernel '\/nonexistent\/k': no such file/);
    const b = captureIo();
    expect(await main(['run', '--frobnicate'], b.io)).toBe(2);
  });

  it('refuses special files and directories as images at once, without reading them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-cli-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const kernel = join(dir, 'k');
      writeFileSync(kernel, 'not read');
      const cases: [string[], RegExp][] = [
        [['--kernel', '/dev/zero'], /cannot read kernel '\/dev\/zero': a character device; the kernel must be a regular file/],
        // No writer: a blocking open would hang here for ever.
        [['--kernel', fifo], /cannot read kernel '.*fifo': a FIFO \(named pipe\); the kernel must be a regular file/],
        [['--kernel', dir], /cannot read kernel '.*': a directory/],
        [['--kernel', kernel, '--initrd', '/dev/urandom'], /cannot read initrd '\/dev\/urandom': a character device/],
      ];
      for (const [argv, message] of cases) {
        const c = captureIo();
        expect(await main(['run', ...argv], c.io)).toBe(2);
        expect(c.err()).toMatch(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 70 (host error) when the default guest cannot be built', async () => {
    for (const argv of [['run'], ['build-guest']]) {
      const c = captureIo();
      c.io.buildGuest = () => Promise.reject(new Error('apt-get: not found'));
      expect(await main(argv, c.io)).toBe(70);
      expect(c.err()).toMatch(/wasmvisor: cannot build the default guest: apt-get: not found\n$/);
    }
  });

  it('refuses an image larger than the guest RAM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-cli-'));
    try {
      const big = join(dir, 'big');
      // Sparse: 3 MiB of holes, more than -m 2M.
      execFileSync('truncate', ['-s', '3M', big]);
      const c = captureIo();
      expect(await main(['run', '--kernel', big, '-m', '2M'], c.io)).toBe(2);
      expect(c.err()).toMatch(/3145728 bytes is more than the guest's RAM \(2097152 bytes\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
