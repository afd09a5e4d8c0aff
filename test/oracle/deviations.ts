/**
 * Comparing with a reference that is not the real CPU (reference.ts `qemu`): what the SDM leaves
 * undefined, and where the reference is known to deviate from what the SDM defines.
 *
 * - SDM-undefined: facts of the table rows (`fu` flags, which every reference masks, and
 *   `sdmUndefined` in translator/isa/types.ts). Against the real CPU the VM must match what the
 *   processor does; against QEMU only the SDM counts, so an undefined result is not compared and
 *   a row whose encoding the SDM leaves reserved is not run (exclusionReason).
 * - Known reference deviations: QEMU's TCG gets something the SDM defines wrong. Each entry
 *   below names the rows, the SDM section and what QEMU does, recognizes its cases from the case
 *   and the two outcomes, and excuses only the parts of the comparison QEMU gets wrong. A case
 *   that differs only there counts as a "known reference deviation" (its own count in every
 *   report, never a pass); any other difference is a mismatch. test/oracle/README.md lists the
 *   same entries.
 */
import { EX_GP, EX_MF, EX_PF, EX_SS, EX_UD } from '../../translator/abi.ts';
import type { Row } from '../../translator/isa/types.ts';
import { compareOutcomes } from './compare.ts';
import { MIRROR_GDT, MIRROR_LDT } from './layout.ts';
import type { Reference, ReferenceKind } from './reference.ts';
import type { Excuse, MemIgnore, OracleCase, Outcome, X87Plugin } from './types.ts';

// ------------------------------------------------------------------------------ SDM-undefined
/** Why `row` is not compared against a reference of `kind`, or undefined. */
export function sdmExclusion(row: Row, kind: ReferenceKind): string | undefined {
  if (kind === 'native' || row.sdmUndefined !== 'encoding') return undefined;
  return `the SDM leaves this encoding reserved (${row.note ?? 'undocumented'}): compared with the real CPU only`;
}

/** What the SDM leaves undefined in case `c` beyond its flags, for a reference that is not the CPU. */
export function sdmUndefined(c: OracleCase): Excuse | undefined {
  if (c.row.sdmUndefined === 'result16' && c.form.osz === 16) return { regs: 'all' };
  // Which byte of an access that crosses into a not-present page the fault reports in CR2 (the
  // first byte on that page, or where a split access's later part starts) is not defined.
  // Nor which part of an operand wider than 8 bytes, split into several accesses, faults first.
  const crosses = c.mem !== undefined && ((c.mem.addr & 0xfff) + c.mem.size > 0x1000 || c.mem.size > 8);
  const cr2 = crosses || /^(pusha|popa)$/.test(c.row.name) ? 0xfff : 0;
  if (c.row.fpuUndefined || cr2) return { cr2, x87: { sw: c.row.fpuUndefined } };
  return undefined;
}

// ------------------------------------------------------------------------------ deviations
/** A documented way in which a reference differs from the SDM. */
export interface Deviation {
  readonly id: string;
  readonly reference: ReferenceKind;
  /** Applies only to a reference whose probe reported this quirk (Reference.quirks). */
  readonly quirk?: string;
  /** The rows or cases it affects. */
  readonly rows: string;
  /** Where the SDM defines the behaviour. */
  readonly sdm: string;
  /** What the reference does instead. */
  readonly does: string;
  /** What it excuses in case `c` (reference outcome `ref`, VM outcome `vm`), or undefined if it does not apply. */
  excuse(c: OracleCase, ref: Outcome, vm: Outcome): Excuse | undefined;
}

const SEG_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);

/** The instruction's prefix bytes. */
function prefixesOf(c: OracleCase): number[] {
  const out: number[] = [];
  for (const b of c.code) {
    if (SEG_PREFIXES.has(b) || b === 0x66 || b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3) out.push(b);
    else break;
  }
  return out;
}

/** True if `sel` names a code segment in the mirror tables (data accesses through it are restricted). */
function isCodeSelector(sel: number): boolean {
  const d = (sel & 4 ? MIRROR_LDT : MIRROR_GDT).find((m) => m.index === sel >> 3);
  return d !== undefined && (d.attr & 0x08) !== 0;
}

/** The VM's outcome is a fault `vector` (error code `err`) at the instruction with nothing changed. */
function faultedClean(c: OracleCase, vm: Outcome, vector: number, err = 0): boolean {
  return vm.kind === 'fault' && vm.vector === vector && vm.errorCode === err && vm.eip === c.eip && vm.mem.size === 0 &&
    vm.regs.every((v, r) => v === c.regs[r]);
}

// ------------------------------------------------------------------------------ x87
const SW_C1 = 0x200;

function get16(b: ArrayLike<number>, off: number): number {
  return b[off] | (b[off + 1] << 8);
}

/** True if the 80-bit register at `off` of an FSAVE image holds a NaN. */
function isNaN80(b: ArrayLike<number>, off: number): boolean {
  if ((get16(b, off + 8) & 0x7fff) !== 0x7fff) return false;
  let low = 0;
  for (let k = 0; k < 7; k++) low |= b[off + k];
  return low !== 0 || (b[off + 7] & 0x7f) !== 0;
}

