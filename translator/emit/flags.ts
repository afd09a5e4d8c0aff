/**
 * Lazy flags in emitted code (SDM vol. 1, 3.4.3; runtime/lazy-flags.ts is the reference): every
 * flag-setting instruction records its kind, operands and result in the LF* locals with exactly
 * the meaning runtime/lazy-flags.ts gives the LF_* state fields, so the interpreter can evaluate
 * a record the translator wrote and vice versa.
 *
 * Within a segment the emitter knows statically which kind of operation set the flags last, so
 * a condition is computed from the operands directly: CMP + Jcc becomes one Wasm comparison
 * (compare-and-branch fusion) and the flags themselves are never materialized. At a segment
 * start (several predecessors) the kind is unknown; then the record is stored and the `testcc`
 * helper answers (`flags` materializes it). Both are Wasm functions of the hub module, built here
 * from the same emitters for every kind and size (`addFlagHelpers`), so answering does not leave
 * Wasm: as JS helpers they and their calls took ~7 % of a system call's time in the Debian guest.
 * Flag locals that a later instruction overwrites are dead and cost only local
 * moves, which V8 removes.
 *
 * Also here: SETcc, CMOVcc (SDM vol. 2), and CLD/STD, which touch only EFLAGS.DF in the state
 * block (DF is never part of the lazy record).
 */
import type { Insn } from '../decoder/insn.ts';
import { EFLAGS, F_AF, F_ARITH, F_CF, F_DF, F_OF, F_PF, F_SF, F_ZF, LF_A, LF_B, LF_C, LF_NONE, LF_OP, LF_RES, LFK_ADC, LFK_ADD, LFK_DEC, LFK_INC, LFK_LOGIC, LFK_SBB, LFK_SHIFT, LFK_SUB, SIZE_BITS, SZ16, SZ32, SZ8 } from '../abi.ts';
import type { HelperName } from '../abi.ts';
import type { Expr, ModuleBuilder, ValType } from '../wasm/backend.ts';
import { EmitCtx, L_LFA, L_LFB, L_LFC, L_LFOP, L_LFR } from './context.ts';
import { operandLinear, readRM, saveLin, writeLinear } from './memory.ts';

/**
 * Records a flag-setting operation in the LF* locals: LF_C (if given), LF_A, LF_B, LF_RES, LF_OP.
 * All inputs must be side-effect-free reads (temps, constants): evaluate operands, compute the
 * result and do every access that may fault first, then record.
 */
export function recordFlags(c: EmitCtx, kind: number, sz: number, a: Expr, b: Expr, res: Expr, carry?: Expr): void {
  const { m } = c;
  c.usesFlags = true;
  if (carry !== undefined) c.emit(m.set(L_LFC, carry));
  c.emit(m.set(L_LFA, a), m.set(L_LFB, b), m.set(L_LFR, res));
  setKind(c, kind, sz);
}

/** Sets LF_OP, unless it is statically known to hold this kind and size already. */
export function setKind(c: EmitCtx, kind: number, sz: number): void {
  if (c.flagKind !== kind || c.flagSize !== sz) c.emit(c.m.set(L_LFOP, c.i32.const((kind << 2) | sz)));
  c.flagKind = kind;
  c.flagSize = sz;
}

/**
 * Records a result whose flags are given directly: a shift's CF and OF in LF_C (bit 0, bit 1).
 * LF_A and LF_B are left as they are: nothing reads them for a LFK_SHIFT record.
 */
export function setShiftFlags(c: EmitCtx, sz: number, res: Expr, cfOf: Expr): void {
  const { m } = c;
  c.usesFlags = true;
  c.emit(m.set(L_LFC, cfOf), m.set(L_LFR, res));
  setKind(c, LFK_SHIFT, sz);
}

/** The condition code `cc` through the helper (kind unknown): stores the record first. */
function ccByHelper(c: EmitCtx, cc: number): Expr {
  const { m, i32 } = c;
  return m.block(null, [...c.flushFlags(), m.call('testcc', [i32.const(cc)])], m.i32Type);
}

/** An EFLAGS bit from the state block (when the record is LF_NONE, EFLAGS holds the flags). */
function memFlag(c: EmitCtx, bit: number): Expr {
  const { i32 } = c;
  return i32.and(i32.shr_u(i32.load(EFLAGS, 4, i32.const(0)), i32.const(31 - Math.clz32(bit))), i32.const(1));
}

