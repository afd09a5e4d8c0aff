/**
 * Liveness of the lazy-flags record inside a block: which instructions' flag results can be
 * observed. A result nothing observes is not recorded at all (translation cost is proportional
 * to the Wasm nodes built, and a dead record is 4-8 of them per instruction, more for
 * multiplies and rotates).
 *
 * What observes the record before an instruction (SDM vol. 1, 3.4.3: the status flags are
 * architectural state at every instruction boundary that software can see):
 * - the instruction reads a status flag (Jcc, SETcc, CMOVcc, ADC/SBB, LOOPE/NE, ...);
 * - it runs, or may run, through the interp helper (which sees the whole state);
 * - it may fault (a memory access, DIV/IDIV): the fault delivers the state before it, flags
 *   included, to the guest's handler;
 * - the block ends (an exit, an interrupt at the boundary, the budget check of the next block).
 * An instruction that may write memory may also leave right after it (a write into the region's
 * own code): its own result counts as observed. This is exactly the set of points where
 * translated code can hand the state to anyone, so eliminating the other records is invisible.
 *
 * An instruction *kills* the record when its emitter records a complete new one without reading
 * the old one; others that record flags (INC/DEC keep CF, rotates and BTx keep most flags,
 * shifts by CL keep everything for a zero count) merge the old record into theirs, so the old
 * record is live exactly when theirs is.
 */
import type { Insn } from '../decoder/insn.ts';
import { F_ARITH } from '../abi.ts';
import { ALU_OPS } from '../isa/rows-alu.ts';
import { TABLE, rowByName } from '../isa/table.ts';
import { endsSegment } from './table.ts';

const ALU_FORMS = ['EbGb', 'EvGv', 'GbEb', 'GvEv', 'ALIb', 'eAXIz', 'EbIb', 'EvIz', 'EbIb82', 'EvIbs'];

/** Rows whose emitter always records a complete new flags record without reading the old one. */
const KILLS: ReadonlySet<string> = new Set([
  ...ALU_OPS.filter((op) => op !== 'adc' && op !== 'sbb').flatMap((op) => ALU_FORMS.map((f) => op + f)),
  'testEbIb', 'testEbIbAlias', 'testEvIz', 'testEvIzAlias', 'testEbGb', 'testEvGv', 'testALIb', 'testeAXIz',
  'negEb', 'negEv', 'mulEb', 'mulEv', 'imulEb', 'imulEv', 'imulGvEv', 'imulGvEvIz', 'imulGvEvIbs',
  'xaddEbGb', 'xaddEvGv', 'cmpxchgEbGb', 'cmpxchgEvGv',
  'shlEb1', 'shlEv1', 'salEb1', 'salEv1', 'shrEb1', 'shrEv1', 'sarEb1', 'sarEv1',
]);

/** Shifts by an immediate: they kill the record when the masked count is not zero. */
const SHIFT_IMM: ReadonlySet<string> = new Set([
  'shlEbIb', 'shlEvIb', 'salEbIb', 'salEvIb', 'shrEbIb', 'shrEvIb', 'sarEbIb', 'sarEvIb', 'shldEvGvIb', 'shrdEvGvIb',
]);

/** Emitted rows that access memory without a ModRM memory operand (stack, strings, XLAT) or may fault otherwise. */
const IMPLICIT_FAULTS: ReadonlySet<string> = new Set([
  'pushZv', 'popZv', 'pushIz', 'pushIbs', 'pushEv', 'popEv', 'leave', 'callJz', 'callEv', 'ret', 'retIw', 'xlat',
  'movsb', 'movsv', 'stosb', 'stosv', 'lodsb', 'lodsv', 'cmpsb', 'cmpsv', 'scasb', 'scasv',
  'divEb', 'divEv', 'idivEb', 'idivEv',
]);

/** Rows with a ModRM memory operand that they never access. */
const NO_ACCESS: ReadonlySet<string> = new Set([
  'leaGvM', 'nopEv', 'hintnop18', 'hintnop19', 'hintnop1a', 'hintnop1b', 'hintnop1c', 'hintnop1d', 'hintnop1e',
]);

/** True if the instruction may hand the state to a fault handler (or run in the interpreter). */
export function mayFault(i: Insn): boolean {
  if (endsSegment(i)) return true;
  const name = TABLE[i.row].name;
  return (i.isMem && !NO_ACCESS.has(name)) || IMPLICIT_FAULTS.has(name);
}

function kills(i: Insn): boolean {
  const name = TABLE[i.row].name;
  if (KILLS.has(name)) return true;
  if (SHIFT_IMM.has(name)) return (i.imm & 31) !== 0;
  return false;
}

/**
 * For each instruction of a block: whether the flags record it leaves can be observed (1) or
 * not (0). The record is live at the end of the block.
 */
export function flagsLiveAfter(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length);
  let live = true;
  for (let k = insns.length - 1; k >= 0; k--) {
    const i = insns[k];
    if (mayFault(i)) {
      out[k] = 1;
      live = true;
      continue;
    }
    out[k] = live ? 1 : 0;
    if (TABLE[i.row].flagsRead & F_ARITH) live = true;
    else if (kills(i)) live = false;
  }
  return out;
}

// Every name above must be a table row (a misspelt one would silently make a record dead).
for (const set of [KILLS, SHIFT_IMM, IMPLICIT_FAULTS, NO_ACCESS]) for (const n of set) rowByName(n);
