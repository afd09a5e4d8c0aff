/**
 * The instruction table: the single source of truth for the IA-32 integer ISA of an i686-class
 * CPU and the x87 FPU. Every consumer (decoder, disassembler, block scanner, interpreter
 * dispatch, translator emitters, oracle generators) reads TABLE.
 *
 * Deliberate deviations from the SDM, all matching real i686 hardware:
 * - 82 /r (alias of 80), F6/F7 /1 (alias of TEST), C0..D3 /6 (SAL, alias of SHL) and D6 (SALC)
 *   are decoded, as real IA-32 processors do.
 * - 0F 18..0F 1E are hint NOPs (no SSE prefetch on this CPU model); 0F 1F /r is NOP Ev.
 * - BSF/BSR leave the destination unchanged when the source is zero.
 * - No MMX, SSE, or FXSAVE: those encodings are #UD, and CPUID does not report them.
 *
 * Two synthetic rows come last: `invalid` (any undefined encoding, #UD) and `tooLong`
 * (an instruction over 15 bytes, #GP(0)). They have op = -1 and are never decoded from a map.
 */
import { CLASS_NAMES, EXIT_REASONS } from './types.ts';
import type { InsnClass, Row, RowSpec } from './types.ts';
import { ALU_ROWS } from './rows-alu.ts';
import { SHIFT_ROWS } from './rows-shift.ts';
import { BIT_ROWS } from './rows-bit.ts';
import { MOVE_ROWS } from './rows-move.ts';
import { STACK_ROWS } from './rows-stack.ts';
import { CONTROL_ROWS } from './rows-control.ts';
import { STRING_ROWS } from './rows-string.ts';
import { SYSTEM_ROWS } from './rows-system.ts';
import { X87_ROWS } from './rows-x87.ts';
import { F_AF, F_CF, F_DF, F_IF, F_OF, F_PF, F_SF, F_TF, F_ZF } from '../abi.ts';

const FLAG_LETTERS: Readonly<Record<string, number>> = {
  O: F_OF, S: F_SF, Z: F_ZF, A: F_AF, P: F_PF, C: F_CF, D: F_DF, I: F_IF, T: F_TF,
};

/** Turns a flag-letter string such as 'OSZAPC' into an EFLAGS mask. */
export function flagMask(letters: string | undefined): number {
  let m = 0;
  for (const ch of letters ?? '') {
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown flag letter '${ch}'`);
    m |= bit;
  }
  return m;
}

const CC_BITS: readonly number[] = [0x100, 0x200, 0x400, 0x4000];

/** Turns condition-code digits such as '023' into x87 status-word bits. */
export function ccMask(digits: string | undefined): number {
  let m = 0;
  for (const ch of digits ?? '') {
    const bit = CC_BITS[Number(ch)];
    if (bit === undefined) throw new Error(`unknown condition code '${ch}'`);
    m |= bit;
  }
  return m;
}

/** Operand kinds that are encoded in a ModRM byte. */
const MODRM_OPERANDS: ReadonlySet<string> = new Set([
  'Eb', 'Ew', 'Ed', 'Ev', 'Gb', 'Gw', 'Gd', 'Gv', 'Rd', 'Sw', 'Cd', 'Dd', 'STi',
]);

const SYNTHETIC: readonly RowSpec[] = [
  { name: 'invalid', mnem: '(bad)', map: 'one', op: -1, ops: [], cls: 'innocuous', note: 'undefined encoding: #UD' },
  { name: 'tooLong', mnem: '(too long)', map: 'one', op: -1, ops: [], cls: 'innocuous', note: 'longer than 15 bytes: #GP(0)' },
];

function build(specs: readonly RowSpec[]): readonly Row[] {
  const seen = new Set<string>();
  return specs.map((s, id) => {
    if (seen.has(s.name)) throw new Error(`duplicate row name ${s.name}`);
    seen.add(s.name);
    const modrm =
      s.reg !== undefined || s.mod !== undefined || s.rm !== undefined || s.fpu === true ||
      s.ops.some((o) => MODRM_OPERANDS.has(o) || o.startsWith('M'));
    return Object.freeze({
      ...s,
      id,
      flagsRead: flagMask(s.fr),
      flagsWritten: flagMask(s.fw),
      flagsUndefined: flagMask(s.fu),
      fpuUndefined: ccMask(s.ccu),
      modrm,
    });
  });
}

/** Every row, indexed by `Row.id`. */
export const TABLE: readonly Row[] = build([
  ...ALU_ROWS, ...SHIFT_ROWS, ...BIT_ROWS, ...MOVE_ROWS, ...STACK_ROWS,
  ...CONTROL_ROWS, ...STRING_ROWS, ...SYSTEM_ROWS, ...X87_ROWS, ...SYNTHETIC,
]);

const BY_NAME = new Map(TABLE.map((r) => [r.name, r]));

/** Looks a row up by its handler name; throws if there is none. */
export function rowByName(name: string): Row {
  const r = BY_NAME.get(name);
  if (!r) throw new Error(`no table row named ${name}`);
  return r;
}

/**
 * Class indices, in CLASS_NAMES order: the per-class counts of blocks, regions and the run-time
 * statistics are arrays indexed by them.
 */
export const CLASS_INDEX: Readonly<Record<InsnClass, number>> = Object.freeze(Object.fromEntries(CLASS_NAMES.map((c, k) => [c, k])) as Record<InsnClass, number>);
/** CLASS_OF_ROW[row id] = the row's class index. */
export const CLASS_OF_ROW = Uint8Array.from(TABLE, (r) => CLASS_INDEX[r.cls]);
/** CLASS_OF_EXIT[EXIT_REASONS index] = the class index of the rows counted under that reason (one class each: checked here). */
export const CLASS_OF_EXIT = Uint8Array.from(EXIT_REASONS, (reason) => {
  const classes = new Set(TABLE.filter((r) => r.exit === reason).map((r) => r.cls));
  if (classes.size !== 1) throw new Error(`instruction table: exit ${reason} belongs to ${classes.size} classes`);
  return CLASS_INDEX[[...classes][0]];
});

export const ROW_INVALID = rowByName('invalid').id;
export const ROW_TOO_LONG = rowByName('tooLong').id;

/**
 * True if a block must end after this row: near control transfers, rows marked `ends` (far
 * transfers, software interrupts, mode and IF changes, segment loads), and rows that always fault.
 */
export function endsBlock(row: Row): boolean {
  return row.cls === 'control' || row.ends === true || row.op < 0 || row.name === 'ud2';
}
