/**
 * The oracle's references: what runs a case on an x86 processor to compare the VM with.
 *
 * - `native`: the real CPU. runner/linux.c, built with `gcc -m32`, runs each case as 32-bit user
 *   code in a Linux process. Preferred wherever the host executes i386 programs.
 * - `qemu`: QEMU's TCG. runner/bare.c, a small multiboot kernel built with `gcc -m32
 *   -ffreestanding`, boots under qemu-system-i386 (-cpu pentium2) and runs each case at CPL 3
 *   with paging, as a Linux process would run it, but with its own GDT, IDT and page tables, so
 *   every exception arrives with its exact vector, error code and CR2. For hosts whose kernel
 *   cannot run 32-bit code. Why a bare-metal harness and not the Linux runner under qemu-i386
 *   (user mode): see test/oracle/README.md.
 *
 * Which one runs: `ORACLE_REFERENCE=native|qemu` (or the oracle CLI's `--reference`) forces one;
 * otherwise a probe, once per process, decides: the native runner must build, run, and report
 * the host's own processor (not an emulator registered through binfmt_misc). Forcing `native`
 * where the probe fails is an error that says why.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, serialize } from './protocol.ts';
import type { OracleCase, Outcome } from './types.ts';

export type ReferenceKind = 'native' | 'qemu';

export const REFERENCE_KINDS: readonly ReferenceKind[] = ['native', 'qemu'];

/** Something that runs oracle cases and reports their outcomes. */
export interface Reference {
  readonly kind: ReferenceKind;
  /**
   * Where this reference is known to differ from the P6 the VM models, beyond the fixed list of
   * its kind (deviations.ts `quirk`): for the real CPU, what the probe found (`x87-fcs-fds`:
   * FCS and FDS stored as zero; `x87-fop`, `x87-fdp`: FOP, FDP stored as zero after masked
   * exceptions; `x87-suppressed-store`: an Intel processor, whose x87 stores suppressed by an
   * unmasked exception do not address their operand; `x87-fcomi-c1`: an AMD processor, whose
   * FCOMI family leaves C1 as it was).
   */
  readonly quirks: ReadonlySet<string>;
  /** What ran, for reports and test names: `native CPU (…)`, `qemu-system-i386 7.2 (…)`. */
  readonly name: string;
  /** Runs `cases`; `seed` selects the window background (layout.ts fillBackground). */
  run(cases: readonly OracleCase[], seed: number): Outcome[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNNER_DIR = join(HERE, 'runner');
const BUILD_DIR = join(HERE, '.build');

// ------------------------------------------------------------------------------------ builds
const LINUX_CFLAGS = ['-m32', '-O2', '-Wall', '-fno-pie', '-no-pie', '-fno-stack-protector'];
const BARE_CFLAGS = [
  '-m32', '-march=i686', '-ffreestanding', '-fno-pic', '-fno-pie', '-no-pie', '-nostdlib', '-static', '-O2', '-Wall',
  '-fno-stack-protector', '-fcf-protection=none', '-fno-asynchronous-unwind-tables', '-mgeneral-regs-only',
  '-fno-tree-loop-distribute-patterns', `-Wl,-T,${join(RUNNER_DIR, 'bare.ld')}`, '-Wl,--build-id=none',
  '-Wl,-z,noexecstack', '-Wl,--no-warn-rwx-segments',
];

/**
 * Path of a runner binary built from runner/`main` (with core.h), building it first when its
 * sources or flags changed. Throws a clear error when gcc cannot produce 32-bit code.
 */
function build(name: string, main: string, extra: readonly string[], flags: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of [main, 'core.h', ...extra]) hash.update(readFileSync(join(RUNNER_DIR, f)));
  const bin = join(BUILD_DIR, `${name}-${hash.update(flags.join(' ')).digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', [...flags, '-o', tmp, join(RUNNER_DIR, main)], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `oracle: cannot build ${name} with \`gcc -m32\` (needs gcc-multilib; \`npm test\` installs it through ` +
      `test/setup/system-deps.sh):\n${err.stderr?.toString() ?? err.message}`,
      { cause: e },
    );
  }
  renameSync(tmp, bin); // atomic: concurrent builders all end with a complete binary
  // Binaries of older sources, unless recent (a concurrent run may still be about to use one).
  for (const f of readdirSync(BUILD_DIR)) {
    const p = join(BUILD_DIR, f);
    if (f.startsWith(`${name}-`) && /-[0-9a-f]{16}$/.test(f) && p !== bin && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
  }
  return bin;
}

/** The real-CPU runner (runner/linux.c). */
export function buildLinuxRunner(): string {
  return build('linux-runner', 'linux.c', [], LINUX_CFLAGS);
}

/** The bare-metal harness image (runner/bare.c, multiboot ELF). */
export function buildBareHarness(): string {
  return build('bare-harness', 'bare.c', ['bare.ld'], BARE_CFLAGS);
}

// ------------------------------------------------------------------------------------ native
export type ProbeResult =
  | { readonly ok: true; readonly cpu: string; readonly quirks: ReadonlySet<string> }
  | { readonly ok: false; readonly reason: string };

let probed: ProbeResult | undefined;

/** The host's processor name from /proc/cpuinfo, if there is one. */
function hostCpuName(): string | undefined {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Whether this host runs i386 code on its own processor (cached for the process). The runner's
 * `--probe` prints the processor's CPUID vendor and brand; a kernel without 32-bit support
 * refuses the program (and Node's exec falls back to /bin/sh, which fails on the ELF bytes), and
 * an emulator registered through binfmt_misc reports a processor other than the host's.
 */
export function probeNative(): ProbeResult {
  if (probed) return probed;
  let bin: string;
  try {
    bin = buildLinuxRunner();
  } catch (e) {
    return (probed = { ok: false, reason: (e as Error).message.split('\n')[0] });
  }
  const r = spawnSync(bin, ['--probe'], { encoding: 'latin1', timeout: 20_000 });
  const m = /^oracle-native x87-fcs=(\d) x87-fop=(\d) x87-fdp=(\d) x87-fds=(\d) (\S+) ?(.*)$/m.exec(r.stdout ?? '');
  if (r.error || r.status !== 0 || !m) {
    const why = r.error?.message ?? (r.signal ? `killed by ${r.signal}` : (r.stderr || r.stdout || `exit status ${r.status}`).trim().split('\n')[0]);
    return (probed = { ok: false, reason: `this host does not run i386 programs (${why})` });
  }
  const brand = m[6].trim() || m[5];
  const host = hostCpuName();
  if (host !== undefined && host !== brand) {
    return (probed = { ok: false, reason: `the i386 runner saw "${brand}", not the host's "${host}" (an emulator through binfmt_misc?)` });
  }
  const quirks = new Set<string>();
  if (m[1] === '0' || m[4] === '0') quirks.add('x87-fcs-fds');
  if (m[2] === '0') quirks.add('x87-fop');
  if (m[3] === '0') quirks.add('x87-fdp');
  // Intel processors complete an x87 store suppressed by an unmasked exception without
  // addressing its operand (measured on a Xeon); AMD, like the VM, checks the operand first.
  if (m[5] === 'GenuineIntel') quirks.add('x87-suppressed-store');
  // AMD processors leave C1 alone in FCOMI/FCOMIP/FUCOMI/FUCOMIP, which the SDM says clear it.
  if (m[5] === 'AuthenticAMD') quirks.add('x87-fcomi-c1');
  return (probed = { ok: true, cpu: brand, quirks });
}

function nativeReference(cpu: string, quirks: ReadonlySet<string>): Reference {
  const bin = buildLinuxRunner();
  return {
    kind: 'native',
    name: `native CPU (${cpu})`,
    quirks,
    run(cases, seed) {
      if (cases.length === 0) return [];
      const r = spawnSync(bin, [], { input: serialize(cases, seed), maxBuffer: 1 << 30 });
      if (r.error) throw r.error;
      if (r.status !== 0) {
        throw new Error(`oracle: the native runner failed (status ${r.status}, signal ${r.signal}): ${r.stderr.toString()}`);
      }
      return parse(r.stdout, cases);
    },
  };
}

// ------------------------------------------------------------------------------------ qemu
/** QEMU's CPU model for the harness: the P6 our CPUID reports (family 6, model 5). */
export const QEMU_CPU = 'pentium2';
/** Guest-physical layout of the harness's RAM file (runner/bare.c): batch, then results. */
const MIB = 1 << 20;
const IN_ADDR = 16 * MIB;
const IN_MAGIC = 0x4243524f; // 'ORCB'
const OUT_MAGIC = 0x5243524f; // 'ORCR'
const OUT_HEADER = 256;
const STATE_DONE = 1;
const STATE_ERROR = 2;
const STATE_PARTIAL = 3;
/** Seconds a harness run may take per case before it counts as hung (plus boot time). */
const SECONDS_PER_CASE = 0.02;

let qemuVersion: string | undefined;

/** qemu-system-i386's version, or throws a clear error if it is not installed. */
function qemuSystemVersion(): string {
  if (qemuVersion) return qemuVersion;
  const r = spawnSync('qemu-system-i386', ['--version'], { encoding: 'utf8' });
  const m = /version (\d+\.\d+(?:\.\d+)?)/.exec(r.stdout ?? '');
  if (r.error || !m) {
    throw new Error('oracle: qemu-system-i386 is not installed (Debian qemu-system-x86; `npm test` installs it through test/setup/system-deps.sh)');
  }
  return (qemuVersion = m[1]);
}

interface HarnessRun {
  state: number;
  done: number;
  message: string;
  out: Buffer;
}

/** Boots the harness once on `batch` (serialized cases); returns its result area. */
function bootHarness(image: string, batch: Buffer, nCases: number): HarnessRun {
  const outAddr = IN_ADDR + Math.ceil((batch.length + 8) / MIB + 1) * MIB;
  const outCap = 32 * MIB + nCases * 2048;
  const ramMiB = Math.ceil((outAddr + OUT_HEADER + outCap) / MIB / 4) * 4;
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-oracle-'));
  const ram = join(dir, 'ram');
  try {
    const fd = openSync(ram, 'w+');
    try {
      ftruncateSync(fd, ramMiB * MIB);
      const env = Buffer.alloc(8);
      env.writeUInt32LE(IN_MAGIC, 0);
      env.writeUInt32LE(batch.length, 4);
      writeSync(fd, env, 0, 8, IN_ADDR);
      writeSync(fd, batch, 0, batch.length, IN_ADDR + 8);
    } finally {
      closeSync(fd);
    }
    const end = outAddr + OUT_HEADER + outCap;
    const args = [
      '-nodefaults', '-display', 'none', '-no-reboot', '-cpu', QEMU_CPU, '-m', `${ramMiB}M`,
      '-object', `memory-backend-file,id=ram,size=${ramMiB}M,mem-path=${ram},share=on`, '-machine', 'pc,memory-backend=ram',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel', image, '-append', `in=0x${IN_ADDR.toString(16)} out=0x${outAddr.toString(16)} end=0x${end.toString(16)}`,
    ];
    const r = spawnSync('qemu-system-i386', args, { timeout: Math.ceil((5 + nCases * SECONDS_PER_CASE) * 1000), encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw new Error(`oracle: qemu-system-i386: ${r.error.message}`);
    const rfd = openSync(ram, 'r');
    try {
      const head = Buffer.alloc(OUT_HEADER);
      readSync(rfd, head, 0, OUT_HEADER, outAddr);
      if (head.readUInt32LE(0) !== OUT_MAGIC) {
        throw new Error(`oracle: the bare-metal harness did not start (qemu-system-i386 exit status ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr ?? '').trim()}`);
      }
      const state = head.readUInt32LE(4);
      const done = head.readUInt32LE(8);
      const len = head.readUInt32LE(12);
      const message = head.subarray(16).toString('latin1').replace(/\0.*$/s, '');
      const out = Buffer.alloc(state === STATE_DONE || state === STATE_PARTIAL ? len : 0);
      if (out.length) readSync(rfd, out, 0, len, outAddr + OUT_HEADER);
      return { state, done, message, out };
    } finally {
      closeSync(rfd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hungOutcome(): Outcome {
  return {
    kind: 'timeout', vector: -1, errorCode: -1, cr2: 0, eip: 0, eflags: 0, regs: new Int32Array(8), sel: [0, 0, 0, 0, 0, 0],
    mem: new Map(), message: 'the case did not end (the harness run timed out on it)',
  };
}

function qemuReference(): Reference {
  const version = qemuSystemVersion();
  const image = buildBareHarness();
  const run = (cases: readonly OracleCase[], seed: number): Outcome[] => {
    if (cases.length === 0) return [];
    const h = bootHarness(image, serialize(cases, seed), cases.length);
    if (h.state === STATE_DONE) return parse(h.out, cases);
    // Stopped after case done - 1, which left the CPU unclean: boot again for the rest.
    if (h.state === STATE_PARTIAL) return [...parse(h.out, cases.slice(0, h.done)), ...run(cases.slice(h.done), seed)];
    if (h.state === STATE_ERROR) throw new Error(`oracle: the bare-metal harness stopped at case ${h.done}: ${h.message}`);
    // Killed while running case `done`: that case hangs; run the others again around it.
    return [...run(cases.slice(0, h.done), seed), hungOutcome(), ...run(cases.slice(h.done + 1), seed)];
  };
  return { kind: 'qemu', name: `qemu-system-i386 ${version} (TCG, -cpu ${QEMU_CPU}, bare-metal harness)`, quirks: new Set(), run };
}

// ------------------------------------------------------------------------------------ programs
/**
 * Runs a static i386 Linux program and returns its standard output and what ran it: the real
 * CPU where the probe succeeds, else QEMU's user-mode emulator `qemu-i386-static` (Debian
 * qemu-user-static; test/setup/system-deps.sh installs it). For tests that compare a guest
 * program's output with a reference run (the boot tier).
 */
export function runI386Program(exe: string, args: readonly string[] = []): { output: string; ranOn: string } {
  const p = probeNative();
  if (p.ok) return { output: execFileSync(exe, args, { encoding: 'utf8' }), ranOn: `native CPU (${p.cpu})` };
  const r = spawnSync('qemu-i386-static', [exe, ...args], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`cannot run ${exe}: ${p.reason}, and qemu-i386-static failed (${r.error?.message ?? r.stderr}); install qemu-user-static`);
  }
  const v = /version (\d+\.\d+(?:\.\d+)?)/.exec(spawnSync('qemu-i386-static', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  return { output: r.stdout, ranOn: `qemu-i386 ${v?.[1] ?? ''} (user mode)`.replace('  ', ' ') };
}

// ------------------------------------------------------------------------------------ choice
const made = new Map<ReferenceKind, Reference>();

/** The kind named by ORACLE_REFERENCE, if set (an unknown value is an error). */
function forcedKind(): ReferenceKind | undefined {
  const v = process.env.ORACLE_REFERENCE;
  if (v === undefined || v === '') return undefined;
  if (v !== 'native' && v !== 'qemu') throw new Error(`ORACLE_REFERENCE must be native or qemu, not '${v}'`);
  return v;
}

/** The kind to use: `kind`, else ORACLE_REFERENCE, else native where the probe succeeds, else qemu. */
export function referenceKind(kind?: ReferenceKind): ReferenceKind {
  return kind ?? forcedKind() ?? (probeNative().ok ? 'native' : 'qemu');
}

/**
 * The reference a test file compares with, or why there is none: test files take it when they
 * load and fail each test with `error`, so a missing reference fails the tests rather than
 * hiding them.
 */
export function referenceForTests(): { ref?: Reference; error?: Error; name: string } {
  try {
    const ref = getReference();
    return { ref, name: ref.name };
  } catch (e) {
    return { error: e as Error, name: 'no reference' };
  }
}

/** The reference of `kind` (see referenceKind), made once per process. */
export function getReference(kind?: ReferenceKind): Reference {
  const k = referenceKind(kind);
  const hit = made.get(k);
  if (hit) return hit;
  let ref: Reference;
  if (k === 'native') {
    const p = probeNative();
    if (!p.ok) throw new Error(`oracle: the native reference cannot run here: ${p.reason}`);
    ref = nativeReference(p.cpu, p.quirks);
  } else {
    ref = qemuReference();
  }
  made.set(k, ref);
  return ref;
}