/** Which stack registers an x87 row reads, and whether it pushes (SDM vol. 1 8.5.1.1). */
function stackUse(c: OracleCase): { reads: number[]; push: boolean } {
  const name = c.row.name;
  const i = c.code[c.code.length - 1] & 7; // ST(i) of a register form: ModRM.rm
  const ops = c.row.ops;
  if (/^(ffree|fnop|fdecstp|fincstp|fxam|fn|fldenv|fldcw|frstor|fwait)/.test(name)) return { reads: [], push: false };
  if (/^(fld1|fldl2t|fldl2e|fldpi|fldlg2|fldln2|fldz)$/.test(name)) return { reads: [], push: true };
  if (name === 'fldSTi') return { reads: [i], push: true };
  if (/^f(i?ld|bld)M/.test(name)) return { reads: [], push: true };
  if (/^(fptan|fsincos|fxtract)$/.test(name)) return { reads: [0], push: true };
  if (/^(fcompp|fucompp|fyl2x|fyl2xp1|fpatan|fprem|fprem1|fscale)$/.test(name)) return { reads: [0, 1], push: false };
  if (/^f(st|stp)\d*STi$/.test(name)) return { reads: [0], push: false };
  if (ops.includes('STi')) return { reads: [0, i], push: false };
  return { reads: [0], push: false };
}

/** The case starts with a stack fault for its row: a register it reads is empty, or it pushes onto a full one. */
function x87StackFault(c: OracleCase): boolean {
  if (!c.fpu) return false;
  const top = (get16(c.fpu, 4) >> 11) & 7;
  const tw = get16(c.fpu, 8);
  const empty = (st: number): boolean => ((tw >> (2 * ((top + st) & 7))) & 3) === 3;
  const u = stackUse(c);
  return u.reads.some(empty) || (u.push && !empty(7));
}

const IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20, ES_B = 0x8080;
const C0 = 0x100, C3 = 0x4000;
const TRANSCENDENTAL = /^(fsin|fcos|fsincos|fptan|fpatan|f2xm1|fyl2x|fyl2xp1)$/;
const TRIG = /^(fsin|fcos|fsincos|fptan)$/;
const MEMORY_STORE = /^f(st|stp|ist|istp|bstp)M/;
const FCOMI = /^fu?comip?ST0STi$/;
const FST_STI = /^fstp?\d*STi$/;
const PC_ROWS = /^f(add|sub|subr|mul|div|divr|iadd|isub|isubr|imul|idiv|idivr)p?(M|ST)|^fsqrt$/;

interface X87View {
  cw: number;
  /** Status words before the instruction, and after it on the reference and in the VM. */
  before: number;
  ref: number;
  vm: number;
}

function x87View(c: OracleCase, ref: Outcome, vm: Outcome): X87View | undefined {
  if (!c.fpu || !ref.fpu || !vm.fpu) return undefined;
  return { cw: get16(c.fpu, 0), before: get16(c.fpu, 4), ref: get16(ref.fpu, 4), vm: get16(vm.fpu, 4) };
}

/** Exception bits (IE..PE) that `after` has and `before` had not. */
const raised = (before: number, after: number): number => after & ~before & 0x3f;

/** Both sides raised `vector` at the instruction. */
function bothFaulted(c: OracleCase, ref: Outcome, vm: Outcome, vector: number): boolean {
  return ref.kind === 'fault' && vm.kind === 'fault' && ref.vector === vector && vm.vector === vector && ref.eip === c.eip && vm.eip === c.eip;
}

/** The memory operand as an excusable range. */
const operand = (c: OracleCase): MemIgnore[] => (c.mem ? [{ addr: c.mem.addr, len: c.mem.size }] : []);

