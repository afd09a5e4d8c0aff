/**
 * x87 data transfer (SDM vol. 2: FLD, FST/FSTP, FILD, FIST/FISTP, FBLD, FBSTP, FXCH, FCMOVcc,
 * the constant loads FLD1 FLDZ FLDPI FLDL2T FLDL2E FLDLG2 FLDLN2, FFREE, FFREEP, FINCSTP,
 * FDECSTP).
 *
 * Ordering: a load reads memory before touching the stack; a store addresses its operand first
 * (segment and page checks, which may fault), then computes its bits and flags, writes, and only
 * then commits flags and pops, so a fault leaves the FPU as it was. An unmasked IE (or OE/UE for
 * memory destinations) suppresses the store and the pop, as on hardware (then only that flag is
 * recorded, without PE).
 *
 * Constants are the processor's 66-bit-accurate values rounded to 64 bits by RC (SDM vol. 1,
 * 8.3.5): the truncated significands below are the x87's own (measured with RC = chop); up is
 * one unit more; nearest follows the exact value's next bits.
 */
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { getCF, getPF, getZF } from '../lazy-flags.ts';
import {
  RC_NEAREST, RC_UP, SLOT_TMP, SW_C1, SW_DE, SW_IE, SW_OE, SW_UE, TAG_EMPTY, copySlot, isEmpty, pop, pushTarget,
  quietSlot, raise, rc, setC1, setCC, setIndefinite, setReg, setTag, setTop, slotIsSNaN, st, stackFault, unmasked,
} from './fpu.ts';
import type { StoreResult } from './formats.ts';
import { loadBcd, loadF32, loadF64, loadF80, loadI64, loadInt, storeBcd, storeF32, storeF64, storeF80, storeInt } from './formats.ts';
import { readBytes, readLin, writeBytes, writeLin } from './operands.ts';

// ------------------------------------------------------------------------------- loads
/**
 * Pushes SLOT_TMP (already loaded from memory). `checkSNaN`/`denormal`: the source format is
 * narrower than extended, so an SNaN raises IE (and is quieted) and a denormal raises DE. An
 * unmasked IE suppresses the push; an unmasked DE does not (the value is normal in extended
 * format; measured: the load completes and the #MF comes at the next waiting instruction).
 */
function pushTmp(cpu: Cpu, checkSNaN: boolean, denormal: boolean): void {
  const p = pushTarget(cpu);
  if (p < 0) return;
  if (checkSNaN && slotIsSNaN(cpu, SLOT_TMP)) {
    if (raise(cpu, SW_IE)) return;
    quietSlot(cpu, SLOT_TMP);
  }
  if (denormal) raise(cpu, SW_DE);
  copySlot(cpu, p, SLOT_TMP);
  setTop(cpu, p);
  setC1(cpu, false);
}

const fldMf32: Handler = (cpu, i) => {
  const d = loadF32(cpu, SLOT_TMP, cpu.read32(readLin(cpu, i, 4)));
  pushTmp(cpu, true, d);
};

const fldMf64: Handler = (cpu, i) => {
  const lin = readLin(cpu, i, 8);
  const lo = cpu.read32(lin);
  const d = loadF64(cpu, SLOT_TMP, lo, cpu.read32((lin + 4) | 0));
  pushTmp(cpu, true, d);
};

const fldMf80: Handler = (cpu, i) => {
  const lin = readLin(cpu, i, 10);
  const mlo = cpu.read32(lin);
  const mhi = cpu.read32((lin + 4) | 0);
  loadF80(cpu, SLOT_TMP, mlo, mhi, cpu.read16((lin + 8) | 0));
  pushTmp(cpu, false, false);
};

const fildMi16: Handler = (cpu, i) => {
  loadInt(cpu, SLOT_TMP, (cpu.read16(readLin(cpu, i, 2)) << 16) >> 16);
  pushTmp(cpu, false, false);
};

const fildMi32: Handler = (cpu, i) => {
  loadInt(cpu, SLOT_TMP, cpu.read32(readLin(cpu, i, 4)));
  pushTmp(cpu, false, false);
};

