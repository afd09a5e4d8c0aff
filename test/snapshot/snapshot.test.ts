/**
 * Snapshots of the whole PC (runtime/snapshot): a snapshot taken mid-workload and restored into
 * a fresh machine — in this process and in a new one — continues bit-identically to a run that
 * was never interrupted (CPU state block, RAM, every device, instruction count, on a
 * ManualClock), under the interpreter and the translator; each device's state round-trips; the
 * container refuses truncated, corrupt and mismatched files with a SnapshotError.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { readContainer, SnapshotError, writeContainerSync } from '../../runtime/snapshot/container.ts';
import type { SectionInput } from '../../runtime/snapshot/container.ts';
import { loadPlain, PC_DEVICES } from '../../runtime/snapshot/devices.ts';
import { packRam, RAM_CHUNK_PAGES, restorePc, savePc, savePcSync, snapshotInfo, unpackRam } from '../../runtime/snapshot/pc-snapshot.ts';
import type { Engine } from '../../runtime/vm.ts';
import { Machine } from '../../src/machine.ts';
import { architectural, digestOf, firstDifference, imageOf, steps, workloadKernel } from './workload.ts';
import type { MachineImage } from './workload.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'wasmvisor-snapshot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Slices before the snapshot, and after it. */
const BEFORE = 25;
const AFTER = 20;

async function machine(engine: Engine, forceTranslate = false): Promise<{ pc: PcMachine; clock: ManualClock }> {
  const clock = new ManualClock();
  const pc = new PcMachine({ memory: 32 << 20, kernel: workloadKernel(), cmdline: 'snapshot test', engine, forceTranslate, clock });
  await pc.vm.prepare();
  return { pc, clock };
}

async function restored(bytes: Uint8Array, engine: Engine, forceTranslate = false): Promise<{ pc: PcMachine; clock: ManualClock }> {
  const clock = new ManualClock(snapshotInfo(bytes).clockNs);
  const pc = restorePc(bytes, { engine, forceTranslate, clock });
  await pc.vm.prepare();
  return { pc, clock };
}

/** Every byte of the CPU state block (less SCRATCH_WORDS) and RAM, every device, the instruction count and HLT state. */
function expectSameMachine(got: MachineImage, want: MachineImage): void {
  expect(got.icount).toBe(want.icount);
  expect(got.halted).toBe(want.halted);
  expect(got.clockNs).toBe(want.clockNs);
  expect(firstDifference(architectural(got.state), architectural(want.state)), 'first differing byte of the CPU state block').toBe(-1);
  expect(firstDifference(got.ram, want.ram), 'first differing RAM address').toBe(-1);
  expect(got.devices).toEqual(want.devices);
}

describe.each([
  ['interp', false],
  ['dbt', false],
  ['dbt', true],
] as const)('a snapshot taken mid-workload (engine %s, forceTranslate %s)', (engine, force) => {
  it('continues bit-identically to an uninterrupted run, in this process', async () => {
    const a = await machine(engine, force);
    steps(a.pc, a.clock, BEFORE);
    const bytes = await savePc(a.pc);
    const atSnapshot = imageOf(a.pc);
    const serialBefore = new TextDecoder().decode(a.pc.takeSerialOutput());
    expect(serialBefore).toMatch(/^\.+$/); // mid-workload: some dots, no result yet
    steps(a.pc, a.clock, AFTER);
    const b = await restored(bytes, engine, force);
    expectSameMachine(imageOf(b.pc), atSnapshot);
    steps(b.pc, b.clock, AFTER);
    expectSameMachine(imageOf(b.pc), imageOf(a.pc));
    expect(b.pc.takeSerialOutput()).toEqual(a.pc.takeSerialOutput());
  });
});

