/**
 * Boot tier: the root disk `wasmvisor build-guest --disk` makes (src/guest/root-disk.ts, ext4 by
 * mke2fs -d from busybox-static). The default guest's kernel and initramfs boot with
 * `root=/dev/vda`: /init mounts the disk and switches to it; a file written there is in the image
 * afterwards, as e2fsprogs' own tools read it, and the file system is clean.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Machine, buildGuest } from '../../src/index.ts';
import { buildRootDisk } from '../../src/guest/root-disk.ts';

describe.skipIf(process.env.WASMVISOR_SKIP_BOOT === '1')('booting the default guest from its root disk', () => {
  const work = mkdtempSync(join(tmpdir(), 'wasmvisor-root-disk-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('switches to /dev/vda and keeps what the guest writes there', async () => {
    const guest = await buildGuest({});
    const { file, cmdline } = await buildRootDisk({ file: join(work, 'root.img'), sizeMiB: 32 });
    expect(cmdline).toBe(`${guest.cmdline} root=/dev/vda`);
    const m = await Machine.create({ kernel: new Uint8Array(readFileSync(guest.kernel)), initrd: new Uint8Array(readFileSync(guest.initrd)), cmdline, onReset: 'stop', drives: [{ file, format: 'raw', if: 'virtio' }] });
    m.serial.output.resume();
    await m.start();
    await m.waitFor('/ # ', { timeoutMs: 1_200_000, fromStart: true });
    m.write('grep " / " /proc/mounts > /root/mounts.txt; echo "written on the root disk" > /root/kept.txt; sync; poweroff\n');
    expect(await m.exited).toMatchObject({ reason: 'poweroff' });
    const cat = (path: string): string => execFileSync('debugfs', ['-R', `cat ${path}`, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(cat('/root/kept.txt')).toBe('written on the root disk\n');
    expect(cat('/root/mounts.txt')).toMatch(/^\/dev\/vda \/ ext4 rw/m);
    const fsck = spawnSync('e2fsck', ['-fn', file], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
  }, 1_800_000);
});