const X87_DEVIATIONS: readonly Deviation[] = [
  {
    id: 'x87-stack-fault',
    reference: 'qemu',
    rows: 'every x87 row that reads an empty register or pushes onto a full stack',
    sdm: 'vol. 1 8.5.1.1 (stack overflow or underflow: IE and SF set, C1, the QNaN indefinite as the masked response)',
    does: 'no stack-fault detection: reads the stale contents of empty registers and overwrites full ones',
    excuse: (c) => (x87StackFault(c) ? { all: true } : undefined),
  },
  {
    id: 'x87-c1',
    reference: 'qemu',
    rows: 'x87 rows that define C1 (the round-up indicator of arithmetic, loads, stores and conversions; 0 for comparisons)',
    sdm: 'vol. 1 8.1.3.1 and the "FPU Flags Affected" of each instruction in vol. 2',
    does: 'leaves C1 as it was',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x) return undefined;
      return (x.ref & SW_C1) === (x.before & SW_C1) && (x.vm & SW_C1) !== (x.before & SW_C1) ? { x87: { sw: SW_C1 } } : undefined;
    },
  },
  {
    id: 'x87-pending-exception',
    reference: 'qemu',
    rows: 'every waiting x87 instruction that starts with an unmasked exception pending',
    sdm: 'vol. 1 8.7 (a pending unmasked exception is delivered as #MF by the next waiting x87 instruction, before it executes)',
    does: 'checks for pending exceptions only at FWAIT: the instruction executes',
    excuse(c, _ref, vm) {
      if (!c.fpu || c.row.name.startsWith('fn')) return undefined;
      const cw = get16(c.fpu, 0);
      const sw = get16(c.fpu, 4);
      return (sw & 0x3f & ~cw) !== 0 && vm.kind === 'fault' && vm.vector === EX_MF && vm.eip === c.eip ? { all: true } : undefined;
    },
  },
  {
    id: 'x87-unmasked-response',
    reference: 'qemu',
    rows: 'x87 instructions that raise an unmasked invalid-operation, denormal-operand or divide-by-zero exception, and stores to memory that raise an unmasked overflow or underflow',
    sdm: 'vol. 1 8.5.1 to 8.5.5 and 8.7 (unmasked IE, DE or ZE, or OE/UE on a store to memory: the destination and the stack are left unchanged)',
    does: 'stores the masked result and pops or pushes as if the exception were masked',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x) return undefined;
      const unmasked = (IE | DE | ZE | (MEMORY_STORE.test(c.row.name) ? OE | UE : 0)) & ~x.cw;
      if ((raised(x.before, x.vm) & unmasked) === 0) return undefined;
      // QEMU performs the suppressed store, which can fault on its operand.
      return MEMORY_STORE.test(c.row.name) ? { all: true } : { x87: { all: true }, mem: operand(c) };
    },
  },
  {
    id: 'x87-denormal-operand',
    reference: 'qemu',
    rows: 'x87 arithmetic, comparisons and loads with a denormal operand',
    sdm: 'vol. 1 8.5.2 (denormal-operand exception, DE)',
    does: 'never raises DE',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || (raised(x.before, x.vm) & DE) === 0 || (raised(x.before, x.ref) & DE) !== 0) return undefined;
      return { x87: { sw: DE | (x.cw & DE ? 0 : ES_B) } };
    },
  },
  {
    id: 'x87-precision-24',
    reference: 'qemu',
    rows: 'FADD FSUB FSUBR FMUL FDIV FDIVR (all forms) and FSQRT with precision control 24 bits',
    sdm: 'vol. 1 8.1.5.2 (precision control: results rounded to 24 bits)',
    does: 'rounds some results (integer operands, directed rounding) to a value one 24-bit step away, and may not report PE',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !PC_ROWS.test(c.row.name) || ((x.cw >> 8) & 3) !== 0) return undefined;
      return { x87: { st: 0xff, sw: SW_C1 | PE | (x.cw & PE ? 0 : ES_B) } };
    },
  },
  {
    id: 'x87-precision-control-conversions',
    reference: 'qemu',
    rows: 'FILD m64 and FBLD with precision control 24 or 53 bits',
    sdm: 'vol. 1 8.1.5.2 (precision control affects only FADD, FSUB(R), FMUL, FDIV(R) and FSQRT); FILD and FBLD convert exactly',
    does: 'rounds the converted value to the precision control',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !/^(fildMi64|fbldMbcd)$/.test(c.row.name) || ((x.cw >> 8) & 3) === 3) return undefined;
      return { x87: { st: 1, sw: SW_C1 | PE | ES_B } };
    },
  },
  {
    id: 'x87-transcendental-inexact',
    reference: 'qemu',
    rows: 'FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1',
    sdm: 'vol. 1 8.5.6 (PE: the result is not exactly representable; these results practically never are)',
    does: 'computes them through the host\'s binary64 library without reporting PE',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !TRANSCENDENTAL.test(c.row.name) || (raised(x.before, x.vm) & PE) === 0 || (raised(x.before, x.ref) & PE) !== 0) return undefined;
      return { x87: { sw: PE | (x.cw & PE ? 0 : ES_B) } };
    },
  },
  {
    id: 'x87-trig-precision',
    reference: 'qemu',
    rows: 'FSIN FCOS FSINCOS FPTAN',
    sdm: 'vol. 1 8.3.10 (results within one unit in the last place of the 64-bit significand; the argument reduced with the 66-bit π)',
    does: 'computes them in binary64 (results with 53-bit significands), so the value, PE, UE and C1 differ',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !TRIG.test(c.row.name) || x87StackFault(c)) return undefined;
      const st = c.row.name === 'fsincos' || c.row.name === 'fptan' ? 3 : 1;
      return { x87: { st, tw: 0xffff, sw: SW_C1 | PE | UE | ((PE | UE) & ~x.cw ? ES_B : 0) } };
    },
  },
  {
    id: 'x87-fprem-precision',
    reference: 'qemu',
    rows: 'FPREM FPREM1',
    sdm: 'vol. 2A FPREM, FPREM1 (the remainder is exact)',
    does: 'computes the remainder in binary64, so it can differ from the exact one and raise PE',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !/^fprem1?$/.test(c.row.name) || x87StackFault(c)) return undefined;
      return { x87: { st: 1, tw: 0xffff, sw: PE | UE | ((PE | UE) & ~x.cw ? ES_B : 0) } };
    },
  },
  {
    id: 'x87-frndint-precision',
    reference: 'qemu',
    rows: 'FRNDINT',
    sdm: 'vol. 1 8.1.5.2 (precision control affects only FADD, FSUB(R), FMUL, FDIV(R) and FSQRT)',
    does: 'rounds the integer it produces to the precision control',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || c.row.name !== 'frndint' || ((x.cw >> 8) & 3) === 3) return undefined;
      return { x87: { st: 1, sw: SW_C1 | PE | (x.cw & PE ? 0 : ES_B) } };
    },
  },
  {
    id: 'x87-wrapped-exponent',
    reference: 'qemu',
    rows: 'x87 arithmetic with a register destination whose result overflows or underflows with OE or UE unmasked',
    sdm: 'vol. 1 8.5.4, 8.5.5 (unmasked overflow or underflow on the register stack: the result is stored with its exponent divided or multiplied by 2^24576)',
    does: 'stores the masked response (±∞, the largest finite value or a denormal) instead, and does not report an exact tiny result as underflow',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || MEMORY_STORE.test(c.row.name) || (raised(x.before, x.vm) & (OE | UE) & ~x.cw) === 0) return undefined;
      return { x87: { st: 0xff, tw: 0xffff, sw: SW_C1 | PE | UE | ES_B } };
    },
  },
  {
    id: 'x87-denormal-value',
    reference: 'qemu',
    rows: 'FYL2X FYL2XP1 FPATAN FSCALE FPREM FPREM1 with a denormal or pseudo-denormal register operand (exponent 0)',
    sdm: 'vol. 1 8.2.2 and table 8-3 (a denormal or pseudo-denormal has the value of its significand times 2^-16445; pseudo-denormals are accepted as operands)',
    does: 'computes some results with half that value',
    excuse(c) {
      if (!c.fpu || !/^(fyl2x|fyl2xp1|fpatan|fscale|fprem|fprem1)$/.test(c.row.name)) return undefined;
      const tiny = [0, 1].some((i) => (get16(c.fpu!, 28 + 10 * i + 8) & 0x7fff) === 0 && c.fpu!.slice(28 + 10 * i, 36 + 10 * i).some((b) => b !== 0));
      return tiny ? { x87: { st: 3, tw: 0xffff, sw: SW_C1 | PE | UE | DE | ES_B } } : undefined;
    },
  },
  {
    id: 'x87-unsupported-operand',
    reference: 'qemu',
    rows: 'x87 instructions with an unnormal, pseudo-infinity or pseudo-NaN register operand',
    sdm: 'vol. 1 8.2.2 and table 8-3 (unsupported encodings: an invalid-operation exception, IE, and the QNaN indefinite)',
    does: 'treats some of them as ordinary values (FSIN FCOS FSINCOS FPTAN: no IE, a result computed from them)',
    excuse(c) {
      if (!c.fpu || !TRIG.test(c.row.name)) return undefined;
      const exp = get16(c.fpu, 28 + 8) & 0x7fff; // ST(0) is the first register of the image
      return exp !== 0 && (c.fpu[28 + 7] & 0x80) === 0 ? { x87: { all: true } } : undefined;
    },
  },
  {
    id: 'x87-transcendental-ulp',
    reference: 'qemu',
    rows: 'F2XM1 FYL2X FYL2XP1 FPATAN',
    sdm: 'vol. 1 8.3.10 (transcendental results are within one unit in the last place of the exact result); vol. 1 8.1.3.1 (C1: rounded up)',
    does: 'returns, now and then, the 64-bit neighbour of the correctly rounded result, with C1 for its own rounding',
    excuse(c, ref, vm) {
      if (!/^(f2xm1|fyl2x|fyl2xp1|fpatan)$/.test(c.row.name)) return undefined;
      return ulpExcuse(c, ref, vm);
    },
  },
  {
    id: 'x87-trig-special',
    reference: 'qemu',
    rows: 'FSIN FCOS FSINCOS FPTAN with |ST(0)| of 2^63 or more, an infinity or a NaN',
    sdm: 'vol. 2A FSIN etc.: out of range, C2 is set and ST(0) is left unchanged; an infinity is an invalid operation (IE, the indefinite); a NaN propagates',
    does: 'computes a result anyway',
    excuse(c) {
      if (!c.fpu || !TRIG.test(c.row.name)) return undefined;
      const exp = get16(c.fpu, 28 + 8) & 0x7fff; // ST(0) is the first register of the image
      return exp >= 0x3fff + 63 ? { x87: { all: true } } : undefined;
    },
  },
  {
    id: 'x87-fprem-quotient',
    reference: 'qemu',
    rows: 'FPREM FPREM1',
    sdm: 'vol. 2A FPREM: C0, C3 and C1 receive the three low bits of the quotient (Q2, Q1, Q0)',
    does: 'reports other quotient bits',
    excuse: (c) => (/^fprem1?$/.test(c.row.name) ? { x87: { sw: C0 | SW_C1 | C3 } } : undefined),
  },
  {
    id: 'x87-nan-choice',
    reference: 'qemu',
    rows: 'x87 arithmetic with NaN or unsupported operands',
    sdm: 'vol. 1 4.8.3.5 and table 4-7 (which NaN the result is: the QNaN of larger significand, a quieted SNaN, or the indefinite for unsupported formats)',
    does: 'chooses another NaN',
    excuse(_c, ref, vm) {
      if (!ref.fpu || !vm.fpu) return undefined;
      let st = 0;
      for (let i = 0; i < 8; i++) if (isNaN80(ref.fpu, 28 + 10 * i) && isNaN80(vm.fpu, 28 + 10 * i)) st |= 1 << i;
      return st ? { x87: { st } } : undefined;
    },
  },
  {
    id: 'x87-store-fault-status',
    reference: 'qemu',
    rows: 'FST FSTP FIST FISTP FBSTP to memory that page-faults',
    sdm: 'vol. 3A 6.5 (a fault leaves the state as it was before the instruction)',
    does: 'has already updated the status word (exception flags, C1) when the store faults',
    excuse(c, ref, vm) {
      if (!MEMORY_STORE.test(c.row.name) || !bothFaulted(c, ref, vm, EX_PF)) return undefined;
      return { x87: { sw: 0x3f | SW_C1 | ES_B } };
    },
  },
  {
    id: 'x87-environment-load',
    reference: 'qemu',
    rows: 'FLDENV FRSTOR with the operand partly on a not-present page',
    sdm: 'vol. 2A FLDENV, FRSTOR: the whole operand is read (a #PF when any part is not present); a fault leaves the x87 state unchanged (vol. 3A 6.5)',
    does: 'does not read the instruction and data pointer fields, and loads part of the state before a page fault',
    excuse(c, ref, vm) {
      if (!/^f(ldenv|rstor)M/.test(c.row.name) || !c.mem) return undefined;
      if (vm.kind === 'fault' && vm.vector === EX_PF && vm.eip === c.eip) return ref.kind === 'stub' || bothFaulted(c, ref, vm, EX_PF) ? { all: true } : undefined;
      return undefined;
    },
  },
  {
    id: 'x87-fcomi-flags',
    reference: 'qemu',
    rows: 'FCOMI FCOMIP FUCOMI FUCOMIP',
    sdm: 'vol. 2A FCOMI: OF, SF and AF are cleared',
    does: 'leaves OF, SF and AF as they were',
    excuse: (c) => (FCOMI.test(c.row.name) ? { flags: 0x800 | 0x80 | 0x10 } : undefined),
  },
  {
    id: 'x87-fldcw',
    reference: 'qemu',
    rows: 'FLDCW',
    sdm: 'vol. 1 8.1.5 (control word: bits 6 reads as 1, bits 7 and 13-15 reserved); 8.7 (ES and B follow the unmasked exception flags)',
    does: 'keeps the reserved control-word bits as loaded, and does not update ES and B for the new masks',
    excuse: (c) => (c.row.name === 'fldcwMw' ? { x87: { cw: 0xe0c0, sw: ES_B } } : undefined),
  },
  {
    id: 'x87-fnstenv-masks',
    reference: 'qemu',
    rows: 'FNSTENV',
    sdm: 'vol. 2A FSTENV/FNSTENV: after saving the environment, all floating-point exceptions are masked (so ES and B clear: vol. 1 8.1.3)',
    does: 'leaves the exception masks and ES/B as they were, so a later waiting instruction can still fault',
    excuse: (c) => (c.row.name === 'fnstenvMenv' ? { x87: { cw: 0x3f, sw: ES_B } } : undefined),
  },
  {
    id: 'x87-environment-image',
    reference: 'qemu',
    rows: 'FNSTENV, FNSAVE',
    sdm: 'vol. 1 8.1.10 and figures 8-9 to 8-12 (FPU instruction and data pointers, opcode; reserved fields)',
    does: 'stores zeros for FIP, FCS, FOP, FDP and FDS, and zeros in the reserved upper halves of the 32-bit layout',
    excuse(c) {
      if (!/^fn(stenv|save)/.test(c.row.name) || !c.mem) return undefined;
      const a = c.mem.addr;
      const mem = c.form.osz === 32
        ? [{ addr: a + 2, len: 2 }, { addr: a + 6, len: 2 }, { addr: a + 10, len: 2 }, { addr: a + 12, len: 16 }]
        : [{ addr: a + 6, len: 8 }];
      return { mem };
    },
  },
  {
    id: 'x87-fst-tag',
    reference: 'qemu',
    rows: 'FST ST(i), FSTP ST(i) and their aliases into an empty register',
    sdm: 'vol. 1 8.1.7 (the tag of a register written with a value is no longer empty)',
    does: 'leaves the destination tagged empty',
    excuse(c) {
      if (!c.fpu || !FST_STI.test(c.row.name)) return undefined;
      const top = (get16(c.fpu, 4) >> 11) & 7;
      const p = (top + (c.code[c.code.length - 1] & 7)) & 7;
      return ((get16(c.fpu, 8) >> (2 * p)) & 3) === 3 ? { x87: { tw: 3 << (2 * p) } } : undefined;
    },
  },
];

