/**
 * Descriptor-table and system-segment instructions (SDM vol. 2, LGDT/LIDT, SGDT/SIDT, LLDT,
 * SLDT, LTR, STR, LMSW, SMSW, LAR, LSL, VERR, VERW; vol. 3, 2.4 and 2.6).
 *
 * The stores (SGDT, SIDT, SLDT, STR, SMSW) and the probes (LAR, LSL, VERR, VERW) run at any CPL
 * on real hardware (no UMIP on an i686): they are the sensitive-but-unprivileged instructions
 * that break Popek–Goldberg for x86, and here they return the guest's virtual values. The loads
 * need CPL 0. SLDT, STR, LLDT, LTR and the probes do not exist in real-address and
 * virtual-8086 mode (#UD); the others work there.
 *
 * Register destinations with 32-bit operand size receive the whole value (selector
 * zero-extended; SMSW the full CR0, as Pentium Pro and later processors do); memory
 * destinations are always 16 bits.
 */
import { CR, EX_GP, EX_NP, EX_UD, F_ZF, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, LDTR_BASE, LDTR_FLAGS, LDTR_LIMIT, LDTR_SEL, SEGF_USABLE, SZ16, SZ32, TR_BASE, TR_FLAGS, TR_LIMIT, TR_SEL } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { setArithFlags } from '../lazy-flags.ts';
import { ea, readE, setReg } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { writeMsw } from './control-regs.ts';
import {
  descBase, descDpl, descFlags, descIsCode, descIsConforming, descIsData, descIsSegment, descIsWritableData,
  descLimit, descPresent, descSysType, fetchGdtDescriptor, isNullSel, selError,
  setTssBusy, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS32_AVAIL,
} from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { isProtected, isProtectedNotV86 } from './eflags.ts';
import { readSys } from './paging.ts';

/** #UD outside protected mode proper (real-address and virtual-8086 mode). */
function requireProtected(cpu: Cpu): void {
  if (!isProtectedNotV86(cpu)) fault(EX_UD);
}

/** #GP(0) unless CPL 0 (virtual-8086 mode runs at CPL 3). Real mode is CPL 0. */
function requireCpl0(cpu: Cpu): void {
  if (isProtected(cpu) && cpu.cpl !== 0) fault(EX_GP, 0);
}

/** Stores a 16-bit value to the Ew operand; a 32-bit register receives it zero-extended. */
function storeEw(cpu: Cpu, i: Insn, v: number): void {
  if (i.mod === 3) setReg(cpu, i.o32 ? SZ32 : SZ16, i.rm, i.o32 ? v : v & 0xffff);
  else cpu.write16(cpu.linWrite(i.seg, ea(cpu, i), 2), v & 0xffff);
}

// ------------------------------------------------------------------------------ GDTR / IDTR
/**
 * SGDT/SIDT m: 16-bit limit then 32-bit base; with 16-bit operand size the base's top byte is
 * stored as 0 (386 and later).
 */
function storeTableRegister(baseOff: number, limitOff: number): Handler {
  return (cpu, i) => {
    const off = ea(cpu, i);
    const lin = cpu.linWrite(i.seg, off, 2);
    const lin2 = cpu.linWrite(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff, 4);
    cpu.checkWrite(lin, 2);
    cpu.checkWrite(lin2, 4);
    const base = cpu.s[baseOff >> 2];
    cpu.write16(lin, cpu.s[limitOff >> 2] & 0xffff);
    cpu.write32(lin2, i.o32 ? base : base & 0xffffff);
  };
}

/** LGDT/LIDT m: with 16-bit operand size only 24 bits of base are loaded. */
function loadTableRegister(baseOff: number, limitOff: number): Handler {
  return (cpu, i) => {
    requireCpl0(cpu);
    const off = ea(cpu, i);
    const limit = cpu.read16(cpu.linRead(i.seg, off, 2));
    const base = cpu.read32(cpu.linRead(i.seg, i.a32 ? (off + 2) | 0 : (off + 2) & 0xffff, 4));
    cpu.s[limitOff >> 2] = limit;
    cpu.s[baseOff >> 2] = i.o32 ? base : base & 0xffffff;
  };
}

