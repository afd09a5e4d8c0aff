/**
 * The `wasmvisor` command, a thin layer over the public API (src/machine.ts) with QEMU's habits:
 * the guest's serial console on the terminal in raw mode (Ctrl-C goes to the guest; Ctrl-A x
 * quits, Ctrl-A h helps), an exit code that tells how the run ended (args.ts EXIT_CODE_TABLE),
 * and a terminal restored on every exit path. All I/O is injected (CliIo) so tests can drive it.
 */
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { buildRootDisk } from '../guest/root-disk.ts';
import { buildGuest, GUEST_MARKER, TTY_SIZE_VAR } from '../guest/build.ts';
import type { BuildGuestOptions, GuestImages } from '../guest/build.ts';
import { ImageError } from '../../runtime/loaders/image-error.ts';
import { SnapshotError } from '../../runtime/snapshot/container.ts';
import { EXIT_CODES, Machine } from '../machine.ts';
import type { MachineExit, MachineOptions, MachineStats } from '../machine.ts';
import { helpText, parseArgs, UsageError } from './args.ts';
import type { RunArgs } from './args.ts';
import { ESCAPE_HELP, EscapeFilter } from './escape.ts';

/** Exit code when --timeout expires (as `timeout(1)`). */
export const EXIT_TIMEOUT = EXIT_CODES.timeout;

export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; rows?: number; columns?: number };
  stderr: Writable;
  /** Builds (or finds) the default guest; injectable for tests. */
  buildGuest?: (opts: BuildGuestOptions) => Promise<GuestImages>;
  /**
   * Registers a handler for the signals that end the process (SIGINT, SIGTERM, SIGHUP): it gets
   * the signal's name and the exit code it means (128 + N). Returns an unregister function.
   */
  onSignal?: (handler: (signal: string, exitCode: number) => void) => () => void;
  version?: string;
}

function say(io: CliIo, msg: string): void {
  io.stderr.write(`wasmvisor: ${msg}\n`);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads an input image: it must be a regular file of at most `limit` bytes. The file is opened
 * non-blocking (a FIFO with no writer cannot hang the open) and checked through its descriptor
 * before a byte is read, so /dev/zero, FIFOs and directories are refused at once.
 */
/** The largest `--bios` image (PcMachine's limit). */
const BIOS_LIMIT = 16 << 20;

export async function readImage(kind: string, path: string, limit: number): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENXIO' ? 'not a regular file (a socket?)' : (e as Error).message;
    throw new UsageError(`cannot read ${kind} '${path}': ${why}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UsageError(`cannot read ${kind} '${path}': ${fileKind(st)}; the ${kind} must be a regular file`);
    if (st.size > limit) {
      throw new UsageError(`cannot read ${kind} '${path}': ${st.size} bytes is more than the guest's RAM (${limit} bytes)`);
    }
    const data = new Uint8Array(st.size);
    let at = 0;
    while (at < data.length) {
      const { bytesRead } = await fh.read(data, at, data.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== data.length) throw new UsageError(`cannot read ${kind} '${path}': the file shrank while being read`);
    return data;
  } finally {
    await fh.close();
  }
}

/** Formats statistics for --stats and Ctrl-A s. */
export function formatStats(s: MachineStats): string {
  const lines: string[] = [];
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  lines.push(`instructions: ${n(s.instructions)} in ${s.seconds.toFixed(2)} s (${(s.instructions / Math.max(s.seconds, 1e-9) / 1e6).toFixed(1)} MIPS)`);
  lines.push('instructions by class:');
  for (const [k, v] of Object.entries(s.instructionsByClass)) lines.push(`  ${k.padEnd(24)} ${n(v)}`);
  const exits = Object.entries(s.exits).sort((a, b) => b[1] - a[1]);
  lines.push(`VMM exits by reason (${n(exits.reduce((a, [, v]) => a + v, 0))} total):`);
  for (const [k, v] of exits) lines.push(`  ${k.padEnd(24)} ${n(v)}`);
  const inline = Object.entries(s.vmmInline).sort((a, b) => b[1] - a[1]);
  if (inline.length) {
    lines.push(`emulated inside translated code, no exit (${n(inline.reduce((a, [, v]) => a + v, 0))} total):`);
    for (const [k, v] of inline) lines.push(`  ${k.padEnd(24)} ${n(v)}`);
  }
  lines.push(`code cache: ${n(s.cache.blocks)} blocks, ${n(s.cache.hits)} hits, ${n(s.cache.misses)} misses, ${n(s.cache.invalidations)} page invalidations`);
  if (s.translator) {
    lines.push('translator:');
    for (const [k, v] of Object.entries(s.translator)) lines.push(`  ${k.padEnd(24)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : n(v)}`);
  }
  if (s.resets) lines.push(`guest resets: ${s.resets}`);
  return lines.join('\n');
}

