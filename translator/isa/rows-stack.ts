/**
 * Table rows: the stack (PUSH, POP, PUSHA/POPA, ENTER/LEAVE, PUSHF/POPF, segment push/pop).
 * PUSHF/POPF and every segment-register push or pop are sensitive-non-trapping (design.md §2).
 */
import type { RowSpec } from './types.ts';

const SEGS = ['ES', 'CS', 'SS', 'DS'] as const;

function segRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  SEGS.forEach((s, n) => {
    const l = s.toLowerCase();
    rows.push({ name: `push${s}`, mnem: 'push', map: 'one', op: 0x06 + n * 8, ops: [s], osz: true, cls: 'sensitive-non-trapping', exit: 'push-seg' });
    // 0F is the two-byte escape, not POP CS.
    if (s !== 'CS') {
      rows.push({ name: `pop${s}`, mnem: 'pop', map: 'one', op: 0x07 + n * 8, ops: [s], osz: true, cls: 'sensitive-non-trapping', exit: 'pop-seg', ends: true, note: l === 'ss' ? 'POP SS inhibits interrupts for one instruction' : undefined });
    }
  });
  rows.push(
    { name: 'pushFS', mnem: 'push', map: '0f', op: 0xa0, ops: ['FS'], osz: true, cls: 'sensitive-non-trapping', exit: 'push-seg' },
    { name: 'popFS', mnem: 'pop', map: '0f', op: 0xa1, ops: ['FS'], osz: true, cls: 'sensitive-non-trapping', exit: 'pop-seg', ends: true },
    { name: 'pushGS', mnem: 'push', map: '0f', op: 0xa8, ops: ['GS'], osz: true, cls: 'sensitive-non-trapping', exit: 'push-seg' },
    { name: 'popGS', mnem: 'pop', map: '0f', op: 0xa9, ops: ['GS'], osz: true, cls: 'sensitive-non-trapping', exit: 'pop-seg', ends: true },
  );
  return rows;
}

export const STACK_ROWS: readonly RowSpec[] = [
  { name: 'pushZv', mnem: 'push', map: 'one', op: 0x50, plusReg: true, ops: ['Zv'], osz: true, cls: 'innocuous' },
  { name: 'popZv', mnem: 'pop', map: 'one', op: 0x58, plusReg: true, ops: ['Zv'], osz: true, cls: 'innocuous' },
  { name: 'pushIz', mnem: 'push', map: 'one', op: 0x68, ops: ['Iz'], osz: true, cls: 'innocuous' },
  { name: 'pushIbs', mnem: 'push', map: 'one', op: 0x6a, ops: ['Ibs'], osz: true, cls: 'innocuous' },
  { name: 'pushEv', mnem: 'push', map: 'one', op: 0xff, reg: 6, ops: ['Ev'], osz: true, cls: 'innocuous' },
  { name: 'popEv', mnem: 'pop', map: 'one', op: 0x8f, reg: 0, ops: ['Ev'], osz: true, cls: 'innocuous', noInline: { forms: 'mem', why: 'POP to memory computes its address with the incremented ESP' } },
  { name: 'pusha', mnem: 'pushad', mnem16: 'pushaw', map: 'one', op: 0x60, ops: [], osz: true, cls: 'innocuous' },
  { name: 'popa', mnem: 'popad', mnem16: 'popaw', map: 'one', op: 0x61, ops: [], osz: true, cls: 'innocuous' },
  { name: 'enterIwIb', mnem: 'enter', map: 'one', op: 0xc8, ops: ['Iw', 'Ib'], osz: true, cls: 'innocuous' },
  { name: 'leave', mnem: 'leave', map: 'one', op: 0xc9, ops: [], osz: true, cls: 'innocuous' },
  { name: 'pushf', mnem: 'pushfd', mnem16: 'pushfw', map: 'one', op: 0x9c, ops: [], osz: true, fr: 'OSZAPCDIT', cls: 'sensitive-non-trapping', exit: 'pushf', note: 'reads IF and IOPL; #GP in virtual-8086 mode with IOPL < 3' },
  { name: 'popf', mnem: 'popfd', mnem16: 'popfw', map: 'one', op: 0x9d, ops: [], osz: true, fw: 'OSZAPCDIT', cls: 'sensitive-non-trapping', exit: 'popf', ends: true, note: 'silently keeps IF at CPL > IOPL and IOPL at CPL > 0' },
  ...segRows(),
];