// ------------------------------------------------------------------------------ LDTR / TR
const sldtEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  storeEw(cpu, i, cpu.s[LDTR_SEL >> 2]);
};

const strEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  storeEw(cpu, i, cpu.s[TR_SEL >> 2]);
};

/** LLDT r/m16: a null selector leaves LDTR unusable; otherwise a present LDT descriptor in the GDT. */
const lldtEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = readE(cpu, i, SZ16);
  const s = cpu.s;
  if (isNullSel(sel)) {
    s[LDTR_SEL >> 2] = sel;
    s[LDTR_FLAGS >> 2] = 0;
    return;
  }
  const d = fetchGdtDescriptor(cpu, sel, EX_GP);
  if (descSysType(d) !== SYS_LDT) fault(EX_GP, selError(sel));
  if (!descPresent(d)) fault(EX_NP, selError(sel));
  s[LDTR_SEL >> 2] = sel;
  s[LDTR_BASE >> 2] = descBase(d);
  s[LDTR_LIMIT >> 2] = descLimit(d);
  s[LDTR_FLAGS >> 2] = descFlags(d);
};

/** LTR r/m16: an available, present TSS in the GDT, which LTR marks busy. */
const ltrEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = readE(cpu, i, SZ16);
  if (isNullSel(sel)) fault(EX_GP, 0);
  const d = fetchGdtDescriptor(cpu, sel, EX_GP);
  const t = descSysType(d);
  if (t !== SYS_TSS16_AVAIL && t !== SYS_TSS32_AVAIL) fault(EX_GP, selError(sel));
  if (!descPresent(d)) fault(EX_NP, selError(sel));
  setTssBusy(cpu, d, true);
  const s = cpu.s;
  s[TR_SEL >> 2] = sel;
  s[TR_BASE >> 2] = descBase(d);
  s[TR_LIMIT >> 2] = descLimit(d);
  s[TR_FLAGS >> 2] = descFlags(d);
};

// ------------------------------------------------------------------------------ MSW
/** SMSW: memory gets CR0[15:0]; a 32-bit register all of CR0. Allowed at any CPL. */
const smswEw: Handler = (cpu, i) => {
  const cr0 = cpu.s[CR >> 2];
  if (i.mod === 3) setReg(cpu, i.o32 ? SZ32 : SZ16, i.rm, i.o32 ? cr0 : cr0 & 0xffff);
  else cpu.write16(cpu.linWrite(i.seg, ea(cpu, i), 2), cr0 & 0xffff);
};

/** LMSW: CR0 bits 0..3; PE can be set but not cleared (control-regs.ts writeMsw). */
const lmswEw: Handler = (cpu, i) => {
  requireCpl0(cpu);
  writeMsw(cpu, readE(cpu, i, SZ16));
};

// ------------------------------------------------------------------------------ probes
/**
 * The descriptor `sel` names, or null if the selector is null or beyond its table's limit: the
 * probes report these with ZF = 0 instead of faulting.
 */
function probe(cpu: Cpu, sel: number): Descriptor | null {
  if (isNullSel(sel)) return null;
  const s = cpu.s;
  const ldt = (sel & 4) !== 0;
  if (ldt && !(s[LDTR_FLAGS >> 2] & SEGF_USABLE)) return null;
  const limit = (ldt ? s[LDTR_LIMIT >> 2] : s[GDTR_LIMIT >> 2]) >>> 0;
  if ((sel & 0xfff8) + 7 > limit) return null;
  const base = ldt ? s[LDTR_BASE >> 2] : s[GDTR_BASE >> 2];
  const addr = (base + (sel & 0xfff8)) | 0;
  return { lo: readSys(cpu, addr, 4), hi: readSys(cpu, (addr + 4) | 0, 4), addr };
}

