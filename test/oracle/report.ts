/**
 * Text output of an oracle run: the per-row table, the excluded rows with their reasons, the
 * mismatch details (disassembly, initial state, differences) and the final `N passed, M failed`
 * line. Pure formatting: returns strings, prints nothing.
 */
import { disassemble, REG32, SEGS } from '../../translator/decoder/disasm.ts';
import { describeOutcome, flagNames } from './compare.ts';
import type { Mismatch, OracleReport, RowReport } from './oracle.ts';

const hex = (v: number, w = 8): string => (v >>> 0).toString(16).padStart(w, '0');

/** One table line for a row. */
export function rowLine(r: RowReport): string {
  const status = r.status === 'ok' ? 'ok' : r.status;
  return `${r.row.name.padEnd(18)} ${r.row.cls.padEnd(22)} ${String(r.forms).padStart(5)} ${String(r.cases).padStart(7)} ${String(r.mismatches).padStart(10)} ${String(r.deviations).padStart(10)}  ${status}`;
}

export const TABLE_HEADER = `${'row'.padEnd(18)} ${'class'.padEnd(22)} ${'forms'.padStart(5)} ${'cases'.padStart(7)} ${'mismatches'.padStart(10)} ${'deviations'.padStart(10)}  status`;

/** A mismatch in full: what ran, from which state, and what differed. */
export function formatMismatch(m: Mismatch): string {
  const { c } = m;
  const dis = disassemble(c.code, !c.code16, c.eip).text;
  const bytes = [...c.code].map((b) => hex(b, 2)).join(' ');
  const lines = [
    `  ${c.row.name} [${c.form.label}${c.code16 ? ', 16-bit code' : ''}] at ${hex(c.eip)}: ${bytes}   ${dis}`,
    `    before: ${REG32.map((n, r) => `${n}=${hex(c.regs[r])}`).join(' ')}`,
    `            eflags=${hex(c.eflags)} [${flagNames(c.eflags & 0xfd5)}] ds=${hex(c.sel[0], 4)} es=${hex(c.sel[1], 4)} fs=${hex(c.sel[2], 4)} gs=${hex(c.sel[3], 4)}`,
  ];
  if (c.pokes.length) {
    const p = c.pokes.slice(0, 4).map((x) => `${hex(x.addr)}: ${[...x.bytes.slice(0, 16)].map((b) => hex(b, 2)).join(' ')}${x.bytes.length > 16 ? ' ...' : ''}`);
    lines.push(`    memory: ${p.join(' | ')}${c.pokes.length > 4 ? ' | ...' : ''}`);
  }
  if (c.flagsIgnore) lines.push(`    ignored flags: ${flagNames(c.flagsIgnore)}`);
  if (c.note) lines.push(`    note: ${c.note}`);
  lines.push(`    ref: ${describeOutcome(m.ref)}; vm: ${describeOutcome(m.vm)}`);
  for (const d of m.diffs) lines.push(`    - ${d}`);
  if (m.vm.kind === 'host-error' && m.vm.message) lines.push(...m.vm.message.split('\n').slice(0, 8).map((s) => `      ${s}`));
  lines.push(`    after (vm): ${REG32.map((n, r) => `${n}=${hex(m.vm.regs[r])}`).join(' ')}`);
  lines.push(`    segs (ref): ${SEGS.map((n, s) => `${n}=${hex(m.ref.sel[s] ?? 0, 4)}`).join(' ')}`);
  return lines.join('\n');
}

/** The whole report; `verbose` adds every kept mismatch in full. */
export function formatReport(rep: OracleReport, verbose: boolean): string {
  const out = [TABLE_HEADER, ...rep.rows.map(rowLine)];
  const bad = rep.rows.filter((r) => r.status !== 'ok');
  if (bad.length) {
    out.push('', 'Problems:');
    for (const r of bad) {
      out.push(`  ${r.row.name}: ${r.status}${r.detail ? ` (${r.detail.split('\n')[0]})` : ''}${r.examples[0] ? ` - ${r.examples[0].diffs[0]}` : ''}`);
    }
  }
  if (verbose) {
    const ex = rep.rows.flatMap((r) => r.examples);
    if (ex.length) out.push('', 'Mismatches:', ...ex.map(formatMismatch));
  }
  if (rep.excluded.length) {
    out.push('', `Excluded (${rep.excluded.length} rows):`);
    for (const e of rep.excluded) out.push(`  ${e.row.name.padEnd(18)} ${e.reason}`);
  }
  const t = rep.timing;
  const cases = rep.rows.reduce((n, r) => n + r.cases, 0);
  out.push('', `${rep.rows.length} rows, ${cases} cases; generate ${(t.genMs / 1000).toFixed(1)} s, reference ${(t.referenceMs / 1000).toFixed(1)} s, vm ${(t.vmMs / 1000).toFixed(1)} s, total ${(t.totalMs / 1000).toFixed(1)} s`);
  if (rep.deviationCases) {
    out.push('', 'Known reference deviations, cases per deviation (test/oracle/deviations.ts and README.md: the reference, not the VM, departs from the SDM there):');
    for (const [id, n] of [...rep.deviations].sort((a, b) => b[1] - a[1])) out.push(`  ${id.padEnd(36)} ${n}`);
  }
  if (rep.contradicted.count) {
    out.push('', `Known deviations the real CPU contradicts (--cross-check): ${rep.contradicted.count} cases`);
    for (const x of rep.contradicted.examples) out.push(`  ${x.c.row.name} [${x.ids.join('+')}]: ${x.diffs.join('; ').slice(0, 240)}`);
  }
  out.push(`${rep.passed} passed, ${rep.failed} failed, known reference deviations: ${rep.deviationCases}`);
  return out.join('\n');
}
