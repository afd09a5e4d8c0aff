/**
 * Table rows: the x87 FPU of a Pentium Pro / Pentium II (SDM vol. 2, "FADD".."FYL2XP1" and
 * appendix A.4, the escape opcode maps D8..DF), plus WAIT (9B).
 *
 * Memory forms are selected by ModRM.reg; register forms by reg and, for the one-of-a-kind
 * encodings (D9 E0 FCHS, DE D9 FCOMPP, ...), by rm as well. Every row is `innocuous`: no x87
 * instruction is sensitive in the Popek–Goldberg sense (CR0.EM/TS make them trap with #NM, which
 * the handlers check).
 *
 * Included beyond the SDM's opcode map, because real P6 processors execute them:
 * - DF C0+i FFREEP (free ST(i), then pop).
 * - The reserved aliases D9 D8+i (FSTP), DC D0+i (FCOM), DC D8+i (FCOMP), DD C8+i (FXCH),
 *   DE D0+i (FCOMP), DF C8+i (FXCH), DF D0+i and DF D8+i (FSTP), named with the digit
 *   conventionally used for them (fstp1, fcom2, fcomp3, fxch4, fcomp5, fxch7, fstp8, fstp9).
 * - DB E0 FNENI, DB E1 FNDISI, DB E4 FNSETPM: 8087/287 controls that the 387 and later execute as
 *   no-operations (they do not wait and do not update the instruction pointer).
 * Left undefined (#UD), as on a P6: FISTTP (DB /1, DD /1, DF /1; SSE3), D9 /1, DB /4, DB /6,
 * DD /5, D9 D1..D7, D9 E2 E3 E6 E7 EF, DA except C0..DF and E9, DB E5..E7 and F8..FF,
 * DD F0..FF, DE except D9 among D8..DF, DF E1..E7 and F8..FF.
 *
 * WAIT is not marked `fpu`: it has no ModRM byte, and its #NM rule differs (CR0.TS and CR0.MP
 * both set); its handler checks that itself.
 */
import type { Operand, RowSpec } from './types.ts';

/** Arithmetic operations in ModRM.reg order of D8/DC/DA/DE memory forms. */
export const X87_ARITH_OPS = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'] as const;
/** Integer arithmetic mnemonics in the same order (DA and DE memory forms). */
const INT_OPS = ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr'] as const;

/**
 * The condition codes the SDM leaves undefined after each mnemonic ("FPU Flags Affected" in vol.
 * 2); comparisons, FXAM, FPREM/FPREM1, FTST, FNINIT, FNSAVE, FLDENV and FRSTOR define them all.
 */
const CC_UNDEFINED: Readonly<Record<string, string>> = {
  ...Object.fromEntries([
    'fadd', 'faddp', 'fiadd', 'fsub', 'fsubp', 'fisub', 'fsubr', 'fsubrp', 'fisubr', 'fmul', 'fmulp', 'fimul', 'fdiv',
    'fdivp', 'fidiv', 'fdivr', 'fdivrp', 'fidivr', 'fld', 'fild', 'fbld', 'fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2',
    'fldln2', 'fldz', 'fst', 'fstp', 'fist', 'fistp', 'fbstp', 'fxch', 'fchs', 'fabs', 'fsqrt', 'frndint', 'fscale',
    'f2xm1', 'fyl2x', 'fyl2xp1', 'fpatan', 'fxtract', 'fdecstp', 'fincstp', 'fcmovb', 'fcmove', 'fcmovbe', 'fcmovu',
    'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu',
  ].map((m) => [m, '023'])),
  ...Object.fromEntries(['fsin', 'fcos', 'fptan', 'fsincos'].map((m) => [m, '03'])),
  ...Object.fromEntries([
    'ffree', 'ffreep', 'fnop', 'fldcw', 'fnstcw', 'fnstsw', 'fnstenv', 'fnclex', 'fneni', 'fndisi', 'fnsetpm',
  ].map((m) => [m, '0123'])),
};