const fildMi64: Handler = (cpu, i) => {
  const lin = readLin(cpu, i, 8);
  const lo = cpu.read32(lin);
  loadI64(cpu, SLOT_TMP, lo, cpu.read32((lin + 4) | 0));
  pushTmp(cpu, false, false);
};

const fbldMbcd: Handler = (cpu, i) => {
  loadBcd(cpu, SLOT_TMP, readBytes(cpu, readLin(cpu, i, 10), 10));
  pushTmp(cpu, false, false);
};

/**
 * FLD ST(i): an empty source is a stack underflow; masked, the QNaN indefinite is pushed without
 * an overflow check (measured: C1 = 0 and the target is overwritten even if it was in use).
 */
const fldSTi: Handler = (cpu, i) => {
  const src = st(cpu, i.rm);
  if (isEmpty(cpu, src)) {
    if (!stackFault(cpu, false)) return;
    const p = st(cpu, 7);
    setIndefinite(cpu, p);
    setTop(cpu, p);
    return;
  }
  copySlot(cpu, SLOT_TMP, src);
  pushTmp(cpu, false, false);
};

/**
 * A constant: sign+exponent, its 64-bit significand truncated, and whether round-to-nearest
 * rounds it up (the next bits of the exact value, 66 of which the processor keeps).
 */
interface Constant { readonly se: number; readonly hi: number; readonly lo: number; readonly nearestUp: boolean }

const PI: Constant = { se: 0x4000, hi: 0xc90fdaa2 | 0, lo: 0x2168c234, nearestUp: true }; // next bits c4c6…
const L2E: Constant = { se: 0x3fff, hi: 0xb8aa3b29 | 0, lo: 0x5c17f0bb, nearestUp: true }; // be87…
const L2T: Constant = { se: 0x4000, hi: 0xd49a784b | 0, lo: 0xcd1b8afe | 0, nearestUp: false }; // 492b…
const LG2: Constant = { se: 0x3ffd, hi: 0x9a209a84 | 0, lo: 0xfbcff798 | 0, nearestUp: true }; // 8f89…
const LN2: Constant = { se: 0x3ffe, hi: 0xb17217f7 | 0, lo: 0xd1cf79ab | 0, nearestUp: true }; // c9e3…

/** Pushes a constant rounded by RC (all are positive; no PE, C1 = 0 as the SDM says). */
function loadConstant(cpu: Cpu, c: Constant): void {
  const mode = rc(cpu);
  const up = mode === RC_NEAREST ? c.nearestUp : mode === RC_UP;
  // No constant's low word is all ones, so rounding up never carries out of it.
  setReg(cpu, SLOT_TMP, c.se, c.hi, up ? c.lo + 1 : c.lo);
  pushTmp(cpu, false, false);
}

function loadExact(cpu: Cpu, se: number, hi: number): void {
  setReg(cpu, SLOT_TMP, se, hi, 0);
  pushTmp(cpu, false, false);
}

// ------------------------------------------------------------------------------- stores
/**
 * Finishes a store to memory whose operand is already addressed: an unmasked IE/OE/UE
 * suppresses it (recording just that flag); otherwise `write` runs, then the flags and C1 are
 * committed and ST(0) popped if asked.
 *
 * Every store addresses its operand (writeLin: segment checks, all pages probed) before
 * anything x87, so #GP, #SS and #PF come before a stack underflow or an unmasked IE/OE/UE that
 * suppresses the store, as measured on AMD (QEMU faults on the page too; the SDM lists these
 * faults unconditionally). README.md: the Intel processor measured earlier does not.
 */
function commitStore(cpu: Cpu, flags: number, popAfter: boolean, write: () => void): void {
  if (flags & SW_IE && unmasked(cpu, SW_IE)) {
    raise(cpu, SW_IE);
    return;
  }
  const range = flags & (SW_OE | SW_UE);
  if (range && unmasked(cpu, range)) {
    raise(cpu, range);
    return;
  }
  write();
  raise(cpu, flags & 0x3f);
  setCC(cpu, SW_C1, flags & SW_C1);
  if (popAfter) pop(cpu);
}

