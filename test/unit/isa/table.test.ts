import { describe, expect, it } from 'vitest';
import { TABLE, rowByName } from '../../../translator/isa/table.ts';
import { dispatchProblems } from '../../../runtime/dispatch.ts';

// design.md §2: the instructions that are sensitive but do not trap when run deprivileged.
const SENSITIVE_NON_TRAPPING = [
  'sgdtMs', 'sidtMs', 'sldtEw', 'smswEw', 'strEw', 'pushf', 'popf', 'larGvEw', 'lslGvEw', 'verrEw', 'verwEw',
  'pushCS', 'pushSS', 'popSS', 'popDS', 'popES', 'popFS', 'popGS', 'movSwEw', 'movEwSw',
  'jmpAp', 'jmpMp', 'callAp', 'callMp', 'retf', 'retfIw', 'intIb', 'iret',
];
const PRIVILEGED = ['cli', 'sti', 'hlt', 'lgdtMs', 'lidtMs', 'lldtEw', 'ltrEw', 'lmswEw', 'movCdRd', 'movRdCd', 'movDdRd', 'movRdDd', 'invlpgM', 'wbinvd', 'rdmsr', 'wrmsr', 'clts'];
const IO = ['inALIb', 'ineAXIb', 'outIbAL', 'outIbeAX', 'inALDX', 'ineAXDX', 'outDXAL', 'outDXeAX', 'insb', 'insv', 'outsb', 'outsv'];

describe('instruction table', () => {
  it('classes every sensitive-non-trapping instruction of design.md §2 as such', () => {
    for (const name of SENSITIVE_NON_TRAPPING) expect(rowByName(name).cls, name).toBe('sensitive-non-trapping');
  });
  it('classes privileged and I/O instructions', () => {
    for (const name of PRIVILEGED) expect(rowByName(name).cls, name).toBe('privileged');
    for (const name of IO) expect(rowByName(name).cls, name).toBe('io');
  });
  it('has unique names and valid flag masks', () => {
    expect(new Set(TABLE.map((r) => r.name)).size).toBe(TABLE.length);
    for (const r of TABLE) expect(r.flagsUndefined & ~r.flagsWritten, r.name).toBe(0);
  });
  it('maps every row to exactly one interpreter handler', () => {
    const p = dispatchProblems();
    expect(p.unknown).toEqual([]);
    expect(p.duplicate).toEqual([]);
    expect(p.missing).toEqual([]);
  });
});