/** Byte ranges of FCS and FDS ('sel'), FOP ('op') or FDP ('dp') in the FNSTENV/FNSAVE image of case `c`. */
function envFields(c: OracleCase, fields: 'sel' | 'op' | 'dp'): MemIgnore[] {
  if (!c.mem) return [];
  const a = c.mem.addr;
  const o32: Record<typeof fields, MemIgnore[]> = {
    sel: [{ addr: a + 16, len: 2 }, { addr: a + 24, len: 2 }], op: [{ addr: a + 18, len: 2 }], dp: [{ addr: a + 20, len: 4 }],
  };
  const o16: Record<typeof fields, MemIgnore[]> = { sel: [{ addr: a + 8, len: 2 }, { addr: a + 12, len: 2 }], op: [], dp: [{ addr: a + 10, len: 2 }] };
  return (c.form.osz === 32 ? o32 : o16)[fields];
}

/** Registers (ST(i) after the instruction) that hold the result of a transcendental row. */
function transcendentalResults(name: string): number[] {
  return /^(fsincos|fptan)$/.test(name) ? [0, 1] : [0];
}

/** The position of a finite 80-bit encoding among those of its sign (adjacent values differ by 1). */
function f80Index(b: ArrayLike<number>, off: number): bigint | undefined {
  const exp = get16(b, off + 8) & 0x7fff;
  let m = 0n;
  for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(b[off + k]);
  if (exp === 0x7fff || (exp !== 0 && m >> 63n === 0n)) return undefined;
  return exp === 0 ? m : (BigInt(exp) << 63n) + m - (1n << 63n);
}

