/**
 * The default-guest builder (src/guest): the newc cpio writer (parsed back byte by byte), the
 * initramfs layout and /init, and buildGuest's flow against a fake apt/dpkg — package
 * resolution through the metapackage, checksum checks, the manifest, idempotence, rebuild on a
 * damaged cache, and the explanation when root is needed. The real build is exercised by the
 * CLI (`tsx src/guest/cli.ts`); when its cache exists, the real initramfs is checked too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { GuestImages } from '../../../src/guest/build.ts';
import { buildGuest, defaultCacheDir, GUEST_MARKER, GUEST_MODULES, initramfsEntries, initScript, MANIFEST_FORMAT, verifyGuest } from '../../../src/guest/build.ts';
import { writeCpio } from '../../../src/guest/cpio.ts';
import { main } from '../../../src/guest/cli.ts';

interface CpioMember {
  name: string;
  ino: number;
  mode: number;
  nlink: number;
  rdevmajor: number;
  rdevminor: number;
  data: Uint8Array;
}

/** Parses a newc archive, checking magic, field syntax and 4-byte padding. */
function parseCpio(buf: Uint8Array): CpioMember[] {
  const dec = new TextDecoder();
  const out: CpioMember[] = [];
  let at = 0;
  for (;;) {
    const h = dec.decode(buf.subarray(at, at + 110));
    expect(h.slice(0, 6)).toBe('070701');
    expect(h.slice(6)).toMatch(/^[0-9a-f]{104}$/);
    const f = (k: number): number => parseInt(h.slice(6 + 8 * k, 14 + 8 * k), 16);
    const nameSize = f(11);
    const name = dec.decode(buf.subarray(at + 110, at + 110 + nameSize - 1));
    expect(buf[at + 110 + nameSize - 1]).toBe(0);
    let p = (at + 110 + nameSize + 3) & ~3;
    const size = f(6);
    const data = buf.slice(p, p + size);
    p = (p + size + 3) & ~3;
    out.push({ name, ino: f(0), mode: f(1), nlink: f(4), rdevmajor: f(9), rdevminor: f(10), data });
    at = p;
    if (name === 'TRAILER!!!') break;
  }
  expect(at).toBe(buf.length);
  return out;
}

describe('writeCpio', () => {
  it('writes newc members with modes, links, device numbers and padding', () => {
    const arc = writeCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/x', data: Uint8Array.of(1, 2, 3), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: '/bin/x' },
      { kind: 'chardev', path: 'console', major: 5, minor: 1 },
    ]);
    expect(parseCpio(arc).map((m) => [m.name, m.ino, m.mode.toString(8), m.nlink, m.rdevmajor, m.rdevminor, Array.from(m.data)])).toEqual([
      ['bin', 1, '40755', 2, 0, 0, []],
      ['bin/x', 2, '100755', 1, 0, 0, [1, 2, 3]],
      ['bin/sh', 3, '120777', 1, 0, 0, Array.from(new TextEncoder().encode('/bin/x'))],
      ['console', 4, '20600', 1, 5, 1, []],
      ['TRAILER!!!', 0, '0', 1, 0, 0, []],
    ]);
    expect(writeCpio([{ kind: 'dir', path: 'bin' }])).toEqual(writeCpio([{ kind: 'dir', path: 'bin' }]));
    expect(() => writeCpio([{ kind: 'dir', path: '/abs' }])).toThrow('cpio: path must be relative and non-empty: "/abs"');
  });
});

