/**
 * Boot tier: a snapshot of the default Debian guest with disks. The guest boots with an ext4
 * virtio disk and an ext4 IDE disk, both snapshot=on, mounts them and writes a file on each;
 * then a workload starts that appends to a file on vda and copies it to sda round after round.
 * Mid-workload the machine is snapshotted (Machine.saveState) and runs on to the end, printing
 * the checksums of everything it wrote and powering off. The snapshot is restored by
 * `wasmvisor run --restore` in a new process (its drives reopened from the recorded paths):
 * the restored guest finishes the same workload with the same checksums — it reads back the
 * files written before the snapshot (they live only in the snapshot's overlays) — and powers
 * off. The base images are unchanged.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine, buildGuest } from '../../src/index.ts';
import type { GuestImages } from '../../src/index.ts';
import type { DriveSpec } from '../../src/drives.ts';
import { snapshotInfo } from '../../runtime/snapshot/pc-snapshot.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const skip = process.env.WASMVISOR_SKIP_BOOT === '1';
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Rounds of the workload, and the round after which the snapshot is taken. */
const ROUNDS = 24;
const SNAPSHOT_AFTER = 6;

describe.skipIf(skip)('a snapshot of the default guest with a virtio and an IDE disk (snapshot=on)', () => {
  let guest: GuestImages;
  let work: string;

  function ext4(name: string, mib: number, files: Record<string, string>): string {
    const root = join(work, `${name}.d`);
    mkdirSync(root);
    for (const [f, text] of Object.entries(files)) writeFileSync(join(root, f), text);
    const img = join(work, `${name}.raw`);
    writeFileSync(img, new Uint8Array(0));
    execFileSync('truncate', ['-s', `${mib}M`, img]);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, img]);
    return img;
  }

  beforeAll(async () => {
    guest = await buildGuest({});
    work = mkdtempSync(join(tmpdir(), 'wasmvisor-disk-snapshot-boot-'));
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('restored in a new process, reads back what was written before and finishes the workload with the same result', async () => {
    const vda = ext4('vda', 16, { 'host.txt': 'made on the host\n' });
    const sda = ext4('sda', 16, { 'ide.txt': 'on the IDE disk\n' });
    const hashes = [sha(vda), sha(sda)];
    const drives: DriveSpec[] = [
      { file: vda, format: 'raw', if: 'virtio', snapshot: true },
      { file: sda, format: 'raw', if: 'ide', snapshot: true },
    ];
    const m = await Machine.create({ kernel: new Uint8Array(readFileSync(guest.kernel)), initrd: new Uint8Array(readFileSync(guest.initrd)), cmdline: guest.cmdline, onReset: 'stop', drives });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('/ # ', { timeoutMs: 1_200_000, fromStart: true });
    // Markers are computed by the guest, so the echo of a command cannot match them.
    m.write('mkdir -p /a /s && mount /dev/vda /a && mount /dev/sda /s && echo "before the snapshot" > /a/before.txt && cp /a/before.txt /s/before.txt && sync && echo mounted-$((40+2))\n');
    await m.waitFor(/mounted-42\r?\n/, { timeoutMs: 300_000 });
    // The workload: each round appends 32 KiB of text to /a/w.txt and copies it to /s/w.txt.
    // At the end the page cache is dropped, so the checksums read the disks back.
    m.write(`i=0; while [ $i -lt ${ROUNDS} ]; do seq $((i*5000)) $((i*5000+7000)) | head -c 32768 >> /a/w.txt; cp /a/w.txt /s/w.txt; i=$((i+1)); echo round-$i-done; done; ` +
      'sync; echo 3 > /proc/sys/vm/drop_caches; echo "RESULT $(cat /a/before.txt /s/before.txt /a/host.txt /s/ide.txt | md5sum | cut -c1-32) $(md5sum < /a/w.txt | cut -c1-32) $(md5sum < /s/w.txt | cut -c1-32) $(wc -c < /s/w.txt) END"; poweroff -f\n');
    await m.waitFor(new RegExp(`round-${SNAPSHOT_AFTER}-done\\r?\\n`), { timeoutMs: 600_000 });
    const bytes = await m.saveState();
    const at = m.consoleText().length;
    const file = join(work, 'guest.snap');
    writeFileSync(file, bytes);
    expect(snapshotInfo(bytes).drives?.map((d) => [d.interface, d.snapshot])).toEqual([['virtio', true], ['ide', true]]);
    // The original runs on to the end.
    expect(await m.exited).toMatchObject({ reason: 'poweroff' });
    const after = m.consoleText().slice(at).replace(/\r/g, '');
    const result = /RESULT ([0-9a-f]{32}) ([0-9a-f]{32}) ([0-9a-f]{32}) (\d+) END/.exec(after);
    expect(result, after.slice(-2000)).not.toBeNull();
    expect(result![2]).toBe(result![3]); // vda's file and its copy on sda
    expect(Number(result![4])).toBe(ROUNDS * 32768);
    expect(after).not.toMatch(new RegExp(`round-${SNAPSHOT_AFTER}-done`));

    // A new process continues the snapshot; the guest finishes the workload.
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), 'run', '--restore', file, '--timeout', '1500'],
      { cwd: ROOT, encoding: 'utf8', input: '', timeout: 1_700_000, maxBuffer: 64 << 20 });
    expect(r.stderr).toMatch(/restored the snapshot/);
    const out = r.stdout.replace(/\r/g, '');
    expect(out, out.slice(-2000)).toContain(result![0]);
    expect(out).toContain(`round-${ROUNDS}-done`);
    expect(out).not.toMatch(new RegExp(`round-${SNAPSHOT_AFTER}-done`));
    expect(r.status, r.stderr).toBe(0);
    expect([sha(vda), sha(sda)]).toEqual(hashes);
  }, 3_600_000);
});
