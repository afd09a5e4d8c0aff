/**
 * The tiny multiboot images of test/cli/guests/*.asm (one per way a run ends), assembled with
 * nasm into a temporary directory, once per content.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, 'guests');
const OUT = join(tmpdir(), 'wasmvisor-cli-guests');

/** Assembles guests/<name>.asm (if needed) and returns the image's path. */
export function guestImage(name: string): string {
  // Images include each other: the hash covers every source.
  const h = createHash('sha256').update(name);
  for (const f of readdirSync(DIR).sort()) h.update(f).update(readFileSync(join(DIR, f)));
  const hash = h.digest('hex').slice(0, 16);
  const out = join(OUT, `${name}-${hash}.bin`);
  if (existsSync(out)) return out;
  mkdirSync(OUT, { recursive: true });
  const r = spawnSync('nasm', ['-f', 'bin', '-I', `${DIR}/`, '-o', out, join(DIR, `${name}.asm`)], { encoding: 'utf8' });
  if (r.error) throw new Error(`nasm is not available: ${r.error.message} (run test/setup/system-deps.sh)`);
  if (r.status !== 0) throw new Error(`nasm failed on ${name}.asm:\n${r.stderr}`);
  return out;
}
