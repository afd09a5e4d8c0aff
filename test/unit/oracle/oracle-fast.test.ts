/**
 * The oracle's fast subset (test/oracle): a few seeded cases per row form, run on the reference
 * (the real CPU where this host runs 32-bit code, else QEMU; test/oracle/reference.ts) and in
 * the interpreter, full state compared. One test per covered row: it fails on any mismatch (a
 * known deviation of the reference is counted, not failed) and is skipped (with the reason)
 * while the row has no interpreter handler. A second pass runs in a 16-bit code segment; the
 * CPL-3 setup covers the privilege-dependent rows. Also checks that the oracle notices a wrong
 * handler, and that the encoder agrees with objdump on instruction lengths.
 *
 * `npm run oracle` is the full run (200 cases per row form). `ORACLE_ENGINE=dbt` runs this subset
 * with the translator in force-translate mode instead of the interpreter; `ORACLE_REFERENCE=qemu`
 * forces the QEMU reference.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../../../runtime/dispatch.ts';
import type { Handler } from '../../../runtime/insn/handler.ts';
import { rowByName } from '../../../translator/isa/table.ts';
import type { Row } from '../../../translator/isa/types.ts';
import { formsOf } from '../../oracle/forms.ts';
import { CORE_GENERATOR, notCompared, runOracle, selectRows } from '../../oracle/oracle.ts';
import { referenceForTests } from '../../oracle/reference.ts';
import type { OracleReport, RowReport } from '../../oracle/oracle.ts';
import { formatMismatch } from '../../oracle/report.ts';
import { Rng } from '../../oracle/rng.ts';
import { FLAT0, USER3 } from '../../oracle/vm-setup.ts';

const SEED = 0x5eed;
const CASES = 6;
const ENGINE = process.env.ORACLE_ENGINE === 'dbt' ? 'dbt' : 'interp';

const { ref, error: refError, name: REF } = referenceForTests();
/** Rows this reference compares at `cpl`. */
const covered = (row: Row, cpl: number): boolean => !notCompared(row, cpl, ref?.kind ?? 'native');

function rowTest(get: () => OracleReport | undefined, row: Row) {
  return (ctx: { skip: (note?: string) => void }): void => {
    if (refError) throw refError;
    const rep = get();
    const r: RowReport | undefined = rep?.rows.find((x) => x.row === row);
    if (!r) throw new Error(`${row.name}: not in the oracle report`);
    if (r.status === 'no-handler' || r.status === 'no-generator') {
      ctx.skip(`${r.status}: ${r.detail ?? ''}`);
      return;
    }
    expect(r.status === 'generator-error' ? r.detail : '', `${row.name}: generator error`).toBe('');
    expect(r.cases, `${row.name}: cases generated`).toBeGreaterThan(0);
    const detail = r.examples.map(formatMismatch).join('\n');
    expect(r.mismatches, `${row.name}: ${r.mismatches} of ${r.cases} cases differ from ${REF}\n${detail}`).toBe(0);
  };
}

describe(`oracle vs ${REF}, fast subset, CPL 0 (flat0), ${ENGINE}`, () => {
  let rep: OracleReport | undefined;
  beforeAll(async () => {
    if (refError) return;
    rep = await runOracle({ seed: SEED, cases: CASES, engine: ENGINE, setup: FLAT0 });
  }, 600_000);

  it('runs its reference', () => {
    if (refError) throw refError;
    expect(rep?.reference).toBe(REF);
  });
  for (const row of selectRows(undefined)) {
    if (!covered(row, 0)) continue;
    it(row.name, rowTest(() => rep, row));
  }
});

describe(`oracle vs ${REF}, fast subset, 16-bit code segment, CPL 0 (flat0), ${ENGINE}`, () => {
  let rep: OracleReport | undefined;
  beforeAll(async () => {
    if (refError) return;
    rep = await runOracle({ seed: SEED, cases: 3, engine: ENGINE, setup: FLAT0, code16: true });
  }, 600_000);

  for (const row of selectRows(undefined)) {
    if (!covered(row, 0)) continue;
    it(row.name, rowTest(() => rep, row));
  }
});

