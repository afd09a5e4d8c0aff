/**
 * Table rows: integer arithmetic and logic (SDM vol. 2, ADD..XOR, INC/DEC, NEG/NOT, MUL/DIV,
 * IMUL, sign extension, BCD adjust, XADD, CMPXCHG, CMPXCHG8B).
 */
import type { RowSpec } from './types.ts';

/** The eight classic ALU operations in opcode order (00, 08, ..., 38 and group 1 /0../7). */
export const ALU_OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;

/** Their operation numbers (the opcode's bits 5:3, group 1's ModRM.reg), by name: ALU.ADD = 0 ... */
export const ALU = Object.freeze(Object.fromEntries(ALU_OPS.map((m, n) => [m.toUpperCase(), n]))) as {
  readonly [K in Uppercase<(typeof ALU_OPS)[number]>]: number;
};

function aluRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  ALU_OPS.forEach((m, n) => {
    const base = n * 8;
    const logic = m === 'and' || m === 'or' || m === 'xor';
    const fr = m === 'adc' || m === 'sbb' ? 'C' : '';
    const fu = logic ? 'A' : '';
    const lock = m !== 'cmp';
    const common = { mnem: m, map: 'one', fr, fw: 'OSZAPC', fu, cls: 'innocuous' } as const;
    rows.push(
      { ...common, name: `${m}EbGb`, op: base + 0, ops: ['Eb', 'Gb'], lock },
      { ...common, name: `${m}EvGv`, op: base + 1, ops: ['Ev', 'Gv'], osz: true, lock },
      { ...common, name: `${m}GbEb`, op: base + 2, ops: ['Gb', 'Eb'] },
      { ...common, name: `${m}GvEv`, op: base + 3, ops: ['Gv', 'Ev'], osz: true },
      { ...common, name: `${m}ALIb`, op: base + 4, ops: ['AL', 'Ib'] },
      { ...common, name: `${m}eAXIz`, op: base + 5, ops: ['eAX', 'Iz'], osz: true },
      { ...common, name: `${m}EbIb`, op: 0x80, reg: n, ops: ['Eb', 'Ib'], lock },
      { ...common, name: `${m}EvIz`, op: 0x81, reg: n, ops: ['Ev', 'Iz'], osz: true, lock },
      // 82 is an undocumented-in-64-bit but valid IA-32 alias of 80.
      { ...common, name: `${m}EbIb82`, op: 0x82, reg: n, ops: ['Eb', 'Ib'], lock },
      { ...common, name: `${m}EvIbs`, op: 0x83, reg: n, ops: ['Ev', 'Ibs'], osz: true, lock },
    );
  });
  return rows;
}