/** Excuses result registers one unit in the last place apart (and C1) after a transcendental row. */
function ulpExcuse(c: OracleCase, ref: Outcome, vm: Outcome): Excuse | undefined {
  if (!ref.fpu || !vm.fpu || ref.kind === 'fault' || vm.kind === 'fault') return undefined;
  let st = 0;
  for (const i of transcendentalResults(c.row.name)) {
    const off = 28 + 10 * i;
    const a = f80Index(ref.fpu, off);
    const b = f80Index(vm.fpu, off);
    const sameSign = ((ref.fpu[off + 9] ^ vm.fpu[off + 9]) & 0x80) === 0;
    if (a !== undefined && b !== undefined && sameSign && (a - b === 1n || b - a === 1n || a === b)) st |= 1 << i;
  }
  return st ? { x87: { st, sw: SW_C1 } } : undefined;
}

/** Where this host's processor differs from a P6 (probed: Reference.quirks). */
const CPU_DEVIATIONS: readonly Deviation[] = [
  {
    id: 'cpu-x87-transcendental-ulp',
    reference: 'native',
    rows: 'FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1',
    sdm: 'vol. 1 8.3.10 (transcendental results are within one unit in the last place of the exact result, FSIN FCOS FSINCOS FPTAN reducing their argument with the 66-bit π); vol. 1 8.1.3.1 (C1: rounded up)',
    does: 'returns, in a few percent of cases, the 64-bit neighbour of the correctly rounded result the VM returns (measured on the AMD EPYC host: 1 % of FSIN/FCOS/FSINCOS, 1-8 % of the others), with C1 for its own rounding',
    excuse: (c, ref, vm) => (TRANSCENDENTAL.test(c.row.name) ? ulpExcuse(c, ref, vm) : undefined),
  },
  {
    id: 'cpu-x87-fcs-fds',
    reference: 'native',
    quirk: 'x87-fcs-fds',
    rows: 'FNSTENV, FNSAVE',
    sdm: 'vol. 1 8.1.8 (processors with CPUID.(EAX=07H,ECX=0):EBX[13] = 1 deprecate FCS and FDS and store zeros)',
    does: 'stores zeros where a P6 stores the code and data selectors of the last x87 instruction',
    excuse: (c) => (/^fn(stenv|save)M/.test(c.row.name) ? { mem: envFields(c, 'sel') } : undefined),
  },
  {
    id: 'cpu-x87-fop',
    reference: 'native',
    quirk: 'x87-fop',
    rows: 'FNSTENV, FNSAVE',
    sdm: 'vol. 1 8.1.9.1 (Pentium 4 and later store the last opcode only after an unmasked exception unless FOP code compatibility is enabled)',
    does: 'stores zero where a P6 stores the opcode of the last non-control x87 instruction',
    excuse: (c) => (/^fn(stenv|save)M/.test(c.row.name) ? { mem: envFields(c, 'op') } : undefined),
  },
  {
    id: 'cpu-x87-fdp',
    reference: 'native',
    quirk: 'x87-fdp',
    rows: 'FNSTENV, FNSAVE',
    sdm: 'vol. 1 8.1.8 (processors with CPUID.(EAX=07H,ECX=0):EBX[6] = 1 update FDP only for x87 instructions that raise an unmasked exception)',
    does: 'stores zero where a P6 stores the operand address of the last x87 instruction with a memory operand',
    excuse: (c) => (/^fn(stenv|save)M/.test(c.row.name) ? { mem: envFields(c, 'dp') } : undefined),
  },
  {
    id: 'cpu-x87-fcomi-c1',
    reference: 'native',
    quirk: 'x87-fcomi-c1',
    rows: 'FCOMI FCOMIP FUCOMI FUCOMIP',
    sdm: 'vol. 2A FCOMI/FCOMIP/FUCOMI/FUCOMIP, "FPU Flags Affected": C1 is set to 0',
    does: 'leaves C1 as it was (an AMD processor)',
    excuse(c, ref, vm) {
      const x = x87View(c, ref, vm);
      if (!x || !FCOMI.test(c.row.name) || (x.ref & SW_C1) !== (x.before & SW_C1)) return undefined;
      return { x87: { sw: SW_C1 } };
    },
  },
  {
    id: 'cpu-x87-suppressed-store',
    reference: 'native',
    quirk: 'x87-suppressed-store',
    rows: 'FST FSTP FIST FISTP FBSTP to memory the instruction may not write (segment type or limit, page not present or read-only)',
    sdm: 'vol. 2A FST/FIST/FBSTP "Protected Mode Exceptions" (#GP, #SS, #PF for the destination, unconditional); vol. 1 8.5 (an unmasked IE, OE or UE on a store leaves the destination unchanged); the order is not stated',
    does: 'completes a store that an unmasked IE, OE or UE (a stack underflow included) suppresses without addressing its operand, where the VM (as AMD processors and QEMU) raises the #GP, #SS or #PF first',
    excuse(c, ref, vm) {
      if (!MEMORY_STORE.test(c.row.name) || ref.kind === 'fault' || !ref.fpu || !c.fpu) return undefined;
      if (vm.kind !== 'fault' || vm.eip !== c.eip || ![EX_GP, EX_SS, EX_PF].includes(vm.vector)) return undefined;
      const cw = get16(c.fpu, 0);
      return raised(get16(c.fpu, 4), get16(ref.fpu, 4)) & (IE | OE | UE) & ~cw ? { all: true } : undefined;
    },
  },
];