function x(name: string, mnem: string, op: number, reg: number, ops: readonly Operand[], more: Partial<RowSpec> = {}): RowSpec {
  return { name, mnem, map: 'one', op, reg, ops, cls: 'innocuous', fpu: true, ccu: CC_UNDEFINED[mnem], ...more };
}
/** A memory form. */
function m(name: string, mnem: string, op: number, reg: number, ops: readonly Operand[], more: Partial<RowSpec> = {}): RowSpec {
  return x(name, mnem, op, reg, ops, { mod: 'mem', ...more });
}
/** A register form taking ST(i) from ModRM.rm (eight encodings). */
function r(name: string, mnem: string, op: number, reg: number, ops: readonly Operand[], more: Partial<RowSpec> = {}): RowSpec {
  return x(name, mnem, op, reg, ops, { mod: 'reg', ...more });
}
/** A register form with one fixed ModRM byte (e.g. D9 E0). */
function f(name: string, mnem: string, op: number, modrm: number, ops: readonly Operand[] = [], more: Partial<RowSpec> = {}): RowSpec {
  return x(name, mnem, op, (modrm >> 3) & 7, ops, { rm: modrm & 7, ...more });
}

function arithRows(): RowSpec[] {
  const rows: RowSpec[] = [];
  X87_ARITH_OPS.forEach((mn, reg) => {
    rows.push(m(`${mn}Mf32`, mn, 0xd8, reg, ['Mf32']));
    rows.push(m(`${mn}Mf64`, mn, 0xdc, reg, ['Mf64']));
    rows.push(m(`${INT_OPS[reg]}Mi32`, INT_OPS[reg], 0xda, reg, ['Mi32']));
    rows.push(m(`${INT_OPS[reg]}Mi16`, INT_OPS[reg], 0xde, reg, ['Mi16']));
    if (mn === 'fcom' || mn === 'fcomp') {
      rows.push(r(`${mn}STi`, mn, 0xd8, reg, ['STi']));
    } else {
      rows.push(r(`${mn}ST0STi`, mn, 0xd8, reg, ['ST0', 'STi']));
    }
  });
  // DC and DE register forms: destination ST(i). Note the SDM's swap: DC E0+i is FSUBR
  // ST(i),ST(0) and DC E8+i is FSUB ST(i),ST(0) (likewise FDIVR/FDIV at F0/F8).
  const dcOps = ['fadd', 'fmul', '', '', 'fsubr', 'fsub', 'fdivr', 'fdiv'];
  dcOps.forEach((mn, reg) => {
    if (!mn) return;
    rows.push(r(`${mn}STiST0`, mn, 0xdc, reg, ['STi', 'ST0']));
    rows.push(r(`${mn}pSTiST0`, `${mn}p`, 0xde, reg, ['STi', 'ST0']));
  });
  return rows;
}