/** A store's source: ST(0), or the QNaN indefinite after a masked stack underflow (or -1). */
function storeSource(cpu: Cpu): number {
  const p = st(cpu, 0);
  if (!isEmpty(cpu, p)) return p;
  if (!stackFault(cpu, false)) return -1;
  setIndefinite(cpu, SLOT_TMP);
  return SLOT_TMP;
}

function storeWords(cpu: Cpu, lin: number, n: 2 | 4 | 8, r: StoreResult, popAfter: boolean): void {
  commitStore(cpu, r.flags, popAfter, () => {
    if (n === 2) cpu.write16(lin, r.lo & 0xffff);
    else cpu.write32(lin, r.lo);
    if (n === 8) cpu.write32((lin + 4) | 0, r.hi);
  });
}

function fstM32(cpu: Cpu, i: Insn, popAfter: boolean): void {
  const lin = writeLin(cpu, i, 4);
  const src = storeSource(cpu);
  if (src < 0) return;
  storeWords(cpu, lin, 4, storeF32(cpu, src, rc(cpu)), popAfter);
}

function fstM64(cpu: Cpu, i: Insn, popAfter: boolean): void {
  const lin = writeLin(cpu, i, 8);
  const src = storeSource(cpu);
  if (src < 0) return;
  storeWords(cpu, lin, 8, storeF64(cpu, src, rc(cpu)), popAfter);
}

const fstpMf80: Handler = (cpu, i) => {
  const lin = writeLin(cpu, i, 10);
  const src = storeSource(cpu);
  if (src < 0) return;
  const v = storeF80(cpu, src);
  cpu.write32(lin, v.mlo);
  cpu.write32((lin + 4) | 0, v.mhi);
  cpu.write16((lin + 8) | 0, v.se);
  setC1(cpu, false);
  pop(cpu);
};

function fist(cpu: Cpu, i: Insn, bits: 16 | 32 | 64, popAfter: boolean): void {
  const n = bits === 16 ? 2 : bits === 32 ? 4 : 8;
  const lin = writeLin(cpu, i, n);
  const src = storeSource(cpu);
  if (src < 0) return;
  storeWords(cpu, lin, n, storeInt(cpu, src, bits, rc(cpu)), popAfter);
}

const fbstpMbcd: Handler = (cpu, i) => {
  const lin = writeLin(cpu, i, 10);
  const src = storeSource(cpu);
  if (src < 0) return;
  const r = storeBcd(cpu, src, rc(cpu));
  commitStore(cpu, r.flags, true, () => writeBytes(cpu, lin, r.bytes));
};

/** FST/FSTP ST(i): a plain copy (no exception for an SNaN: the format does not change). */
function fstSTi(cpu: Cpu, i: Insn, popAfter: boolean): void {
  const src = st(cpu, 0);
  const dst = st(cpu, i.rm);
  if (isEmpty(cpu, src)) {
    if (!stackFault(cpu, false)) return;
    setIndefinite(cpu, dst);
  } else {
    copySlot(cpu, dst, src);
  }
  setC1(cpu, false);
  if (popAfter) pop(cpu);
}

// ------------------------------------------------------------------------------- registers
/** FXCH: an empty operand is a stack underflow; masked, it takes part as the QNaN indefinite. */
const fxch: Handler = (cpu, i) => {
  const a = st(cpu, 0);
  const b = st(cpu, i.rm);
  if (isEmpty(cpu, a) || isEmpty(cpu, b)) {
    if (!stackFault(cpu, false)) return;
    if (isEmpty(cpu, a)) setIndefinite(cpu, a);
    if (isEmpty(cpu, b)) setIndefinite(cpu, b);
  }
  copySlot(cpu, SLOT_TMP, a);
  copySlot(cpu, a, b);
  copySlot(cpu, b, SLOT_TMP);
  setC1(cpu, false);
};