export const DEVIATIONS: readonly Deviation[] = [
  {
    id: 'data-segment-checks',
    reference: 'qemu',
    rows: 'every row with a memory operand, when the segment it uses holds a null selector or a code segment',
    sdm: 'vol. 3A 5.3 (limit checking), 5.4 (type checking), 3.4.2 (null selectors); vol. 2 "Protected Mode Exceptions" of each instruction',
    does: 'no null, type or limit check on data accesses in 32-bit protected mode: writes through a code segment, reads beyond a 16-bit limit and accesses through a null selector complete instead of raising #GP(0)',
    excuse(c, _ref, vm) {
      // QEMU skips the check and goes on: the instruction completes, or faults later (a page
      // fault, or #GP with the selector a segment load then rejects).
      if (!faultedClean(c, vm, EX_GP)) return undefined;
      const suspect = prefixesOf(c).includes(0x2e) || c.sel.some((s) => (s & ~3) === 0 || isCodeSelector(s));
      return suspect ? { all: true } : undefined;
    },
  },
  {
    id: 'ud-after-memory-access',
    reference: 'qemu',
    rows: 'invalid (FF /7 with a memory operand, LOCK on an instruction that does not allow it)',
    sdm: 'vol. 2A 2.1.1 (LOCK: #UD when the instruction is not lockable); vol. 2D A.4 (FF /7 reserved)',
    does: 'reads the memory operand before deciding the encoding is invalid, so a page fault (#PF) replaces the #UD',
    excuse(c, ref, vm) {
      if (c.row.name !== 'invalid' || ref.kind !== 'fault' || ref.vector !== EX_PF || ref.eip !== c.eip) return undefined;
      return faultedClean(c, vm, EX_UD, -1) ? { all: true } : undefined;
    },
  },
  {
    id: 'lock-not-checked',
    reference: 'qemu',
    rows: 'invalid (LOCK on an instruction that is not lockable, e.g. MOV or BT with a memory operand)',
    sdm: 'vol. 2A 2.1.1 and LOCK: #UD when LOCK is used with an instruction not listed as lockable',
    does: 'executes the instruction as if the prefix were absent',
    excuse(c, ref, vm) {
      if (c.row.name !== 'invalid' || ref.kind !== 'stub' || !prefixesOf(c).includes(0xf0)) return undefined;
      return faultedClean(c, vm, EX_UD, -1) ? { all: true } : undefined;
    },
  },
  {
    id: 'c6-c7-reg-field',
    reference: 'qemu',
    rows: 'invalid (C6 and C7 with ModRM.reg other than 0)',
    sdm: 'vol. 2D A.4, group 11: only /0 (MOV) is defined; the others raise #UD',
    does: 'ignores ModRM.reg and executes MOV',
    excuse(c, ref, vm) {
      if (c.row.name !== 'invalid' || ref.kind !== 'stub') return undefined;
      const at = prefixesOf(c).length;
      const op = c.code[at];
      return (op === 0xc6 || op === 0xc7) && ((c.code[at + 1] >> 3) & 7) !== 0 && faultedClean(c, vm, EX_UD, -1) ? { all: true } : undefined;
    },
  },
  {
    id: 'hint-nop-0f18',
    reference: 'qemu',
    rows: 'hintnop18 (0F 18 /4-7 and the PREFETCHh space 0F 18 /0-3 with a register operand)',
    sdm: 'vol. 2B NOP and PREFETCHh; vol. 2D A.4 (0F 18 group 16): the hint-NOP space executes as a NOP on P6 processors',
    does: 'raises #UD without SSE in the CPU model (-cpu pentium2)',
    excuse(c, ref, vm) {
      if (c.row.name !== 'hintnop18' || ref.kind !== 'fault' || ref.vector !== EX_UD || ref.eip !== c.eip) return undefined;
      return vm.kind === 'stub' ? { all: true } : undefined;
    },
  },
  {
    id: 'pf-rmw-read',
    reference: 'qemu',
    rows: 'read-modify-write instructions (ALU, shifts, INC/DEC, NOT/NEG, XCHG, XADD, CMPXCHG, BTS/BTR/BTC, ...) on a not-present page',
    sdm: 'vol. 3A 4.7 (page-fault error code: W/R is set when the access causing the fault is a write; a read-modify-write reports a write)',
    does: 'reports the read (W/R clear)',
    excuse(_c, ref, vm) {
      if (ref.kind !== 'fault' || vm.kind !== 'fault' || ref.vector !== EX_PF || vm.vector !== EX_PF || ref.cr2 !== vm.cr2) return undefined;
      return (ref.errorCode & 2) === 0 && vm.errorCode === (ref.errorCode | 2) ? { errorCode: 2 } : undefined;
    },
  },
  {
    id: 'pf-far-call-push',
    reference: 'qemu',
    rows: 'callAp, callMp: the pushes of a far call at CPL 3 to a not-present page',
    sdm: 'vol. 3A 4.7 (U/S is set for accesses made at CPL 3; the pushes of a far call to the same privilege level are user accesses)',
    does: 'reports a supervisor access (U/S clear)',
    excuse(c, ref, vm) {
      if (!/^call(Ap|Mp)$/.test(c.row.name) || ref.kind !== 'fault' || vm.kind !== 'fault' || ref.vector !== EX_PF || vm.vector !== EX_PF) return undefined;
      return (ref.errorCode & 4) === 0 && vm.errorCode === (ref.errorCode | 4) ? { errorCode: 4 } : undefined;
    },
  },
  {
    id: 'iret-vm-at-cpl3',
    reference: 'qemu',
    rows: 'iret whose EFLAGS image has VM set, at CPL 3',
    sdm: 'vol. 2A IRET: the return to virtual-8086 mode is taken only at CPL 0; at CPL 3 VM is left unchanged',
    does: 'returns to virtual-8086 mode',
    excuse: (c, ref) => (c.row.name === 'iret' && (ref.eflags & 0x20000) !== 0 ? { all: true } : undefined),
  },
  {
    id: 'partial-store-before-fault',
    reference: 'qemu',
    rows: 'stores whose operand crosses into a not-present page (FNSTENV, FNSAVE, FBSTP, FSTP m80, ...)',
    sdm: 'vol. 3A 6.5 (a fault is reported before the instruction changes any state)',
    does: 'writes the part of the operand on the present page, field by field, before the fault',
    excuse(c, ref, vm) {
      if (!c.mem || (c.mem.addr & 0xfff) + c.mem.size <= 0x1000 || !bothFaulted(c, ref, vm, EX_PF)) return undefined;
      return { mem: operand(c) };
    },
  },
  {
    id: 'ret-imm16-sign',
    reference: 'qemu',
    rows: 'retIw with an immediate of 8000h or more',
    sdm: 'vol. 2B RET: the 16-bit immediate is an unsigned count of bytes to release',
    does: 'sign-extends the immediate, so ESP ends 10000h lower',
    excuse(c, ref, vm) {
      if (c.row.name !== 'retIw' || c.code[c.code.length - 1] < 0x80) return undefined;
      return ((vm.regs[4] - ref.regs[4]) >>> 0) === 0x10000 ? { regs: [4] } : undefined;
    },
  },
  ...X87_DEVIATIONS,
  ...CPU_DEVIATIONS,
];