function loadStoreRows(): RowSpec[] {
  return [
    m('fldMf32', 'fld', 0xd9, 0, ['Mf32']),
    m('fstMf32', 'fst', 0xd9, 2, ['Mf32']),
    m('fstpMf32', 'fstp', 0xd9, 3, ['Mf32']),
    m('fldMf64', 'fld', 0xdd, 0, ['Mf64']),
    m('fstMf64', 'fst', 0xdd, 2, ['Mf64']),
    m('fstpMf64', 'fstp', 0xdd, 3, ['Mf64']),
    m('fldMf80', 'fld', 0xdb, 5, ['Mf80']),
    m('fstpMf80', 'fstp', 0xdb, 7, ['Mf80']),
    m('fildMi32', 'fild', 0xdb, 0, ['Mi32']),
    m('fistMi32', 'fist', 0xdb, 2, ['Mi32']),
    m('fistpMi32', 'fistp', 0xdb, 3, ['Mi32']),
    m('fildMi16', 'fild', 0xdf, 0, ['Mi16']),
    m('fistMi16', 'fist', 0xdf, 2, ['Mi16']),
    m('fistpMi16', 'fistp', 0xdf, 3, ['Mi16']),
    m('fildMi64', 'fild', 0xdf, 5, ['Mi64']),
    m('fistpMi64', 'fistp', 0xdf, 7, ['Mi64']),
    m('fbldMbcd', 'fbld', 0xdf, 4, ['Mbcd']),
    m('fbstpMbcd', 'fbstp', 0xdf, 6, ['Mbcd']),
    r('fldSTi', 'fld', 0xd9, 0, ['STi']),
    r('fxchSTi', 'fxch', 0xd9, 1, ['STi']),
    r('fstSTi', 'fst', 0xdd, 2, ['STi']),
    r('fstpSTi', 'fstp', 0xdd, 3, ['STi']),
    r('ffreeSTi', 'ffree', 0xdd, 0, ['STi']),
    r('ffreepSTi', 'ffreep', 0xdf, 0, ['STi'], { sdmUndefined: 'encoding', note: 'undocumented: FFREE ST(i), then pop' }),
    r('fstp1STi', 'fstp', 0xd9, 3, ['STi'], { note: 'reserved alias of FSTP ST(i)' }),
    r('fxch4STi', 'fxch', 0xdd, 1, ['STi'], { note: 'reserved alias of FXCH ST(i)' }),
    r('fxch7STi', 'fxch', 0xdf, 1, ['STi'], { note: 'reserved alias of FXCH ST(i)' }),
    r('fstp8STi', 'fstp', 0xdf, 2, ['STi'], { note: 'reserved alias of FSTP ST(i)' }),
    r('fstp9STi', 'fstp', 0xdf, 3, ['STi'], { note: 'reserved alias of FSTP ST(i)' }),
    r('fcmovbST0STi', 'fcmovb', 0xda, 0, ['ST0', 'STi'], { fr: 'C' }),
    r('fcmoveST0STi', 'fcmove', 0xda, 1, ['ST0', 'STi'], { fr: 'Z' }),
    r('fcmovbeST0STi', 'fcmovbe', 0xda, 2, ['ST0', 'STi'], { fr: 'ZC' }),
    r('fcmovuST0STi', 'fcmovu', 0xda, 3, ['ST0', 'STi'], { fr: 'P' }),
    r('fcmovnbST0STi', 'fcmovnb', 0xdb, 0, ['ST0', 'STi'], { fr: 'C' }),
    r('fcmovneST0STi', 'fcmovne', 0xdb, 1, ['ST0', 'STi'], { fr: 'Z' }),
    r('fcmovnbeST0STi', 'fcmovnbe', 0xdb, 2, ['ST0', 'STi'], { fr: 'ZC' }),
    r('fcmovnuST0STi', 'fcmovnu', 0xdb, 3, ['ST0', 'STi'], { fr: 'P' }),
    f('fld1', 'fld1', 0xd9, 0xe8),
    f('fldl2t', 'fldl2t', 0xd9, 0xe9),
    f('fldl2e', 'fldl2e', 0xd9, 0xea),
    f('fldpi', 'fldpi', 0xd9, 0xeb),
    f('fldlg2', 'fldlg2', 0xd9, 0xec),
    f('fldln2', 'fldln2', 0xd9, 0xed),
    f('fldz', 'fldz', 0xd9, 0xee),
    f('fdecstp', 'fdecstp', 0xd9, 0xf6),
    f('fincstp', 'fincstp', 0xd9, 0xf7),
  ];
}

