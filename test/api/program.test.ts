/**
 * The public `Program` API (src/program.ts, exported by src/index.ts): a raw flat 32-bit image
 * run in both engines — results in registers and memory, re-runs from the same initial registers
 * that keep their translations, statistics, the steady-state translation measurement, faults,
 * and the rejection of bad options.
 */
import { describe, expect, it } from 'vitest';
import { Program } from '../../src/index.ts';
import type { ProgramOptions } from '../../src/index.ts';
import { assemble } from '../unit/vmm/vmm-harness.ts';
import { workloadImage } from '../../bench/lib/workloads.ts';

const N = 100_000;
/** Sum 1..N mod 2^32. */
const SUM = Number((BigInt(N) * BigInt(N + 1) / 2n) % 2n ** 32n);

/**
 * At 0x1000:
 *   mov ecx, N / xor eax, eax / .l: add eax, ecx / dec ecx / jnz .l / call f / mov [0x2000], eax / hlt
 *   f: mov ebx, esp / ret
 */
const SUM_PROGRAM = Uint8Array.from([
  0xb9, N & 0xff, (N >>> 8) & 0xff, (N >>> 16) & 0xff, N >>> 24, // mov ecx, N
  0x31, 0xc0, // xor eax, eax
  0x01, 0xc8, // .l: add eax, ecx
  0x49, // dec ecx
  0x75, 0xfb, // jnz .l
  0xe8, 0x06, 0x00, 0x00, 0x00, // call f
  0xa3, 0x00, 0x20, 0x00, 0x00, // mov [0x2000], eax
  0xf4, // hlt
  0x89, 0xe3, // f: mov ebx, esp
  0xc3, // ret
]);
/** mov, xor, N x (add, dec, jnz), call, mov ebx, ret, mov, hlt. */
const SUM_INSNS = 2 + 3 * N + 5;
const STACK = 0x80000;

const ENGINES = [
  { name: 'interpreter', opts: { engine: 'interp' } },
  { name: 'translator', opts: { engine: 'dbt' } },
  { name: 'translator, force-translate', opts: { engine: 'dbt', forceTranslate: true } },
] as const;

