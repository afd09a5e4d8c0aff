/**
 * Command-line entry for the guest builder: `tsx src/guest/cli.ts [--cache DIR] [--force]`.
 *
 * Progress goes to stderr; on success stdout gets one `key=value` line per output (kernel,
 * initrd, cmdline, marker) so scripts can read it. Errors print as one message, never a stack.
 * `main` takes its I/O as parameters so tests can drive it without a process.
 */
import { pathToFileURL } from 'node:url';
import { buildGuest, defaultCacheDir } from './build.ts';
import type { BuildGuestOptions } from './build.ts';

const USAGE = `usage: build-guest [--cache DIR] [--force] [--quiet]
Builds the default Debian i386 guest (kernel + busybox initramfs) into DIR
(default: $WASMVISOR_CACHE or ~/.cache/wasmvisor/guest).`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  build?: (opts: BuildGuestOptions) => ReturnType<typeof buildGuest>;
}

/** Runs the builder CLI; resolves with the process exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let cacheDir = defaultCacheDir();
  let force = false;
  let quiet = false;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a === '--force') force = true;
    else if (a === '--quiet') quiet = true;
    else if (a === '--cache' && k + 1 < argv.length) cacheDir = argv[++k];
    else if (a.startsWith('--cache=')) cacheDir = a.slice('--cache='.length);
    else {
      io.err(`build-guest: unknown option "${a}"\n${USAGE}`);
      return 2;
    }
  }
  try {
    const g = await (io.build ?? buildGuest)({ cacheDir, force, onProgress: quiet ? undefined : (m) => io.err(`build-guest: ${m}`) });
    io.out(`kernel=${g.kernel}`);
    io.out(`initrd=${g.initrd}`);
    io.out(`cmdline=${g.cmdline}`);
    io.out(`marker=${g.marker}`);
    return 0;
  } catch (e) {
    io.err(`build-guest: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
