/** The CLI's streams for a test: main(argv, io) writes into them, out() and err() read back all it wrote. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/main.ts';

export function captureIo(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (b: Buffer) => (o += b.toString()));
  stderr.on('data', (b: Buffer) => (e += b.toString()));
  return { io: { stdin: new PassThrough(), stdout, stderr }, out: () => o, err: () => e };
}