function compareRows(): RowSpec[] {
  return [
    r('fcom2STi', 'fcom', 0xdc, 2, ['STi'], { note: 'reserved alias of FCOM ST(i)' }),
    r('fcomp3STi', 'fcomp', 0xdc, 3, ['STi'], { note: 'reserved alias of FCOMP ST(i)' }),
    r('fcomp5STi', 'fcomp', 0xde, 2, ['STi'], { note: 'reserved alias of FCOMP ST(i)' }),
    f('fcompp', 'fcompp', 0xde, 0xd9),
    r('fucomSTi', 'fucom', 0xdd, 4, ['STi']),
    r('fucompSTi', 'fucomp', 0xdd, 5, ['STi']),
    f('fucompp', 'fucompp', 0xda, 0xe9),
    r('fucomiST0STi', 'fucomi', 0xdb, 5, ['ST0', 'STi'], { fw: 'OSZAPC' }),
    r('fcomiST0STi', 'fcomi', 0xdb, 6, ['ST0', 'STi'], { fw: 'OSZAPC' }),
    r('fucomipST0STi', 'fucomip', 0xdf, 5, ['ST0', 'STi'], { fw: 'OSZAPC' }),
    r('fcomipST0STi', 'fcomip', 0xdf, 6, ['ST0', 'STi'], { fw: 'OSZAPC' }),
    f('ftst', 'ftst', 0xd9, 0xe4),
    f('fxam', 'fxam', 0xd9, 0xe5),
  ];
}

function unaryRows(): RowSpec[] {
  return [
    f('fchs', 'fchs', 0xd9, 0xe0),
    f('fabs', 'fabs', 0xd9, 0xe1),
    f('f2xm1', 'f2xm1', 0xd9, 0xf0),
    f('fyl2x', 'fyl2x', 0xd9, 0xf1),
    f('fptan', 'fptan', 0xd9, 0xf2),
    f('fpatan', 'fpatan', 0xd9, 0xf3),
    f('fxtract', 'fxtract', 0xd9, 0xf4),
    f('fprem1', 'fprem1', 0xd9, 0xf5),
    f('fprem', 'fprem', 0xd9, 0xf8),
    f('fyl2xp1', 'fyl2xp1', 0xd9, 0xf9),
    f('fsqrt', 'fsqrt', 0xd9, 0xfa),
    f('fsincos', 'fsincos', 0xd9, 0xfb),
    f('frndint', 'frndint', 0xd9, 0xfc),
    f('fscale', 'fscale', 0xd9, 0xfd),
    f('fsin', 'fsin', 0xd9, 0xfe),
    f('fcos', 'fcos', 0xd9, 0xff),
  ];
}

function controlRows(): RowSpec[] {
  return [
    m('fldenvMenv', 'fldenv', 0xd9, 4, ['Menv'], { osz: true }),
    m('fldcwMw', 'fldcw', 0xd9, 5, ['Mw']),
    m('fnstenvMenv', 'fnstenv', 0xd9, 6, ['Menv'], { osz: true }),
    m('fnstcwMw', 'fnstcw', 0xd9, 7, ['Mw']),
    m('frstorMstate', 'frstor', 0xdd, 4, ['Mstate'], { osz: true }),
    m('fnsaveMstate', 'fnsave', 0xdd, 6, ['Mstate'], { osz: true }),
    m('fnstswMw', 'fnstsw', 0xdd, 7, ['Mw']),
    f('fnstswAX', 'fnstsw', 0xdf, 0xe0, ['AX']),
    f('fnop', 'fnop', 0xd9, 0xd0),
    f('fneni', 'fneni', 0xdb, 0xe0, [], { note: '8087 only; a no-op on the 387 and later' }),
    f('fndisi', 'fndisi', 0xdb, 0xe1, [], { note: '8087 only; a no-op on the 387 and later' }),
    f('fnclex', 'fnclex', 0xdb, 0xe2),
    f('fninit', 'fninit', 0xdb, 0xe3),
    f('fnsetpm', 'fnsetpm', 0xdb, 0xe4, [], { note: '287 only; a no-op on the 387 and later' }),
    { name: 'wait', mnem: 'wait', map: 'one', op: 0x9b, ops: [], cls: 'innocuous', note: 'x87 pending-exception check; #NM if CR0.TS and CR0.MP' },
  ];
}

export const X87_ROWS: readonly RowSpec[] = [
  ...arithRows(), ...loadStoreRows(), ...compareRows(), ...unaryRows(), ...controlRows(),
];
