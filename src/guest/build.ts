/**
 * Builds the default guest — the Debian 12 i386 kernel and a busybox initramfs — from Debian
 * packages into a cache directory (design.md §8, "Guests").
 *
 * Steps: make sure dpkg knows the i386 architecture (adding it and running `apt-get update`
 * needs root; without root we explain what to run), resolve the real kernel package through the
 * `linux-image-686` metapackage, `apt-get download` it and `busybox-static` (i386), check each
 * .deb against the SHA256 that apt's signed index records, unpack them with `dpkg-deb -x` (no
 * root needed), take /boot/vmlinuz-* and the pvpanic modules, and pack /bin/busybox, its applet
 * links, /dev/console, the modules and our /init, /etc/inittab and /etc/console-shell into a
 * gzip-compressed newc cpio written by cpio.ts.
 *
 * The build is idempotent: the cache holds `manifest.json` with the SHA256 of every output, and
 * a later call that finds all outputs matching their recorded checksums returns at once without
 * touching apt. A mismatch (a damaged or hand-edited file) triggers a rebuild. The initramfs is
 * reproducible (fixed timestamps and owners), so a rebuild from the same packages gives the same
 * bytes. Library code never prints: progress goes to the `onProgress` callback.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCpio } from './cpio.ts';
import type { CpioEntry } from './cpio.ts';

/** The line /init prints right before it starts the shell. */
export const GUEST_MARKER = 'wasmvisor-guest: shell ready';

/**
 * The kernel command line the default guest is meant to boot with. `panic=-1`: a panic the VM
 * did not notice (pvpanic and the console line are how it notices) resets the machine at once
 * instead of spinning for ever.
 */
export const DEFAULT_CMDLINE = 'console=ttyS0 quiet cryptomgr.notests=1 noisapnp panic=-1';

/**
 * The environment variable (set through the kernel command line, which hands unknown `NAME=value`
 * words to init) that gives the console's size, ROWSxCOLS: the CLI adds it for a terminal.
 */
export const TTY_SIZE_VAR = 'WASMVISOR_TTY';

/** Version of the manifest format and of the initramfs recipe; bump it to force rebuilds. */
export const MANIFEST_FORMAT = 6;

/**
 * The kernel modules the initramfs carries, from the kernel package: these and, before each,
 * the modules it depends on (its `depends=` modinfo field), loaded by /init in that order.
 */
export const GUEST_MODULES = [
  // pvpanic reports a kernel panic to the VM (ACPI device QEMU0001), which ends the run.
  'drivers/misc/pvpanic/pvpanic.ko',
  'drivers/misc/pvpanic/pvpanic-mmio.ko',
  // Disks: virtio-blk over PCI (/dev/vda); the PIIX IDE controller through libata and the SCSI
  // disk driver (/dev/sda); ext4, whose checksums need crc32c from the crypto API (a soft
  // dependency, not in `depends=`).
  'drivers/virtio/virtio_pci.ko',
  'drivers/block/virtio_blk.ko',
  'drivers/ata/ata_piix.ko',
  'drivers/scsi/sd_mod.ko',
  'crypto/crc32c_generic.ko',
  'fs/ext4/ext4.ko',
];

const KERNEL_FILE = 'vmlinuz';
const INITRD_FILE = 'initrd.img';
const MANIFEST_FILE = 'manifest.json';

export interface PackageRecord {
  /** Binary package name with architecture, e.g. "linux-image-6.1.0-50-686:i386". */
  package: string;
  version: string;
  /** SHA256 of the downloaded .deb (equal to the one in apt's index). */
  debSha256: string;
}

export interface FileRecord {
  /** File name inside the cache directory. */
  file: string;
  sha256: string;
  size: number;
}

/** What the cache directory holds, as recorded in manifest.json. */
export interface GuestManifest {
  format: number;
  kernel: FileRecord & { from: PackageRecord; sourcePath: string };
  initrd: FileRecord & { busybox: PackageRecord; applets: number };
  cmdline: string;
  marker: string;
}

/** The built guest: absolute paths plus the manifest. */
export interface GuestImages {
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  marker: string;
  manifest: GuestManifest;
}