function lfa(c: EmitCtx): Expr { return c.m.get(L_LFA); }
function lfb(c: EmitCtx): Expr { return c.m.get(L_LFB); }
function lfr(c: EmitCtx): Expr { return c.m.get(L_LFR); }
function lfc(c: EmitCtx): Expr { return c.m.get(L_LFC); }

/** The sign bit of `v` (masked to the record's size, as all record values are) as 0/1. */
function signOf(c: EmitCtx, v: Expr): Expr {
  const { i32 } = c;
  return i32.shr_u(v, i32.const(SIZE_BITS[c.flagSize] - 1));
}

/** CF as 0/1. */
export function carryFlag(c: EmitCtx): Expr {
  const { i32, m } = c;
  c.usesFlags = true;
  switch (c.flagKind) {
    case LFK_ADD: return i32.lt_u(lfr(c), lfa(c));
    case LFK_ADC: return m.select(lfc(c), i32.le_u(lfr(c), lfa(c)), i32.lt_u(lfr(c), lfa(c)));
    case LFK_SUB: return i32.lt_u(lfa(c), lfb(c));
    case LFK_SBB: return m.select(lfc(c), i32.le_u(lfa(c), lfb(c)), i32.lt_u(lfa(c), lfb(c)));
    case LFK_LOGIC: return i32.const(0);
    case LFK_INC: case LFK_DEC: case LFK_SHIFT: return i32.and(lfc(c), i32.const(1));
    case LF_NONE: return memFlag(c, F_CF);
    default: return dynamicCarry(c);
  }
}

if (LFK_DEC !== LFK_INC + 1 || LFK_SHIFT !== LFK_INC + 2) throw new Error('translator/emit/flags.ts: dynamicCarry needs LFK_INC, LFK_DEC, LFK_SHIFT consecutive');

/**
 * CF after a producer that is not known statically (a segment start: INC, DEC, ADC, SBB at a
 * loop head or after a VMM row): the record's kind is tested at run time and the common kinds
 * answered from the LF* locals as above; the others (ADC, SBB) go to the helper. INC and DEC
 * keep CF, so a loop counter's `inc` after the previous iteration's `cmp` needs this on every
 * iteration (the helper path stores the record and calls `testcc`).
 */
function dynamicCarry(c: EmitCtx): Expr {
  const { i32, m } = c;
  const k = c.tmp();
  const kindIs = (kind: number): Expr => i32.eq(m.get(k), i32.const(kind));
  // CF of these kinds does not depend on the record's size (its values are masked to it).
  const as = (kind: number): Expr => withKind(c, kind, SZ32, () => carryFlag(c));
  return m.block(null, [
    m.set(k, i32.shr_u(m.get(L_LFOP), i32.const(2))),
    m.if(kindIs(LFK_SUB), as(LFK_SUB),
      m.if(kindIs(LFK_LOGIC), as(LFK_LOGIC),
        m.if(kindIs(LFK_ADD), as(LFK_ADD),
          // INC, DEC and shifts all hold CF in LF_C bit 0 (LFK_INC, LFK_DEC, LFK_SHIFT are consecutive).
          m.if(i32.lt_u(i32.sub(m.get(k), i32.const(LFK_INC)), i32.const(3)), as(LFK_INC),
            m.if(kindIs(LF_NONE), as(LF_NONE), ccByHelper(c, 2)))))),
  ], m.i32Type);
}

/** `emit()` with the record's kind and size taken as statically known (then unknown again). */
function withKind(c: EmitCtx, kind: number, size: number, emit: () => Expr): Expr {
  c.flagKind = kind;
  c.flagSize = size;
  try {
    return emit();
  } finally {
    c.flagKind = -1;
  }
}

function zeroFlag(c: EmitCtx): Expr {
  if (c.flagKind === LF_NONE) return memFlag(c, F_ZF);
  return c.flagKind < 0 ? ccByHelper(c, 4) : c.i32.eqz(lfr(c));
}

function signFlag(c: EmitCtx): Expr {
  if (c.flagKind === LF_NONE) return memFlag(c, F_SF);
  return c.flagKind < 0 ? ccByHelper(c, 8) : signOf(c, lfr(c));
}

