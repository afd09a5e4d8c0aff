/**
 * Smoke run of the decoder/interpreter fuzzer (test/fuzz): a small seeded count must end every
 * input normally, in a guest exception or a machine halt; host crashes (JS exceptions) and hangs
 * (an input that keeps the VM busy) fail the test with the input printed. Also checks that the
 * fuzzer does report a throwing handler, and that a seed always produces the same run.
 * `npm run fuzz -- --count 1000000` is the long run.
 */
import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../../runtime/dispatch.ts';
import type { Handler } from '../../../runtime/insn/handler.ts';
import { rowByName } from '../../../translator/isa/table.ts';
import { formatCrash, formatInput, fuzz } from '../../fuzz/fuzz.ts';
import { fuzzWatched } from '../../fuzz/watch.ts';

const SEED = 1;

describe('fuzzer smoke run', () => {
  it('runs 3000 seeded inputs without a host crash or hang', async () => {
    const r = await fuzzWatched({ count: 3000, seed: SEED }, 10);
    const problems = [
      ...r.crashes.map((c) => formatCrash(c, SEED)),
      ...r.hangs.map((h) => [`host hang at input #${h.input.index}:`, ...formatInput(h.input), `  ${h.instruction}`].join('\n')),
    ];
    expect(problems.join('\n'), 'host crashes or hangs').toBe('');
    expect(r.inputs).toBe(3000);
  }, 120_000);

  it('produces the same run for the same seed', async () => {
    const summary = async (): Promise<string> => {
      const r = await fuzzWatched({ count: 1500, seed: 99, keepGoing: true }, 10);
      return JSON.stringify({ endings: r.endings, hangs: r.hangs.map((h) => h.input.index) });
    };
    expect(await summary()).toBe(await summary());
  }, 120_000);

  it('reports a handler that throws a JS exception as a host crash, with its input', () => {
    const handlers = HANDLERS as Handler[];
    const nop = rowByName('nop').id;
    const saved = handlers[nop];
    handlers[nop] = () => {
      throw new TypeError('injected host bug');
    };
    try {
      const r = fuzz({ count: 20_000, seed: SEED });
      expect(r.crashes).toHaveLength(1);
      const c = r.crashes[0];
      expect(c.error).toContain('injected host bug');
      expect(c.reproducesAlone).toBe(true);
      expect(r.endings['host crash']).toBe(1);
      expect(r.inputs).toBe(c.input.index + 1);
      expect(formatCrash(c, SEED)).toContain([...c.input.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '));
    } finally {
      handlers[nop] = saved;
    }
  }, 120_000);
});