export interface BuildGuestOptions {
  /** Cache directory (default: defaultCacheDir()). */
  cacheDir?: string;
  /** Rebuild even if the cache is up to date. */
  force?: boolean;
  /** Progress messages, one line each (the CLI prints them on stderr). */
  onProgress?: (message: string) => void;
  /** Runs an external command; injectable for tests. Resolves with stdout, rejects on failure. */
  exec?: (file: string, args: readonly string[], cwd?: string) => Promise<string>;
  /** Effective user id (default process.getuid()); injectable for tests. */
  uid?: number;
}

/** `$WASMVISOR_CACHE`, else `~/.cache/wasmvisor/guest`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.WASMVISOR_CACHE;
  return v && v.length > 0 ? v : join(homedir(), '.cache', 'wasmvisor', 'guest');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function defaultExec(file: string, args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args as string[], { cwd, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) {
        const detail = String(stderr).trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${file} ${args.join(' ')} failed${detail ? `: ${detail}` : ` (${err.message})`}`));
      } else resolve(String(stdout));
    });
  });
}

/**
 * Returns the manifest if every file it lists exists with its recorded size and SHA256, else
 * null. Never throws for a missing or damaged cache.
 */
export function verifyGuest(dir: string): GuestManifest | null {
  let m: GuestManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as GuestManifest;
  } catch {
    return null;
  }
  if (m?.format !== MANIFEST_FORMAT || !m.kernel || !m.initrd) return null;
  for (const rec of [m.kernel, m.initrd]) {
    try {
      const data = readFileSync(join(dir, rec.file));
      if (data.length !== rec.size || sha256(data) !== rec.sha256) return null;
    } catch {
      return null;
    }
  }
  return m;
}

function imagesOf(dir: string, m: GuestManifest): GuestImages {
  return { dir, kernel: join(dir, m.kernel.file), initrd: join(dir, m.initrd.file), cmdline: m.cmdline, marker: m.marker, manifest: m };
}

/**
 * The /init script: mount the kernel file systems, load the drivers, and hand over to busybox
 * init (PID 1), which runs /etc/inittab: the console shell, and `poweroff`, `reboot` and `halt`
 * (busybox's applets signal PID 1) with an orderly shutdown. With `root=DEVICE` on the kernel
 * command line (a root disk: root-disk.ts) it mounts DEVICE read-write, moves /dev, /proc and
 * /sys there and switches to it (its busybox links made on first boot when the build could not
 * make them); if the mount fails it says so and stays in the initramfs.
 */
export function initScript(installApplets: boolean, modules: readonly string[]): string {
  return [
    '#!/bin/sh',
    '# wasmvisor default guest: mount the kernel file systems, load the drivers, start busybox init.',
    'export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root',
    '/bin/busybox mount -t proc proc /proc',
    // Without a host-side applet list the links are made here (busybox needs /proc/self/exe).
    ...(installApplets ? ['/bin/busybox --install -s'] : []),
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev',
    ...modules.map((m) => `insmod /lib/modules/${m} 2>/dev/null`),
    'root=',
    'for a in $(cat /proc/cmdline); do case "$a" in root=*) root="${a#root=}" ;; esac; done',
    'if [ -n "$root" ]; then',
    '  mkdir -p /newroot',
    '  n=0; while [ ! -b "$root" ] && [ $n -lt 20 ]; do sleep 1; n=$((n+1)); done',
    '  if mount -o rw "$root" /newroot; then',
    '    [ -e /newroot/bin/ls ] || chroot /newroot /bin/busybox --install -s',
    '    for d in dev proc sys; do mount --move /$d /newroot/$d; done',
    '    exec switch_root /newroot /sbin/init',
    '  fi',
    '  echo "wasmvisor-guest: cannot mount the root device $root: staying in the initramfs"',
    'fi',
    'exec /bin/busybox init',
    '',
  ].join('\n');
}

/**
 * busybox init's table: the console shell, once (init runs it in a new session with default
 * signal dispositions). No getty: nothing respawns. `poweroff` and friends make init stop every
 * process (TERM, then KILL) before the power-off.
 */
export function inittab(): string {
  return [
    '# wasmvisor default guest: one shell on the console; when it exits, the machine powers off.',
    '::once:/bin/cttyhack /bin/sh /etc/console-shell',
    '',
  ].join('\n');
}

/**
 * The console shell's wrapper, run by init through cttyhack, which makes the console (ttyS0)
 * its controlling terminal: Ctrl-C, Ctrl-Z and `fg` work in the interactive shell it starts.
 * It sets the terminal's size from WASMVISOR_TTY (ROWSxCOLS) and starts the agent that applies
 * later sizes from COM2, prints the marker, and powers the machine off when the shell exits.
 */
