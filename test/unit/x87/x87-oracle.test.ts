/**
 * The x87 rows against the reference through the oracle (test/oracle: the real CPU, or QEMU where
 * the host cannot run 32-bit code), with the x87 plug-in (test/oracle/gen-x87.ts): a quick pass
 * of random cases per row form. The full run is `npm run oracle -- --row '^f|^wait$' --cases 500`.
 */
import { describe, expect, it } from 'vitest';
import { runOracle } from '../../oracle/oracle.ts';
import { FLAT0 } from '../../oracle/vm-setup.ts';
import { describeOutcome } from '../../oracle/compare.ts';
import { x87Plugin } from '../../oracle/gen-x87.ts';
import { getReference } from '../../oracle/reference.ts';

describe(`x87 rows vs ${getReference().name} (oracle)`, () => {
  it('every x87 row matches on random cases', async () => {
    const rep = await runOracle({ seed: 20240611, cases: 25, rows: '^f|^wait$', engine: 'interp', setup: FLAT0, x87: x87Plugin, examples: 1 });
    const x87Rows = rep.rows.filter((r) => r.row.fpu === true || r.row.name === 'wait');
    expect(x87Rows.length).toBeGreaterThan(135);
    const bad = x87Rows.filter((r) => r.status !== 'ok').map((r) => {
      const m = r.examples[0];
      return `${r.row.name}: ${r.status} ${r.detail ?? ''} ${m ? `${m.diffs.join('; ')} (ref ${describeOutcome(m.ref)})` : ''}`;
    });
    expect(bad).toEqual([]);
    expect(rep.failed).toBe(0);
  });
});