describe('Program', () => {
  it.each(ENGINES)('runs a program and re-runs it: $name', async ({ opts }) => {
    const p = await Program.create({ image: SUM_PROGRAM, loadAddress: 0x1000, stack: STACK, memory: 1 << 20, ...opts });
    expect(p.engine).toBe(opts.engine);
    const r1 = p.run();
    expect(r1.reason).toBe('halted');
    expect(r1.fault).toBeUndefined();
    expect(r1.instructions).toBe(SUM_INSNS);
    expect(r1.registers).toMatchObject({ eax: SUM, ecx: 0, ebx: STACK - 4, esp: STACK, eip: 0x1000 + 23 });
    expect(r1.registers.eflags & 0x40).toBe(0x40); // ZF from the last DEC
    expect(p.registers()).toEqual(r1.registers);
    expect([...p.readMemory(0x2000, 4)]).toEqual([SUM & 0xff, (SUM >>> 8) & 0xff, (SUM >>> 16) & 0xff, SUM >>> 24]);

    const s1 = p.stats();
    expect(s1.instructions).toBe(SUM_INSNS);
    expect(s1.instructionsByClass.control).toBeGreaterThanOrEqual(N);
    if (opts.engine === 'interp') {
      expect(s1.translator).toBeUndefined();
      expect(p.measureTranslation()).toBeNull();
    } else {
      // The loop runs N times: hot enough for the default tier-up threshold too.
      expect(s1.translator?.blocks).toBeGreaterThan(0);
      expect(s1.translator?.translateMs).toBeGreaterThan(0);
    }

    // Same initial registers, same result; translations are kept (nothing new to translate).
    const r2 = p.run();
    expect(r2).toEqual(r1);
    const s2 = p.stats();
    expect(s2.instructions).toBe(2 * SUM_INSNS);
    expect(s2.translator).toEqual(s1.translator);

    const limited = p.run({ maxInstructions: 1000 });
    expect(limited.reason).toBe('limit');
    expect(limited.instructions).toBeGreaterThanOrEqual(1000);
    expect(limited.instructions).toBeLessThan(1100);
    expect(p.run().registers.eax).toBe(SUM);
  });

  it('measures the steady-state translation cost per block', async () => {
    const p = await Program.create({ image: SUM_PROGRAM, memory: 1 << 20, forceTranslate: true });
    expect(p.measureTranslation({ minBlocks: 10 })).toBeNull(); // nothing translated yet
    p.run();
    const blocks = p.stats().translator?.blocks;
    const us = p.measureTranslation({ minBlocks: 10 });
    expect(us).toBeGreaterThan(0);
    expect(Number.isFinite(us)).toBe(true);
    expect(p.stats().translator?.blocks).toBe(blocks); // measuring installs nothing
    expect(p.run().registers.eax).toBe(SUM);
  });

  it.each(['interp', 'dbt'] as const)('defaults, and ends the run at the first exception: %s', async (engine) => {
    // mov eax, 7 / ud2
    const p = await Program.create({ image: Uint8Array.from([0xb8, 7, 0, 0, 0, 0x0f, 0x0b]), engine });
    const r = p.run();
    expect(r.reason).toBe('fault');
    expect(r.fault).toEqual({ vector: 6, description: '#UD' });
    expect(r.registers).toMatchObject({ eax: 7, eip: 0x1005, esp: 16 << 20 });
    // A #GP with an error code: mov ds, ax with AX = 0x18 (no GDT entry there).
    const g = await Program.create({ image: Uint8Array.from([0x66, 0xb8, 0x18, 0, 0x8e, 0xd8, 0xf4]), engine, entry: 0x1000 });
    expect(g.run().fault).toMatchObject({ vector: 13, errorCode: 0x18 });
  });

  it('rejects bad options with a clear error', async () => {
    const image = Uint8Array.from([0xf4]);
    const bad = async (o: unknown, msg: RegExp): Promise<void> => {
      await expect(Program.create(o as ProgramOptions)).rejects.toThrow(msg);
    };
    await bad(undefined, /options must be an object/);
    await bad({ image, bogus: 1 }, /unknown option 'bogus'/);
    await bad({ image: [0xf4] }, /`image` must be a Uint8Array/);
    await bad({ image: new Uint8Array(0) }, /`image` is empty/);
    await bad({ image, memory: 1000 }, /multiple of 4 KiB/);
    await bad({ image, memory: 4 << 30 }, /between 1 MiB and 1792 MiB/);
    await bad({ image, loadAddress: -1 }, /`loadAddress` must be an integer/);
    await bad({ image, entry: 2 ** 32 }, /`entry` must be an integer/);
    await bad({ image, stack: 1.5 }, /`stack` must be an integer/);
    await bad({ image: new Uint8Array(4096), loadAddress: (1 << 20) - 100, memory: 1 << 20 }, /does not fit/);
    await bad({ image, engine: 'jit' }, /engine must be 'dbt' or 'interp'/);
    await bad({ image, forceTranslate: 'yes' }, /`forceTranslate` must be a boolean/);
    await bad({ image, engine: 'interp', forceTranslate: true }, /forceTranslate needs engine 'dbt'/);

    const p = await Program.create({ image, engine: 'interp' });
    expect(() => p.run({ maxInstructions: 0 })).toThrow(/maxInstructions must be a positive integer/);
    expect(() => p.run({ budget: 5 } as never)).toThrow(/Program.run: unknown option 'budget'/);
    expect(() => p.measureTranslation({ minBlocks: -1 })).toThrow(/minBlocks must be a positive integer/);
    expect(() => p.measureTranslation({ rounds: 3 } as never)).toThrow(/unknown option 'rounds'/);
    expect(() => p.readMemory((16 << 20) - 2, 4)).toThrow(RangeError);
    expect(p.run().reason).toBe('halted');
  });
});

describe('Program: exceptions', () => {
  it.each(ENGINES)('a program that loads a GDT and an IDT handles its own #DE (the bench workload): $name', async ({ opts }) => {
    const p = await Program.create({ image: workloadImage('exceptions'), memory: 1 << 20, ...opts });
    for (let k = 0; k < 2; k++) {
      const r = p.run();
      expect(r.reason).toBe('halted');
      expect(r.registers.ebx).toBe(20000);
      expect(p.stats().exits['exception 0']).toBe(20000 * (k + 1));
    }
  });

  it.each(ENGINES)('without an IDT the first exception ends the run; a broken one is a triple fault: $name', async ({ opts }) => {
    const noIdt = Uint8Array.from([0x31, 0xf6, 0xf7, 0xf6, 0xf4]); // xor esi, esi / div esi / hlt
    const p = await Program.create({ image: noIdt, memory: 1 << 20, ...opts });
    const r = p.run();
    expect(r.reason).toBe('fault');
    expect(r.fault).toMatchObject({ vector: 0, description: '#DE' });
    expect(r.registers.eip).toBe(0x1002);
    // An IDT of one not-present gate: #DE's delivery raises #NP, whose vector is beyond the
    // limit (#GP), whose vector is too: #DF, also beyond: a triple fault.
    const { bytes } = assemble(`
  lidt [idtr]
  xor esi, esi
  div esi
  hlt
align 8
idt: dq 0
idtr: dw 7
  dd idt
`, 0x1000, 32);
    const q = await Program.create({ image: bytes, memory: 1 << 20, ...opts });
    const t = q.run();
    expect(t.reason).toBe('fault');
    expect(t.fault?.vector).toBe(-1);
    expect(t.fault?.description).toMatch(/triple/i);
  });
});