function overflowFlag(c: EmitCtx): Expr {
  const { i32 } = c;
  switch (c.flagKind) {
    case LFK_ADD: case LFK_ADC: case LFK_INC:
      return signOf(c, i32.and(i32.xor(lfa(c), lfr(c)), i32.xor(lfb(c), lfr(c))));
    case LFK_SUB: case LFK_SBB: case LFK_DEC:
      return signOf(c, i32.and(i32.xor(lfa(c), lfb(c)), i32.xor(lfa(c), lfr(c))));
    case LFK_SHIFT: return i32.and(i32.shr_u(lfc(c), i32.const(1)), i32.const(1));
    case LFK_LOGIC: return i32.const(0);
    case LF_NONE: return memFlag(c, F_OF);
    default: return ccByHelper(c, 0);
  }
}

function parityFlag(c: EmitCtx): Expr {
  const { i32 } = c;
  if (c.flagKind === LF_NONE) return memFlag(c, F_PF);
  if (c.flagKind < 0) return ccByHelper(c, 10);
  return i32.eqz(i32.and(i32.popcnt(i32.and(lfr(c), i32.const(0xff))), i32.const(1)));
}

function sext(c: EmitCtx, v: Expr): Expr {
  return c.flagSize === SZ8 ? c.i32.extend8_s(v) : c.flagSize === SZ16 ? c.i32.extend16_s(v) : v;
}

/**
 * Condition code `cc` (0..15, the low nibble of Jcc/SETcc/CMOVcc) as an i32 0/1.
 * After SUB/CMP the unsigned and signed orders come straight from the operands.
 */
export function condition(c: EmitCtx, cc: number): Expr {
  const { i32 } = c;
  c.usesFlags = true;
  const neg = (cc & 1) !== 0;
  if (c.flagKind < 0) return dynamicCondition(c, cc);
  if (c.flagKind === LFK_SUB) {
    const a = lfa(c);
    const b = lfb(c);
    switch (cc >> 1) {
      case 1: return neg ? i32.ge_u(a, b) : i32.lt_u(a, b);
      case 2: return neg ? i32.ne(a, b) : i32.eq(a, b);
      case 3: return neg ? i32.gt_u(a, b) : i32.le_u(a, b);
      case 6: return neg ? i32.ge_s(sext(c, a), sext(c, b)) : i32.lt_s(sext(c, a), sext(c, b));
      case 7: return neg ? i32.gt_s(sext(c, a), sext(c, b)) : i32.le_s(sext(c, a), sext(c, b));
    }
  }
  if (c.flagKind === LFK_LOGIC) {
    // CF = OF = 0.
    let r: Expr;
    switch (cc >> 1) {
      case 0: case 1: return i32.const(neg ? 1 : 0);
      case 2: case 3: return neg ? i32.ne(lfr(c), i32.const(0)) : i32.eqz(lfr(c));
      case 4: case 6: r = signFlag(c); break;
      case 5: r = parityFlag(c); break;
      default: r = i32.or(zeroFlag(c), signFlag(c)); break;
    }
    return neg ? i32.eqz(r) : r;
  }
  let r: Expr;
  switch (cc >> 1) {
    case 0: r = overflowFlag(c); break;
    case 1: r = carryFlag(c); break;
    case 2:
      if (c.flagKind === LF_NONE) { r = zeroFlag(c); break; }
      return neg ? i32.ne(lfr(c), i32.const(0)) : i32.eqz(lfr(c));
    case 3: r = i32.or(carryFlag(c), zeroFlag(c)); break;
    case 4: r = signFlag(c); break;
    case 5: r = parityFlag(c); break;
    case 6: r = i32.xor(signFlag(c), overflowFlag(c)); break;
    default: r = i32.or(zeroFlag(c), i32.xor(signFlag(c), overflowFlag(c))); break;
  }
  return neg ? i32.eqz(r) : r;
}

/**
 * Condition `cc` after a producer not known statically: the two commonest records, 32-bit SUB
 * (CMP) and 32-bit LOGIC (TEST, AND, ...), are recognized by LF_OP at run time and answered as
 * `condition` answers them statically; any other record goes to the helper.
 */
function dynamicCondition(c: EmitCtx, cc: number): Expr {
  const { i32, m } = c;
  const as = (kind: number): Expr => withKind(c, kind, SZ32, () => condition(c, cc));
  return m.if(i32.eq(m.get(L_LFOP), i32.const((LFK_SUB << 2) | SZ32)), as(LFK_SUB),
    m.if(i32.eq(m.get(L_LFOP), i32.const((LFK_LOGIC << 2) | SZ32)), as(LFK_LOGIC), ccByHelper(c, cc)));
}

