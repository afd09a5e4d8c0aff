/**
 * The `wasmvisor` command, a thin layer over the public API (src/machine.ts) with QEMU's habits:
 * the guest's serial console on the terminal in raw mode (Ctrl-C goes to the guest; Ctrl-A x
 * quits, Ctrl-A h helps), the exit code from the guest (isa-debug-exit or power-off), and a
 * terminal restored on every exit path. All I/O is injected (CliIo) so tests can drive it.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { buildGuest, GUEST_MARKER } from '../guest/build.ts';
import type { BuildGuestOptions, GuestImages } from '../guest/build.ts';
import { Machine } from '../machine.ts';
import type { MachineExit, MachineStats } from '../machine.ts';
import { helpText, parseArgs, UsageError } from './args.ts';
import type { RunArgs } from './args.ts';
import { ESCAPE_HELP, EscapeFilter } from './escape.ts';

/** Exit code when --timeout expires (as `timeout(1)`). */
export const EXIT_TIMEOUT = 124;

export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
  /** Builds (or finds) the default guest; injectable for tests. */
  buildGuest?: (opts: BuildGuestOptions) => Promise<GuestImages>;
  /** Registers a cleanup to run if the process is killed (SIGINT/SIGTERM/SIGHUP); returns an unregister. */
  onSignal?: (cleanup: () => void) => () => void;
  version?: string;
}

function say(io: CliIo, msg: string): void {
  io.stderr.write(`wasmvisor: ${msg}\n`);
}

async function readImage(kind: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`cannot read ${kind} '${path}': ${why}`);
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

async function run(args: RunArgs, io: CliIo): Promise<number> {
  let kernelPath = args.kernel;
  let initrdPath = args.initrd;
  let cmdline = args.append;
  if (kernelPath === undefined) {
    say(io, 'no --kernel given: booting the default Debian 12 i386 guest');
    const g = await (io.buildGuest ?? buildGuest)({ onProgress: (m) => say(io, m) });
    kernelPath = g.kernel;
    initrdPath = g.initrd;
    cmdline = g.cmdline;
    say(io, `guest ready (shell marker: "${GUEST_MARKER}")`);
  }
  const kernel = await readImage('kernel', kernelPath);
  const initrd = initrdPath !== undefined ? await readImage('initrd', initrdPath) : undefined;

  const traceOut = args.trace ? (args.traceFile !== undefined ? createWriteStream(args.traceFile) : io.stderr) : null;
  const machine = await Machine.create({
    memory: args.memory,
    kernel,
    ...(initrd ? { initrd } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
    engine: args.accel,
    forceTranslate: args.forceTranslate,
    // Like `qemu -no-reboot`: a guest reboot ends the run.
    onReset: 'stop',
    ...(traceOut ? { trace: { items: args.trace ?? [], write: (line: string) => traceOut.write(`${line}\n`) } } : {}),
  });

  const tty = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (tty) io.stdin.setRawMode!(false);
    io.stdin.pause();
  };
  const unregister = io.onSignal?.(() => {
    restore();
    void machine.stop();
  }) ?? (() => {});

  let forced: { code: number; why: string } | null = null;
  const escape = new EscapeFilter();
  const onInput = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
    escape.feed(bytes, (b) => machine.write(b), (action) => {
      if (action === 'quit') {
        forced = { code: 0, why: 'quit by Ctrl-A x' };
        void machine.stop();
      } else if (action === 'help') {
        io.stderr.write(`\r\n${ESCAPE_HELP}\r\n`);
      } else {
        io.stderr.write('\r\n' + formatStats(machine.stats()).replace(/\n/g, '\r\n') + '\r\n');
      }
    });
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    if (tty) io.stdin.setRawMode!(true);
    io.stdin.on('data', onInput);
    io.stdin.resume();
    machine.serial.output.on('data', (b: Buffer) => io.stdout.write(b));
    machine.debugConsole.on('data', (b: Buffer) => io.stdout.write(b));
    if (args.exitOn) {
      machine.waitFor(args.exitOn).then(
        () => {
          forced ??= { code: 0, why: `console matched --exit-on ${args.exitOn}` };
          void machine.stop();
        },
        () => {},
      );
    }
    if (args.timeout > 0) {
      timer = setTimeout(() => {
        forced ??= { code: EXIT_TIMEOUT, why: `timed out after ${args.timeout} s` };
        void machine.stop();
      }, args.timeout * 1000);
    }
    await machine.start();
    const exit: MachineExit = await machine.exited;
    restore();
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
    restore();
    unregister();
    if (traceOut && traceOut !== io.stderr) await new Promise<void>((done) => traceOut.end(done));
  }
}

function describeExit(e: MachineExit): string {
  switch (e.reason) {
    case 'poweroff': return `guest powered off${e.detail ? ` (${e.detail})` : ''}`;
    case 'exit': return `guest exited with code ${e.exitCode}`;
    case 'reset': return `guest reset${e.detail ? ` (${e.detail})` : ''}; stopping`;
    case 'error': return `error: ${e.detail ?? 'unknown'}`;
    default: return 'stopped';
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
        const g = await (io.buildGuest ?? buildGuest)({ force: args.force, onProgress: (m) => say(io, m) });
        io.stdout.write(`kernel=${g.kernel}\ninitrd=${g.initrd}\ncmdline=${g.cmdline}\n`);
        return 0;
      }
      case 'run':
        return await run(args, io);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      say(io, e.message);
      return 2;
    }
    // Image errors and other expected failures carry a message; print it, not a stack.
    say(io, e instanceof Error ? e.message : String(e));
    return 1;
  }
}
