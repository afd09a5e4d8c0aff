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
import {
  SLOT_TMP, SW_C0, SW_C1, SW_C2, SW_C3, SW_DE, SW_IE, SW_SF, TAG_EMPTY, getTag, pop, raise, setC1, setCC, setSlot,
  slotHi, slotIsNaN, slotIsSNaN, slotVal, st,
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
  if (slotIsNaN(cpu, a) || slotIsNaN(cpu, b)) {
    const signal = !quiet || slotIsSNaN(cpu, a) || slotIsSNaN(cpu, b);
    return UNORDERED | (signal && raise(cpu, SW_IE) ? 16 : 0);
  }
  const x = slotVal(cpu, a);
  const y = slotVal(cpu, b);
  const rel = x > y ? GREATER : x < y ? LESS : EQUAL;
  return rel | (denormal && raise(cpu, SW_DE) ? 16 : 0);
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

/** FXAM: C3 C2 C0 classify ST(0) (empty, NaN, normal, infinity, zero); C1 is its sign. */
const fxam: Handler = (cpu) => {
  const p = st(cpu, 0);
  const sign = slotHi(cpu, p) < 0 ? SW_C1 : 0;
  let cc: number;
  if (getTag(cpu, p) === TAG_EMPTY) cc = SW_C3 | SW_C0;
  else if (slotIsNaN(cpu, p)) cc = SW_C0;
  else {
    const x = slotVal(cpu, p);
    // Every nonzero finite binary64 is a normal number in the 80-bit format.
    cc = x === 0 ? SW_C3 : Number.isFinite(x) ? SW_C2 : SW_C2 | SW_C0;
  }
  setCC(cpu, SW_C0 | SW_C1 | SW_C2 | SW_C3, cc | sign);
};

/** FTST: compare ST(0) with +0.0. */
const ftst: Handler = (cpu) => {
  setSlot(cpu, SLOT_TMP, 0);
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
