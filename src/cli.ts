#!/usr/bin/env node
/**
 * The `wasmvisor` executable: wires the real process I/O into src/cli/main.ts. The terminal is
 * restored on every exit path (normal exit, signals, uncaught errors).
 */
import { readFileSync } from 'node:fs';
import { main } from './cli/main.ts';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    if (pkg.version) return pkg.version;
  } catch {
    // running from source: package.json is one level up
  }
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The signals that end a run, with their numbers: the exit code is 128 + N. */
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
/** How long a signalled run may take to stop before the process exits anyway. */
const STOP_GRACE_MS = 3000;

const restoreTerminal = (): void => {
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
};
const handlers = new Set<(signal: string, exitCode: number) => void>();
let signalled = false;
for (const [sig, n] of Object.entries(SIGNALS)) {
  process.on(sig, () => {
    const code = 128 + n;
    // A second signal, or one before a run has started: exit now.
    if (signalled || handlers.size === 0) {
      restoreTerminal();
      process.exit(code);
    }
    signalled = true;
    for (const h of handlers) h(sig, code);
    setTimeout(() => {
      restoreTerminal();
      process.exit(code);
    }, STOP_GRACE_MS).unref();
  });
}
process.on('exit', restoreTerminal);

/** Exits once what is queued for stdout has been written (bounded: stdout may be a full pipe). */
function exitAfterFlush(code: number): void {
  restoreTerminal();
  process.exitCode = code;
  if (!process.stdout.writableNeedDrain) process.exit(code);
  process.stdout.once('drain', () => process.exit(code));
  setTimeout(() => process.exit(code), STOP_GRACE_MS);
}

main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  version: version(),
  onSignal: (h) => {
    handlers.add(h);
    return () => handlers.delete(h);
  },
}).then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    process.stderr.write(`wasmvisor: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    restoreTerminal();
    process.exit(70);
  },
);
