/**
 * Table rows: control transfers. Near transfers (Jcc, JMP, CALL, RET, LOOP, JCXZ) are class
 * `control`: innocuous, but they end a block. Far transfers and software interrupts go through
 * descriptors and gates and may change CPL: sensitive-non-trapping (design.md §2).
 */
import type { RowSpec } from './types.ts';
import { CONDITIONS } from './rows-bit.ts';

function jccRows(): RowSpec[] {
  return CONDITIONS.flatMap(([cc, fr], n): RowSpec[] => [
    { name: `j${cc}Jb`, mnem: `j${cc}`, map: 'one', op: 0x70 + n, ops: ['Jb'], osz: true, fr, cls: 'control' },
    { name: `j${cc}Jz`, mnem: `j${cc}`, map: '0f', op: 0x80 + n, ops: ['Jz'], osz: true, fr, cls: 'control' },
  ]);
}

export const CONTROL_ROWS: readonly RowSpec[] = [
  ...jccRows(),
  { name: 'jmpJb', mnem: 'jmp', map: 'one', op: 0xeb, ops: ['Jb'], osz: true, cls: 'control' },
  { name: 'jmpJz', mnem: 'jmp', map: 'one', op: 0xe9, ops: ['Jz'], osz: true, cls: 'control' },
  { name: 'jmpEv', mnem: 'jmp', map: 'one', op: 0xff, reg: 4, ops: ['Ev'], osz: true, cls: 'control' },
  { name: 'callJz', mnem: 'call', map: 'one', op: 0xe8, ops: ['Jz'], osz: true, cls: 'control' },
  { name: 'callEv', mnem: 'call', map: 'one', op: 0xff, reg: 2, ops: ['Ev'], osz: true, cls: 'control' },
  { name: 'retIw', mnem: 'ret', map: 'one', op: 0xc2, ops: ['Iw'], osz: true, cls: 'control' },
  { name: 'ret', mnem: 'ret', map: 'one', op: 0xc3, ops: [], osz: true, cls: 'control' },
  { name: 'loopneJb', mnem: 'loopne', map: 'one', op: 0xe0, ops: ['Jb'], osz: true, asz: true, fr: 'Z', cls: 'control' },
  { name: 'loopeJb', mnem: 'loope', map: 'one', op: 0xe1, ops: ['Jb'], osz: true, asz: true, fr: 'Z', cls: 'control' },
  { name: 'loopJb', mnem: 'loop', map: 'one', op: 0xe2, ops: ['Jb'], osz: true, asz: true, cls: 'control' },
  { name: 'jcxzJb', mnem: 'jecxz', map: 'one', op: 0xe3, ops: ['Jb'], osz: true, asz: true, cls: 'control', note: 'the register tested (CX/ECX) follows the address size' },

  { name: 'jmpAp', mnem: 'jmp', map: 'one', op: 0xea, ops: ['Ap'], osz: true, cls: 'sensitive-non-trapping', exit: 'jmp-far', ends: true },
  { name: 'jmpMp', mnem: 'jmp', map: 'one', op: 0xff, reg: 5, mod: 'mem', ops: ['Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'jmp-far', ends: true },
  { name: 'callAp', mnem: 'call', map: 'one', op: 0x9a, ops: ['Ap'], osz: true, cls: 'sensitive-non-trapping', exit: 'call-far', ends: true },
  { name: 'callMp', mnem: 'call', map: 'one', op: 0xff, reg: 3, mod: 'mem', ops: ['Mp'], osz: true, cls: 'sensitive-non-trapping', exit: 'call-far', ends: true },
  { name: 'retfIw', mnem: 'retf', map: 'one', op: 0xca, ops: ['Iw'], osz: true, cls: 'sensitive-non-trapping', exit: 'retf', ends: true },
  { name: 'retf', mnem: 'retf', map: 'one', op: 0xcb, ops: [], osz: true, cls: 'sensitive-non-trapping', exit: 'retf', ends: true },
  { name: 'int3', mnem: 'int3', map: 'one', op: 0xcc, ops: [], fw: 'IT', cls: 'sensitive-non-trapping', exit: 'int3', ends: true },
  { name: 'intIb', mnem: 'int', map: 'one', op: 0xcd, ops: ['Ib'], fw: 'IT', cls: 'sensitive-non-trapping', exit: 'int', ends: true },
  { name: 'into', mnem: 'into', map: 'one', op: 0xce, ops: [], fr: 'O', fw: 'IT', cls: 'sensitive-non-trapping', exit: 'into', ends: true },
  { name: 'int1', mnem: 'int1', map: 'one', op: 0xf1, ops: [], fw: 'IT', cls: 'sensitive-non-trapping', exit: 'int1', ends: true, note: 'ICEBP: a #DB trap delivered like an external event (no IDT DPL check)' },
  { name: 'iret', mnem: 'iretd', mnem16: 'iretw', map: 'one', op: 0xcf, ops: [], osz: true, fw: 'OSZAPCDIT', cls: 'sensitive-non-trapping', exit: 'iret', ends: true },
  // BOUND can raise #BR, which goes through the IDT like any exception: no special class needed.
  { name: 'boundGvMa', mnem: 'bound', map: 'one', op: 0x62, mod: 'mem', ops: ['Gv', 'Ma'], osz: true, cls: 'innocuous' },
];