/** Largest snapshot file `--restore` reads (a snapshot holds at most the RAM plus the boot images). */
const SNAPSHOT_LIMIT = 0x7fffffff;

/** Ctrl-A s without --snapshot-file: a new file per snapshot, named by the local time. */
function defaultSnapshotName(now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `wasmvisor-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}.snap`;
}

/** Writes a snapshot to `path` through a temporary file, so a crash never leaves half a snapshot there. */
async function writeSnapshot(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/**
 * After Ctrl-A s: a snapshot refuses to restore once a writable drive's image has changed
 * (runtime/snapshot/disks.ts), so say which drives that is (those given on this command line).
 */
function writableNote(args: RunArgs): string {
  const files = args.drives.filter((d) => !d.snapshot && !d.readOnly).map((d) => d.file);
  return files.length ? `wasmvisor: note: ${files.join(', ')} ${files.length > 1 ? 'are' : 'is'} writable: the snapshot restores only while ${files.length > 1 ? 'they stay' : 'it stays'} as now (use snapshot=on to keep it restorable)\r\n` : '';
}

async function run(args: RunArgs, io: CliIo): Promise<number> {
  const traceOut = args.trace ? (args.traceFile !== undefined ? createWriteStream(args.traceFile) : io.stderr) : null;
  const trace = traceOut ? { trace: { items: args.trace ?? [], write: (line: string) => traceOut.write(`${line}\n`) } } : {};
  let machine: Machine;
  if (args.restore !== undefined) {
    const bytes = await readImage('snapshot', args.restore, SNAPSHOT_LIMIT);
    machine = await Machine.restore(bytes, {
      engine: args.accel,
      forceTranslate: args.forceTranslate,
      onReset: args.noReboot ? 'stop' : 'reboot',
      ...trace,
    });
    say(io, `restored the snapshot '${args.restore}'`);
  } else {
    machine = await boot(args, io, trace);
  }
  return attach(machine, args, io, traceOut);
}

/** A new machine with the kernel of the command line, or the default guest. */
async function boot(args: RunArgs, io: CliIo, trace: Pick<MachineOptions, 'trace'>): Promise<Machine> {
  let kernelPath = args.kernel;
  let initrdPath = args.initrd;
  let cmdline = args.append;
  if (kernelPath === undefined && args.bios === undefined) {
    say(io, 'no --kernel given: booting the default Debian 12 i386 guest');
    let g: GuestImages;
    try {
      g = await (io.buildGuest ?? buildGuest)({ onProgress: (m) => say(io, m) });
    } catch (e) {
      throw new HostError(`cannot build the default guest: ${e instanceof Error ? e.message : String(e)}`);
    }
    kernelPath = g.kernel;
    initrdPath = g.initrd;
    cmdline = g.cmdline;
    // The guest's console shell sets its terminal to this size (src/guest/build.ts).
    const { rows, columns } = io.stdout;
    if (io.stdout.isTTY && rows && columns) cmdline += ` ${TTY_SIZE_VAR}=${rows}x${columns}`;
    say(io, `guest ready (shell marker: "${GUEST_MARKER}")`);
  }
  const kernel = kernelPath !== undefined ? await readImage('kernel', kernelPath, args.memory) : undefined;
  const bios = args.bios !== undefined ? await readImage('BIOS image', args.bios, BIOS_LIMIT) : undefined;
  const initrd = initrdPath !== undefined ? await readImage('initrd', initrdPath, args.memory) : undefined;

  return Machine.create({
    memory: args.memory,
    ...(bios ? { bios } : { kernel }),
    ...(initrd ? { initrd } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
    engine: args.accel,
    forceTranslate: args.forceTranslate,
    ...(args.drives.length ? { drives: args.drives } : {}),
    // As QEMU: a guest reset reboots the guest, unless -no-reboot.
    onReset: args.noReboot ? 'stop' : 'reboot',
    ...trace,
  });
}

/** Runs `machine` on the terminal until it ends; resolves with the exit code. */
async function attach(machine: Machine, args: RunArgs, io: CliIo, traceOut: Writable | null): Promise<number> {
  const tty = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (tty) io.stdin.setRawMode!(false);
    io.stdin.pause();
  };
  let forced: { code: number; why: string } | null = null;
  // Resolves when a signal or the timeout ends the run: output still waiting for a full stdout
  // is then abandoned rather than waited for.
  let abandon!: () => void;
  const abandoned = new Promise<void>((r) => (abandon = r));
  const force = (code: number, why: string): void => {
    forced ??= { code, why };
    void machine.stop();
  };
  const unregister = io.onSignal?.((signal, code) => {
    restore();
    force(code, `killed by ${signal}`);
    abandon();
  }) ?? (() => {});

  // The last byte the guest printed: a message of ours starts on a line of its own.
  let lastOut = 0x0a;
  const escape = new EscapeFilter();
  const onInput = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
    escape.feed(bytes, (b) => machine.write(b), (action) => {
      if (action === 'quit') {
        force(0, 'quit by Ctrl-A x');
        abandon();
      } else if (action === 'help') {
        io.stderr.write(`\r\n${ESCAPE_HELP}\r\n`);
      } else if (action === 'snapshot') {
        const path = args.snapshotFile ?? defaultSnapshotName();
        machine.saveState().then((bytes) => writeSnapshot(path, bytes).then(() => bytes.length)).then(
          (size) => io.stderr.write(`\r\nwasmvisor: snapshot saved to ${path} (${size} bytes); continue it with: wasmvisor run --restore ${path}\r\n${writableNote(args)}`),
          (e: unknown) => io.stderr.write(`\r\nwasmvisor: cannot save a snapshot to ${path}: ${e instanceof Error ? e.message : String(e)}\r\n`),
        );
      } else {
        io.stderr.write('\r\n' + formatStats(machine.stats()).replace(/\n/g, '\r\n') + '\r\n');
      }
    });
  };

  // The reader of stdout went away (`| head`): end the run as SIGPIPE would end a process.
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    force(128 + 13, `standard output closed (${e.code ?? e.message})`);
    abandon();
  };

  const onResize = (): void => {
    const { rows, columns } = io.stdout;
    if (rows && columns) machine.resizeConsole(rows, columns);
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    if (tty) io.stdin.setRawMode!(true);
    io.stdout.on('error', onStdoutError);
    io.stdin.on('data', onInput);
    io.stdin.resume();
    const track = (b: Buffer): void => {
      if (b.length) lastOut = b[b.length - 1];
    };
    // pipe(): when stdout is full (a pipe nobody reads), the machine's streams fill and the
    // guest's UART stops accepting bytes until it drains (backpressure; nothing is dropped).
    machine.serial.output.on('data', track).pipe(io.stdout, { end: false });
    // A terminal resized (SIGWINCH): tell the guest (the default guest applies it).
    if (io.stdout.isTTY) io.stdout.on('resize', onResize);
    machine.debugConsole.on('data', track).pipe(io.stdout, { end: false });
    if (args.exitOn) {
      machine.waitFor(args.exitOn).then(
        () => force(0, `console matched --exit-on ${args.exitOn}`),
        () => {},
      );
    }
    if (args.timeout > 0) {
      timer = setTimeout(() => {
        force(EXIT_CODES.timeout, `timed out after ${args.timeout} s`);
        abandon();
      }, args.timeout * 1000);
    }
    await machine.start();
    const exit: MachineExit = await machine.exited;
    // Everything the guest printed reaches stdout before we exit (unless a signal or the
    // timeout ended the run, or stdout went away).
    const gone = new Promise<void>((r) => {
      io.stdout.once('close', r);
      io.stdout.once('error', r);
    });
    await Promise.race([Promise.all([ended(machine.serial.output), ended(machine.debugConsole)]), abandoned, gone]);
    restore();
    if (lastOut !== 0x0a) io.stderr.write(tty ? '\r\n' : '\n');
    if (args.stats) io.stderr.write('\n' + formatStats(machine.stats()) + '\n');
    const f = forced as { code: number; why: string } | null;
    if (f) {
      say(io, f.why);
      return f.code;
    }
    say(io, describeExit(exit));
    return exit.exitCode;
  } finally {
    if (timer) clearTimeout(timer);
    io.stdin.off('data', onInput);
    io.stdout.off('resize', onResize);
    io.stdout.off('error', onStdoutError);
    restore();
    unregister();
    if (traceOut && traceOut !== io.stderr) await new Promise<void>((done) => traceOut.end(done));
  }
}