/** The privilege rule of the probes: unless conforming code, DPL >= CPL and DPL >= RPL. */
function visible(cpu: Cpu, d: Descriptor, sel: number): boolean {
  if (descIsConforming(d)) return true;
  const dpl = descDpl(d);
  return dpl >= cpu.cpl && dpl >= (sel & 3);
}

/** System types LAR accepts: TSSs, LDT, call and task gates (not interrupt/trap gates). */
const LAR_SYS_TYPES = (1 << 0x1) | (1 << 0x2) | (1 << 0x3) | (1 << 0x4) | (1 << 0x5) | (1 << 0x9) | (1 << 0xb) | (1 << 0xc);
/** System types LSL accepts: those with a limit (TSSs and LDT). */
const LSL_SYS_TYPES = (1 << 0x1) | (1 << 0x2) | (1 << 0x3) | (1 << 0x9) | (1 << 0xb);

function setZf(cpu: Cpu, z: boolean): void {
  setArithFlags(cpu.s, F_ZF, z ? F_ZF : 0);
}

function probeTyped(cpu: Cpu, sel: number, sysTypes: number): Descriptor | null {
  const d = probe(cpu, sel);
  if (!d) return null;
  if (!descIsSegment(d) && !((sysTypes >>> descSysType(d)) & 1)) return null;
  return visible(cpu, d, sel) ? d : null;
}

/** LAR r, r/m16: access rights (high dword & 00F0FF00h, or & FF00h for 16 bits); ZF = valid. */
const larGvEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  const d = probeTyped(cpu, readE(cpu, i, SZ16), LAR_SYS_TYPES);
  if (d) setReg(cpu, i.o32 ? SZ32 : SZ16, i.reg, i.o32 ? d.hi & 0x00f0ff00 : d.hi & 0xff00);
  setZf(cpu, d !== null);
};

/** LSL r, r/m16: the byte-granular segment limit; ZF = valid. */
const lslGvEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  const d = probeTyped(cpu, readE(cpu, i, SZ16), LSL_SYS_TYPES);
  if (d) {
    const limit = descLimit(d);
    setReg(cpu, i.o32 ? SZ32 : SZ16, i.reg, i.o32 ? limit | 0 : limit & 0xffff);
  }
  setZf(cpu, d !== null);
};

/**
 * VERR's and VERW's answer for `sel` (protected mode): readable (data, or readable code), or
 * writable data, from CPL and RPL. The translator's `verify` helper uses it too.
 */
export function verifySegment(cpu: Cpu, sel: number, write: boolean): boolean {
  const d = probe(cpu, sel);
  if (d === null || !visible(cpu, d, sel)) return false;
  if (write) return descIsWritableData(d);
  return descIsSegment(d) && (descIsData(d) || (descIsCode(d) && (d.hi & 0x200) !== 0));
}

/** VERR r/m16: ZF = 1 if the segment is readable (data, or readable code) from CPL and RPL. */
const verrEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  setZf(cpu, verifySegment(cpu, readE(cpu, i, SZ16), false));
};

/** VERW r/m16: ZF = 1 if the segment is writable data visible from CPL and RPL. */
const verwEw: Handler = (cpu, i) => {
  requireProtected(cpu);
  setZf(cpu, verifySegment(cpu, readE(cpu, i, SZ16), true));
};

/** Handlers of the descriptor-table and probe rows, by row name. */
export const DESCRIPTOR_HANDLERS: HandlerMap = {
  sgdtMs: storeTableRegister(GDTR_BASE, GDTR_LIMIT),
  sidtMs: storeTableRegister(IDTR_BASE, IDTR_LIMIT),
  lgdtMs: loadTableRegister(GDTR_BASE, GDTR_LIMIT),
  lidtMs: loadTableRegister(IDTR_BASE, IDTR_LIMIT),
  sldtEw,
  strEw,
  lldtEw,
  ltrEw,
  smswEw,
  lmswEw,
  larGvEw,
  lslGvEw,
  verrEw,
  verwEw,
};
