/**
 * Snapshots of a PC with disks (runtime/snapshot/disks.ts): a guest driving a virtio-blk disk
 * and an IDE disk (disk-workload.ts) is snapshotted in the middle of an IDE PIO transfer, and
 * with a bus-master DMA command waiting for its start bit;
 * restored into a fresh machine — in this process and in a new one — it continues
 * bit-identically to the uninterrupted run (CPU state block, RAM, every device, the disk
 * controllers' state and the snapshot=on overlays' contents, on a ManualClock) and finishes with
 * the same result, under the interpreter and the translator. With writable images (raw and a
 * qcow2 overlay) the restored run leaves the same disk contents as an uninterrupted one. A
 * changed, missing or resized image, and corrupt or truncated disk sections, are refused with a
 * SnapshotError that says why.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDrive } from '../../runtime/block/drive.ts';
import type { DriveSpec } from '../../runtime/block/drive.ts';
import { MemoryOverlay } from '../../runtime/block/memory-overlay.ts';
import { openImage, Qcow2Image } from '../../runtime/block/qcow2.ts';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { readContainer, SnapshotError, writeContainerSync } from '../../runtime/snapshot/container.ts';
import type { SectionInput } from '../../runtime/snapshot/container.ts';
import { restorePc, savePc, savePcSync, snapshotInfo } from '../../runtime/snapshot/pc-snapshot.ts';
import type { Engine } from '../../runtime/vm.ts';
import { Machine } from '../../src/machine.ts';
import { main } from '../../src/cli/main.ts';
import { captureIo } from '../cli/cli-io.ts';
import type { PassThrough } from 'node:stream';
import { diskWorkloadKernel } from './disk-workload.ts';
import { diskDigestOf, diskImageOf, DISK_SLICE, diskSteps, withoutDeadFlags } from './disk-image.ts';
import type { DiskMachineImage } from './disk-image.ts';
import { architectural, firstDifference } from './workload.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'wasmvisor-disk-snapshot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DISK_BYTES = 64 * 1024;
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A raw image whose bytes are a pattern (so reads of sectors nobody wrote count too). */
function image(name: string): string {
  const b = new Uint8Array(DISK_BYTES);
  for (let i = 0; i < b.length; i++) b[i] = (i * 13 + (i >> 9)) & 0xff;
  const file = join(tmp, name);
  writeFileSync(file, b);
  return file;
}

/** Both test drives with snapshot=on, over fresh images named after `tag`. */
function overlayDrives(tag: string): DriveSpec[] {
  return [
    { file: image(`${tag}-vd.raw`), format: 'raw', if: 'virtio', snapshot: true },
    { file: image(`${tag}-sd.raw`), format: 'raw', if: 'ide', snapshot: true },
  ];
}

async function machine(drives: DriveSpec[], engine: Engine, forceTranslate = false): Promise<{ pc: PcMachine; clock: ManualClock }> {
  const clock = new ManualClock();
  const disks = drives.map((d) => ({ backend: openDrive(d), interface: d.if ?? 'virtio' }));
  const pc = new PcMachine({ memory: 32 << 20, kernel: diskWorkloadKernel(), cmdline: 'disk snapshot test', engine, forceTranslate, clock, disks });
  await pc.vm.prepare();
  return { pc, clock };
}

async function restored(bytes: Uint8Array, engine: Engine, forceTranslate = false): Promise<{ pc: PcMachine; clock: ManualClock }> {
  const clock = new ManualClock(snapshotInfo(bytes).clockNs);
  const pc = restorePc(bytes, { engine, forceTranslate, clock });
  await pc.vm.prepare();
  return { pc, clock };
}

/** `min` steps, then single instructions until the IDE channel is in the middle of a PIO data transfer. */
function toMidTransfer(pc: PcMachine, clock: ManualClock, min: number): void {
  diskSteps(pc, clock, min);
  for (let n = 0; pc.devices.storage.ide!.state.transfer === 'none'; n++) {
    if (n > 200_000) throw new Error('the workload never stopped mid-transfer');
    if (pc.step(1).reason !== 'budget') throw new Error('the workload ended early');
  }
}

