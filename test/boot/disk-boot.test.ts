/**
 * Boot tier: disks in the default guest. Two boots of the Debian kernel with the same drives:
 *
 *   /dev/vda  a raw ext4 image (mke2fs -d, with a file from the host)
 *   /dev/vdb  a qcow2 overlay we create over another raw ext4 image (the base)
 *   /dev/vdc  a raw ext4 image with snapshot=on
 *   /dev/sda  a raw ext4 image on the PIIX IDE controller
 *
 * The first boot writes a file on each and powers off; the second reads them back — from vda,
 * vdb and sda, where they must have survived; vdc must show the image as it was. After the runs:
 * the base's and the snapshot image's hashes are unchanged, e2fsck finds vda clean and its file
 * (read by debugfs, e2fsprogs' own reader) holds what the guest wrote, `qemu-img check` passes the
 * overlay, and `qemu-img convert` turns it into exactly the bytes the guest saw (the guest's
 * md5sum of /dev/vdb).
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
import { Qcow2Image } from '../../runtime/block/qcow2.ts';

const skip = process.env.WASMVISOR_SKIP_BOOT === '1';
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(skip)('virtio and IDE disks in the default guest: written, powered off, read back after a second boot', () => {
  let guest: GuestImages;
  let work: string;
  let drives: DriveSpec[];
  let baseHash: string;
  let snapHash: string;

  /** An ext4 image of `mib` MiB holding `files` (name → text), made by mke2fs -d. */
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
    work = mkdtempSync(join(tmpdir(), 'wasmvisor-disk-boot-'));
    const vda = ext4('vda', 16, { 'host.txt': 'made on the host\n' });
    const base = ext4('base', 16, { 'base.txt': 'in the base image\n' });
    const snap = ext4('snap', 8, { 'snap.txt': 'snapshot image\n' });
    const sda = ext4('sda', 16, { 'ide.txt': 'on the IDE disk\n' });
    const overlay = join(work, 'overlay.qcow2');
    Qcow2Image.create(overlay, { backingFile: 'base.raw', backingFormat: 'raw' });
    baseHash = sha(base);
    snapHash = sha(snap);
    drives = [
      { file: vda, format: 'raw', if: 'virtio' },
      { file: overlay, if: 'virtio' },
      { file: snap, if: 'virtio', snapshot: true },
      { file: sda, format: 'raw', if: 'ide' },
    ];
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function boot(): Promise<{ m: Machine; shell: (cmd: string) => Promise<string> }> {
    const m = await Machine.create({ kernel: new Uint8Array(readFileSync(guest.kernel)), initrd: new Uint8Array(readFileSync(guest.initrd)), cmdline: guest.cmdline, onReset: 'stop', drives });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('/ # ', { timeoutMs: 1_200_000, fromStart: true });
    let serial = 0;
    const shell = async (cmd: string): Promise<string> => {
      const n = ++serial;
      const begin = `__begin_${n * 1000 + 1}__`;
      const end = `__end_${n * 1000 + 2}__`;
      const wait = m.waitFor(new RegExp(`${end}\\r?\\n`), { timeoutMs: 300_000 });
      const before = m.consoleText().length;
      m.write(`(${cmd}) > /tmp/out 2>&1; echo __begin_$((${n}*1000+1))__; cat /tmp/out; echo __end_$((${n}*1000+2))__\n`);
      await wait;
      const text = m.consoleText().slice(before).replace(/\r/g, '');
      const a = text.indexOf(`${begin}\n`);
      return text.slice(a + begin.length + 1, text.indexOf(end, a)).replace(/\n$/, '');
    };
    return { m, shell };
  }

  async function powerOff(m: Machine): Promise<void> {
    m.write('poweroff\n');
    expect(await m.exited).toMatchObject({ reason: 'poweroff' });
  }

  it('first boot: mounts the disks and writes a file on each', async () => {
    const { m, shell } = await boot();
    expect(await shell('ls /dev/vda /dev/vdb /dev/vdc /dev/sda')).toBe('/dev/sda\n/dev/vda\n/dev/vdb\n/dev/vdc');
    expect(await shell('mkdir -p /a /b /c /s && mount /dev/vda /a && mount /dev/vdb /b && mount /dev/vdc /c && mount /dev/sda /s && echo ok')).toBe('ok');
    expect(await shell('cat /a/host.txt /b/base.txt /c/snap.txt /s/ide.txt')).toBe('made on the host\nin the base image\nsnapshot image\non the IDE disk');
    await shell('echo "guest wrote vda" > /a/guest.txt; echo "guest wrote vdb" > /b/guest.txt; echo "guest wrote vdc" > /c/guest.txt; echo "guest wrote sda" > /s/guest.txt');
    // A bigger file, so that data goes through many requests.
    await shell('dd if=/dev/urandom of=/b/random.bin bs=64k count=16 2>/dev/null; md5sum /b/random.bin > /b/random.md5');
    expect(await shell('umount /a && umount /b && umount /c && umount /s && echo ok')).toBe('ok');
    await powerOff(m);
  }, 1_800_000);

  let vdbSum = '';
  it('second boot: the files on vda and vdb survived, vdc shows its image unchanged', async () => {
    const { m, shell } = await boot();
    expect(await shell('mkdir -p /a /b /c /s && mount /dev/vda /a && mount /dev/vdb /b && mount /dev/vdc /c && mount /dev/sda /s && echo ok')).toBe('ok');
    expect(await shell('cat /a/guest.txt /b/guest.txt /s/guest.txt')).toBe('guest wrote vda\nguest wrote vdb\nguest wrote sda');
    // The checksum file names the file by the path it was written with.
    expect(await shell('md5sum -c /b/random.md5')).toBe('/b/random.bin: OK');
    expect(await shell('ls /c')).not.toMatch(/guest\.txt/);
    expect(await shell('umount /a && umount /b && umount /c && umount /s && echo ok')).toBe('ok');
    vdbSum = (await shell('md5sum /dev/vdb')).split(/\s+/)[0];
    expect(vdbSum).toMatch(/^[0-9a-f]{32}$/);
    await powerOff(m);
  }, 1_800_000);

  it('left the base images untouched, vda clean, and an overlay qemu-img checks and converts to what the guest saw', () => {
    expect(sha(drives[1].file.replace('overlay.qcow2', 'base.raw'))).toBe(baseHash);
    expect(sha(drives[2].file)).toBe(snapHash);
    const fsck = spawnSync('e2fsck', ['-fn', drives[0].file], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    expect(execFileSync('debugfs', ['-R', 'cat /guest.txt', drives[0].file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('guest wrote vda\n');
    const fsckIde = spawnSync('e2fsck', ['-fn', drives[3].file], { encoding: 'utf8' });
    expect(fsckIde.status, fsckIde.stdout + fsckIde.stderr).toBe(0);
    expect(execFileSync('debugfs', ['-R', 'cat /guest.txt', drives[3].file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('guest wrote sda\n');
    const check = spawnSync('qemu-img', ['check', drives[1].file], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const converted = join(work, 'overlay-converted.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', drives[1].file, converted]);
    expect(createHash('md5').update(readFileSync(converted)).digest('hex')).toBe(vdbSum);
  });
});
