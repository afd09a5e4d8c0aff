import { describe, expect, it } from 'vitest';
import { helpText, parseArgs, parseMemory, UsageError } from '../../src/cli/args.ts';
import { EscapeFilter } from '../../src/cli/escape.ts';

describe('CLI arguments', () => {
  it('accepts QEMU spellings and ours alike', () => {
    const a = parseArgs(['run', '-kernel', 'k.bin', '-initrd', 'i.gz', '-append', 'console=ttyS0', '-m', '256M', '-nographic']);
    const b = parseArgs(['run', '--kernel=k.bin', '--initrd', 'i.gz', '--append', 'console=ttyS0', '--memory', '256M', '--nographic']);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ command: 'run', kernel: 'k.bin', initrd: 'i.gz', append: 'console=ttyS0', memory: 256 << 20, accel: 'dbt' });
  });
  it('treats a leading option as an implicit run, like qemu', () => {
    expect(parseArgs(['-kernel', 'x'])).toMatchObject({ command: 'run', kernel: 'x' });
  });
  it('parses memory sizes the way QEMU does', () => {
    expect(parseMemory('128')).toBe(128 << 20);
    expect(parseMemory('1G')).toBe(1 << 30);
    expect(parseMemory('65536K')).toBe(64 << 20);
    expect(parseMemory('1.5G')).toBe(1536 << 20);
    expect(parseMemory('0.5G')).toBe(512 << 20);
    expect(() => parseMemory('12Q')).toThrow(UsageError);
    expect(() => parseMemory('1K')).toThrow(/between 2 MiB and 1792 MiB/);
  });
  it('rejects unknown options and bad values with a message naming them', () => {
    expect(() => parseArgs(['run', '--bogus'])).toThrow(/unknown option '--bogus'/);
    expect(() => parseArgs(['run', '--accel', 'kvm'])).toThrow(/--accel must be/);
    expect(() => parseArgs(['run', '--timeout', '-3'])).toThrow(/--timeout/);
    expect(() => parseArgs(['run', '--exit-on', '('])).toThrow(/regular expression/);
    expect(() => parseArgs(['run', '--kernel'])).toThrow(/needs a value/);
    expect(() => parseArgs(['run', '--initrd', 'x'])).toThrow(/needs --kernel/);
    expect(() => parseArgs(['frobnicate'])).toThrow(/unknown command/);
  });
  it('shows the run help for run --help and run -h, with the exit-code table', () => {
    expect(parseArgs(['run', '--help'])).toEqual({ command: 'help', topic: 'run' });
    expect(parseArgs(['run', '-kernel', 'k', '-h'])).toEqual({ command: 'help', topic: 'run' });
    const text = helpText('run');
    for (const line of [/^ {2}0 .*powered off/m, /^ {2}100 .*-no-reboot/m, /^ {2}102 .*panic/m, /^ {2}104 .*halted/m, /^ {2}124 .*--timeout/m, /^ {2}128 \+ N .*SIGTERM 143/m, /^ {2}70 .*host error/m]) {
      expect(text).toMatch(line);
    }
  });
  it('takes -no-reboot as QEMU does', () => {
    expect(parseArgs(['run', '-kernel', 'k'])).toMatchObject({ noReboot: false });
    expect(parseArgs(['run', '-kernel', 'k', '-no-reboot'])).toMatchObject({ noReboot: true });
    expect(parseArgs(['run', '-kernel', 'k', '--no-reboot'])).toMatchObject({ noReboot: true });
  });
  it('takes --restore and --snapshot-file, and refuses --restore with what the snapshot holds', () => {
    expect(parseArgs(['run', '--restore', 's.snap', '--accel', 'interp'])).toMatchObject({ restore: 's.snap', accel: 'interp' });
    expect(parseArgs(['run', '--snapshot-file=x.snap'])).toMatchObject({ snapshotFile: 'x.snap' });
    expect(() => parseArgs(['run', '--restore', 's.snap', '-m', '64M'])).toThrow(/--restore cannot be combined with -m/);
    expect(() => parseArgs(['run', '--restore', 's.snap', '--kernel', 'k', '--append', 'x'])).toThrow(/--kernel, --append/);
  });
  it('maps -accel tcg to the translator and parses the run flags', () => {
    expect(parseArgs(['run', '-accel', 'tcg', '--stats', '--timeout', '2.5', '--exit-on', 'login:'])).toMatchObject({ accel: 'dbt', stats: true, timeout: 2.5 });
  });
});

describe('console escape filter', () => {
  function run(chunks: number[][]): { guest: number[]; actions: string[] } {
    const f = new EscapeFilter();
    const guest: number[] = [];
    const actions: string[] = [];
    for (const c of chunks) f.feed(Uint8Array.from(c), (b) => guest.push(...b), (a) => actions.push(a));
    return { guest, actions };
  }
  it('passes ordinary bytes and Ctrl-C through', () => {
    expect(run([[0x61, 0x03, 0x0d]])).toEqual({ guest: [0x61, 0x03, 0x0d], actions: [] });
  });
  it('handles Ctrl-A x, h, s, i and a, also split across reads', () => {
    expect(run([[0x41, 0x01], [0x78, 0x42]])).toEqual({ guest: [0x41, 0x42], actions: ['quit'] });
    expect(run([[0x01, 0x68, 0x01, 0x73, 0x01], [0x69]])).toEqual({ guest: [], actions: ['help', 'snapshot', 'stats'] });
    expect(run([[0x01, 0x61]])).toEqual({ guest: [0x01], actions: [] });
  });
});