function mergeExcuses(list: readonly Excuse[]): Excuse {
  let flags = 0, cr2 = 0, errorCode = 0, cw = 0, sw = 0, tw = 0, st = 0, x87all = false;
  const mem: MemIgnore[] = [];
  const regs = new Set<number>();
  let all = false, allRegs = false;
  for (const e of list) {
    all ||= e.all === true;
    flags |= e.flags ?? 0;
    errorCode |= e.errorCode ?? 0;
    cr2 |= e.cr2 ?? 0;
    if (e.regs === 'all') allRegs = true;
    else for (const r of e.regs ?? []) regs.add(r);
    mem.push(...(e.mem ?? []));
    cw |= e.x87?.cw ?? 0;
    sw |= e.x87?.sw ?? 0;
    tw |= e.x87?.tw ?? 0;
    st |= e.x87?.st ?? 0;
    x87all ||= e.x87?.all === true;
  }
  return { all, flags, cr2, errorCode, mem, regs: allRegs ? 'all' : [...regs], x87: { cw, sw, tw, st, all: x87all } };
}

/**
 * The known deviations that together explain every difference between `ref` and `vm` in case
 * `c` (only those needed: each is dropped whose excuse the others make unnecessary), or
 * undefined if some difference is not explained (a mismatch).
 */
