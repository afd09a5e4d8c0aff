/**
 * Table rows: string instructions. With F3 (REP) or F2/F3 (REPNE/REPE for CMPS and SCAS) they
 * repeat while (E)CX != 0; the count and index registers follow the address size. INS/OUTS are
 * port I/O and subject to IOPL and the TSS I/O permission bitmap.
 */
import type { RowSpec } from './types.ts';

export const STRING_ROWS: readonly RowSpec[] = [
  { name: 'movsb', mnem: 'movsb', map: 'one', op: 0xa4, ops: ['Yb', 'Xb'], asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'movsv', mnem: 'movsd', mnem16: 'movsw', map: 'one', op: 0xa5, ops: ['Yv', 'Xv'], osz: true, asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'cmpsb', mnem: 'cmpsb', map: 'one', op: 0xa6, ops: ['Xb', 'Yb'], asz: true, fr: 'D', fw: 'OSZAPC', rep: 'repe', cls: 'innocuous' },
  { name: 'cmpsv', mnem: 'cmpsd', mnem16: 'cmpsw', map: 'one', op: 0xa7, ops: ['Xv', 'Yv'], osz: true, asz: true, fr: 'D', fw: 'OSZAPC', rep: 'repe', cls: 'innocuous' },
  { name: 'stosb', mnem: 'stosb', map: 'one', op: 0xaa, ops: ['Yb', 'AL'], asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'stosv', mnem: 'stosd', mnem16: 'stosw', map: 'one', op: 0xab, ops: ['Yv', 'eAX'], osz: true, asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'lodsb', mnem: 'lodsb', map: 'one', op: 0xac, ops: ['AL', 'Xb'], asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'lodsv', mnem: 'lodsd', mnem16: 'lodsw', map: 'one', op: 0xad, ops: ['eAX', 'Xv'], osz: true, asz: true, fr: 'D', rep: 'rep', cls: 'innocuous' },
  { name: 'scasb', mnem: 'scasb', map: 'one', op: 0xae, ops: ['AL', 'Yb'], asz: true, fr: 'D', fw: 'OSZAPC', rep: 'repe', cls: 'innocuous' },
  { name: 'scasv', mnem: 'scasd', mnem16: 'scasw', map: 'one', op: 0xaf, ops: ['eAX', 'Yv'], osz: true, asz: true, fr: 'D', fw: 'OSZAPC', rep: 'repe', cls: 'innocuous' },
  { name: 'insb', mnem: 'insb', map: 'one', op: 0x6c, ops: ['Yb', 'DX'], asz: true, fr: 'D', rep: 'rep', cls: 'io', exit: 'io' },
  { name: 'insv', mnem: 'insd', mnem16: 'insw', map: 'one', op: 0x6d, ops: ['Yv', 'DX'], osz: true, asz: true, fr: 'D', rep: 'rep', cls: 'io', exit: 'io' },
  { name: 'outsb', mnem: 'outsb', map: 'one', op: 0x6e, ops: ['DX', 'Xb'], asz: true, fr: 'D', rep: 'rep', cls: 'io', exit: 'io' },
  { name: 'outsv', mnem: 'outsd', mnem16: 'outsw', map: 'one', op: 0x6f, ops: ['DX', 'Xv'], osz: true, asz: true, fr: 'D', rep: 'rep', cls: 'io', exit: 'io' },
];
