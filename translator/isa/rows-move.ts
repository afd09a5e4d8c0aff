/**
 * Table rows: data movement (MOV, MOVZX/MOVSX, LEA, XCHG, XLAT), flag-register byte moves
 * (LAHF/SAHF), single-flag instructions (CLC, STC, CMC, CLD, STD), NOP forms, and the
 * segment-register moves, which are sensitive: they read or load segment state.
 */
import type { RowSpec } from './types.ts';

export const MOVE_ROWS: readonly RowSpec[] = [
  { name: 'movEbGb', mnem: 'mov', map: 'one', op: 0x88, ops: ['Eb', 'Gb'], cls: 'innocuous' },
  { name: 'movEvGv', mnem: 'mov', map: 'one', op: 0x89, ops: ['Ev', 'Gv'], osz: true, cls: 'innocuous' },
  { name: 'movGbEb', mnem: 'mov', map: 'one', op: 0x8a, ops: ['Gb', 'Eb'], cls: 'innocuous' },
  { name: 'movGvEv', mnem: 'mov', map: 'one', op: 0x8b, ops: ['Gv', 'Ev'], osz: true, cls: 'innocuous' },
  // MOV from CS/SS reveals the CPL (RPL of CS): sensitive, does not trap (design.md §2).
  { name: 'movEwSw', mnem: 'mov', map: 'one', op: 0x8c, ops: ['Ev', 'Sw'], osz: true, cls: 'sensitive-non-trapping', exit: 'mov-from-seg', note: 'register destination zero-extends with 32-bit operand size' },
  { name: 'leaGvM', mnem: 'lea', map: 'one', op: 0x8d, mod: 'mem', ops: ['Gv', 'M'], osz: true, cls: 'innocuous' },
  { name: 'movSwEw', mnem: 'mov', map: 'one', op: 0x8e, ops: ['Sw', 'Ew'], cls: 'sensitive-non-trapping', exit: 'mov-seg', ends: true, note: 'MOV SS inhibits interrupts for one instruction; MOV CS is #UD' },
  { name: 'movALOb', mnem: 'mov', map: 'one', op: 0xa0, ops: ['AL', 'Ob'], cls: 'innocuous' },
  { name: 'moveAXOv', mnem: 'mov', map: 'one', op: 0xa1, ops: ['eAX', 'Ov'], osz: true, cls: 'innocuous' },
  { name: 'movObAL', mnem: 'mov', map: 'one', op: 0xa2, ops: ['Ob', 'AL'], cls: 'innocuous' },
  { name: 'movOveAX', mnem: 'mov', map: 'one', op: 0xa3, ops: ['Ov', 'eAX'], osz: true, cls: 'innocuous' },
  { name: 'movZbIb', mnem: 'mov', map: 'one', op: 0xb0, plusReg: true, ops: ['Zb', 'Ib'], cls: 'innocuous' },
  { name: 'movZvIv', mnem: 'mov', map: 'one', op: 0xb8, plusReg: true, ops: ['Zv', 'Iv'], osz: true, cls: 'innocuous' },
  { name: 'movEbIb', mnem: 'mov', map: 'one', op: 0xc6, reg: 0, ops: ['Eb', 'Ib'], cls: 'innocuous' },
  { name: 'movEvIz', mnem: 'mov', map: 'one', op: 0xc7, reg: 0, ops: ['Ev', 'Iz'], osz: true, cls: 'innocuous' },

  { name: 'movzxGvEb', mnem: 'movzx', map: '0f', op: 0xb6, ops: ['Gv', 'Eb'], osz: true, cls: 'innocuous' },
  { name: 'movzxGvEw', mnem: 'movzx', map: '0f', op: 0xb7, ops: ['Gv', 'Ew'], osz: true, cls: 'innocuous' },
  { name: 'movsxGvEb', mnem: 'movsx', map: '0f', op: 0xbe, ops: ['Gv', 'Eb'], osz: true, cls: 'innocuous' },
  { name: 'movsxGvEw', mnem: 'movsx', map: '0f', op: 0xbf, ops: ['Gv', 'Ew'], osz: true, cls: 'innocuous' },

  // XCHG with memory is implicitly locked; LOCK is also accepted.
  { name: 'xchgEbGb', mnem: 'xchg', map: 'one', op: 0x86, ops: ['Eb', 'Gb'], cls: 'innocuous', lock: true },
  { name: 'xchgEvGv', mnem: 'xchg', map: 'one', op: 0x87, ops: ['Ev', 'Gv'], osz: true, cls: 'innocuous', lock: true },
  // 90 is NOP (XCHG eAX, eAX); F3 90 is PAUSE, which is a NOP here as well.
  { name: 'nop', mnem: 'nop', map: 'one', op: 0x90, ops: [], cls: 'innocuous' },
  { name: 'xchgZveAX', mnem: 'xchg', map: 'one', op: 0x90, plusReg: true, ops: ['Zv', 'eAX'], osz: true, cls: 'innocuous', note: '91..97; the explicit nop row takes 90' },
  { name: 'xlat', mnem: 'xlat', map: 'one', op: 0xd7, ops: [], asz: true, cls: 'innocuous' },

  { name: 'lahf', mnem: 'lahf', map: 'one', op: 0x9f, ops: [], fr: 'SZAPC', cls: 'innocuous' },
  { name: 'sahf', mnem: 'sahf', map: 'one', op: 0x9e, ops: [], fw: 'SZAPC', cls: 'innocuous' },
  { name: 'clc', mnem: 'clc', map: 'one', op: 0xf8, ops: [], fw: 'C', cls: 'innocuous' },
  { name: 'stc', mnem: 'stc', map: 'one', op: 0xf9, ops: [], fw: 'C', cls: 'innocuous' },
  { name: 'cmc', mnem: 'cmc', map: 'one', op: 0xf5, ops: [], fr: 'C', fw: 'C', cls: 'innocuous' },
  { name: 'cld', mnem: 'cld', map: 'one', op: 0xfc, ops: [], fw: 'D', cls: 'innocuous' },
  { name: 'std', mnem: 'std', map: 'one', op: 0xfd, ops: [], fw: 'D', cls: 'innocuous' },

  // Far-pointer loads change a segment register: sensitive.
  { name: 'lesGvMp', mnem: 'les', map: 'one', op: 0xc4, mod: 'mem', ops: ['Gv', 'Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'load-far-pointer', ends: true },
  { name: 'ldsGvMp', mnem: 'lds', map: 'one', op: 0xc5, mod: 'mem', ops: ['Gv', 'Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'load-far-pointer', ends: true },
  { name: 'lssGvMp', mnem: 'lss', map: '0f', op: 0xb2, mod: 'mem', ops: ['Gv', 'Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'load-far-pointer', ends: true },
  { name: 'lfsGvMp', mnem: 'lfs', map: '0f', op: 0xb4, mod: 'mem', ops: ['Gv', 'Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'load-far-pointer', ends: true },
  { name: 'lgsGvMp', mnem: 'lgs', map: '0f', op: 0xb5, mod: 'mem', ops: ['Gv', 'Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'load-far-pointer', ends: true },

  // Multi-byte NOP (0F 1F /0) and the P6 hint-NOP space 0F 18..0F 1E.
  { name: 'nopEv', mnem: 'nop', map: '0f', op: 0x1f, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop18', mnem: 'nop', map: '0f', op: 0x18, ops: ['Ev'], osz: true, cls: 'innocuous', note: 'PREFETCHh on SSE parts; a NOP on an i686 without SSE' },
  { name: 'hintnop19', mnem: 'nop', map: '0f', op: 0x19, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop1a', mnem: 'nop', map: '0f', op: 0x1a, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop1b', mnem: 'nop', map: '0f', op: 0x1b, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop1c', mnem: 'nop', map: '0f', op: 0x1c, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop1d', mnem: 'nop', map: '0f', op: 0x1d, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'hintnop1e', mnem: 'nop', map: '0f', op: 0x1e, ops: ['Ev'], osz: true, cls: 'innocuous' },
];
