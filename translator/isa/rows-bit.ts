/**
 * Table rows: bit test and scan (BT/BTS/BTR/BTC, BSF/BSR), byte swap, and the condition-code
 * families SETcc and CMOVcc. Jcc lives in rows-control.ts but shares CONDITIONS.
 */
import type { RowSpec } from './types.ts';

/** Condition codes in encoding order, with the flags each reads (SDM vol. 1, appendix B). */
export const CONDITIONS = [
  ['o', 'O'], ['no', 'O'], ['b', 'C'], ['ae', 'C'], ['e', 'Z'], ['ne', 'Z'], ['be', 'CZ'], ['a', 'CZ'],
  ['s', 'S'], ['ns', 'S'], ['p', 'P'], ['np', 'P'], ['l', 'SO'], ['ge', 'SO'], ['le', 'SZO'], ['g', 'SZO'],
] as const;

function ccRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  CONDITIONS.forEach(([cc, fr], n) => {
    rows.push(
      { name: `set${cc}Eb`, mnem: `set${cc}`, map: '0f', op: 0x90 + n, ops: ['Eb'], fr, cls: 'innocuous' },
      { name: `cmov${cc}GvEv`, mnem: `cmov${cc}`, map: '0f', op: 0x40 + n, ops: ['Gv', 'Ev'], osz: true, fr, cls: 'innocuous' },
    );
  });
  return rows;
}

const BT_OPS = ['bt', 'bts', 'btr', 'btc'] as const;

function btRows(): RowSpec[] {
  return BT_OPS.flatMap((m, n): RowSpec[] => [
    { name: `${m}EvGv`, mnem: m, map: '0f', op: 0xa3 + n * 8, ops: ['Ev', 'Gv'], osz: true, fw: 'OSAPC', fu: 'OSAP', cls: 'innocuous', lock: n > 0 },
    { name: `${m}EvIb`, mnem: m, map: '0f', op: 0xba, reg: 4 + n, ops: ['Ev', 'Ib'], osz: true, fw: 'OSAPC', fu: 'OSAP', cls: 'innocuous', lock: n > 0 },
  ]);
}

export const BIT_ROWS: readonly RowSpec[] = [
  ...btRows(),
  // Destination undefined by the SDM when the source is zero; every Intel and AMD part leaves it
  // unchanged, and so do we.
  { name: 'bsfGvEv', mnem: 'bsf', map: '0f', op: 0xbc, ops: ['Gv', 'Ev'], osz: true, fw: 'OSZAPC', fu: 'OSAPC', cls: 'innocuous' },
  { name: 'bsrGvEv', mnem: 'bsr', map: '0f', op: 0xbd, ops: ['Gv', 'Ev'], osz: true, fw: 'OSZAPC', fu: 'OSAPC', cls: 'innocuous' },
  { name: 'bswapZd', mnem: 'bswap', map: '0f', op: 0xc8, plusReg: true, ops: ['Zv'], osz: true, cls: 'innocuous', sdmUndefined: 'result16', note: 'with a 16-bit operand size the result is undefined; we clear the word like real hardware' },
  ...ccRows(),
];
