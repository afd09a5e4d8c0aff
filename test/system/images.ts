/**
 * The system-test catalogue: every test/system/tests/*.asm, how to build it with nasm, how to
 * run it on our bare-metal machine and under qemu-system-i386, and the canonical text both
 * runs are compared by: the debug-console output followed by one line `exit <status>`, where
 * <status> is the QEMU process exit status ((v << 1) | 1 for an isa-debug-exit write of v,
 * 0 after a triple fault with -no-reboot) or `timeout` (a hang: HLT forever, or a loop).
 *
 * Directives in a test's leading comment lines:
 *   ; @raw-real              a boot sector (<= 512 bytes): QEMU boots it from a floppy through
 *                            its BIOS; we load it at 0x7C00 in real mode
 *   ; @append ARGS           multiboot command line arguments (QEMU -append ARGS; QEMU passes
 *                            "<kernel path> ARGS", we pass "<name>.bin ARGS")
 *   ; @module FILE [ARGS]    a multiboot module from test/system/data (QEMU -initrd)
 *   ; @memory MIB            guest RAM (default 32)
 *   ; @timeout SECONDS       QEMU wall-clock limit (default 10)
 *   ; @needs DEVICE...       devices beyond the bare machine (e.g. `pic pit`); runs on our
 *                            machine only when devices.ts can attach them
 *   ; @qemu-args ARGS        extra qemu-system-i386 arguments for the reference run (to make
 *                            QEMU's machine the one we model, e.g. its I/O APIC's version)
 *   ; @qemu-deviates REASON  QEMU is known to get this behaviour wrong (REASON says how): the
 *                            expected file is written from the SDM instead of by QEMU, and
 *                            compare-qemu reports QEMU's difference without failing
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBareMetalAsync } from '../../runtime/bare/bare-machine.ts';
import type { BareMetalResult } from '../../runtime/bare/bare-machine.ts';
import type { Engine } from '../../runtime/vm.ts';
import { attachDevices } from './devices.ts';

export const SYSTEM_DIR = dirname(fileURLToPath(import.meta.url));
const TESTS_DIR = join(SYSTEM_DIR, 'tests');
const LIB_DIR = join(SYSTEM_DIR, 'lib');
const DATA_DIR = join(SYSTEM_DIR, 'data');
export const EXPECTED_DIR = join(SYSTEM_DIR, 'expected');
const CACHE_DIR = join(tmpdir(), 'wasmvisor-system-tests');

export interface SystemTest {
  name: string;
  asm: string;
  expected: string;
  rawReal: boolean;
  append: string | null;
  modules: { file: string; args: string }[];
  memoryMiB: number;
  timeoutS: number;
  /** Why QEMU is not the reference for this test, or null. */
  qemuDeviates: string | null;
  /** Devices the test needs beyond the debug ports. */
  needs: string[];
  /** Extra arguments for qemu-system-i386. */
  qemuArgs: string[];
}

/** All tests, sorted by name. */
export function listTests(): SystemTest[] {
  return readdirSync(TESTS_DIR).filter((f) => f.endsWith('.asm')).sort().map((f) => parseTest(join(TESTS_DIR, f)));
}

function parseTest(asm: string): SystemTest {
  const name = basename(asm, '.asm');
  const t: SystemTest = {
    name, asm, expected: join(EXPECTED_DIR, `${name}.txt`),
    rawReal: false, append: null, modules: [], memoryMiB: 32, timeoutS: 10, qemuDeviates: null, needs: [], qemuArgs: [],
  };
  for (const line of readFileSync(asm, 'utf8').split('\n')) {
    if (!line.startsWith(';')) break;
    const m = /^;\s*@(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rest] = m;
    const value = rest.trim();
    if (key === 'raw-real') t.rawReal = true;
    else if (key === 'append') t.append = value;
    else if (key === 'module') {
      const [file, ...args] = value.split(/\s+/);
      t.modules.push({ file, args: args.join(' ') });
    } else if (key === 'memory') t.memoryMiB = Number(value);
    else if (key === 'timeout') t.timeoutS = Number(value);
    else if (key === 'qemu-deviates') t.qemuDeviates = value;
    else if (key === 'needs') t.needs = value.split(/\s+/);
    else if (key === 'qemu-args') t.qemuArgs = value.split(/\s+/);
    else throw new Error(`${name}.asm: unknown directive @${key}`);
  }
  return t;
}

