/**
 * x87 control instructions (SDM vol. 2: FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT, FNOP, FLDENV,
 * FNSTENV, FRSTOR, FNSAVE, and the 8087/287 leftovers FNENI, FNDISI, FNSETPM which the 387
 * and later ignore).
 *
 * The environment image (SDM vol. 1, 8.1.10, figures 8-9 to 8-12) has four layouts: 14 or 28
 * bytes by operand size, and a protected-mode layout (FIP/FDP offsets with FCS/FDS selectors)
 * or a real/virtual-8086 layout (20/32-bit linear instruction and operand addresses, FOP in the
 * low 11 bits beside the high address bits). Reserved upper halves of the 32-bit layout are
 * stored as FFFFh, as the measured processor does. The tag word is stored exactly; when loaded,
 * only "empty or not" is taken from it and the other tags are recomputed from the registers.
 */
import { MODE, MODE_PE, MODE_VM86, R_EAX } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import type { Handler } from '../insn/handler.ts';
import { PTR, TAG_EMPTY, clearExceptions, getCw, getSw, initFpu, retag, setCw, setSw, setTag, st } from './fpu.ts';
import { loadF80, storeF80 } from './formats.ts';
import { readBytes, readLin, writeBytes, writeLin } from './operands.ts';

const I_MODE = MODE >> 2;

/** Real-address or virtual-8086 mode: the environment uses linear addresses. */
function realLayout(cpu: Cpu): boolean {
  const m = cpu.s[I_MODE];
  return (m & MODE_PE) === 0 || (m & MODE_VM86) !== 0;
}

function put16(b: number[], off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}

function put32(b: number[], off: number, v: number): void {
  for (let k = 0; k < 4; k++) b[off + k] = (v >>> (8 * k)) & 0xff;
}

function get16(b: readonly number[], off: number): number {
  return b[off] | (b[off + 1] << 8);
}

function get32(b: readonly number[], off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) | 0;
}

/** The 14- or 28-byte environment image of the current state. */
function envImage(cpu: Cpu, o32: boolean): number[] {
  const s = cpu.s;
  const real = realLayout(cpu);
  const fip = real ? (s[PTR.FCS] << 4) + s[PTR.FIP] : s[PTR.FIP];
  const fdp = real ? (s[PTR.FDS] << 4) + s[PTR.FDP] : s[PTR.FDP];
  const fop = s[PTR.FOP] & 0x7ff;
  const b: number[] = [];
  if (o32) {
    put32(b, 0, getCw(cpu) | 0xffff0000);
    put32(b, 4, getSw(cpu) | 0xffff0000);
    put32(b, 8, s[PTR.TAG] | 0xffff0000);
    if (real) {
      put32(b, 12, (fip & 0xffff) | 0xffff0000);
      put32(b, 16, ((fip >>> 16) << 12) | fop);
      put32(b, 20, (fdp & 0xffff) | 0xffff0000);
      put32(b, 24, (fdp >>> 16) << 12);
    } else {
      put32(b, 12, fip);
      put32(b, 16, (s[PTR.FCS] & 0xffff) | (fop << 16));
      put32(b, 20, fdp);
      put32(b, 24, (s[PTR.FDS] & 0xffff) | 0xffff0000);
    }
  } else {
    put16(b, 0, getCw(cpu));
    put16(b, 2, getSw(cpu));
    put16(b, 4, s[PTR.TAG]);
    put16(b, 6, fip);
    put16(b, 8, real ? (((fip >>> 16) & 0xf) << 12) | fop : s[PTR.FCS]);
    put16(b, 10, fdp);
    put16(b, 12, real ? ((fdp >>> 16) & 0xf) << 12 : s[PTR.FDS]);
  }
  return b;
}