/** From mid-transfer, single instructions until a READ DMA command waits for the bus master's start bit. */
function toPendingDma(pc: PcMachine, clock: ManualClock, min: number): void {
  toMidTransfer(pc, clock, min);
  for (let n = 0; pc.devices.storage.ide!.state.dma === 'none'; n++) {
    if (n > 200_000) throw new Error('the workload never left a DMA command pending');
    if (pc.step(1).reason !== 'budget') throw new Error('the workload ended early');
  }
}

/** Runs to the workload's end: its exit code and console output. */
function finish(pc: PcMachine): { reason: string; exitCode?: number; serial: string } {
  for (let k = 0; k < 2000; k++) {
    const r = pc.step(DISK_SLICE);
    if (r.reason !== 'budget') return { reason: r.reason, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), serial: new TextDecoder().decode(pc.takeSerialOutput()) };
  }
  throw new Error('the workload does not end');
}

function expectSameMachine(got: DiskMachineImage, want: DiskMachineImage, deadFlagsMayDiffer = false): void {
  expect(got.icount).toBe(want.icount);
  expect(got.halted).toBe(want.halted);
  expect(got.clockNs).toBe(want.clockNs);
  const cpu = deadFlagsMayDiffer ? withoutDeadFlags : architectural;
  expect(firstDifference(cpu(got.state), cpu(want.state)), 'first differing byte of the CPU state block').toBe(-1);
  expect(firstDifference(got.ram, want.ram), 'first differing RAM address').toBe(-1);
  expect(got.devices).toEqual(want.devices);
  expect(got.disks).toEqual(want.disks);
}

/** Steps before the snapshot (the first IDE transfer after it), and after it. */
const BEFORE = 40;
const AFTER = 30;

describe.each([
  ['interp', false],
  ['dbt', false],
  ['dbt', true],
] as const)('a snapshot of a machine with a virtio and an IDE disk (snapshot=on), engine %s, forceTranslate %s', (engine, force) => {
  const deadFlags = engine === 'dbt' && !force;
  it('taken mid-transfer, continues bit-identically and finishes with the same result', async () => {
    const drives = overlayDrives(`${engine}-${force}`);
    const hashes = drives.map((d) => sha(d.file));
    const a = await machine(drives, engine, force);
    toMidTransfer(a.pc, a.clock, BEFORE);
    const bytes = await savePc(a.pc);
    const atSnapshot = diskImageOf(a.pc);
    // Mid-workload, mid-transfer, with data the guest wrote that lives only in the overlays.
    expect(atSnapshot.disks.ide.transfer).not.toBe('none');
    expect(atSnapshot.disks.overlays.every((o) => o.chunks > 0)).toBe(true);
    expect(snapshotInfo(bytes).drives?.map((d) => [d.interface, d.snapshot, d.format])).toEqual([['virtio', true, 'raw'], ['ide', true, 'raw']]);
    const serialBefore = new TextDecoder().decode(a.pc.takeSerialOutput());
    diskSteps(a.pc, a.clock, AFTER);
    const b = await restored(bytes, engine, force);
    expectSameMachine(diskImageOf(b.pc), atSnapshot);
    diskSteps(b.pc, b.clock, AFTER);
    expectSameMachine(diskImageOf(b.pc), diskImageOf(a.pc), deadFlags);
    const endA = finish(a.pc);
    const endB = finish(b.pc);
    expect(endB).toEqual(endA);
    expectSameMachine(diskImageOf(b.pc), diskImageOf(a.pc));
    expect(endA.reason).toBe('exit');
    expect(serialBefore + endA.serial).toMatch(/^\.{12}[0-9a-f]{8}\n$/);
    // The base images were never written.
    expect(drives.map((d) => sha(d.file))).toEqual(hashes);
    a.pc.closeDisks();
    b.pc.closeDisks();
  }, 300_000);

  it('taken while a DMA command waits for the start bit, continues bit-identically', async () => {
    const a = await machine(overlayDrives(`dma-${engine}-${force}`), engine, force);
    toPendingDma(a.pc, a.clock, BEFORE);
    const bytes = await savePc(a.pc);
    const atSnapshot = diskImageOf(a.pc);
    expect(atSnapshot.disks.ide.dma).toBe('read');
    a.pc.takeSerialOutput();
    diskSteps(a.pc, a.clock, AFTER);
    const b = await restored(bytes, engine, force);
    expectSameMachine(diskImageOf(b.pc), atSnapshot);
    diskSteps(b.pc, b.clock, AFTER);
    expectSameMachine(diskImageOf(b.pc), diskImageOf(a.pc), deadFlags);
    expect(finish(b.pc)).toEqual(finish(a.pc));
    expectSameMachine(diskImageOf(b.pc), diskImageOf(a.pc));
    a.pc.closeDisks();
    b.pc.closeDisks();
  }, 300_000);
});

