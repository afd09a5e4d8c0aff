/**
 * x87 comparisons and classification (SDM vol. 2: FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP,
 * FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FTST, FXAM).
 *
 * Results: C3 C2 C0 = 000 greater, 001 less, 100 equal, 111 unordered (FCOMI: ZF PF CF the
 * same way, OF SF AF cleared). FCOM-style compares raise IE for any NaN, FUCOM-style only for
 * an SNaN. As measured on hardware, the condition codes (or EFLAGS) are written even when the
 * IE is unmasked; only the pop is then skipped.
 */
import { F_ARITH, F_CF, F_PF, F_ZF } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { setArithFlags } from '../lazy-flags.ts';
import { isDenormalClass } from './arith.ts';
import { Unpacked, unpack } from './extended.ts';
import {
  CLS_INF, CLS_NAN, CLS_UNSUPPORTED, CLS_ZERO, SLOT_TMP, SW_C0, SW_C1,
  SW_C2, SW_C3, SW_DE, SW_IE, SW_SF, TAG_EMPTY, getTag, pop, raise, setC1, setCC, setReg, slotClass, slotIsSNaN,
  slotSe, st,
} from './fpu.ts';
import { MEM_F32, MEM_F64, MEM_I16, MEM_I32, loadMemSource } from './operands.ts';

const GREATER = 0;
const LESS = 1;
const EQUAL = 2;
const UNORDERED = 3;

const CC_OF = [0, SW_C0, SW_C3, SW_C3 | SW_C2 | SW_C0];
const FLAGS_OF = [0, F_CF, F_ZF, F_ZF | F_PF | F_CF];

/**
 * Compares slots a and b. Raises IE (and SF for an empty register) as the variant demands.
 * Returns the relation and whether an unmasked exception occurred (bit 4).
 */
function compareSlots(cpu: Cpu, a: number, b: number, quiet: boolean, denormal: boolean): number {
  const empty = (a < 8 && getTag(cpu, a) === TAG_EMPTY) || (b < 8 && getTag(cpu, b) === TAG_EMPTY);
  if (empty) {
    setC1(cpu, false);
    return UNORDERED | (raise(cpu, SW_IE | SW_SF) ? 16 : 0);
  }
  const ca = slotClass(cpu, a);
  const cb = slotClass(cpu, b);
  if (ca === CLS_UNSUPPORTED || cb === CLS_UNSUPPORTED) return UNORDERED | (raise(cpu, SW_IE) ? 16 : 0);
  if (ca === CLS_NAN || cb === CLS_NAN) {
    const signal = !quiet || slotIsSNaN(cpu, a) || slotIsSNaN(cpu, b);
    return UNORDERED | (signal && raise(cpu, SW_IE) ? 16 : 0);
  }
  const rel = relation(cpu, a, b, ca, cb);
  return rel | ((denormal || isDenormalClass(ca) || isDenormalClass(cb)) && raise(cpu, SW_DE) ? 16 : 0);
}

const UA = new Unpacked();
const UB = new Unpacked();

/** GREATER, LESS or EQUAL for two ordered slots (zeros of either sign are equal). */
function relation(cpu: Cpu, a: number, b: number, ca: number, cb: number): number {
  const sa = slotSe(cpu, a) >>> 15;
  const sb = slotSe(cpu, b) >>> 15;
  if (ca === CLS_ZERO && cb === CLS_ZERO) return EQUAL;
  // Magnitude order: ∞ above everything finite; finite values by exponent, then significand.
  let mag: number;
  if (ca === CLS_INF || cb === CLS_INF) mag = ca === cb ? 0 : ca === CLS_INF ? 1 : -1;
  else if (ca === CLS_ZERO || cb === CLS_ZERO) mag = ca === CLS_ZERO ? -1 : 1;
  else {
    const x = unpack(cpu, a, UA);
    const y = unpack(cpu, b, UB);
    mag = x.e !== y.e ? (x.e > y.e ? 1 : -1) : x.h !== y.h ? (x.h > y.h ? 1 : -1) : x.l !== y.l ? (x.l > y.l ? 1 : -1) : 0;
  }
  // Signs: a zero counts as positive against a nonzero value of either sign.
  const na = ca !== CLS_ZERO && sa !== 0;
  const nb = cb !== CLS_ZERO && sb !== 0;
  if (na !== nb) return na ? LESS : GREATER;
  if (mag === 0) return EQUAL;
  return (mag > 0) !== na ? GREATER : LESS;
}