export function explainByDeviations(reference: Pick<Reference, 'kind' | 'quirks'>, c: OracleCase, ref: Outcome, vm: Outcome, x87?: X87Plugin): string[] | undefined {
  let hits: { id: string; ex: Excuse }[] = [];
  for (const d of DEVIATIONS) {
    if (d.reference !== reference.kind || (d.quirk !== undefined && !reference.quirks.has(d.quirk))) continue;
    const ex = d.excuse(c, ref, vm);
    if (ex) hits.push({ id: d.id, ex });
  }
  const base = reference.kind === 'native' ? undefined : sdmUndefined(c);
  const explained = (list: typeof hits): boolean => compareOutcomes(c, ref, vm, x87, mergeExcuses([...(base ? [base] : []), ...list.map((h) => h.ex)])).length === 0;
  if (hits.length === 0 || !explained(hits)) return undefined;
  for (const h of [...hits]) {
    const rest = hits.filter((x) => x !== h);
    if (rest.length && explained(rest)) hits = rest;
  }
  return hits.map((h) => h.id);
}

/** The deviations as the Markdown table of test/oracle/README.md (a test keeps the two equal). */
export function deviationTable(): string {
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  const rows = DEVIATIONS.map((d) => `| \`${d.id}\` | ${d.reference}${d.quirk ? ` (probe: ${d.quirk})` : ''} | ${cell(d.rows)} | ${cell(d.sdm)} | ${cell(d.does)} |`);
  return ['| id | reference | rows | SDM | what the reference does |', '|---|---|---|---|---|', ...rows].join('\n');
}
