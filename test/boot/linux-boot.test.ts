/**
 * Boot tier: the unmodified Debian 12 i386 kernel with the busybox initramfs, under the
 * translator, through the public Machine API. The guest is built from Debian packages by
 * src/guest/build.ts (cached). A small C program of ours, compiled here with `gcc -m32 -static`
 * and appended to the initramfs as a second cpio archive, runs in the guest and on the reference
 * (the real CPU, or qemu-i386 where the host cannot run 32-bit code: test/oracle/reference.ts);
 * the two outputs must match.
 *
 * Set WASMVISOR_SKIP_BOOT=1 to skip this file (it needs network access to Debian's archive the
 * first time, and about a minute of CPU).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, buildGuest } from '../../src/index.ts';
import type { GuestImages } from '../../src/index.ts';
import { writeCpio } from '../../src/guest/cpio.ts';
import { runI386Program } from '../oracle/reference.ts';

const skip = process.env.WASMVISOR_SKIP_BOOT === '1';
const PROMPT = /\/ # /;

describe.skipIf(skip)('Debian 12 i386 kernel boots to a busybox shell under the translator', () => {
  let guest: GuestImages;
  let program: Uint8Array;
  let expected: { output: string; ranOn: string };
  let machine: Machine;
  let work: string;

  beforeAll(async () => {
    guest = await buildGuest({});
    work = mkdtempSync(join(tmpdir(), 'wasmvisor-boot-'));
    const exe = join(work, 'guest-program');
    execFileSync('gcc', ['-m32', '-march=i686', '-mno-sse', '-static', '-O2', '-o', exe, join(import.meta.dirname, 'guest-program.c'), '-lm']);
    program = new Uint8Array(readFileSync(exe));
    expected = runI386Program(exe);
    // Linux unpacks concatenated cpio archives in order: ours adds /bin/guest-program.
    const extra = writeCpio([{ kind: 'file', path: 'bin/guest-program', data: program, mode: 0o755 }]);
    const base = new Uint8Array(readFileSync(guest.initrd));
    // Each archive must start 4-byte aligned; the kernel skips the zero padding between them.
    const at = (base.length + 3) & ~3;
    const initrd = new Uint8Array(at + extra.length);
    initrd.set(base);
    initrd.set(extra, at);
    machine = await Machine.create({ memory: 128 << 20, kernel: new Uint8Array(readFileSync(guest.kernel)), initrd, cmdline: guest.cmdline, engine: 'dbt', onReset: 'stop' });
    // The tests read the console through waitFor/consoleText: let the stream drain (an unread
    // stream would hold the guest's serial output back, as flow control does).
    machine.serial.output.resume();
    await machine.start();
  }, 600_000);

  afterAll(async () => {
    await machine?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /**
   * Runs a command and returns its output. The output goes to a file first and is printed between
   * two markers that the shell computes, so neither the terminal's echo of the command line nor
   * line-editing redraws can be mistaken for output.
   */
  let serial = 0;
  async function shell(cmd: string): Promise<string> {
    const n = ++serial;
    const begin = `__begin_${n * 1000 + 1}__`;
    const end = `__end_${n * 1000 + 2}__`;
    const wait = machine.waitFor(new RegExp(`${end}\\r?\\n`), { timeoutMs: 120_000 });
    const before = machine.consoleText().length;
    machine.write(`${cmd} > /tmp/out 2>&1; echo __begin_$((${n}*1000+1))__; cat /tmp/out; echo __end_$((${n}*1000+2))__\n`);
    await wait;
    const text = machine.consoleText().slice(before).replace(/\r/g, '');
    const a = text.indexOf(`${begin}\n`);
    const b = text.indexOf(end, a);
    return text.slice(a + begin.length + 1, b).replace(/\n$/, '');
  }

  it('reaches the shell marker and prompt, with ACPI tables and the pvpanic driver bound', async () => {
    await machine.waitFor(guest.marker, { timeoutMs: 480_000, fromStart: true });
    await machine.waitFor(PROMPT, { timeoutMs: 60_000, fromStart: true });
    expect(machine.consoleText()).not.toMatch(/RSDP/);
    expect(await shell('dmesg | grep -c "ACPI: PM: (supports S0 S5)"')).toBe('1');
    expect(await shell('ls /sys/bus/platform/drivers/pvpanic-mmio')).toMatch(/QEMU0001:00/);
    // The default command line has `quiet`, so the banner is read from /proc.
    expect(await shell('cat /proc/version')).toMatch(/^Linux version 6\.1\.0-\d+-686 .*Debian/);
  }, 600_000);

  it('runs uname -a', async () => {
    const out = await shell('uname -a');
    expect(out).toMatch(/^Linux \S+ 6\.1\.0-\d+-686 #1 SMP PREEMPT_DYNAMIC Debian .* i686 GNU\/Linux$/m);
  }, 180_000);

  it('reports the virtual i686 CPU in /proc/cpuinfo', async () => {
    const out = await shell('cat /proc/cpuinfo');
    expect(out).toMatch(/vendor_id\s*: GenuineIntel/);
    expect(out).toMatch(/cpu family\s*: 6/);
    const flags = /^flags\s*: (.*)$/m.exec(out)?.[1].split(/\s+/) ?? [];
    for (const f of ['fpu', 'de', 'pse', 'tsc', 'msr', 'cx8', 'apic', 'sep', 'pge', 'cmov']) expect(flags, f).toContain(f);
    for (const f of ['sse', 'sse2', 'mmx', 'pae']) expect(flags, f).not.toContain(f);
  }, 180_000);

  it('runs a small C program with the same output as on the reference (real CPU or qemu-i386)', async () => {
    const out = await shell('/bin/guest-program');
    expect(out.trim(), `expected output from ${expected.ranOn}`).toBe(expected.output.trim());
  }, 300_000);

  it('powers off on `poweroff` (busybox signals init, which enters ACPI S5)', async () => {
    machine.write('poweroff\n');
    const exit = await Promise.race([machine.exited, new Promise<null>((r) => setTimeout(() => r(null), 120_000))]);
    expect(exit).toEqual({ reason: 'poweroff', exitCode: 0, detail: 'ACPI S5 (soft off) through PM1a_CNT' });
    expect(machine.consoleText()).toMatch(/reboot: Power down/);
    const s = machine.stats();
    expect(s.instructions).toBeGreaterThan(1e9);
    expect(s.translator?.regions ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
