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

const cleanups = new Set<() => void>();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    for (const c of cleanups) c();
    // Let the run loop notice the stop; exit if it does not within a second.
    setTimeout(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)), 1000).unref();
  });
}
process.on('exit', () => {
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
});

main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  version: version(),
  onSignal: (c) => {
    cleanups.add(c);
    return () => cleanups.delete(c);
  },
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`wasmvisor: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(70);
  },
);