describe('a disk snapshot restored in a new process', () => {
  it.each(['interp', 'dbt'] as const)('continues bit-identically (engine %s)', async (engine) => {
    const a = await machine(overlayDrives(`child-${engine}`), engine);
    toMidTransfer(a.pc, a.clock, BEFORE);
    const file = join(tmp, `child-${engine}.snap`);
    writeFileSync(file, savePcSync(a.pc));
    a.pc.takeSerialOutput();
    diskSteps(a.pc, a.clock, AFTER);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'disk-restore-child.ts'), file, engine, String(AFTER)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const child = JSON.parse(r.stdout) as { digest: unknown; end: unknown; final: unknown };
    // (Mid-run under dbt, dead flags may differ: withoutDeadFlags says why.)
    expect(child.digest).toEqual(diskDigestOf(diskImageOf(a.pc), engine === 'dbt'));
    expect(child.end).toEqual(finish(a.pc));
    expect(child.final).toEqual(diskDigestOf(diskImageOf(a.pc), false));
    a.pc.closeDisks();
  }, 300_000); // a new process loading binaryen through tsx: 45-100 s on the loaded project host
});

describe('writable disks in a snapshot', () => {
  /** A raw virtio image and a qcow2 overlay (over a raw base) on IDE. */
  function writableDrives(tag: string): { drives: DriveSpec[]; base: string } {
    const base = image(`${tag}-base.raw`);
    const overlay = join(tmp, `${tag}-sd.qcow2`);
    Qcow2Image.create(overlay, { backingFile: base, backingFormat: 'raw' });
    return { drives: [{ file: image(`${tag}-vd.raw`), format: 'raw', if: 'virtio' }, { file: overlay, format: 'qcow2', if: 'ide' }], base };
  }
  const contents = (spec: DriveSpec): string => {
    const b = openImage(spec.file, { readOnly: true });
    const data = new Uint8Array(b.size);
    b.read(0, data);
    b.close();
    return createHash('sha256').update(data).digest('hex');
  };

  it('restore onto the images as saved: the disks end as an uninterrupted run leaves them; a second restore is refused', async () => {
    const whole = writableDrives('whole');
    const u = await machine(whole.drives, 'interp');
    const endU = finish(u.pc);
    u.pc.closeDisks();

    const cut = writableDrives('cut');
    const baseHash = sha(cut.base);
    const a = await machine(cut.drives, 'interp');
    toMidTransfer(a.pc, a.clock, BEFORE);
    const serialBefore = new TextDecoder().decode(a.pc.takeSerialOutput());
    const bytes = savePcSync(a.pc);
    const info = snapshotInfo(bytes);
    expect(info.drives?.map((d) => [d.format, d.readOnly, d.snapshot, d.files.length])).toEqual([['raw', false, false, 1], ['qcow2', false, false, 2]]);
    a.pc.closeDisks(); // the machine that took it stops here: the images stay as saved

    const b = await restored(bytes, 'interp');
    const endB = finish(b.pc);
    b.pc.closeDisks();
    expect(serialBefore + endB.serial).toBe(endU.serial);
    expect(endB.exitCode).toBe(endU.exitCode);
    expect(cut.drives.map(contents)).toEqual(whole.drives.map(contents));
    expect(sha(cut.base)).toBe(baseHash);
    expect(spawnSync('qemu-img', ['check', cut.drives[1].file]).status).toBe(0);

    // The restored run wrote the images: the snapshot no longer fits them.
    expect(() => restorePc(bytes)).toThrow(SnapshotError);
    expect(() => restorePc(bytes)).toThrow(/cut-vd\.raw changed since the snapshot was taken \(modified at .*; its first MiB differs\)/);
  }, 300_000);
});

