/**
 * The README's embedding example, run as written (with the package import pointed at src/):
 * it must boot the default guest, run `uname -a` and print the statistics.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe.skipIf(process.env.WASMVISOR_SKIP_BOOT === '1')('README embedding example', () => {
  it('runs and boots the default guest', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /## Embedding\s+```ts\n([\s\S]*?)```/.exec(readme);
    expect(m, 'README has an "Embedding" section with a ts code block').not.toBeNull();
    const code = m![1].replace("from 'wasmvisor'", `from '${join(ROOT, 'src', 'index.ts')}'`);
    expect(code).not.toContain("'wasmvisor'");
    const dir = join(ROOT, '.cache', 'readme-example');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'example.ts');
    writeFileSync(file, code);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(join(ROOT, 'node_modules', '.bin', 'tsx'), [file], { cwd: ROOT, timeout: 540_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`example failed: ${err.message}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      });
    });
    expect(out).toMatch(/Linux \S+ 6\.1\.0-\d+-686 .* i686 GNU\/Linux/);
    expect(out).toMatch(/innocuous/); // the statistics printed at the end
  }, 600_000);
});