describe('a snapshot restored in a new process', () => {
  it.each(['interp', 'dbt'] as const)('continues bit-identically (engine %s)', async (engine) => {
    const a = await machine(engine);
    steps(a.pc, a.clock, BEFORE);
    const file = join(tmp, `child-${engine}.snap`);
    writeFileSync(file, savePcSync(a.pc));
    a.pc.takeSerialOutput();
    steps(a.pc, a.clock, AFTER);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'restore-child.ts'), file, engine, String(AFTER)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const child = JSON.parse(r.stdout) as { digest: unknown; serial: string };
    expect(child.digest).toEqual(digestOf(imageOf(a.pc)));
    expect(child.serial).toBe(new TextDecoder().decode(a.pc.takeSerialOutput()));
  }, 300_000); // a new process loading binaryen through tsx: 45-100 s on the loaded project host

  it('finishes the workload with the same result through `wasmvisor run --restore`', async () => {
    const kernelFile = join(tmp, 'workload.bin');
    writeFileSync(kernelFile, workloadKernel());
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', ...args], { cwd: ROOT, encoding: 'utf8', input: '' });
    const whole = cli('--kernel', kernelFile, '--append', 'snapshot test', '-m', '32M', '--accel', 'interp');
    const result = /\n([0-9a-f]{8})\n/.exec(whole.stdout);
    expect(result, whole.stdout + whole.stderr).not.toBeNull();
    // The run with real time, interrupted part-way: the checksum does not depend on timing.
    const pc = new PcMachine({ memory: 32 << 20, kernel: workloadKernel(), cmdline: 'snapshot test', engine: 'interp' });
    for (let k = 0; k < BEFORE; k++) expect(pc.step(20_000).reason).toBe('budget');
    const before = new TextDecoder().decode(pc.takeSerialOutput());
    const file = join(tmp, 'cli.snap');
    writeFileSync(file, savePcSync(pc));
    const rest = cli('--restore', file, '--accel', 'interp');
    expect(rest.stderr).toMatch(/restored the snapshot/);
    expect(rest.status).toBe(whole.status);
    expect(before + rest.stdout).toBe(whole.stdout);
  });
});

describe('Machine.saveState and Machine.restore', () => {
  it('snapshot a running machine; the restored one finishes with the same output and exit code', async () => {
    const whole = await Machine.create({ kernel: workloadKernel(), memory: 32 << 20, engine: 'interp' });
    whole.serial.output.resume();
    await whole.start();
    const end = await whole.exited;
    expect(end.reason).toBe('exit');

    const m = await Machine.create({ kernel: workloadKernel(), memory: 32 << 20, engine: 'interp' });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('....');
    // While it runs: the state is taken at the call, so the console text up to then goes with it
    // (the guest runs on while the snapshot is compressed).
    const before = m.consoleText();
    const bytes = await m.saveState();
    await m.stop();
    expect(before).toMatch(/^\.+$/);
    const r = await Machine.restore(bytes);
    r.serial.output.resume();
    await r.start();
    expect(await r.exited).toEqual(end);
    expect(before + r.consoleText()).toBe(whole.consoleText());
  });

  it('rejects bad options and bad snapshots clearly', async () => {
    await expect(Machine.restore(new Uint8Array(10))).rejects.toThrow(SnapshotError);
    await expect(Machine.restore(new Uint8Array(10), { memory: 1 } as never)).rejects.toThrow(/unknown option 'memory' \(the snapshot holds the memory\)/);
    await expect(Machine.restore('x' as never)).rejects.toThrow(TypeError);
  });
});

describe('device state', () => {
  it.each(PC_DEVICES.map((d) => [d.name, d] as const))('%s round-trips through its section', async (_name, dev) => {
    const a = await machine('interp');
    steps(a.pc, a.clock, 3);
    const fresh = new PcMachine({ memory: 32 << 20, kernel: workloadKernel(), clock: new ManualClock() });
    const saved = dev.save(a.pc.devices);
    // The workload leaves every device in a state of its own: the test can tell a lost field.
    expect(dev.save(fresh.devices)).not.toEqual(saved);
    dev.load(fresh.devices, saved);
    expect(dev.save(fresh.devices)).toEqual(saved);
  });

  it('refuses a state of another shape, naming the field', () => {
    const live = { a: 1, b: [{ x: 1 }], c: { d: true } };
    expect(() => loadPlain(structuredClone(live), { a: 1, b: [{ x: 1 }] }, 'dev')).toThrow(/dev\.c is missing from the snapshot/);
    expect(() => loadPlain(structuredClone(live), { ...live, e: 1 }, 'dev')).toThrow(/dev\.e is in the snapshot but not on this machine/);
    expect(() => loadPlain(structuredClone(live), { ...live, b: [{ x: 'no' }] }, 'dev')).toThrow(/dev\.b\[0\]\.x is string in the snapshot, number here/);
    const target = structuredClone(live);
    loadPlain(target, { a: 2, b: [{ x: 3 }, { x: 4 }], c: { d: false } }, 'dev');
    expect(target).toEqual({ a: 2, b: [{ x: 3 }, { x: 4 }], c: { d: false } });
  });

  it('keeps non-finite numbers (a timer that never fires)', () => {
    const dev = PC_DEVICES.find((d) => d.name === 'pit')!;
    const pc = new PcMachine({ memory: 32 << 20, kernel: workloadKernel(), clock: new ManualClock() });
    pc.devices.pit.state.channels[1].nextPeriodTick = Infinity;
    const bytes = dev.save(pc.devices);
    pc.devices.pit.state.channels[1].nextPeriodTick = 0;
    dev.load(pc.devices, bytes);
    expect(pc.devices.pit.state.channels[1].nextPeriodTick).toBe(Infinity);
  });
});