describe('a snapshot whose disk images changed', () => {
  async function saved(tag: string): Promise<{ bytes: Uint8Array; drives: DriveSpec[] }> {
    const drives = overlayDrives(tag);
    const a = await machine(drives, 'interp');
    diskSteps(a.pc, a.clock, 10);
    const bytes = savePcSync(a.pc);
    a.pc.closeDisks();
    return { bytes, drives };
  }

  it('restores while they are unchanged, any number of times', async () => {
    const { bytes } = await saved('same');
    for (let k = 0; k < 2; k++) {
      const b = restorePc(bytes, { clock: new ManualClock(snapshotInfo(bytes).clockNs) });
      expect(b.devices.storage.virtio.length).toBe(1);
      expect((b.devices.storage.virtio[0].disk as MemoryOverlay).chunks().length).toBeGreaterThan(0);
      b.closeDisks();
    }
  });

  it('is refused when a base image was written, resized, touched or removed', async () => {
    const { bytes, drives } = await saved('changed');
    const [vd, sd] = drives.map((d) => d.file);
    const keep = readFileSync(vd);
    // One byte changed, the modification time put back: the hash of the first MiB catches it.
    const st = { atime: new Date(), mtime: new Date(0) };
    const b = Buffer.from(keep);
    b[4097] ^= 1;
    writeFileSync(vd, b);
    utimesSync(vd, st.atime, st.mtime);
    expect(() => restorePc(bytes)).toThrow(/snapshot cannot be restored: its disk images must be as they were when it was taken — .*changed-vd\.raw changed since the snapshot was taken \(modified at 1970-01-01T00:00:00\.000Z, the snapshot expects .*; its first MiB differs\)/);
    writeFileSync(vd, keep);
    utimesSync(vd, new Date(), new Date(Date.now() + 5000));
    expect(() => restorePc(bytes)).toThrow(/changed-vd\.raw changed since the snapshot was taken \(modified at [^;]*\)/);
    appendFileSync(sd, new Uint8Array(512));
    expect(() => restorePc(bytes)).toThrow(/changed-sd\.raw changed since the snapshot was taken \(size 65536 -> 66048 bytes/);
    rmSync(sd);
    expect(() => restorePc(bytes)).toThrow(/disk image .*changed-sd\.raw cannot be read: ENOENT/);
    expect(() => restorePc(bytes)).toThrow(SnapshotError);
  });
});

describe('a snapshot with bad disk sections', () => {
  let good: Uint8Array | null = null;
  const get = async (): Promise<Uint8Array> => {
    if (!good) {
      const a = await machine(overlayDrives('bad'), 'interp');
      toMidTransfer(a.pc, a.clock, 20);
      good = savePcSync(a.pc);
      a.pc.closeDisks();
    }
    return good;
  };
  const rebuilt = async (edit: (s: SectionInput[]) => void): Promise<Uint8Array> => {
    const sections = [...readContainer(await get())].map(([name, data]) => ({ name, data, compress: false }));
    edit(sections);
    return writeContainerSync(sections);
  };
  const at = (s: SectionInput[], name: string): number => {
    const k = s.findIndex((x) => x.name === name);
    if (k < 0) throw new Error(`no section ${name}`);
    return k;
  };
  const config = (s: SectionInput[]): Record<string, unknown> => JSON.parse(new TextDecoder().decode(s[0].data)) as Record<string, unknown>;
  const setConfig = (s: SectionInput[], c: Record<string, unknown>): void => {
    s[0] = { ...s[0], data: new TextEncoder().encode(JSON.stringify(c)) };
  };

  it('is refused when truncated in or flipped in a disk section', async () => {
    const bytes = await get();
    const names = [...readContainer(bytes).keys()];
    expect(names.filter((n) => /^(dev:virtio-blk|dev:ide|disk\.)/.test(n))).toEqual(['dev:virtio-blk.0', 'dev:ide', 'disk.0.map', 'disk.0.0', 'disk.1.map', 'disk.1.0']);
    // The disk sections come last: cut and flip there.
    const start = bytes.length - 4096;
    for (let cut = start; cut < bytes.length; cut += 997) expect(() => restorePc(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(/snapshot truncated/);
    for (let pos = start; pos < bytes.length; pos += 331) {
      const bad = bytes.slice();
      bad[pos] ^= 0x04;
      expect(() => restorePc(bad), `flip at ${pos}`).toThrow(SnapshotError);
    }
  });

  it('is refused with a message that says why', async () => {
    const cases: [string, (s: SectionInput[]) => void, RegExp][] = [
      ['overlay map missing', (s) => s.splice(at(s, 'disk.1.map'), 1), /section 'disk\.1\.map' is missing/],
      ['overlay data short', (s) => (s[at(s, 'disk.0.0')] = { ...s[at(s, 'disk.0.0')], data: s[at(s, 'disk.0.0')].data.subarray(4096) }), /section 'disk\.0\.0' has \d+ bytes, expected \d+/],
      ['overlay data extra', (s) => s.push({ name: 'disk.0.1', data: new Uint8Array(4096), compress: false }), /drive 0 has more overlay sections than its map lists chunks for/],
      ['chunk past the end', (s) => {
        const m = s[at(s, 'disk.0.map')].data.slice();
        new DataView(m.buffer).setUint32(m.length - 4, 16, true);
        s[at(s, 'disk.0.map')] = { ...s[at(s, 'disk.0.map')], data: m };
      }, /lists chunk 16 out of order or past the disk's end/],
      ['map not whole', (s) => (s[at(s, 'disk.0.map')] = { ...s[at(s, 'disk.0.map')], data: s[at(s, 'disk.0.map')].data.subarray(1) }), /not a multiple of 4/],
      ['controller missing', (s) => s.splice(at(s, 'dev:ide'), 1), /section 'dev:ide' is missing/],
      ['controller of another shape', (s) => (s[at(s, 'dev:virtio-blk.0')] = { ...s[at(s, 'dev:virtio-blk.0')], data: new TextEncoder().encode('{"status":1}') }), /virtio-blk\.0\.driverFeatures is missing from the snapshot/],
      ['controller not JSON', (s) => (s[at(s, 'dev:ide')] = { ...s[at(s, 'dev:ide')], data: new TextEncoder().encode('{') }), /section 'dev:ide' is not valid JSON/],
      ['drives malformed', (s) => setConfig(s, { ...config(s), drives: [{ interface: 'scsi' }] }), /config drives \[0\] is malformed/],
      ['drive without its controller section', (s) => setConfig(s, { ...config(s), drives: [...(config(s).drives as object[]), (config(s).drives as object[])[0]] }), /section 'dev:virtio-blk\.1' is missing/],
      ['sections without drives', (s) => setConfig(s, { ...config(s), drives: [] }), /section 'dev:virtio-blk\.0' has no drive/],
    ];
    for (const [what, edit, message] of cases) {
      const bad = await rebuilt(edit);
      expect(() => restorePc(bad), what).toThrow(SnapshotError);
      expect(() => restorePc(bad), what).toThrow(message);
    }
  });
});

describe('Ctrl-A s with disks', () => {
  it('saves the drives with the snapshot and names the writable ones, whose change would make it unrestorable', async () => {
    const kernel = join(tmp, 'disk-workload-ctrl-a.bin');
    writeFileSync(kernel, diskWorkloadKernel());
    const vd = image('ctrl-a-vd.raw');
    const sd = image('ctrl-a-sd.raw');
    const file = join(tmp, 'ctrl-a.snap');
    const { io, err } = captureIo();
    const exit = main(['run', '--kernel', kernel, '-m', '32M', '--accel', 'interp', '--snapshot-file', file,
      '-drive', `file=${vd},format=raw,if=virtio`, '-drive', `file=${sd},format=raw,if=ide,snapshot=on`], io);
    (io.stdin as PassThrough).write('\u0001s');
    for (let k = 0; k < 600 && !/snapshot saved/.test(err()); k++) await new Promise((r) => setTimeout(r, 50));
    expect(await exit).toBe(67); // the workload's isa-debug-exit: (0x21 << 1) | 1
    expect(err()).toMatch(/snapshot saved to .*ctrl-a\.snap/);
    expect(err()).toContain(`wasmvisor: note: ${vd} is writable: the snapshot restores only while it stays as now (use snapshot=on to keep it restorable)`);
    expect(err()).not.toContain(`${sd} is writable`);
    expect(snapshotInfo(new Uint8Array(readFileSync(file))).drives?.map((d) => [d.file, d.snapshot])).toEqual([[vd, false], [sd, true]]);
  }, 120_000);
});

describe('Machine.saveState and Machine.restore with disks', () => {
  it('a running machine with drives; the restored one finishes with the same output and exit code', async () => {
    const whole = await Machine.create({ kernel: diskWorkloadKernel(), memory: 32 << 20, engine: 'interp', drives: overlayDrives('lib-whole') });
    whole.serial.output.resume();
    await whole.start();
    const end = await whole.exited;
    expect(end.reason).toBe('exit');

    const m = await Machine.create({ kernel: diskWorkloadKernel(), memory: 32 << 20, engine: 'interp', drives: overlayDrives('lib') });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('...');
    const before = m.consoleText();
    const bytes = await m.saveState();
    await m.stop();
    const r = await Machine.restore(bytes);
    r.serial.output.resume();
    await r.start();
    expect(await r.exited).toEqual(end);
    expect(before + r.consoleText()).toBe(whole.consoleText());
  }, 120_000);

  it('`wasmvisor run --restore` reopens the drives and finishes the workload', () => {
    const kernel = join(tmp, 'disk-workload.bin');
    writeFileSync(kernel, diskWorkloadKernel());
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', ...args], { cwd: ROOT, encoding: 'utf8', input: '' });
    const vd = image('cli-vd.raw');
    const sd = image('cli-sd.raw');
    const drives = ['-drive', `file=${vd},format=raw,if=virtio,snapshot=on`, '-drive', `file=${sd},format=raw,if=ide,snapshot=on`];
    const whole = cli('--kernel', kernel, '-m', '32M', '--accel', 'interp', ...drives);
    expect(whole.stdout, whole.stderr).toMatch(/^\.{12}[0-9a-f]{8}\n$/);
    const disks = [
      { backend: openDrive({ file: vd, format: 'raw', snapshot: true }), interface: 'virtio' as const },
      { backend: openDrive({ file: sd, format: 'raw', snapshot: true }), interface: 'ide' as const },
    ];
    const pc = new PcMachine({ memory: 32 << 20, kernel: diskWorkloadKernel(), engine: 'interp', disks });
    for (let k = 0; k < 12; k++) expect(pc.step(DISK_SLICE).reason).toBe('budget');
    const before = new TextDecoder().decode(pc.takeSerialOutput());
    const file = join(tmp, 'cli-disk.snap');
    writeFileSync(file, savePcSync(pc));
    pc.closeDisks();
    const rest = cli('--restore', file, '--accel', 'interp');
    expect(rest.stderr).toMatch(/restored the snapshot/);
    expect(rest.status).toBe(whole.status);
    expect(before + rest.stdout).toBe(whole.stdout);
    // An image changed since: status 2 and the reason, nothing run.
    appendFileSync(sd, new Uint8Array(512));
    const refused = cli('--restore', file, '--accel', 'interp');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^wasmvisor: snapshot cannot be restored: its disk images must be as they were when it was taken — .*cli-sd\.raw changed since the snapshot was taken \(size 65536 -> 66048 bytes/m);
    expect(refused.stdout).toBe('');
  }, 120_000);
});
