/**
 * VMM exits are facts of the table: every sensitive-non-trapping, privileged and I/O row declares
 * the exit it is counted as (`exit`, from EXIT_REASONS), no other row does, and executing any such
 * row counts exactly that exit, once, in the interpreter and in force-translate mode (the
 * translator's stubs call the same handlers, which runtime/dispatch.ts wraps with the count).
 * Each row runs once at CPL 3 with paging (the oracle's user3 setup and case generator), where
 * the privileged and I/O rows fault after their exit is counted.
 */
import { describe, expect, it } from 'vitest';
import { TABLE } from '../../translator/isa/table.ts';
import { EXIT_REASONS } from '../../translator/isa/types.ts';
import { formsOf } from '../oracle/forms.ts';
import { CORE_GENERATOR } from '../oracle/oracle.ts';
import { Rng } from '../oracle/rng.ts';
import type { OracleCase } from '../oracle/types.ts';
import { VmRunner } from '../oracle/vm-run.ts';
import { USER3 } from '../oracle/vm-setup.ts';

const EXITING = TABLE.filter((r) => r.cls === 'sensitive-non-trapping' || r.cls === 'privileged' || r.cls === 'io');

describe('every row that leaves translated code declares its VMM exit', () => {
  it('sensitive, privileged and I/O rows have an exit; innocuous and control rows have none', () => {
    expect(EXITING.length).toBeGreaterThan(70);
    expect(EXITING.filter((r) => !r.exit).map((r) => r.name)).toEqual([]);
    expect(TABLE.filter((r) => r.exit && !EXITING.includes(r)).map((r) => r.name)).toEqual([]);
    const used = new Set(EXITING.map((r) => r.exit));
    expect(EXIT_REASONS.filter((r) => !used.has(r))).toEqual([]);
  });
});

/** VMM exits and the VMM work translated code did itself (emit/vmm.ts), by reason. */
function counted(vm: VmRunner['vm']): Record<string, number> {
  const out: Record<string, number> = { ...vm.exits };
  for (const [k, n] of Object.entries(vm.vmmInline)) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** One case per exiting row (the first form the generator can make at CPL 3). */
function casesFor(): OracleCase[] {
  const rng = new Rng(0xe817);
  const out: OracleCase[] = [];
  for (const row of EXITING) {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const c = CORE_GENERATOR.generate(row, formsOf(row)[0], { rng, setup: USER3 });
        if (c) {
          out.push(c);
          break;
        }
      } catch {
        // a rejected attempt: try again
      }
    }
  }
  return out;
}

describe.each([
  { engine: 'interp' as const },
  { engine: 'dbt' as const },
])('each exiting row counts its exit once ($engine)', ({ engine }) => {
  it('every row', async () => {
    const cases = casesFor();
    expect(cases.length).toBe(EXITING.length);
    const runner = new VmRunner({ engine, setup: USER3, seed: 1 });
    await runner.prepare();
    const wrong: string[] = [];
    for (const c of cases) {
      const before = counted(runner.vm);
      runner.run(c);
      const after = counted(runner.vm);
      const reason = c.row.exit!;
      const delta = Object.keys(after).filter((k) => !k.startsWith('exception ') && after[k] !== (before[k] ?? 0));
      if (delta.length !== 1 || delta[0] !== reason || after[reason] !== (before[reason] ?? 0) + 1) {
        wrong.push(`${c.row.name}: expected one '${reason}', counted ${delta.map((k) => `${k} +${after[k] - (before[k] ?? 0)}`).join(', ') || 'nothing'}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