/** FCMOVcc: an empty operand makes ST(0) the QNaN indefinite (masked) whatever the condition. */
function fcmov(cpu: Cpu, i: Insn, cond: boolean): void {
  const d = st(cpu, 0);
  const s = st(cpu, i.rm);
  if (isEmpty(cpu, d) || isEmpty(cpu, s)) {
    if (stackFault(cpu, false)) setIndefinite(cpu, d);
    return;
  }
  if (cond) copySlot(cpu, d, s);
}

function ffree(cpu: Cpu, i: Insn, popAfter: boolean): void {
  setTag(cpu, st(cpu, i.rm), TAG_EMPTY);
  if (popAfter) pop(cpu);
}

/** Handlers of the data-transfer rows. */
export const LOAD_STORE_HANDLERS: Readonly<Record<string, Handler>> = {
  fldMf32, fldMf64, fldMf80, fildMi16, fildMi32, fildMi64, fbldMbcd, fldSTi,
  fstMf32: (cpu, i) => fstM32(cpu, i, false),
  fstpMf32: (cpu, i) => fstM32(cpu, i, true),
  fstMf64: (cpu, i) => fstM64(cpu, i, false),
  fstpMf64: (cpu, i) => fstM64(cpu, i, true),
  fstpMf80,
  fistMi16: (cpu, i) => fist(cpu, i, 16, false),
  fistpMi16: (cpu, i) => fist(cpu, i, 16, true),
  fistMi32: (cpu, i) => fist(cpu, i, 32, false),
  fistpMi32: (cpu, i) => fist(cpu, i, 32, true),
  fistpMi64: (cpu, i) => fist(cpu, i, 64, true),
  fbstpMbcd,
  fstSTi: (cpu, i) => fstSTi(cpu, i, false),
  fstpSTi: (cpu, i) => fstSTi(cpu, i, true),
  fstp1STi: (cpu, i) => fstSTi(cpu, i, true),
  fstp8STi: (cpu, i) => fstSTi(cpu, i, true),
  fstp9STi: (cpu, i) => fstSTi(cpu, i, true),
  fxchSTi: fxch,
  fxch4STi: fxch,
  fxch7STi: fxch,
  fcmovbST0STi: (cpu, i) => fcmov(cpu, i, getCF(cpu.s) !== 0),
  fcmoveST0STi: (cpu, i) => fcmov(cpu, i, getZF(cpu.s)),
  fcmovbeST0STi: (cpu, i) => fcmov(cpu, i, getCF(cpu.s) !== 0 || getZF(cpu.s)),
  fcmovuST0STi: (cpu, i) => fcmov(cpu, i, getPF(cpu.s)),
  fcmovnbST0STi: (cpu, i) => fcmov(cpu, i, getCF(cpu.s) === 0),
  fcmovneST0STi: (cpu, i) => fcmov(cpu, i, !getZF(cpu.s)),
  fcmovnbeST0STi: (cpu, i) => fcmov(cpu, i, getCF(cpu.s) === 0 && !getZF(cpu.s)),
  fcmovnuST0STi: (cpu, i) => fcmov(cpu, i, !getPF(cpu.s)),
  fld1: (cpu) => loadExact(cpu, 0x3fff, 0x80000000 | 0),
  fldz: (cpu) => loadExact(cpu, 0, 0),
  fldl2t: (cpu) => loadConstant(cpu, L2T),
  fldl2e: (cpu) => loadConstant(cpu, L2E),
  fldpi: (cpu) => loadConstant(cpu, PI),
  fldlg2: (cpu) => loadConstant(cpu, LG2),
  fldln2: (cpu) => loadConstant(cpu, LN2),
  ffreeSTi: (cpu, i) => ffree(cpu, i, false),
  ffreepSTi: (cpu, i) => ffree(cpu, i, true),
  fincstp: (cpu) => { setTop(cpu, st(cpu, 1)); setC1(cpu, false); },
  fdecstp: (cpu) => { setTop(cpu, st(cpu, 7)); setC1(cpu, false); },
};