export const ALU_ROWS: readonly RowSpec[] = [
  ...aluRows(),
  { name: 'incZv', mnem: 'inc', map: 'one', op: 0x40, plusReg: true, ops: ['Zv'], osz: true, fw: 'OSZAP', cls: 'innocuous' },
  { name: 'decZv', mnem: 'dec', map: 'one', op: 0x48, plusReg: true, ops: ['Zv'], osz: true, fw: 'OSZAP', cls: 'innocuous' },
  { name: 'incEb', mnem: 'inc', map: 'one', op: 0xfe, reg: 0, ops: ['Eb'], fw: 'OSZAP', cls: 'innocuous', lock: true },
  { name: 'decEb', mnem: 'dec', map: 'one', op: 0xfe, reg: 1, ops: ['Eb'], fw: 'OSZAP', cls: 'innocuous', lock: true },
  { name: 'incEv', mnem: 'inc', map: 'one', op: 0xff, reg: 0, ops: ['Ev'], osz: true, fw: 'OSZAP', cls: 'innocuous', lock: true },
  { name: 'decEv', mnem: 'dec', map: 'one', op: 0xff, reg: 1, ops: ['Ev'], osz: true, fw: 'OSZAP', cls: 'innocuous', lock: true },

  // Group 3 (F6/F7).
  { name: 'testEbIb', mnem: 'test', map: 'one', op: 0xf6, reg: 0, ops: ['Eb', 'Ib'], fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },
  { name: 'testEbIbAlias', mnem: 'test', map: 'one', op: 0xf6, reg: 1, ops: ['Eb', 'Ib'], fw: 'OSZAPC', fu: 'A', cls: 'innocuous', sdmUndefined: 'encoding', note: 'undocumented alias of F6 /0' },
  { name: 'notEb', mnem: 'not', map: 'one', op: 0xf6, reg: 2, ops: ['Eb'], cls: 'innocuous', lock: true },
  { name: 'negEb', mnem: 'neg', map: 'one', op: 0xf6, reg: 3, ops: ['Eb'], fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'mulEb', mnem: 'mul', map: 'one', op: 0xf6, reg: 4, ops: ['Eb'], fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'imulEb', mnem: 'imul', map: 'one', op: 0xf6, reg: 5, ops: ['Eb'], fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'divEb', mnem: 'div', map: 'one', op: 0xf6, reg: 6, ops: ['Eb'], fw: 'OSZAPC', fu: 'OSZAPC', cls: 'innocuous' },
  { name: 'idivEb', mnem: 'idiv', map: 'one', op: 0xf6, reg: 7, ops: ['Eb'], fw: 'OSZAPC', fu: 'OSZAPC', cls: 'innocuous' },
  { name: 'testEvIz', mnem: 'test', map: 'one', op: 0xf7, reg: 0, ops: ['Ev', 'Iz'], osz: true, fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },
  { name: 'testEvIzAlias', mnem: 'test', map: 'one', op: 0xf7, reg: 1, ops: ['Ev', 'Iz'], osz: true, fw: 'OSZAPC', fu: 'A', cls: 'innocuous', sdmUndefined: 'encoding', note: 'undocumented alias of F7 /0' },
  { name: 'notEv', mnem: 'not', map: 'one', op: 0xf7, reg: 2, ops: ['Ev'], osz: true, cls: 'innocuous', lock: true },
  { name: 'negEv', mnem: 'neg', map: 'one', op: 0xf7, reg: 3, ops: ['Ev'], osz: true, fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'mulEv', mnem: 'mul', map: 'one', op: 0xf7, reg: 4, ops: ['Ev'], osz: true, fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'imulEv', mnem: 'imul', map: 'one', op: 0xf7, reg: 5, ops: ['Ev'], osz: true, fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'divEv', mnem: 'div', map: 'one', op: 0xf7, reg: 6, ops: ['Ev'], osz: true, fw: 'OSZAPC', fu: 'OSZAPC', cls: 'innocuous' },
  { name: 'idivEv', mnem: 'idiv', map: 'one', op: 0xf7, reg: 7, ops: ['Ev'], osz: true, fw: 'OSZAPC', fu: 'OSZAPC', cls: 'innocuous' },

  { name: 'testEbGb', mnem: 'test', map: 'one', op: 0x84, ops: ['Eb', 'Gb'], fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },
  { name: 'testEvGv', mnem: 'test', map: 'one', op: 0x85, ops: ['Ev', 'Gv'], osz: true, fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },
  { name: 'testALIb', mnem: 'test', map: 'one', op: 0xa8, ops: ['AL', 'Ib'], fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },
  { name: 'testeAXIz', mnem: 'test', map: 'one', op: 0xa9, ops: ['eAX', 'Iz'], osz: true, fw: 'OSZAPC', fu: 'A', cls: 'innocuous' },

  { name: 'imulGvEvIz', mnem: 'imul', map: 'one', op: 0x69, ops: ['Gv', 'Ev', 'Iz'], osz: true, fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'imulGvEvIbs', mnem: 'imul', map: 'one', op: 0x6b, ops: ['Gv', 'Ev', 'Ibs'], osz: true, fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },
  { name: 'imulGvEv', mnem: 'imul', map: '0f', op: 0xaf, ops: ['Gv', 'Ev'], osz: true, fw: 'OSZAPC', fu: 'SZAP', cls: 'innocuous' },

  { name: 'cbw', mnem: 'cwde', mnem16: 'cbw', map: 'one', op: 0x98, ops: [], osz: true, cls: 'innocuous' },
  { name: 'cwd', mnem: 'cdq', mnem16: 'cwd', map: 'one', op: 0x99, ops: [], osz: true, cls: 'innocuous' },

  { name: 'daa', mnem: 'daa', map: 'one', op: 0x27, ops: [], fr: 'AC', fw: 'OSZAPC', fu: 'O', cls: 'innocuous' },
  { name: 'das', mnem: 'das', map: 'one', op: 0x2f, ops: [], fr: 'AC', fw: 'OSZAPC', fu: 'O', cls: 'innocuous' },
  { name: 'aaa', mnem: 'aaa', map: 'one', op: 0x37, ops: [], fr: 'A', fw: 'OSZAPC', fu: 'OSZP', cls: 'innocuous' },
  { name: 'aas', mnem: 'aas', map: 'one', op: 0x3f, ops: [], fr: 'A', fw: 'OSZAPC', fu: 'OSZP', cls: 'innocuous' },
  { name: 'aamIb', mnem: 'aam', map: 'one', op: 0xd4, ops: ['Ib'], fw: 'OSZAPC', fu: 'OAC', cls: 'innocuous' },
  { name: 'aadIb', mnem: 'aad', map: 'one', op: 0xd5, ops: ['Ib'], fw: 'OSZAPC', fu: 'OAC', cls: 'innocuous' },

  { name: 'salc', mnem: 'salc', map: 'one', op: 0xd6, ops: [], fr: 'C', cls: 'innocuous', sdmUndefined: 'encoding', note: 'undocumented: AL = CF ? 0xFF : 0' },

  { name: 'xaddEbGb', mnem: 'xadd', map: '0f', op: 0xc0, ops: ['Eb', 'Gb'], fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'xaddEvGv', mnem: 'xadd', map: '0f', op: 0xc1, ops: ['Ev', 'Gv'], osz: true, fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'cmpxchgEbGb', mnem: 'cmpxchg', map: '0f', op: 0xb0, ops: ['Eb', 'Gb'], fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'cmpxchgEvGv', mnem: 'cmpxchg', map: '0f', op: 0xb1, ops: ['Ev', 'Gv'], osz: true, fw: 'OSZAPC', cls: 'innocuous', lock: true },
  { name: 'cmpxchg8bMq', mnem: 'cmpxchg8b', map: '0f', op: 0xc7, reg: 1, mod: 'mem', ops: ['Mq'], fw: 'Z', cls: 'innocuous', lock: true },
];