describe('initramfs', () => {
  it('holds busybox, its links, the console device, the pvpanic modules, /init and init\'s table', () => {
    const modules = [{ name: 'pvpanic.ko', data: Uint8Array.of(1) }, { name: 'pvpanic-mmio.ko', data: Uint8Array.of(2) }];
    const members = parseCpio(writeCpio(initramfsEntries(Uint8Array.of(0x7f, 0x45), ['/bin/ls', '/usr/sbin/chroot', '/bin/busybox', '/etc/bad'], modules)));
    const byName = new Map(members.map((m) => [m.name, m]));
    expect([...byName.keys()]).toEqual([
      'bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'root', 'etc', 'mnt', 'run', 'lib', 'lib/modules',
      'dev/console', 'dev/null', 'dev/ttyS0', 'bin/busybox', 'bin/ls', 'bin/sh', 'usr/sbin/chroot',
      'lib/modules/pvpanic.ko', 'lib/modules/pvpanic-mmio.ko', 'etc/inittab', 'etc/console-shell', 'init', 'TRAILER!!!',
    ]);
    expect(byName.get('dev/console')).toMatchObject({ mode: 0o20600, rdevmajor: 5, rdevminor: 1 });
    expect(byName.get('tmp')!.mode).toBe(0o41777);
    expect(new TextDecoder().decode(byName.get('bin/ls')!.data)).toBe('/bin/busybox');
    const text = (name: string): string => new TextDecoder().decode(byName.get(name)!.data);
    const init = text('init');
    expect(byName.get('init')!.mode).toBe(0o100755);
    expect(init).toBe(initScript(false, ['pvpanic.ko', 'pvpanic-mmio.ko']));
    expect(init).toContain('mount -t devtmpfs devtmpfs /dev');
    // pvpanic core first: pvpanic-mmio uses its symbols.
    expect(init).toMatch(/insmod \/lib\/modules\/pvpanic\.ko .*\ninsmod \/lib\/modules\/pvpanic-mmio\.ko .*\n/);
    // With root= on the command line: mount it, move the kernel file systems, switch to it.
    expect(init).toMatch(/case "\$a" in root=\*\) root="\$\{a#root=\}"/);
    expect(init).toMatch(/mount -o rw "\$root" \/newroot; then\n.*\n {4}for d in dev proc sys; do mount --move \/\$d \/newroot\/\$d; done\n {4}exec switch_root \/newroot \/sbin\/init\n/);
    expect(init).toMatch(/\nexec \/bin\/busybox init\n$/);
    expect(initScript(true, [])).toContain('/bin/busybox --install -s');
    // busybox init starts the console shell in its own session, with default signal dispositions;
    // cttyhack gives it the console as controlling terminal (Ctrl-C, Ctrl-Z, fg).
    expect(text('etc/inittab')).toContain('::once:/bin/cttyhack /bin/sh /etc/console-shell\n');
    const shell = text('etc/console-shell');
    expect(byName.get('etc/console-shell')!.mode).toBe(0o100755);
    expect(shell).toContain(`echo "${GUEST_MARKER}"\nsh\n`);
    expect(shell).toContain('stty rows "${WASMVISOR_TTY%x*}" cols "${WASMVISOR_TTY#*x}"');
    expect(shell).toMatch(/\npoweroff\n$/);
  });

  const cached = join(defaultCacheDir(), 'initrd.img');
  it.skipIf(!existsSync(cached))('is what the cached guest build contains', () => {
    const members = parseCpio(gunzipSync(readFileSync(cached)));
    const names = new Set(members.map((m) => m.name));
    // The applet links are made at build time only where the host could run the i386 busybox
    // (else /init makes them at boot: the manifest records 0 applets).
    const applets = verifyGuest(defaultCacheDir())?.initrd.applets ?? 0;
    const links = applets > 0 ? ['bin/mount', 'sbin/init', 'bin/cttyhack', 'bin/stty', 'sbin/insmod', 'sbin/poweroff'] : [];
    for (const n of ['init', 'bin/busybox', 'bin/sh', 'dev/console', ...links, 'etc/inittab', 'lib/modules/pvpanic-mmio.ko', 'lib/modules/virtio_blk.ko', 'lib/modules/ata_piix.ko', 'lib/modules/sd_mod.ko', 'lib/modules/ext4.ko']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(verifyGuest(defaultCacheDir())).not.toBeNull();
  });
});

