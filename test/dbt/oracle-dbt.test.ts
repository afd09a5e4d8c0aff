/**
 * The oracle (test/oracle) in force-translate mode: the fast subset's seeded cases run on the
 * reference (the real CPU, or QEMU where the host cannot run 32-bit code) and under the
 * translator (every block translated on first execution), full state compared, in both setups
 * (CPL 0 flat; CPL 3 with paging). A row must agree with the reference under the translator
 * whenever it does under the interpreter (known deviations of the reference counted the same
 * way); rows the interpreter itself gets wrong are reported by test/unit/oracle/oracle-fast.test.ts
 * and skipped here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { referenceForTests } from '../oracle/reference.ts';
import { notCompared, runOracle, selectRows } from '../oracle/oracle.ts';
import type { OracleReport } from '../oracle/oracle.ts';
import { formatMismatch } from '../oracle/report.ts';
import { FLAT0, USER3 } from '../oracle/vm-setup.ts';
import type { VmSetup } from '../oracle/types.ts';

const SEED = 0xd87;
const CASES = 3;

const { ref, error: refError, name: REF } = referenceForTests();

function suite(title: string, setup: VmSetup, cpl: number, rowsFilter?: (name: string) => boolean): void {
  describe(title, () => {
    let dbt: OracleReport | undefined;
    let interp: OracleReport | undefined;
    const rows = selectRows(undefined).filter((r) => !notCompared(r, cpl, ref?.kind ?? 'native') && (!rowsFilter || rowsFilter(r.name)));
    beforeAll(async () => {
      if (refError) return;
      const names = `^(${rows.map((r) => r.name).join('|')})$`;
      dbt = await runOracle({ seed: SEED, cases: CASES, engine: 'dbt', setup, rows: names });
      interp = await runOracle({ seed: SEED, cases: CASES, engine: 'interp', setup, rows: names });
    }, 900_000);

    it('runs the cases', () => {
      if (refError) throw refError;
      expect(dbt?.rows.length).toBe(rows.length);
    });
    for (const row of rows) {
      it(row.name, (ctx) => {
        if (refError) throw refError;
        const d = dbt?.rows.find((x) => x.row === row);
        const i = interp?.rows.find((x) => x.row === row);
        if (!d || !i) throw new Error(`${row.name}: not in the oracle reports`);
        if (i.status !== 'ok') {
          ctx.skip(`interpreter: ${i.status} ${i.detail ?? ''}`);
          return;
        }
        expect(d.cases).toBe(i.cases);
        expect(d.deviations, `${row.name}: known deviations of the reference differ between the engines`).toBe(i.deviations);
        expect(d.mismatches, `${row.name}: ${d.mismatches} of ${d.cases} cases differ from ${REF} under the translator\n${d.examples.map(formatMismatch).join('\n')}`).toBe(0);
      });
    }
  });
}

suite(`oracle vs ${REF} under the translator (force-translate), CPL 0`, FLAT0, 0);
suite(`oracle vs ${REF} under the translator (force-translate), CPL 3 with paging`, USER3, 3, (n) => !n.startsWith('f'));
