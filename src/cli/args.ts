/**
 * Command-line parsing for `wasmvisor`. Options are declared as data (OPTIONS) so that the parser,
 * the help text and the tests all read one list. Both our spellings and QEMU's are accepted
 * (`--kernel` and `-kernel`, `-m 128M`, `-append`, `-nographic`), so a QEMU command line carries over.
 * Unknown options and malformed values are rejected with a message naming the option.
 */


import { ramSizeProblem } from '../../runtime/memory.ts';
import { PC_DEFAULT_MEMORY, PC_MIN_MEMORY } from '../../runtime/pc/pc-machine.ts';
import { ENGINES, isEngine } from '../../runtime/vm.ts';
import { parseTraceItems, TRACE_ITEMS } from '../../runtime/trace.ts';
import type { TraceItem } from '../../runtime/trace.ts';
import type { Engine } from '../../runtime/vm.ts';
import type { DriveSpec } from '../../runtime/block/drive.ts';
import { parseDriveOption } from './drive-args.ts';

export interface RunArgs {
  command: 'run';
  kernel?: string;
  /** `--bios FILE` (QEMU's `-bios`): a firmware image run from the reset vector instead of a kernel. */
  bios?: string;
  initrd?: string;
  append?: string;
  /** Guest RAM in bytes. */
  memory: number;
  accel: Engine;
  /** Translate every block on first execution (testing aid). */
  forceTranslate: boolean;
  stats: boolean;
  /** Seconds; 0 = none. */
  timeout: number;
  exitOn?: RegExp;
  /** Accepted for QEMU compatibility; the console is always the terminal. */
  nographic: boolean;
  /** Disks (`-drive`, `-hda`; `-snapshot` sets snapshot on each). */
  drives: DriveSpec[];
  /** Trace items (-d) and the file they go to (-D; default standard error). */
  trace?: TraceItem[];
  traceFile?: string;
  /** `-no-reboot`: a guest reset ends the run (exit code 100) instead of rebooting the guest. */
  noReboot: boolean;
  /** `--restore FILE`: continue the machine a snapshot file recorded instead of booting. */
  restore?: string;
  /** `--snapshot-file FILE`: where Ctrl-A s writes snapshots (default: a new timestamped file). */
  snapshotFile?: string;
}

export type CliArgs =
  | RunArgs
  | { command: 'build-guest'; force: boolean; disk?: string; diskSizeMiB?: number }
  | { command: 'help'; topic?: string }
  | { command: 'version' };

export class UsageError extends Error {}

interface OptionSpec {
  names: readonly string[];
  value?: string;
  help: string;
}

/** Options of `wasmvisor run`, in help order. */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  { names: ['--kernel', '-kernel'], value: 'FILE', help: 'kernel image: a Linux bzImage or a multiboot v1 image' },
  { names: ['--initrd', '-initrd'], value: 'FILE', help: 'initial ramdisk (Linux)' },
  { names: ['--append', '-append'], value: 'CMDLINE', help: 'kernel command line' },
  { names: ['--bios', '-bios'], value: 'FILE', help: 'firmware image (a multiple of 64 KiB) mapped below 4 GiB and at 0xE0000-0xFFFFF, run from F000:FFF0 instead of a kernel' },
  { names: ['-m', '--memory'], value: 'SIZE', help: 'guest RAM, e.g. 128M or 1G (default 128M)' },
  { names: ['-drive', '--drive'], value: 'SPEC', help: 'a disk: file=F[,format=raw|qcow2][,if=virtio|ide][,readonly=on][,snapshot=on] (format probed if absent; if=virtio is /dev/vda…, if=ide /dev/sda…)' },
  { names: ['-hda', '--hda'], value: 'FILE', help: 'the first IDE disk (as -drive file=FILE,if=ide)' },
  { names: ['-snapshot', '--snapshot'], help: 'writes to every disk stay in memory (snapshot=on): the image files are not written' },
  { names: ['--accel', '-accel'], value: 'dbt|interp', help: 'execution engine: the binary translator (default) or the interpreter' },
  { names: ['--force-translate'], help: 'translate every block on first execution (testing aid)' },
  { names: ['--stats'], help: 'print execution statistics on exit' },
  { names: ['-d'], value: 'ITEMS', help: `trace, as QEMU: a comma list of ${TRACE_ITEMS.join(', ')}` },
  { names: ['-D'], value: 'FILE', help: 'write the trace to FILE (default: standard error)' },
  { names: ['--timeout'], value: 'SEC', help: 'stop the guest after SEC seconds (exit code 124)' },
  { names: ['--exit-on'], value: 'REGEX', help: 'stop (exit code 0) as soon as the console output matches REGEX' },
  { names: ['--restore'], value: 'FILE', help: 'continue from a snapshot file (Ctrl-A s) instead of booting; the snapshot holds RAM size, kernel, initrd, command line and drives (their images must be unchanged)' },
  { names: ['--snapshot-file'], value: 'FILE', help: 'where Ctrl-A s writes a snapshot (default: wasmvisor-YYYYMMDD-HHMMSS.snap in the current directory)' },
  { names: ['-no-reboot', '--no-reboot'], help: 'a guest reset or triple fault ends the run (exit code 100) instead of rebooting' },
  { names: ['-nographic', '--nographic'], help: 'accepted for QEMU compatibility (the serial console is always the terminal)' },
  { names: ['-h', '--help'], help: 'show this help' },
];

