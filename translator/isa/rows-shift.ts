/**
 * Table rows: shifts and rotates (group 2: C0, C1, D0..D3) and double-precision shifts.
 *
 * Flags after a shift depend on the masked count: a count of 0 changes nothing; OF is defined only
 * for a count of 1; AF is undefined for nonzero counts. `fu` lists the bits that are undefined in
 * some case; the oracle refines the mask per case.
 */
import type { RowSpec } from './types.ts';

/** Group 2 members in ModRM.reg order; /6 is the undocumented SAL alias of SHL. */
export const SHIFT_OPS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'] as const;

function shiftRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  SHIFT_OPS.forEach((m, n) => {
    const rotate = n < 4;
    const fr = n === 2 || n === 3 ? 'C' : '';
    const fw = rotate ? 'OC' : 'OSZAPC';
    const fu = rotate ? 'O' : 'OA';
    const note = m === 'sal' ? 'undocumented alias of SHL (/4)' : undefined;
    const c = { mnem: m === 'sal' ? 'shl' : m, map: 'one', fr, fw, fu, cls: 'innocuous', reg: n, note } as const;
    rows.push(
      { ...c, name: `${m}EbIb`, op: 0xc0, ops: ['Eb', 'Ib'] },
      { ...c, name: `${m}EvIb`, op: 0xc1, ops: ['Ev', 'Ib'], osz: true },
      { ...c, name: `${m}Eb1`, op: 0xd0, ops: ['Eb', '1'] },
      { ...c, name: `${m}Ev1`, op: 0xd1, ops: ['Ev', '1'], osz: true },
      { ...c, name: `${m}EbCL`, op: 0xd2, ops: ['Eb', 'CL'] },
      { ...c, name: `${m}EvCL`, op: 0xd3, ops: ['Ev', 'CL'], osz: true },
    );
  });
  return rows;
}

/** 16-bit SHLD/SHRD: counts above 16 give results the interpreter models after the hardware. */
const DOUBLE_SHIFT_O16 = { forms: 'o16', why: 'counts above 16 give results the interpreter models after the hardware' } as const;

export const SHIFT_ROWS: readonly RowSpec[] = [
  ...shiftRows(),
  { name: 'shldEvGvIb', mnem: 'shld', map: '0f', op: 0xa4, ops: ['Ev', 'Gv', 'Ib'], osz: true, fw: 'OSZAPC', fu: 'OA', cls: 'innocuous', noInline: DOUBLE_SHIFT_O16 },
  { name: 'shldEvGvCL', mnem: 'shld', map: '0f', op: 0xa5, ops: ['Ev', 'Gv', 'CL'], osz: true, fw: 'OSZAPC', fu: 'OA', cls: 'innocuous', noInline: DOUBLE_SHIFT_O16 },
  { name: 'shrdEvGvIb', mnem: 'shrd', map: '0f', op: 0xac, ops: ['Ev', 'Gv', 'Ib'], osz: true, fw: 'OSZAPC', fu: 'OA', cls: 'innocuous', noInline: DOUBLE_SHIFT_O16 },
  { name: 'shrdEvGvCL', mnem: 'shrd', map: '0f', op: 0xad, ops: ['Ev', 'Gv', 'CL'], osz: true, fw: 'OSZAPC', fu: 'OA', cls: 'innocuous', noInline: DOUBLE_SHIFT_O16 },
];