/** Loads an environment image; returns the tag word it held (applied by the caller). */
function loadEnv(cpu: Cpu, b: readonly number[], o32: boolean): number {
  const s = cpu.s;
  const real = realLayout(cpu);
  setCw(cpu, get16(b, 0));
  if (o32) {
    setSw(cpu, get16(b, 4));
    if (real) {
      s[PTR.FIP] = (get16(b, 12) | ((get32(b, 16) >>> 12) << 16)) | 0;
      s[PTR.FCS] = 0;
      s[PTR.FOP] = get32(b, 16) & 0x7ff;
      s[PTR.FDP] = (get16(b, 20) | ((get32(b, 24) >>> 12) << 16)) | 0;
      s[PTR.FDS] = 0;
    } else {
      s[PTR.FIP] = get32(b, 12);
      s[PTR.FCS] = get16(b, 16);
      s[PTR.FOP] = (get32(b, 16) >>> 16) & 0x7ff;
      s[PTR.FDP] = get32(b, 20);
      s[PTR.FDS] = get16(b, 24);
    }
    return get16(b, 8);
  }
  setSw(cpu, get16(b, 2));
  if (real) {
    s[PTR.FIP] = get16(b, 6) | ((get16(b, 8) >>> 12) << 16);
    s[PTR.FCS] = 0;
    s[PTR.FOP] = get16(b, 8) & 0x7ff;
    s[PTR.FDP] = get16(b, 10) | ((get16(b, 12) >>> 12) << 16);
    s[PTR.FDS] = 0;
  } else {
    s[PTR.FIP] = get16(b, 6);
    s[PTR.FCS] = get16(b, 8);
    s[PTR.FOP] = 0; // not in this layout (measured: cleared)
    s[PTR.FDP] = get16(b, 10);
    s[PTR.FDS] = get16(b, 12);
  }
  return get16(b, 4);
}

/** Applies a loaded tag word: 11 empties a register; other values are recomputed from it. */
function applyTags(cpu: Cpu, tw: number): void {
  for (let p = 0; p < 8; p++) {
    if (((tw >> (2 * p)) & 3) === TAG_EMPTY) setTag(cpu, p, TAG_EMPTY);
    else retag(cpu, p);
  }
}

function envSize(i: Insn): number {
  return i.o32 ? 28 : 14;
}

const fldenvMenv: Handler = (cpu, i) => {
  const b = readBytes(cpu, readLin(cpu, i, envSize(i)), envSize(i));
  applyTags(cpu, loadEnv(cpu, b, i.o32));
};

/** FNSTENV stores the environment, then masks all exceptions (which clears ES). */
const fnstenvMenv: Handler = (cpu, i) => {
  const lin = writeLin(cpu, i, envSize(i));
  writeBytes(cpu, lin, envImage(cpu, i.o32));
  setCw(cpu, getCw(cpu) | 0x3f);
};

const frstorMstate: Handler = (cpu, i) => {
  const n = envSize(i);
  const b = readBytes(cpu, readLin(cpu, i, n + 80), n + 80);
  const tw = loadEnv(cpu, b, i.o32);
  for (let k = 0; k < 8; k++) {
    const off = n + 10 * k;
    loadF80(cpu, st(cpu, k), get32(b, off), get32(b, off + 4), get16(b, off + 8));
  }
  applyTags(cpu, tw);
};

/** FNSAVE stores the environment and ST(0)..ST(7) (empty ones too), then reinitializes. */
const fnsaveMstate: Handler = (cpu, i) => {
  const n = envSize(i);
  const lin = writeLin(cpu, i, n + 80);
  const b = envImage(cpu, i.o32);
  for (let k = 0; k < 8; k++) {
    const v = storeF80(cpu, st(cpu, k));
    put32(b, n + 10 * k, v.mlo);
    put32(b, n + 10 * k + 4, v.mhi);
    put16(b, n + 10 * k + 8, v.se);
  }
  writeBytes(cpu, lin, b);
  initFpu(cpu);
};

const fldcwMw: Handler = (cpu, i) => setCw(cpu, cpu.read16(readLin(cpu, i, 2)));

const fnstcwMw: Handler = (cpu, i) => cpu.write16(writeLin(cpu, i, 2), getCw(cpu));

const fnstswMw: Handler = (cpu, i) => cpu.write16(writeLin(cpu, i, 2), getSw(cpu));

const fnstswAX: Handler = (cpu) => cpu.setReg16(R_EAX, getSw(cpu));

const nothing: Handler = () => {};

/** Handlers of the control rows (the #NM/#MF gating is added in handlers.ts). */
export const CONTROL_HANDLERS: Readonly<Record<string, Handler>> = {
  fldenvMenv, fnstenvMenv, frstorMstate, fnsaveMstate, fldcwMw, fnstcwMw, fnstswMw, fnstswAX,
  fnclex: (cpu) => clearExceptions(cpu),
  fninit: (cpu) => initFpu(cpu),
  fnop: nothing,
  fneni: nothing,
  fndisi: nothing,
  fnsetpm: nothing,
  wait: nothing,
};