/** Parses a memory size such as `128M`, `1G`, `1.5G`, `65536K` or a number of MiB. */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid memory size '${text}' (expected e.g. 128M, 1.5G or 1G)`);
  const unit = m[2].toUpperCase();
  // QEMU reads a bare number as MiB, and takes fractions (1.5G).
  const mult = unit === 'K' ? 1 << 10 : unit === 'G' ? 1 << 30 : 1 << 20;
  const bytes = Number(m[1]) * mult;
  if (!Number.isInteger(bytes)) throw new UsageError(`memory size ${text}: not a whole number of bytes`);
  const problem = ramSizeProblem(bytes, PC_MIN_MEMORY);
  if (problem) throw new UsageError(`memory size ${text}: ${problem}`);
  return bytes;
}

function parseRun(argv: readonly string[]): RunArgs | { command: 'help'; topic: 'run' } {
  const out: RunArgs = { command: 'run', memory: PC_DEFAULT_MEMORY, accel: 'dbt', forceTranslate: false, stats: false, timeout: 0, nographic: false, noReboot: false, drives: [] };
  let snapshotAll = false;
  /** Options given, by their first name (--restore excludes those that say what to boot). */
  const seen = new Set<string>();
  for (let k = 0; k < argv.length; k++) {
    let arg = argv[k];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const spec = RUN_OPTIONS.find((o) => o.names.includes(arg));
    if (!spec) throw new UsageError(`unknown option '${argv[k]}' for 'run' (see 'wasmvisor help run')`);
    let value = '';
    if (spec.value) {
      if (inline !== undefined) value = inline;
      else if (k + 1 < argv.length) value = argv[++k];
      else throw new UsageError(`option '${arg}' needs a value (${spec.value})`);
    } else if (inline !== undefined) {
      throw new UsageError(`option '${arg}' takes no value`);
    }
    seen.add(spec.names[0]);
    switch (spec.names[0]) {
      case '--restore': out.restore = value; break;
      case '--snapshot-file': out.snapshotFile = value; break;
      case '--kernel': out.kernel = value; break;
      case '-drive':
        try {
          out.drives.push(parseDriveOption(value));
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        break;
      case '-hda': out.drives.push({ file: value, if: 'ide' }); break;
      case '-snapshot': snapshotAll = true; break;
      case '--bios': out.bios = value; break;
      case '--initrd': out.initrd = value; break;
      case '--append': out.append = value; break;
      case '-m': out.memory = parseMemory(value); break;
      case '--accel': {
        // QEMU spells it `-accel tcg`; we accept `tcg` as the translator too.
        const v = value === 'tcg' ? 'dbt' : value;
        if (!isEngine(v)) throw new UsageError(`--accel must be ${ENGINES.map((e) => `'${e}'`).join(' or ')} (got '${value}')`);
        out.accel = v;
        break;
      }
      case '--force-translate': out.forceTranslate = true; break;
      case '--stats': out.stats = true; break;
      case '--timeout': {
        const t = Number(value);
        if (!Number.isFinite(t) || t <= 0) throw new UsageError(`--timeout needs a positive number of seconds (got '${value}')`);
        out.timeout = t;
        break;
      }
      case '--exit-on':
        try {
          out.exitOn = new RegExp(value);
        } catch (e) {
          throw new UsageError(`--exit-on: invalid regular expression: ${(e as Error).message}`);
        }
        break;
      case '-nographic': out.nographic = true; break;
      case '-no-reboot': out.noReboot = true; break;
      case '-h': return { command: 'help', topic: 'run' };
      case '-d':
        try {
          out.trace = parseTraceItems(value);
        } catch (e) {
          throw new UsageError(`-d: ${(e as Error).message}`);
        }
        break;
      case '-D': out.traceFile = value; break;
    }
  }
  if (out.traceFile !== undefined && out.trace === undefined) throw new UsageError('-D needs -d');
  if (snapshotAll) for (const d of out.drives) d.snapshot = true;
  if (out.restore !== undefined) {
    // (-drive, -hda: the snapshot records its drives and reopens them; runtime/snapshot/disks.ts.)
    const clash = ['--kernel', '--bios', '--initrd', '--append', '-m', '-drive', '-hda'].filter((n) => seen.has(n));
    if (clash.length) throw new UsageError(`--restore cannot be combined with ${clash.join(', ')}: the snapshot holds the machine's RAM size, firmware or kernel, initrd, command line and drives`);
  }
  if (out.bios !== undefined && out.kernel !== undefined) throw new UsageError('--bios and --kernel exclude each other: the firmware runs from the reset vector');
  if (out.initrd !== undefined && out.kernel === undefined) throw new UsageError('--initrd needs --kernel');
  if (out.append !== undefined && out.kernel === undefined) throw new UsageError('--append needs --kernel');
  return out;
}

