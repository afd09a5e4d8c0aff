/**
 * bench:guest's pure logic: console lines split and stamped, the bench's lines parsed, one run's
 * measurements recorded, the summary's medians, ratios and drift, the statistics' grouping.
 * No VM and no timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { LineSplitter, parseBenchLine, RunRecorder } from '../../../bench/guest/console.ts';
import { benchCmdline, benchInitScript } from '../../../bench/guest/guest.ts';
import { formatStats, formatTable, groupKeys, medianDeltas, summarize } from '../../../bench/guest/report.ts';
import type { RunResult } from '../../../bench/guest/session.ts';

describe('LineSplitter', () => {
  it('stamps each line with the arrival time of its line feed, across chunks', () => {
    const s = new LineSplitter();
    expect(s.feed('@wvb st', 1)).toEqual([]);
    expect(s.feed('art compute n=5\r\nker', 2)).toEqual([{ text: '@wvb start compute n=5', atMs: 2 }]);
    expect(s.pending()).toBe('ker');
    expect(s.feed('nel\r\n\r\nx\n', 3)).toEqual([
      { text: 'kernel', atMs: 3 },
      { text: '', atMs: 3 },
      { text: 'x', atMs: 3 },
    ]);
  });
});

describe('parseBenchLine', () => {
  it('parses every kind of line', () => {
    expect(parseBenchLine('@wvb init scale=0.05 only=all')).toEqual({ kind: 'init', fields: { scale: '0.05', only: 'all' } });
    expect(parseBenchLine('@wvb start fork n=50')).toEqual({ kind: 'start', workload: 'fork', n: 50 });
    expect(parseBenchLine('@wvb end fork OK n=50 mono_ns=1500000000 real_ns=1499999000 result=3175')).toEqual({
      kind: 'end', workload: 'fork', ok: true, n: 50, monoNs: 1.5e9, realNs: 1499999000, result: '3175',
    });
    expect(parseBenchLine('@wvb end pipe FAIL n=5 mono_ns=1 real_ns=2 result=0 why=the echoed byte is wrong')).toMatchObject({
      kind: 'end', ok: false, why: 'the echoed byte is wrong',
    });
    expect(parseBenchLine('@wvb summary ran=8 failed=0')).toEqual({ kind: 'summary', ran: 8, failed: 0 });
    expect(parseBenchLine('@wvb exit 0')).toEqual({ kind: 'exit', code: 0 });
  });

  it('ignores other console lines and finds the prefix after interleaved text', () => {
    expect(parseBenchLine('[    0.748000] Failed to access perfctr msr')).toBeNull();
    expect(parseBenchLine('@wvb bogus')).toBeNull();
    expect(parseBenchLine('@wvb end x MAYBE n=1')).toBeNull();
    expect(parseBenchLine('[ 1.0] msg@wvb exit 3')).toEqual({ kind: 'exit', code: 3 });
  });
});

describe('RunRecorder', () => {
  it('times the boot and each workload by host arrival times', () => {
    const r = new RunRecorder(1000);
    r.line({ text: 'Linux booting', atMs: 1100 });
    r.line({ text: '@wvb init scale=1 only=all', atMs: 3000 });
    r.line({ text: '@wvb start calls n=10', atMs: 3500 });
    expect(r.current()).toBe('calls');
    r.line({ text: '@wvb end calls OK n=10 mono_ns=900000000 real_ns=950000000 result=145', atMs: 4500 });
    r.line({ text: '@wvb end fork OK n=1 mono_ns=1 real_ns=1 result=0', atMs: 4600 });
    r.line({ text: '@wvb exit 0', atMs: 4700 });
    expect(r.bootSeconds).toBe(2);
    expect(r.workloads).toEqual([
      { workload: 'calls', n: 10, ok: true, hostSeconds: 1, guestMonoSeconds: 0.9, guestRealSeconds: 0.95, result: '145' },
    ]);
    expect(r.errors).toEqual(['end line for fork without its start line']);
    expect(r.exitCode).toBe(0);
    expect(r.current()).toBeNull();
  });
});

describe('the bench guest', () => {
  it('passes the scale and the workloads on the command line, and the init uses them', () => {
    expect(benchCmdline('console=ttyS0 quiet', 0.05, ['compute', 'fork'])).toBe('console=ttyS0 quiet rdinit=/bench/init wvb_scale=0.05 wvb_only=compute,fork');
    expect(benchCmdline('console=ttyS0', 1, [])).toMatch(/wvb_only=none$/);
    const init = benchInitScript();
    expect(init).toContain('/bench/workloads "${wvb_scale:-1}" "${wvb_only:-all}"');
    expect(init).toMatch(/poweroff -f\n$/);
  });
});

describe('summary', () => {
  const run = (runner: string, round: number, boot: number, host: number, mono: number): RunResult => ({
    runner, round, ok: true, detail: '', bootSeconds: boot, ending: 'powered off',
    workloads: [{ workload: 'fork', n: 1000, ok: true, hostSeconds: host, guestMonoSeconds: mono, guestRealSeconds: mono, result: '0' }],
  });
  const runs = [run('wasmvisor', 1, 20, 4, 3), run('qemu', 1, 4, 1, 1), run('wasmvisor', 2, 22, 6, 6), run('qemu', 2, 5, 2, 2), run('wasmvisor', 3, 21, 5, 5)];

  it('takes medians, min..max, ratios over the peers and the drift', () => {
    const rows = summarize(runs, ['boot', 'fork'], ['wasmvisor', 'qemu']);
    expect(rows[0].cells.wasmvisor).toEqual({ runs: 3, median: 21, min: 20, max: 22 });
    expect(rows[0].ratios.qemu).toBeCloseTo(21 / 4.5);
    expect(rows[1].cells.wasmvisor).toMatchObject({ runs: 3, median: 5, min: 4, max: 6, driftPct: 0, n: 1000 });
    expect(rows[1].cells.wasmvisor.driftPct).toBe(0);
    expect(rows[1].ratios).toEqual({ qemu: 5 / 1.5 });
    const table = formatTable(rows, ['wasmvisor', 'qemu']);
    expect(table).toContain('5.00 (4.00..6.00)');
    expect(table).toContain('3.33x');
    expect(table).not.toContain('v86');
  });

  it('leaves out failed workloads', () => {
    const bad = run('qemu', 3, 4, 9, 9);
    bad.workloads[0].ok = false;
    const rows = summarize([...runs, bad], ['fork'], ['wasmvisor', 'qemu']);
    expect(rows[0].cells.qemu.runs).toBe(2);
  });
});

describe('statistics', () => {
  it('groups flattened counters and takes medians per key, whatever the keys are', () => {
    const d = medianDeltas([
      { instructions: 100, 'exits.cli': 4, 'exits.io': 1, 'cache.hits': 3, 'newGroup.thing': 7 },
      { instructions: 300, 'exits.cli': 6 },
      { instructions: 200, 'exits.cli': 5, 'exits.io': 1 },
    ]);
    expect(d).toEqual({ instructions: 200, 'exits.cli': 5, 'exits.io': 1, 'cache.hits': 0, 'newGroup.thing': 0 });
    const g = groupKeys({ instructions: 1, 'translator.exits from compiled code: fault': 2 });
    expect(g.get('')).toEqual([['instructions', 1]]);
    expect(g.get('translator')).toEqual([['exits from compiled code: fault', 2]]);
    const text = formatStats('fork', 10, { instructions: 1000, 'exits.cli': 30, 'exits.io': 10, 'later.counter': 5, seconds: 0.5 }, 1);
    expect(text).toContain('100 per fork');
    expect(text).toContain('40 total (4.00/fork, one per 25 instructions)');
    expect(text).toContain('cli 30 (3.00/fork), io 10 (1.00/fork)');
    expect(text).toContain('later        counter 5');
    expect(text).toContain('other        seconds 0.500');
  });
});