export function consoleShellScript(): string {
  return [
    '#!/bin/sh',
    'export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root',
    `case "$${TTY_SIZE_VAR}" in`,
    `  *x*) stty rows "\${${TTY_SIZE_VAR}%x*}" cols "\${${TTY_SIZE_VAR}#*x}" 2>/dev/null ;;`,
    'esac',
    `unset ${TTY_SIZE_VAR}`,
    // Size changes arrive as "ROWS COLS" lines on COM2 (Machine.resizeConsole); stty on the
    // console signals SIGWINCH to its foreground job.
    'if [ -c /dev/ttyS1 ] && stty -F /dev/ttyS1 -echo 2>/dev/null; then',
    '  (while read -r r c; do stty -F /dev/ttyS0 rows "$r" cols "$c"; done < /dev/ttyS1) &',
    'fi',
    `echo "${GUEST_MARKER}"`,
    'sh',
    'echo "wasmvisor-guest: shell exited, powering off"',
    'poweroff',
    '',
  ].join('\n');
}

/**
 * The initramfs members around a busybox binary. `applets` are absolute paths as printed by
 * `busybox --list-full` ("bin/ls", "usr/sbin/chroot"); an empty list leaves the links to /init.
 */
export function initramfsEntries(busybox: Uint8Array, applets: readonly string[], modules: readonly { name: string; data: Uint8Array }[] = []): CpioEntry[] {
  const dirs = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'root', 'etc', 'mnt', 'run', 'lib', 'lib/modules'];
  const entries: CpioEntry[] = dirs.map((path) => ({ kind: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 }));
  entries.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
  entries.push({ kind: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 });
  entries.push({ kind: 'chardev', path: 'dev/ttyS0', major: 4, minor: 64, mode: 0o660 });
  entries.push({ kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 });
  const links = new Set<string>(['bin/sh']);
  for (const a of applets) {
    const p = a.replace(/^\/+/, '');
    if (p && p !== 'bin/busybox' && /^(bin|sbin|usr\/bin|usr\/sbin)\/[^/]+$/.test(p)) links.add(p);
  }
  for (const p of [...links].sort()) entries.push({ kind: 'symlink', path: p, target: '/bin/busybox' });
  for (const m of modules) entries.push({ kind: 'file', path: `lib/modules/${m.name}`, data: m.data, mode: 0o644 });
  entries.push({ kind: 'file', path: 'etc/inittab', data: new TextEncoder().encode(inittab()), mode: 0o644 });
  entries.push({ kind: 'file', path: 'etc/console-shell', data: new TextEncoder().encode(consoleShellScript()), mode: 0o755 });
  entries.push({ kind: 'file', path: 'init', data: new TextEncoder().encode(initScript(applets.length === 0, modules.map((m) => m.name))), mode: 0o755 });
  return entries;
}

function notRootError(what: string): Error {
  return new Error(
    `building the guest needs ${what}, which needs root. Run once as root:\n` +
      '  dpkg --add-architecture i386 && apt-get update\n' +
      'then run the build again (downloading and unpacking the packages needs no root).',
  );
}