/** FCOM/FUCOM family: condition codes, then `pops` pops unless an exception was unmasked. */
function fcom(cpu: Cpu, a: number, b: number, quiet: boolean, pops: number, denormal = false): void {
  const r = compareSlots(cpu, a, b, quiet, denormal);
  setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, CC_OF[r & 3]);
  if (r & 16) return;
  for (let k = 0; k < pops; k++) pop(cpu);
}

/** FCOMI family: EFLAGS ZF PF CF (OF SF AF cleared), C1 cleared as the SDM specifies. */
function fcomi(cpu: Cpu, i: Insn, quiet: boolean, popAfter: boolean): void {
  const r = compareSlots(cpu, st(cpu, 0), st(cpu, i.rm), quiet, false);
  setArithFlags(cpu.s, F_ARITH, FLAGS_OF[r & 3]);
  setC1(cpu, false);
  if (!(r & 16) && popAfter) pop(cpu);
}

function memCompare(cpu: Cpu, i: Insn, kind: number, pops: number): void {
  const denormal = loadMemSource(cpu, i, kind);
  fcom(cpu, st(cpu, 0), SLOT_TMP, false, pops, denormal);
}

/** FXAM's C3 C2 C0 per class (SDM vol. 2A FXAM): unsupported 000, NaN 001, normal 010, ∞ 011, zero 100, denormal 110. */
const FXAM_CC = [SW_C3, SW_C2, SW_C3 | SW_C2, SW_C3 | SW_C2, SW_C2 | SW_C0, SW_C0, 0];

/** FXAM: C3 C2 C0 classify ST(0) (empty 101, or its class); C1 is its sign. */
const fxam: Handler = (cpu) => {
  const p = st(cpu, 0);
  const sign = slotSe(cpu, p) & 0x8000 ? SW_C1 : 0;
  const cc = getTag(cpu, p) === TAG_EMPTY ? SW_C3 | SW_C0 : FXAM_CC[slotClass(cpu, p)];
  setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, cc | sign);
};

/** FTST: compare ST(0) with +0.0. */
const ftst: Handler = (cpu) => {
  setReg(cpu, SLOT_TMP, 0, 0, 0);
  fcom(cpu, st(cpu, 0), SLOT_TMP, false, 0);
};

/** Handlers of the compare rows. */
export const COMPARE_HANDLERS: Readonly<Record<string, Handler>> = {
  fcomMf32: (cpu, i) => memCompare(cpu, i, MEM_F32, 0),
  fcompMf32: (cpu, i) => memCompare(cpu, i, MEM_F32, 1),
  fcomMf64: (cpu, i) => memCompare(cpu, i, MEM_F64, 0),
  fcompMf64: (cpu, i) => memCompare(cpu, i, MEM_F64, 1),
  ficomMi32: (cpu, i) => memCompare(cpu, i, MEM_I32, 0),
  ficompMi32: (cpu, i) => memCompare(cpu, i, MEM_I32, 1),
  ficomMi16: (cpu, i) => memCompare(cpu, i, MEM_I16, 0),
  ficompMi16: (cpu, i) => memCompare(cpu, i, MEM_I16, 1),
  fcomSTi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), false, 0),
  fcompSTi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), false, 1),
  fcom2STi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), false, 0),
  fcomp3STi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), false, 1),
  fcomp5STi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), false, 1),
  fcompp: (cpu) => fcom(cpu, st(cpu, 0), st(cpu, 1), false, 2),
  fucomSTi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), true, 0),
  fucompSTi: (cpu, i) => fcom(cpu, st(cpu, 0), st(cpu, i.rm), true, 1),
  fucompp: (cpu) => fcom(cpu, st(cpu, 0), st(cpu, 1), true, 2),
  fcomiST0STi: (cpu, i) => fcomi(cpu, i, false, false),
  fcomipST0STi: (cpu, i) => fcomi(cpu, i, false, true),
  fucomiST0STi: (cpu, i) => fcomi(cpu, i, true, false),
  fucomipST0STi: (cpu, i) => fcomi(cpu, i, true, true),
  ftst,
  fxam,
};