/** Parses the arguments after the program name. */
export function parseArgs(argv: readonly string[]): CliArgs {
  if (argv.length === 0) return { command: 'help' };
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return parseRun(rest);
    case 'build-guest': {
      const out: CliArgs = { command: 'build-guest', force: false };
      for (let k = 0; k < rest.length; k++) {
        const a = rest[k];
        if (a === '--force') out.force = true;
        else if ((a === '--disk' || a === '--disk-size') && k + 1 < rest.length) {
          const v = rest[++k];
          if (a === '--disk') out.disk = v;
          else {
            out.diskSizeMiB = parseMemory(v) / (1 << 20);
            if (!Number.isInteger(out.diskSizeMiB)) throw new UsageError(`--disk-size ${v}: not a whole number of MiB`);
          }
        } else throw new UsageError(a.startsWith('--disk') ? `option '${a}' needs a value` : `unknown option '${a}' for 'build-guest'`);
      }
      if (out.diskSizeMiB !== undefined && out.disk === undefined) throw new UsageError('--disk-size needs --disk');
      return out;
    }
    case 'help': case '--help': case '-h': return { command: 'help', topic: rest[0] };
    case 'version': case '--version': case '-V': return { command: 'version' };
    default:
      // QEMU habit: `wasmvisor -kernel K ...` means `wasmvisor run -kernel K ...`.
      if (cmd.startsWith('-')) return parseRun(argv);
      throw new UsageError(`unknown command '${cmd}' (try 'wasmvisor help')`);
  }
}

/** The exit status of `wasmvisor run`, one line per way a run ends (also in README.md). */
export const EXIT_CODE_TABLE = `Exit status:
  0          the guest powered off (ACPI S5), or Ctrl-A x, or --exit-on matched
  1, 3, 5 …  the guest wrote v to isa-debug-exit (port 0xF4): (v << 1) | 1, as QEMU
  2          bad command line, unusable input file, or a snapshot (--restore) that is
             truncated, corrupt or made for another build (nothing ran)
  70         host error (internal error, the default guest could not be built)
  100        the guest reset the machine or triple-faulted, with -no-reboot
             (without it the machine resets and boots again, as QEMU)
  102        the guest kernel panicked (pvpanic device, or its panic line on the console)
  104        the guest halted for good (HLT with interrupts off)
  124        --timeout expired
  128 + N    killed by signal N (SIGHUP 129, SIGINT 130, SIGTERM 143); the terminal is restored;
             141 (SIGPIPE) when standard output is closed by its reader`;

/** Help text, generated from OPTIONS. */
export function helpText(topic?: string): string {
  const opts = RUN_OPTIONS.map((o) => {
    const left = `  ${o.names.join(', ')}${o.value ? ' ' + o.value : ''}`;
    return left.padEnd(34) + o.help;
  }).join('\n');
  const run = `Usage: wasmvisor run [options]

Boots a guest with its serial console on this terminal. With no --kernel, boots the default
Debian 12 i386 guest (building it first if needed).

Options:
${opts}

Console keys: Ctrl-A x quits, Ctrl-A h shows help, Ctrl-A s saves a snapshot of the machine
(--snapshot-file; continue it later with --restore FILE), Ctrl-A i prints statistics, Ctrl-A a
sends Ctrl-A to the guest; everything else (Ctrl-C, Ctrl-Z) goes to the guest.

${EXIT_CODE_TABLE}`;
  if (topic === 'run') return run;
  return `wasmvisor: an IA-32 virtual machine (interpreter + binary translator to WebAssembly)

Commands:
  run [options]        boot a guest (see 'wasmvisor help run')
  build-guest [--force] build the default Debian guest into the cache
    [--disk FILE [--disk-size SIZE]]  also make FILE, an ext4 root disk (busybox, 64M by
                       default) to boot with: run -drive file=FILE,if=virtio -kernel K -initrd I
                       -append "<the printed cmdline>" (root=/dev/vda)
  help [run]           show help
  version              show the version

${run}`;
}
