/**
 * A small ext4 root disk for the default guest, built from Debian packages: the busybox tree of
 * the initramfs (build.ts: busybox-static, its links, init's table and the console shell; no
 * modules — the initramfs loads them), written into a directory and made into an image by
 * e2fsprogs' `mke2fs -d`, owned by root. Nothing is fetched but the Debian package, checked
 * against apt's index. Boot it with the default guest's kernel and initrd and `root=/dev/vda`:
 * the initramfs's /init mounts it and switches to it, so what the guest writes stays on the disk.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultExec, DEFAULT_CMDLINE, fetchDeb, initramfsEntries } from './build.ts';
import type { BuildGuestOptions } from './build.ts';

/** Default size of the root disk. */
export const ROOT_DISK_MIB = 64;
/** The device the root disk is on when it is the first virtio drive. */
export const ROOT_DEVICE = '/dev/vda';

export interface RootDiskOptions {
  /** The image to create (must not exist). */
  file: string;
  /** Its size in MiB (default ROOT_DISK_MIB). */
  sizeMiB?: number;
  onProgress?: (message: string) => void;
  exec?: BuildGuestOptions['exec'];
}

/** Builds the root disk; resolves with its path and the kernel command line that boots from it. */
export async function buildRootDisk(opts: RootDiskOptions): Promise<{ file: string; cmdline: string }> {
  const progress = opts.onProgress ?? (() => {});
  const exec = opts.exec ?? defaultExec;
  const size = opts.sizeMiB ?? ROOT_DISK_MIB;
  if (!Number.isInteger(size) || size < 8 || size > 65536) throw new Error(`root disk size ${size} MiB: must be a whole number from 8 to 65536`);
  if (existsSync(opts.file)) throw new Error(`${opts.file} exists already: not overwriting it`);
  for (const tool of ['mke2fs', 'dpkg-deb', 'apt-get']) {
    try {
      await exec(tool, tool === 'mke2fs' ? ['-V'] : ['--version']);
    } catch {
      throw new Error(`building a root disk needs ${tool} (Debian's ${tool === 'mke2fs' ? 'e2fsprogs' : 'dpkg/apt'}); it was not found`);
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'wasmvisor-rootdisk-'));
  try {
    const deb = await fetchDeb(exec, progress, work, 'busybox-static');
    const unpacked = join(work, 'busybox');
    await exec('dpkg-deb', ['-x', deb.path, unpacked]);
    const busyboxPath = join(unpacked, 'bin', 'busybox');
    let applets: string[] = [];
    try {
      applets = (await exec(busyboxPath, ['--list-full'])).split('\n').map((s) => s.trim()).filter(Boolean);
    } catch {
      progress('cannot run the i386 busybox on this host: the guest makes the applet links on its first boot');
    }
    const root = join(work, 'root');
    mkdirSync(root);
    // The initramfs's tree without its devices (devtmpfs provides them) and without /init.
    for (const e of initramfsEntries(new Uint8Array(readFileSync(busyboxPath)), applets)) {
      const path = join(root, e.path);
      if (e.kind === 'dir') {
        mkdirSync(path, { recursive: true });
        if (e.mode !== undefined) chmodSync(path, e.mode);
      }
      else if (e.kind === 'file' && e.path !== 'init') {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, e.data, { mode: e.mode });
      } else if (e.kind === 'symlink') symlinkSync(e.target, path);
    }
    // busybox init must be found even before the applet links exist.
    if (!existsSync(join(root, 'sbin', 'init'))) symlinkSync('/bin/busybox', join(root, 'sbin', 'init'));
    progress(`making ${opts.file}: ext4, ${size} MiB (mke2fs -d)`);
    await exec('mke2fs', ['-q', '-t', 'ext4', '-L', 'wasmvisor-root', '-E', 'root_owner=0:0', '-d', root, opts.file, `${size}M`]);
    return { file: opts.file, cmdline: `${DEFAULT_CMDLINE} root=${ROOT_DEVICE}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