/** A fake Debian host: records commands, answers like apt/dpkg for two packages. */
function fakeHost(opts: { foreign?: string; uid?: number } = {}) {
  const calls: string[] = [];
  const debs: Record<string, Uint8Array> = {
    'linux-image-6.1.0-99-686': new TextEncoder().encode('kernel deb'),
    'busybox-static': new TextEncoder().encode('busybox deb'),
  };
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  let foreign = opts.foreign ?? 'i386\n';
  let corruptDownload = false;
  const exec = async (file: string, args: readonly string[], cwd?: string): Promise<string> => {
    const cmd = [file, ...args].join(' ');
    calls.push(cmd);
    if (args[0] === '--version') return `${file} 1.0`;
    if (cmd === 'dpkg --print-architecture') return 'amd64\n';
    if (cmd === 'dpkg --print-foreign-architectures') return foreign;
    if (cmd === 'dpkg --add-architecture i386') {
      foreign = 'i386\n';
      return '';
    }
    if (cmd === 'apt-get update -qq') return '';
    if (cmd === 'apt-cache depends linux-image-686:i386') {
      if (!foreign.includes('i386')) throw new Error('E: No packages found');
      return 'linux-image-686:i386\n  Depends: linux-image-6.1.0-99-686:i386\n';
    }
    if (file === 'apt-cache' && args[0] === 'show') {
      const name = args[2].replace(/:i386$/, '');
      return `Package: ${name}\nVersion: 1.2-3\nSHA256: ${sha(debs[name])}\n\nPackage: ${name}\nVersion: 0.9\n`;
    }
    if (file === 'apt-get' && args[0] === 'download') {
      const name = args[2].split(':')[0];
      const data = corruptDownload ? new TextEncoder().encode('evil') : debs[name];
      writeFileSync(join(cwd!, `${name}_1.2-3_i386.deb`), data);
      return '';
    }
    if (file === 'dpkg-deb' && args[0] === '-x') {
      const dest = args[2];
      if (args[1].includes('linux-image')) {
        mkdirSync(join(dest, 'boot'), { recursive: true });
        writeFileSync(join(dest, 'boot', 'vmlinuz-6.1.0-99-686'), 'KERNEL');
        // Each wanted module, with a modinfo `depends=` string as the real ones have; two of
        // the dependencies (one spelled with a dash, as modinfo spells t10-pi) are only there.
        const mods = join(dest, 'lib', 'modules', '6.1.0-99-686', 'kernel');
        const depends: Record<string, string> = { 'pvpanic-mmio.ko': 'pvpanic', 'virtio_blk.ko': 'virtio', 'sd_mod.ko': 'scsi_mod,t10-pi', 'ext4.ko': 'crc16' };
        for (const m of [...GUEST_MODULES, 'drivers/virtio/virtio.ko', 'drivers/scsi/scsi_mod.ko', 'block/t10-pi.ko', 'lib/crc16.ko', 'net/unused.ko']) {
          const file = m.split('/').pop()!;
          mkdirSync(join(mods, dirname(m)), { recursive: true });
          writeFileSync(join(mods, m), `MODULE ${file}\0license=GPL\0depends=${depends[file] ?? ''}\0`);
        }
      } else {
        mkdirSync(join(dest, 'bin'), { recursive: true });
        writeFileSync(join(dest, 'bin', 'busybox'), 'BUSYBOX');
      }
      return '';
    }
    if (file.endsWith('/bin/busybox') && args[0] === '--list-full') return 'bin/ls\nsbin/init\nusr/bin/env\n';
    throw new Error(`unexpected command: ${cmd}`);
  };
  return { calls, exec, uid: opts.uid ?? 0, setCorrupt: (v: boolean) => (corruptDownload = v) };
}