describe(`oracle vs ${REF}, fast subset, CPL 3 with paging (user3), ${ENGINE}: privilege-dependent rows`, () => {
  const rows = selectRows(undefined).filter((r) => !covered(r, 0) && covered(r, 3));
  let rep: OracleReport | undefined;
  beforeAll(async () => {
    if (refError) return;
    const names = rows.map((r) => r.name).join('|');
    rep = await runOracle({ seed: SEED, cases: CASES, engine: ENGINE, setup: USER3, rows: `^(${names})$` });
  }, 600_000);

  it('covers the privileged, I/O and CPL-dependent rows', () => {
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['popf', 'popSS', 'larGvEw', 'cli', 'hlt', 'outDXAL']));
  });
  for (const row of rows) it(row.name, rowTest(() => rep, row));
});

describe(`oracle vs ${REF}: self-checks`, () => {
  it('reports mismatches when a handler is wrong (ADC executed as ADD), not known deviations', async (ctx) => {
    if (refError) throw refError;
    const adc = rowByName('adcEvGv');
    const add = rowByName('addEvGv');
    if (!HANDLERS[adc.id] || !HANDLERS[add.id]) ctx.skip('no ADC/ADD handlers');
    const handlers = HANDLERS as Handler[];
    const saved = handlers[adc.id];
    handlers[adc.id] = handlers[add.id];
    try {
      const rep = await runOracle({ seed: SEED, cases: 40, engine: 'interp', setup: FLAT0, rows: '^adcEvGv$', x87: null });
      const r = rep.rows[0];
      expect(r.row.name).toBe('adcEvGv');
      // CF is set in about half the cases; with it, ADD gives a different result or flags.
      expect(r.mismatches).toBeGreaterThan(10);
      expect(rep.failed).toBe(r.mismatches);
      expect(r.mismatches + r.deviations).toBeLessThanOrEqual(r.cases);
    } finally {
      handlers[adc.id] = saved;
    }
  }, 120_000);

  it('encodes instructions with the lengths objdump decodes', (ctx) => {
    try {
      execFileSync('objdump', ['--version'], { stdio: 'ignore' });
    } catch {
      ctx.skip('objdump not installed');
    }
    // One case per (row, form), each at a 32-byte slot padded with NOPs, so a disagreement
    // resynchronizes at the next slot.
    const SLOT = 32;
    const samples: { row: string; code: Uint8Array }[] = [];
    const rng = new Rng(SEED);
    // objdump decodes 0F 1A/1B as MPX instructions (which have no 16-bit addressing forms);
    // on an i686 they are hint NOPs.
    const objdumpDiffers = new Set(['hintnop1a', 'hintnop1b']);
    for (const row of selectRows(undefined)) {
      if (row.fpu || row.op < 0 || objdumpDiffers.has(row.name)) continue;
      for (const form of formsOf(row)) {
        for (let attempt = 0; attempt < 10; attempt++) {
          try {
            const c = CORE_GENERATOR.generate(row, form, { rng, setup: USER3 });
            if (c) samples.push({ row: row.name, code: c.code });
            break;
          } catch {
            // a rejected attempt: try again
          }
        }
      }
    }
    const image = new Uint8Array(samples.length * SLOT).fill(0x90);
    samples.forEach((s, k) => image.set(s.code, k * SLOT));
    const dir = mkdtempSync(join(tmpdir(), 'oracle-objdump-'));
    let text: string;
    try {
      writeFileSync(join(dir, 'code.bin'), image);
      text = execFileSync('objdump', ['-D', '-b', 'binary', '-m', 'i386', '-M', 'intel', join(dir, 'code.bin')], { maxBuffer: 1 << 28 }).toString();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Instruction start offsets as objdump sees them; lone prefixes it prints on their own line
    // ("rep", "ds", "data16" ...) belong to the instruction that follows.
    const starts: number[] = [];
    const prefixOnly = /^\s*(lock|rep[nz]*|repe|repne|[c-gs]s|data16|data32|addr16|addr32|bnd)\s*$/;
    let pendingPrefix = -1;
    for (const line of text.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t?(.*)$/.exec(line);
      if (!m) continue;
      const off = parseInt(m[1], 16);
      if (prefixOnly.test(m[2])) {
        if (pendingPrefix < 0) pendingPrefix = off;
        continue;
      }
      starts.push(pendingPrefix >= 0 ? pendingPrefix : off);
      pendingPrefix = -1;
    }
    const startSet = new Set(starts);
    const bad: string[] = [];
    samples.forEach((s, k) => {
      const end = k * SLOT + s.code.length;
      if (!startSet.has(k * SLOT) || !startSet.has(end)) {
        bad.push(`${s.row}: ${[...s.code].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
      }
    });
    expect(samples.length).toBeGreaterThan(500);
    expect(bad, `objdump splits these instructions differently:\n${bad.join('\n')}`).toEqual([]);
  });
});