/** Assembles a test (cached by the hash of its source and the runtime) and returns the image path. */
export function buildImage(t: SystemTest): string {
  const h = createHash('sha256');
  h.update(readFileSync(t.asm));
  for (const f of readdirSync(LIB_DIR).sort()) h.update(f).update(readFileSync(join(LIB_DIR, f)));
  const out = join(CACHE_DIR, `${t.name}-${h.digest('hex').slice(0, 16)}.bin`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE_DIR, { recursive: true });
  const r = spawnSync('nasm', ['-f', 'bin', '-I', `${LIB_DIR}/`, '-o', out, t.asm], { encoding: 'utf8' });
  if (r.error) throw new Error(`nasm is not available: ${r.error.message} (run test/setup/system-deps.sh)`);
  if (r.status !== 0) throw new Error(`nasm failed on ${t.name}.asm:\n${r.stderr}`);
  return out;
}

/** The canonical text of a run: output, then `exit <status>`. */
export function canonical(output: string, status: number | 'timeout'): string {
  return `${output}${output === '' || output.endsWith('\n') ? '' : '\n'}exit ${status}\n`;
}

/** Maps our machine's result to the status QEMU would have reported. */
export function statusOf(r: BareMetalResult): number | 'timeout' {
  if (r.reason === 'exit' && r.exitCode !== null) return r.exitCode & 0xff;
  if (r.reason === 'triple-fault' || r.reason === 'shutdown') return 0;
  return 'timeout';
}

/** Runs a test image on our machine (the engine loaded first, so 'dbt' translates from the start). */
export async function runOurs(t: SystemTest, image: Uint8Array, engine: Engine, forceTranslate = false): Promise<{ text: string; result: BareMetalResult }> {
  const result = await runBareMetalAsync(image, {
    ...(t.needs.length ? { setup: (vm, bus) => attachDevices(vm, bus, t.needs) } : {}),
    memorySize: t.memoryMiB << 20,
    engine,
    forceTranslate,
    maxInstructions: 200_000_000,
    ...(t.rawReal ? { format: 'raw' as const, raw: { address: 0x7c00, mode: 'real' as const } } : { format: 'multiboot' as const }),
    ...(t.append !== null ? { cmdline: `${t.name}.bin ${t.append}` } : {}),
    ...(t.modules.length
      ? { modules: t.modules.map((m) => ({ data: readFileSync(join(DATA_DIR, m.file)), cmdline: `${m.file}${m.args ? ` ${m.args}` : ''}` })) }
      : {}),
  });
  return { text: canonical(result.output, statusOf(result)), result };
}

/** Runs a test image under qemu-system-i386 and returns the canonical text. */
export function runQemu(t: SystemTest, imagePath: string): string {
  const work = join(CACHE_DIR, `qemu-${t.name}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const out = join(work, 'debugcon.txt');
  writeFileSync(out, '');
  const args = [
    '-nodefaults', '-display', 'none', '-no-reboot', '-cpu', 'pentium2', '-m', `${t.memoryMiB}M`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-debugcon', `file:${out}`, ...t.qemuArgs,
  ];
  if (t.rawReal) {
    // A 1.44 MB floppy image whose first sector is the test; the BIOS loads it at 0000:7C00.
    const floppy = new Uint8Array(1474560);
    floppy.set(readFileSync(imagePath));
    const img = join(work, 'floppy.img');
    writeFileSync(img, floppy);
    args.push('-drive', `file=${img},if=floppy,format=raw`, '-boot', 'a');
  } else {
    // QEMU names the module by the path given; copy modules so their names match ours.
    args.push('-kernel', imagePath);
    if (t.append !== null) args.push('-append', t.append);
    if (t.modules.length) {
      args.push('-initrd', t.modules.map((m) => `${m.file}${m.args ? ` ${m.args}` : ''}`).join(','));
    }
  }
  const r = spawnSync('qemu-system-i386', args, { timeout: t.timeoutS * 1000, cwd: DATA_DIR, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw new Error(`qemu-system-i386: ${r.error.message}`);
  const output = readFileSync(out, 'latin1');
  const status = r.signal || r.status === null ? 'timeout' : r.status;
  // QEMU's own errors (bad options, an image it refuses) exit with status 1 and say why.
  if (output === '' && /qemu-system-i386: /.test(r.stderr ?? '')) throw new Error(`qemu-system-i386 failed: ${r.stderr}`);
  return canonical(output, status);
}