/** Parses `apt-cache show` output (first stanza) into its fields. */
function parseStanza(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') break;
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/**
 * Builds (or verifies) the default guest in the cache directory and returns its paths.
 * Throws an Error with an explanation when the host cannot do it (no apt, no root for the
 * one-time architecture setup, a package that does not resolve, a checksum mismatch).
 */
export async function buildGuest(opts: BuildGuestOptions = {}): Promise<GuestImages> {
  const dir = opts.cacheDir ?? defaultCacheDir();
  const progress = opts.onProgress ?? (() => {});
  const exec = opts.exec ?? defaultExec;
  const uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : 0);

  if (!opts.force) {
    const m = verifyGuest(dir);
    if (m) {
      progress(`guest is up to date in ${dir} (${m.kernel.from.package} ${m.kernel.from.version})`);
      return imagesOf(dir, m);
    }
    if (existsSync(join(dir, MANIFEST_FILE))) progress(`cached guest in ${dir} does not match its manifest: rebuilding`);
  }

  for (const tool of ['dpkg', 'apt-get', 'apt-cache', 'dpkg-deb']) {
    try {
      await exec(tool, ['--version']);
    } catch {
      throw new Error(`building the guest needs Debian's ${tool} (a Debian or Ubuntu host); it was not found`);
    }
  }

  // 1. dpkg must know the i386 architecture, and apt must have its package lists.
  let updated = false;
  const native = (await exec('dpkg', ['--print-architecture'])).trim();
  const foreign = (await exec('dpkg', ['--print-foreign-architectures'])).split(/\s+/);
  if (native !== 'i386' && !foreign.includes('i386')) {
    if (uid !== 0) throw notRootError('the i386 architecture in dpkg');
    progress('adding the i386 architecture to dpkg');
    await exec('dpkg', ['--add-architecture', 'i386']);
    await aptUpdate(exec, progress);
    updated = true;
  }

  // 2. Resolve the kernel package through the metapackage.
  const resolveKernel = async (): Promise<string | null> => {
    try {
      const deps = await exec('apt-cache', ['depends', 'linux-image-686:i386']);
      const m = /Depends:\s*(linux-image-[0-9][^\s:]*-686)(?::i386)?/.exec(deps);
      return m ? m[1] : null;
    } catch {
      return null;
    }
  };
  let kernelPkg = await resolveKernel();
  if (!kernelPkg && !updated) {
    if (uid !== 0) throw notRootError('apt package lists for i386 (linux-image-686:i386 is unknown to apt)');
    await aptUpdate(exec, progress);
    kernelPkg = await resolveKernel();
  }
  if (!kernelPkg) throw new Error('apt cannot resolve linux-image-686:i386 to a kernel package (is this a Debian 12 host with i386 package lists?)');
  progress(`kernel package: ${kernelPkg}:i386`);

  // 3. Download and check both packages, in a work directory of this build's own: two builds
  //    at once (two engineers' first runs after a recipe change) must not delete each other's.
  mkdirSync(dir, { recursive: true });
  removeAbandonedWork(dir);
  const work = mkdtempSync(join(dir, `.work-${process.pid}-`));
  try {
    const kernelDeb = await fetchDeb(exec, progress, work, kernelPkg);
    const busyboxDeb = await fetchDeb(exec, progress, work, 'busybox-static');

    // 4. Unpack (dpkg-deb -x needs no root) and pick the files.
    const kroot = join(work, 'kernel');
    const broot = join(work, 'busybox');
    await exec('dpkg-deb', ['-x', kernelDeb.path, kroot]);
    await exec('dpkg-deb', ['-x', busyboxDeb.path, broot]);
    const vmlinuz = readdirSync(join(kroot, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
    if (vmlinuz.length !== 1) throw new Error(`expected one /boot/vmlinuz-* in ${kernelPkg}, found ${vmlinuz.length}`);
    const kernel = readFileSync(join(kroot, 'boot', vmlinuz[0]));
    const busyboxPath = join(broot, 'bin', 'busybox');
    const busybox = readFileSync(busyboxPath);
    const version = vmlinuz[0].slice('vmlinuz-'.length);
    const modules = moduleClosure(join(kroot, 'lib', 'modules', version, 'kernel'), GUEST_MODULES, kernelPkg);

    // 5. The applet list: ask the binary itself when the host can run i386 code, else /init
    //    installs the links at boot.
    let applets: string[] = [];
    try {
      applets = (await exec(busyboxPath, ['--list-full'])).split('\n').map((s) => s.trim()).filter(Boolean);
    } catch {
      progress('cannot run the i386 busybox on this host: /init will install the applet links at boot');
    }
    progress(`packing the initramfs (busybox ${busyboxDeb.record.version}, ${applets.length} applet links)`);
    const initrd = gzipSync(writeCpio(initramfsEntries(busybox, applets, modules)), { level: 9 });

    // 6. Write the outputs, then the manifest last (its presence means the build finished).
    mkdirSync(dir, { recursive: true });
    const writeAtomic = (name: string, data: Uint8Array | string): void => {
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, data);
      renameSync(tmp, join(dir, name));
    };
    writeAtomic(KERNEL_FILE, kernel);
    writeAtomic(INITRD_FILE, initrd);
    const manifest: GuestManifest = {
      format: MANIFEST_FORMAT,
      kernel: { file: KERNEL_FILE, sha256: sha256(kernel), size: kernel.length, from: kernelDeb.record, sourcePath: `boot/${vmlinuz[0]}` },
      initrd: { file: INITRD_FILE, sha256: sha256(initrd), size: initrd.length, busybox: busyboxDeb.record, applets: applets.length },
      cmdline: DEFAULT_CMDLINE,
      marker: GUEST_MARKER,
    };
    writeAtomic(MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
    if (!verifyGuest(dir)) throw new Error(`the guest written to ${dir} does not verify against its manifest`);
    progress(`guest built in ${dir}: ${KERNEL_FILE} (${kernel.length} bytes), ${INITRD_FILE} (${initrd.length} bytes)`);
    return imagesOf(dir, manifest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The name a module goes by in `depends=` (file name without .ko, dashes as underscores). */
const moduleName = (file: string): string => file.replace(/\.ko$/, '').replace(/-/g, '_');

/** The modules a .ko file's modinfo says it depends on (its NUL-separated `depends=` string). */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko.buffer, ko.byteOffset, ko.byteLength).toString('latin1');
  const at = text.indexOf('\0depends=');
  if (at < 0) return [];
  const end = text.indexOf('\0', at + 1);
  return text.slice(at + '\0depends='.length, end < 0 ? undefined : end).split(',').filter(Boolean).map(moduleName);
}

/**
 * `wanted` (paths under the kernel package's module tree `root`) with their dependencies, each
 * module after the ones it depends on.
 */
export function moduleClosure(root: string, wanted: readonly string[], pkg: string): { name: string; data: Uint8Array }[] {
  const index = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), rel ? `${rel}/${e.name}` : e.name);
      else if (e.name.endsWith('.ko')) index.set(moduleName(e.name), rel ? `${rel}/${e.name}` : e.name);
    }
  };
  if (existsSync(root)) walk(root, '');
  const out: { name: string; data: Uint8Array }[] = [];
  const done = new Set<string>();
  const visit = (rel: string, chain: string[]): void => {
    const name = moduleName(rel.split('/').pop()!);
    if (done.has(name)) return;
    if (chain.includes(name)) throw new Error(`${pkg}: module dependency loop: ${[...chain, name].join(' -> ')}`);
    const path = join(root, rel);
    if (!existsSync(path)) throw new Error(`${pkg} has no ${rel} (looked for ${path})`);
    const data = new Uint8Array(readFileSync(path));
    for (const dep of moduleDepends(data)) {
      const depRel = index.get(dep);
      if (!depRel) throw new Error(`${pkg}: ${rel} depends on ${dep}, which the package does not have`);
      visit(depRel, [...chain, name]);
    }
    done.add(name);
    out.push({ name: rel.split('/').pop()!, data });
  };
  for (const w of wanted) visit(w, []);
  return out;
}