describe('RAM packing', () => {
  it('skips all-zero pages, splits the rest into sections and puts every byte back', () => {
    const pages = RAM_CHUNK_PAGES * 2 + 64;
    const ram = new Uint8Array(pages * 4096);
    ram[5 * 4096 + 17] = 1;
    ram[(pages - 1) * 4096 + 4095] = 0xff;
    for (let p = 100; p < 100 + RAM_CHUNK_PAGES + 1; p++) ram[p * 4096 + (p & 0xfff)] = p & 0xff || 1;
    const packed = packRam(ram);
    expect(packed.map.length).toBe(pages / 8);
    expect(packed.chunks.map((c) => c.length / 4096)).toEqual([RAM_CHUNK_PAGES, 3]);
    const back = new Uint8Array(ram.length).fill(0xcc);
    unpackRam(packed, back);
    expect(firstDifference(back, ram)).toBe(-1);
    expect(() => unpackRam({ map: packed.map, chunks: [packed.chunks[0]] }, back)).toThrow(/1 RAM sections for 2051 pages, expected 2/);
    expect(() => unpackRam({ map: packed.map, chunks: [packed.chunks[0], packed.chunks[1].subarray(4096)] }, back)).toThrow(/section 'ram.1' has 8192 bytes, expected 12288/);
  });
});

describe('a bad snapshot file', () => {
  let good: Uint8Array;
  const get = async (): Promise<Uint8Array> => {
    if (!good) {
      const a = await machine('interp');
      steps(a.pc, a.clock, 2);
      good = savePcSync(a.pc);
    }
    return good;
  };
  /** The good file's sections, with `edit` applied, written again. */
  const rebuilt = async (edit: (s: SectionInput[]) => void): Promise<Uint8Array> => {
    const sections = [...readContainer(await get())].map(([name, data]) => ({ name, data, compress: name.startsWith('ram') }));
    edit(sections);
    return writeContainerSync(sections);
  };
  const config = (s: SectionInput[]): Record<string, unknown> => JSON.parse(new TextDecoder().decode(s[0].data)) as Record<string, unknown>;
  const setConfig = (s: SectionInput[], c: Record<string, unknown>): void => {
    s[0] = { ...s[0], data: new TextEncoder().encode(JSON.stringify(c)) };
  };

  it('is refused when truncated anywhere', async () => {
    const bytes = await get();
    for (const cut of [0, 4, 8, 12, 20, 100, bytes.length >> 1, bytes.length - 1]) {
      expect(() => restorePc(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(SnapshotError);
    }
    expect(() => restorePc(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });

  it('is refused when a byte is flipped anywhere', async () => {
    const bytes = await get();
    for (let at = 8; at < bytes.length; at += Math.floor(bytes.length / 97)) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(() => restorePc(bad), `flip at ${at}`).toThrow(SnapshotError);
    }
  });

  it('is refused with a message that says why', async () => {
    const bytes = await get();
    expect(() => restorePc(new TextEncoder().encode('hello world, not a snapshot'))).toThrow(/not a wasmvisor snapshot/);
    const v2 = bytes.slice();
    v2[8] = 2;
    expect(() => restorePc(v2)).toThrow(/format version 2 is not supported/);
    expect(() => restorePc(Uint8Array.of(...bytes, 0))).toThrow(/trailing garbage/);
    const flip = bytes.slice();
    flip[bytes.length - 10] ^= 1;
    expect(() => restorePc(flip)).toThrow(/checksum mismatch in section/);
    const layout = await rebuilt((s) => setConfig(s, { ...config(s), stateLayout: 1 }));
    expect(() => restorePc(layout)).toThrow(/different CPU state layout/);
    const noPic = await rebuilt((s) => s.splice(s.findIndex((x) => x.name === 'dev:pic'), 1));
    expect(() => restorePc(noPic)).toThrow(/section 'dev:pic' is missing/);
    const alien = await rebuilt((s) => setConfig(s, { ...config(s), devices: [...(config(s).devices as string[]), 'hpet'] }));
    expect(() => restorePc(alien)).toThrow(/device 'hpet' is in the snapshot but not on this machine/);
    const shape = await rebuilt((s) => {
      const k = s.findIndex((x) => x.name === 'dev:rtc');
      s[k] = { ...s[k], data: new TextEncoder().encode('{"cmos":[]}') };
    });
    expect(() => restorePc(shape)).toThrow(/rtc\.index is missing from the snapshot/);
  });

  it('makes `wasmvisor run --restore` exit with status 2 and a clear message', async () => {
    const bad = (await get()).slice(0, 1000);
    const file = join(tmp, 'truncated.snap');
    writeFileSync(file, bad);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', '--restore', file], { cwd: ROOT, encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^wasmvisor: snapshot truncated: section 'cpu\.state' needs 4096 bytes at offset \d+, the file has 1000$/m);
  });
});