// ------------------------------------------------------------------------------ materialized flags
/**
 * Makes EFLAGS in the state block authoritative (the record becomes LF_NONE) and returns its value
 * (a stable read). Used by instructions that change some status flags and keep the others
 * (rotates, BT*). A known record is evaluated inline; an unknown one by the `flags` helper.
 */
export function materializeFlags(c: EmitCtx): Expr {
  const { m, i32 } = c;
  c.usesFlags = true;
  const load = (): Expr => i32.load(EFLAGS, 4, i32.const(0));
  if (c.flagKind === LF_NONE) return c.save(load());
  let e: Expr;
  if (c.flagKind < 0) {
    e = c.save(m.block(null, [...c.flushFlags(), m.call('flags', [i32.const(0)])], m.i32Type));
  } else {
    e = c.save(i32.or(i32.and(load(), i32.const(~F_ARITH)), arithFlags(c)));
    c.emit(i32.store(EFLAGS, 4, i32.const(0), e));
  }
  c.emit(m.set(L_LFOP, i32.const(LF_NONE)));
  c.flagKind = LF_NONE;
  return e;
}

/** The F_ARITH bits of a record of statically known kind (c.flagKind >= 1), from the LF* locals. */
function arithFlags(c: EmitCtx): Expr {
  const { i32 } = c;
  const kind = c.flagKind;
  const af = kind === LFK_LOGIC || kind === LFK_SHIFT ? i32.const(0)
    : i32.and(i32.xor(i32.xor(lfa(c), lfb(c)), lfr(c)), i32.const(F_AF));
  let arith = i32.or(carryFlag(c), af);
  arith = i32.or(arith, i32.shl(parityFlag(c), i32.const(2)));
  arith = i32.or(arith, i32.shl(zeroFlag(c), i32.const(6)));
  arith = i32.or(arith, i32.shl(signFlag(c), i32.const(7)));
  return i32.or(arith, i32.shl(overflowFlag(c), i32.const(11)));
}

// ------------------------------------------------------------------------------ hub helpers
/** The kinds a lazy-flags record can have (LF_OP = kind << 2 | size), LF_NONE aside. */
const KINDS = [LFK_ADD, LFK_ADC, LFK_SUB, LFK_SBB, LFK_LOGIC, LFK_INC, LFK_DEC, LFK_SHIFT];
const LFARITH = 'lfarith';

/**
 * Adds the `testcc` and `flags` helpers (abi.ts HELPERS: same contract as the runtime's JS
 * versions, runtime/lazy-flags.ts semantics) to the hub module as Wasm functions, and the
 * function they share, `lfarith()`: the F_ARITH bits of the lazy-flags record in the state
 * block (EFLAGS' own when it is LF_NONE). lfarith reads the record into locals numbered as in a
 * region (L_LF*) and dispatches on LF_OP to one arm per kind and size, each the expression
 * `arithFlags` makes for a statically known record. Returns the helpers it defined.
 */