/** Removes work directories (`.work-<pid>-*`) left by builds whose process is gone (killed). */
function removeAbandonedWork(dir: string): void {
  for (const f of readdirSync(dir)) {
    const m = /^\.work-(\d+)-/.exec(f);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, f), { recursive: true, force: true });
    }
  }
}

async function aptUpdate(exec: NonNullable<BuildGuestOptions['exec']>, progress: (m: string) => void): Promise<void> {
  progress('running apt-get update');
  try {
    await exec('apt-get', ['update', '-qq']);
  } catch (e) {
    // A mirror of one suite mid-sync makes apt-get update fail as a whole; the lists that did
    // download are still usable, and resolution below reports what is really missing.
    progress(`apt-get update reported errors (continuing with the lists it has): ${(e as Error).message}`);
  }
}

export async function fetchDeb(
  exec: NonNullable<BuildGuestOptions['exec']>,
  progress: (m: string) => void,
  work: string,
  name: string,
): Promise<{ path: string; record: PackageRecord }> {
  const pkg = `${name}:i386`;
  const info = parseStanza(await exec('apt-cache', ['show', '--no-all-versions', pkg]));
  if (!info.Version || !info.SHA256) throw new Error(`apt has no downloadable version of ${pkg}`);
  progress(`downloading ${pkg} ${info.Version}`);
  await exec('apt-get', ['download', '-qq', `${pkg}=${info.Version}`], work);
  const file = readdirSync(work).find((f) => f.startsWith(`${name}_`) && f.endsWith('_i386.deb'));
  if (!file) throw new Error(`apt-get download ${pkg} produced no .deb`);
  const path = join(work, file);
  const digest = sha256(readFileSync(path));
  if (digest !== info.SHA256) throw new Error(`${file}: SHA256 ${digest} does not match apt's index (${info.SHA256})`);
  return { path, record: { package: pkg, version: info.Version, debSha256: digest } };
}