describe('buildGuest', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'wasmvisor-guest-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('builds from the packages the metapackage names, records checksums, then is idempotent', async () => {
    const dir = tmp();
    const host = fakeHost();
    const progress: string[] = [];
    const g = await buildGuest({ cacheDir: dir, exec: host.exec, uid: host.uid, onProgress: (m) => progress.push(m) });
    expect(host.calls).toContain('apt-get download -qq linux-image-6.1.0-99-686:i386=1.2-3');
    expect(host.calls).toContain('apt-get download -qq busybox-static:i386=1.2-3');
    expect(readFileSync(g.kernel, 'utf8')).toBe('KERNEL');
    const members = parseCpio(gunzipSync(readFileSync(g.initrd)));
    expect(members.filter((m) => m.mode >> 12 === 0o12).map((m) => m.name)).toEqual(['bin/ls', 'bin/sh', 'sbin/init', 'usr/bin/env']);
    expect(new TextDecoder().decode(members.find((m) => m.name === 'lib/modules/pvpanic-mmio.ko')!.data)).toMatch(/^MODULE pvpanic-mmio\.ko\0/);
    // The wanted modules and their dependencies, each after what it depends on; nothing else.
    const init = new TextDecoder().decode(members.find((m) => m.name === 'init')!.data);
    expect([...init.matchAll(/insmod \/lib\/modules\/(\S+)/g)].map((m) => m[1])).toEqual([
      'pvpanic.ko', 'pvpanic-mmio.ko', 'virtio_pci.ko', 'virtio.ko', 'virtio_blk.ko', 'ata_piix.ko', 'scsi_mod.ko', 't10-pi.ko', 'sd_mod.ko', 'crc32c_generic.ko', 'crc16.ko', 'ext4.ko',
    ]);
    expect(g.manifest).toMatchObject({
      format: MANIFEST_FORMAT,
      kernel: { file: 'vmlinuz', size: 6, sourcePath: 'boot/vmlinuz-6.1.0-99-686', from: { package: 'linux-image-6.1.0-99-686:i386', version: '1.2-3' } },
      initrd: { file: 'initrd.img', applets: 3, busybox: { package: 'busybox-static:i386', version: '1.2-3' } },
      marker: GUEST_MARKER,
    });
    expect(g.manifest.kernel.sha256).toBe(createHash('sha256').update('KERNEL').digest('hex'));
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]); // no work directory or temporary file left
    expect(progress.at(-1)).toMatch(/^guest built in /);

    // Second run: verified from the manifest, no command at all.
    const n = host.calls.length;
    const again = await buildGuest({ cacheDir: dir, exec: host.exec, uid: host.uid });
    expect(host.calls.length).toBe(n);
    expect(again.manifest).toEqual(g.manifest);

    // A damaged output is rebuilt; the rebuilt initramfs is byte-identical (reproducible).
    const initrdBefore = readFileSync(g.initrd);
    writeFileSync(g.kernel, 'tampered');
    expect(verifyGuest(dir)).toBeNull();
    const msgs: string[] = [];
    const rebuilt = await buildGuest({ cacheDir: dir, exec: host.exec, uid: host.uid, onProgress: (m) => msgs.push(m) });
    expect(msgs[0]).toMatch(/does not match its manifest: rebuilding$/);
    expect(readFileSync(rebuilt.kernel, 'utf8')).toBe('KERNEL');
    expect(readFileSync(rebuilt.initrd)).toEqual(initrdBefore);
  });

  it('adds the i386 architecture as root, and explains what to run without root', async () => {
    const root = fakeHost({ foreign: '' });
    await buildGuest({ cacheDir: tmp(), exec: root.exec, uid: 0 });
    const k = root.calls.indexOf('dpkg --add-architecture i386');
    expect(root.calls.slice(k - 1, k + 3)).toEqual(['dpkg --print-foreign-architectures', 'dpkg --add-architecture i386', 'apt-get update -qq', 'apt-cache depends linux-image-686:i386']);

    const user = fakeHost({ foreign: '' });
    await expect(buildGuest({ cacheDir: tmp(), exec: user.exec, uid: 1000 })).rejects.toThrow(
      /needs the i386 architecture in dpkg, which needs root\. Run once as root:\n {2}dpkg --add-architecture i386 && apt-get update\n/,
    );
    expect(user.calls).not.toContain('dpkg --add-architecture i386');
  });

  it('builds twice at once into one directory without one build removing the other\'s files', async () => {
    const dir = tmp();
    const a = fakeHost();
    const b = fakeHost();
    // A second build runs from start to end while the first is downloading.
    let second: Promise<GuestImages> | null = null;
    const execA = async (file: string, args: readonly string[], cwd?: string): Promise<string> => {
      if (file === 'apt-get' && args[0] === 'download' && !second) {
        second = buildGuest({ cacheDir: dir, exec: b.exec, uid: 0 });
        await second;
      }
      return a.exec(file, args, cwd);
    };
    const first = await buildGuest({ cacheDir: dir, exec: execA, uid: 0 });
    expect((await second!).manifest).toEqual(first.manifest);
    expect(verifyGuest(dir)).toEqual(first.manifest);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('removes the work directory a killed build left, not one of a live build', async () => {
    const dir = tmp();
    // pid 2^22 + 1 is above Linux's pid_max limit: no such process.
    const dead = join(dir, `.work-${2 ** 22 + 1}-abc`);
    const live = join(dir, `.work-${process.pid}-def`);
    mkdirSync(dead);
    mkdirSync(live);
    await buildGuest({ cacheDir: dir, exec: fakeHost().exec, uid: 0 });
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('refuses a download whose SHA256 differs from apt\'s index', async () => {
    const host = fakeHost();
    host.setCorrupt(true);
    const dir = tmp();
    await expect(buildGuest({ cacheDir: dir, exec: host.exec, uid: 0 })).rejects.toThrow(/linux-image-6\.1\.0-99-686_1\.2-3_i386\.deb: SHA256 [0-9a-f]{64} does not match apt's index/);
    expect(verifyGuest(dir)).toBeNull();
  });

  it('has a CLI that prints the outputs, rejects unknown options and reports errors in one line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      build: async () => ({ dir: '/c', kernel: '/c/vmlinuz', initrd: '/c/initrd.img', cmdline: 'console=ttyS0', marker: 'M', manifest: {} as never }),
    };
    expect(await main(['--cache', '/c'], io)).toBe(0);
    expect(out).toEqual(['kernel=/c/vmlinuz', 'initrd=/c/initrd.img', 'cmdline=console=ttyS0', 'marker=M']);
    expect(await main(['--bogus'], io)).toBe(2);
    expect(err[0]).toMatch(/^build-guest: unknown option "--bogus"/);
    const failing = { ...io, build: async () => Promise.reject(new Error('no apt here')) };
    expect(await main([], failing)).toBe(1);
    expect(err.at(-1)).toBe('build-guest: no apt here');
  });
});