/** Resolves when all of `s`'s data has been consumed. */
function ended(s: Readable): Promise<void> {
  return s.readableEnded ? Promise.resolve() : new Promise((r) => s.once('end', () => r()));
}

/** A failure on the host side (exit code 70), as opposed to a bad command line or input. */
class HostError extends Error {}

function describeExit(e: MachineExit): string {
  const d = e.detail ? ` (${e.detail})` : '';
  switch (e.reason) {
    case 'poweroff': return `guest powered off${d}`;
    case 'exit': return `guest exited with code ${e.exitCode}`;
    case 'reset': return `guest reset${d}; stopping (-no-reboot), exit code ${e.exitCode}`;
    case 'panic': return `guest kernel panic${d}; exit code ${e.exitCode}`;
    case 'halt': return `guest halted for good${d}; exit code ${e.exitCode}`;
    case 'error': return `error: ${e.detail ?? 'unknown'}; exit code ${e.exitCode}`;
    default: return `stopped; exit code ${e.exitCode}`;
  }
}

/** Runs the CLI; resolves with the process exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    switch (args.command) {
      case 'help':
        io.stdout.write(helpText(args.topic) + '\n');
        return 0;
      case 'version':
        io.stdout.write(`wasmvisor ${io.version ?? 'unknown'}\n`);
        return 0;
      case 'build-guest': {
        const g = await (io.buildGuest ?? buildGuest)({ force: args.force, onProgress: (m) => say(io, m) }).catch((e: unknown) => {
          throw new HostError(`cannot build the default guest: ${e instanceof Error ? e.message : String(e)}`);
        });
        io.stdout.write(`kernel=${g.kernel}\ninitrd=${g.initrd}\ncmdline=${g.cmdline}\n`);
        if (args.disk !== undefined) {
          const d = await buildRootDisk({ file: args.disk, ...(args.diskSizeMiB !== undefined ? { sizeMiB: args.diskSizeMiB } : {}), onProgress: (m) => say(io, m) }).catch((e: unknown) => {
            throw new HostError(`cannot build the root disk: ${e instanceof Error ? e.message : String(e)}`);
          });
          io.stdout.write(`disk=${d.file}\ndisk-cmdline=${d.cmdline}\n`);
        }
        return 0;
      }
      case 'run':
        return await run(args, io);
    }
  } catch (e) {
    // Expected failures carry a message for the user; print it, not a stack.
    say(io, e instanceof Error ? e.message : String(e));
    // A bad command line or an unusable image: nothing ran.
    if (e instanceof UsageError || e instanceof ImageError || e instanceof SnapshotError) return EXIT_CODES.usage;
    return EXIT_CODES.hostError;
  }
}
