/**
 * Execution traces (runtime/trace.ts), through the public API (Program's `trace` option) and the
 * CLI (`-d ITEMS -D FILE`): each item reports what it names — the translated blocks' guest
 * code (in_asm), the emitted WebAssembly (out_asm), the blocks run (exec), the events delivered
 * (int), the VMM exits with their table reasons (exits) — and nothing is written when off.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Program, TRACE_ITEMS } from '../../src/index.ts';
import type { TraceItem } from '../../src/index.ts';
import { main } from '../../src/cli/main.ts';
import { parseArgs } from '../../src/cli/args.ts';

/**
 * mov ecx, 3 / .l: pushfd / popfd / dec ecx / jnz .l / cli / ud2 (no IDT: the #UD ends the run).
 */
const CODE = Uint8Array.from([0xb9, 3, 0, 0, 0, 0x9c, 0x9d, 0x49, 0x75, 0xfb, 0xfa, 0x0f, 0x0b]);

async function traced(items: readonly TraceItem[], engine: 'interp' | 'dbt' = 'dbt'): Promise<string[]> {
  const lines: string[] = [];
  const p = await Program.create({ image: CODE, engine, forceTranslate: engine === 'dbt', trace: { items, write: (l) => lines.push(l) } });
  const r = p.run();
  expect(r.reason).toBe('fault');
  return lines.join('\n').split('\n');
}

describe('trace items', () => {
  it('exits: each VMM exit with its reason and address', async () => {
    const lines = await traced(['exits'], 'interp');
    expect(lines.filter((l) => l.startsWith('exit pushf at'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('exit popf at'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('exit cli at'))).toHaveLength(1);
    expect(lines.every((l) => /^exit [a-z0-9-]+ at [0-9a-f]{4}:[0-9a-f]{8}$/.test(l))).toBe(true);
    // Translated code emulates these three itself at CPL 0 (emit/vmm.ts): no exit to trace.
    expect((await traced(['exits'], 'dbt')).filter((l) => l.startsWith('exit '))).toEqual([]);
  });

  it('in_asm and out_asm: the translated block disassembled, and its module as WebAssembly text', async () => {
    const lines = await traced(['in_asm', 'out_asm']);
    const text = lines.join('\n');
    expect(text).toMatch(/^in_asm region of \d+ blocks$/m);
    expect(text).toMatch(/^ {4}00001005 {2}pushfd$/m);
    expect(text).toMatch(/^out_asm region at 00001000/m);
    expect(text).toMatch(/\(module/);
  });

  it('exec: blocks run by the interpreter and entries into translated code', async () => {
    expect((await traced(['exec'], 'interp')).filter((l) => l.startsWith('exec interp'))).not.toHaveLength(0);
    expect((await traced(['exec'], 'dbt')).some((l) => l.startsWith('exec dbt'))).toBe(true);
  });

  it('writes nothing when off, and rejects unknown items', async () => {
    expect(await traced([])).toEqual(['']);
    await expect(Program.create({ image: CODE, trace: { items: ['bogus' as TraceItem], write: () => {} } })).rejects.toThrow(/unknown trace item 'bogus'/);
    expect(TRACE_ITEMS).toEqual(['in_asm', 'out_asm', 'exec', 'int', 'exits', 'post']);
  });
});

describe('CLI -d / -D', () => {
  it('parses the items, and needs -d for -D', () => {
    expect(parseArgs(['run', '--kernel', 'k', '-d', 'int,exits', '-D', 'out.log'])).toMatchObject({ trace: ['int', 'exits'], traceFile: 'out.log' });
    expect(() => parseArgs(['run', '--kernel', 'k', '-d', 'in_asm,nope'])).toThrow(/unknown trace item 'nope'/);
    expect(() => parseArgs(['run', '--kernel', 'k', '-D', 'x'])).toThrow(/-D needs -d/);
  });

  it('writes the trace of a multiboot image to the file: exits, and the events of a triple fault', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-trace-'));
    try {
      // A multiboot v1 image (a.out kludge) at 1 MiB: cli, out 0x80, ud2. Without an IDT the #UD
      // becomes #GP (the gate is past the IDT limit), then #DF, then a triple fault: a reset.
      const mb = [0x02, 0xb0, 0xad, 0x1b, 0x00, 0x00, 0x01, 0x00, 0xfe, 0x4f, 0x51, 0xe4];
      const head = 32;
      const code = [0xfa, 0xe6, 0x80, 0x0f, 0x0b];
      const image = new Uint8Array(head + code.length);
      image.set(mb, 0);
      const dv = new DataView(image.buffer);
      dv.setUint32(12, 0x100000, true); // header_addr
      dv.setUint32(16, 0x100000, true); // load_addr
      dv.setUint32(20, 0x100000 + image.length, true); // load_end_addr
      dv.setUint32(24, 0x100000 + image.length, true); // bss_end_addr
      dv.setUint32(28, 0x100000 + head, true); // entry_addr
      image.set(code, head);
      const kernel = join(dir, 'k.bin');
      writeFileSync(kernel, image);
      const log = join(dir, 'trace.log');
      const io = { stdin: Object.assign(new PassThrough(), { isTTY: false }), stdout: new PassThrough(), stderr: new PassThrough() };
      // -no-reboot: the reset ends the run (a reboot would run into the same triple fault again).
      expect(await main(['run', '--kernel', kernel, '--accel', 'interp', '-no-reboot', '-d', 'exits,int', '-D', log], io)).toBe(100);
      expect(readFileSync(log, 'utf8').split('\n')).toEqual([
        expect.stringMatching(/^exit cli at [0-9a-f]{4}:00100020$/),
        expect.stringMatching(/^exit io at [0-9a-f]{4}:00100021$/),
        expect.stringMatching(/^int exception vector 0x06 at [0-9a-f]{4}:00100023$/),
        expect.stringMatching(/^int exception vector 0x0d err=0033 at [0-9a-f]{4}:00100023$/),
        expect.stringMatching(/^int exception vector 0x08 err=0000 at [0-9a-f]{4}:00100023$/),
        '',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