export function addFlagHelpers(mb: ModuleBuilder): HelperName[] {
  const c = new EmitCtx(mb, 0, { segmentAt: () => -1, dynamicTargets: [], route: () => { throw new Error('flag helpers have no segments'); } });
  const { i32 } = c;
  const m = mb;
  const z = i32.const(0);
  const load = (field: number): Expr => i32.load(field, 4, z);
  const table: string[] = Array.from({ length: 4 * (LFK_SHIFT + 1) }, () => 'lfa_none');
  const labels: string[] = [];
  const arms: Expr[] = [];
  for (const kind of KINDS) {
    for (const sz of [SZ8, SZ16, SZ32]) {
      const label = `lfa${(kind << 2) | sz}`;
      table[(kind << 2) | sz] = label;
      labels.push(label);
      c.flagKind = kind;
      c.flagSize = sz;
      arms.push(m.return(arithFlags(c)));
    }
  }
  // block lfa_none { block lfaN { ... block lfa0 { br_table on LF_OP } return arm0 ... } return armN }
  let dispatch = m.block(labels[0], [m.switch(table, 'lfa_none', m.get(L_LFOP))]);
  for (let k = 0; k < labels.length; k++) dispatch = m.block(k + 1 < labels.length ? labels[k + 1] : 'lfa_none', [dispatch, arms[k]]);
  const locals = (from: number): ValType[] => Array.from({ length: L_LFC + 1 - from }, () => m.i32Type);
  m.addInternal(LFARITH, 0, locals(0), m.block(null, [
    m.set(L_LFOP, load(LF_OP)), m.set(L_LFA, load(LF_A)), m.set(L_LFB, load(LF_B)), m.set(L_LFR, load(LF_RES)), m.set(L_LFC, load(LF_C)),
    dispatch,
    i32.and(load(EFLAGS), i32.const(F_ARITH)),
  ], m.i32Type));

  // testcc(cc): local 1 = the arithmetic flags; one arm per condition pair, the low bit negates.
  const a = 1;
  const bit = (f: number): Expr => i32.and(i32.shr_u(m.get(a), i32.const(31 - Math.clz32(f))), i32.const(1));
  const conds = [
    bit(F_OF), bit(F_CF), bit(F_ZF), i32.ne(i32.and(m.get(a), i32.const(F_CF | F_ZF)), z), bit(F_SF), bit(F_PF),
    i32.xor(bit(F_SF), bit(F_OF)), i32.or(bit(F_ZF), i32.xor(bit(F_SF), bit(F_OF))),
  ];
  const ccLabels = conds.map((_, k) => `cc${k}`);
  let cc = m.block(ccLabels[0], [m.switch(ccLabels, ccLabels[0], i32.shr_u(m.get(0), i32.const(1)))]);
  for (let k = 0; k < conds.length; k++) {
    const arm = m.return(i32.xor(conds[k], i32.and(m.get(0), i32.const(1))));
    cc = k + 1 < conds.length ? m.block(ccLabels[k + 1], [cc, arm]) : m.block(null, [cc, arm, m.unreachable()], m.i32Type);
  }
  m.addInternal('testcc', 1, [m.i32Type], m.block(null, [m.set(a, m.callInternal(LFARITH, [])), cc], m.i32Type));

  // flags(0): EFLAGS made authoritative (LF_OP = LF_NONE) and returned.
  const e = 1;
  m.addInternal('flags', 1, [m.i32Type], m.block(null, [
    m.set(e, i32.or(i32.and(load(EFLAGS), i32.const(~F_ARITH)), m.callInternal(LFARITH, []))),
    i32.store(EFLAGS, 4, z, m.get(e)),
    i32.store(LF_OP, 4, z, i32.const(LF_NONE)),
    m.get(e),
  ], m.i32Type));
  return ['testcc', 'flags'];
}

/** Replaces the status flags in `mask` with `value` (bits in EFLAGS positions), keeping the rest. */
export function setArithFlags(c: EmitCtx, mask: number, value: Expr): void {
  const { i32 } = c;
  const e = materializeFlags(c);
  c.emit(i32.store(EFLAGS, 4, i32.const(0), i32.or(i32.and(e, i32.const(~mask)), value)));
}

// ------------------------------------------------------------------------------ SETcc / CMOVcc
/** SETcc Eb: the low opcode nibble is the condition. */
export function emitSetcc(c: EmitCtx, i: Insn): void {
  const cc = i.opcode & 15;
  if (i.mod === 3) {
    c.emit(c.setReg(i.rm, SZ8, condition(c, cc)));
  } else {
    // The address (and its fault) comes first; the flags are only read.
    const lin = saveLin(c, operandLinear(c, i, 1, true));
    c.emit(writeLinear(c, SZ8, lin, condition(c, cc), true));
  }
}

/** CMOVcc Gv, Ev: the source is read even when the condition is false (a memory source faults). */
export function emitCmovcc(c: EmitCtx, i: Insn): void {
  const { m } = c;
  const sz = i.o32 ? SZ32 : SZ16;
  const src = c.save(readRM(c, i, sz));
  c.emit(m.if(condition(c, i.opcode & 15), c.setReg(i.reg, sz, src)));
}

// ------------------------------------------------------------------------------ DF
function setDF(c: EmitCtx, on: boolean): void {
  const { i32 } = c;
  const cur = i32.load(EFLAGS, 4, i32.const(0));
  c.emit(i32.store(EFLAGS, 4, i32.const(0), on ? i32.or(cur, i32.const(F_DF)) : i32.and(cur, i32.const(~F_DF))));
}

export function emitCld(c: EmitCtx): void { setDF(c, false); }
export function emitStd(c: EmitCtx): void { setDF(c, true); }
