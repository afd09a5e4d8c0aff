/**
 * Address translation on a soft-TLB miss: 32-bit two-level paging with 4 KiB pages and, with
 * CR4.PSE, 4 MiB pages; global pages (CR4.PGE); CR0.WP; accessed and dirty bits; page faults
 * with their error code and CR2 (SDM vol. 3, chapter 4.3 and 4.7). PAE is not implemented
 * (CPUID does not report it).
 *
 * The walk installs a TLB entry whose flags let later accesses of the same kind hit the fast
 * path. A page whose dirty bit is still clear is installed read-only for everyone, so the first
 * write comes back here and sets D.
 *
 * Accessed and dirty bits (SDM 4.8): a PDE that points to a page table is marked accessed as
 * soon as the walk uses it, even if the PTE then faults (as the hardware's walker does); the
 * final entry (PTE or 4 MiB PDE) gets A, and D on a write, only when the access is allowed.
 *
 * Reserved bits: with neither PSE-36 nor PAT reported by CPUID, bits 21:12 of a 4 MiB PDE are
 * reserved, and a walk through such an entry faults with RSVD (error-code bit 3) set. PTE bit 7
 * (PAT) is also reserved by the SDM on such a CPU, but it is not checked (nor by QEMU); no guest
 * we run sets it.
 *
 * Implicit supervisor accesses (descriptor tables, the TSS, the I/O bitmap) use ACC_SUPERVISOR
 * through readSys/writeSys: at CPL 3 they are checked as supervisor accesses and never leave a
 * TLB entry that a user access could hit.
 */
import {
  CR, CPL, EX_PF, RAM_OFFSET, TLB_GLOBAL, TLB_NO_USER, TLB_RO_SUP, TLB_RO_USER,
} from '../../translator/abi.ts';
import { ACC_READ, ACC_WRITE } from '../cpu.ts';
import type { Cpu } from '../cpu.ts';
import { GuestFault } from '../fault.ts';

/** Access bit: the access is an implicit supervisor access (descriptor tables, TSS) at any CPL. */
export const ACC_SUPERVISOR = 4;

const PTE_P = 0x001;
const PTE_RW = 0x002;
const PTE_US = 0x004;
const PTE_A = 0x020;
const PTE_D = 0x040;
const PDE_PS = 0x080;
const PTE_G = 0x100;
/** Reserved bits of a 4 MiB PDE without PSE-36 and PAT (SDM table 4-4). */
const PDE4M_RSVD = 0x003ff000;

/** Page-fault error-code bits (SDM 6.15, interrupt 14). */
export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;
export const PF_RSVD = 8;

export const CR0_PE = 0x00000001;
export const CR0_MP = 0x00000002;
export const CR0_EM = 0x00000004;
export const CR0_TS = 0x00000008;
export const CR0_ET = 0x00000010;
export const CR0_NE = 0x00000020;
export const CR0_WP = 0x00010000;
export const CR0_AM = 0x00040000;
export const CR0_NW = 0x20000000;
export const CR0_CD = 0x40000000;
export const CR0_PG = 0x80000000 | 0;

export const CR4_VME = 0x001;
export const CR4_PVI = 0x002;
export const CR4_TSD = 0x004;
export const CR4_DE = 0x008;
export const CR4_PSE = 0x010;
export const CR4_PAE = 0x020;
export const CR4_MCE = 0x040;
export const CR4_PGE = 0x080;
export const CR4_PCE = 0x100;

const I_CR0 = CR >> 2;
const I_CR2 = (CR >> 2) + 2;
const I_CR3 = (CR >> 2) + 3;
const I_CR4 = (CR >> 2) + 4;
const I_CPL = CPL >> 2;

function readPhys32(cpu: Cpu, phys: number): number {
  if (phys >>> 0 < cpu.mem.ramSize - 3) return cpu.i32[(RAM_OFFSET + phys) >>> 2];
  return cpu.mmioRead(phys >>> 0, 4);
}

function writePhys32(cpu: Cpu, phys: number, v: number): void {
  if (phys >>> 0 < cpu.mem.ramSize - 3) {
    cpu.i32[(RAM_OFFSET + phys) >>> 2] = v;
    if (cpu.codePages[phys >>> 12]) cpu.onCodeWrite(phys);
  } else {
    cpu.mmioWrite(phys >>> 0, 4, v);
  }
}

/**
 * Translates `lin` for `access` (ACC_READ / ACC_WRITE / ACC_EXEC, optionally | ACC_SUPERVISOR),
 * installs a TLB entry when the page is RAM, and returns the host address of the byte, or -1
 * for a non-RAM physical address (left in cpu.lastPhys). Throws #PF.
 */
export function translateLinear(cpu: Cpu, lin: number, access: number): number {
  const s = cpu.s;
  let phys: number;
  let flags = 0;
  let large = false;
  if (s[I_CR0] >= 0) {
    // Paging off (CR0.PG is bit 31: the sign bit).
    phys = (lin & cpu.a20Mask) >>> 0;
  } else {
    const write = (access & ACC_WRITE) !== 0;
    const user = s[I_CPL] === 3 && (access & ACC_SUPERVISOR) === 0;
    const cr4 = s[I_CR4];
    const a20 = cpu.a20Mask;
    const pdeAddr = ((s[I_CR3] & ~0xfff) + ((lin >>> 22) << 2)) & a20;
    let pde = readPhys32(cpu, pdeAddr);
    if (!(pde & PTE_P)) pageFault(cpu, lin, 0, write, user);
    let perms: number;
    let global: number;
    large = (pde & PDE_PS) !== 0 && (cr4 & CR4_PSE) !== 0;
    if (large) {
      if (pde & PDE4M_RSVD) pageFault(cpu, lin, PF_P | PF_RSVD, write, user);
      perms = pde;
      checkAccess(cpu, lin, perms, write, user);
      const want = pde | PTE_A | (write ? PTE_D : 0);
      if (want !== pde) writePhys32(cpu, pdeAddr, (pde = want));
      phys = ((pde & 0xffc00000) | (lin & 0x3ff000)) >>> 0;
      global = pde & PTE_G;
      flags = pde & PTE_D ? 0 : TLB_RO_USER | TLB_RO_SUP;
    } else {
      if (!(pde & PTE_A)) writePhys32(cpu, pdeAddr, (pde |= PTE_A));
      const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) & a20;
      let pte = readPhys32(cpu, pteAddr);
      if (!(pte & PTE_P)) pageFault(cpu, lin, 0, write, user);
      perms = pde & pte;
      checkAccess(cpu, lin, perms, write, user);
      const want = pte | PTE_A | (write ? PTE_D : 0);
      if (want !== pte) writePhys32(cpu, pteAddr, (pte = want));
      phys = (pte & ~0xfff) >>> 0;
      global = pte & PTE_G;
      flags = pte & PTE_D ? 0 : TLB_RO_USER | TLB_RO_SUP;
    }
    if (!(perms & PTE_US)) flags |= TLB_NO_USER;
    if (!(perms & PTE_RW)) {
      flags |= TLB_RO_USER;
      if (s[I_CR0] & CR0_WP) flags |= TLB_RO_SUP;
    }
    if (global && cr4 & CR4_PGE) flags |= TLB_GLOBAL;
    phys = ((phys | (lin & 0xfff)) & a20) >>> 0;
  }
  if (phys < cpu.mem.ramSize) {
    // An implicit supervisor access must not leave an entry that a CPL-3 access could use.
    if (access & ACC_SUPERVISOR && s[I_CPL] === 3) return RAM_OFFSET + phys;
    cpu.setTlb(lin, phys, flags, large);
    return RAM_OFFSET + phys;
  }
  cpu.lastPhys = phys;
  return -1;
}

function checkAccess(cpu: Cpu, lin: number, perms: number, write: boolean, user: boolean): void {
  if (user) {
    if (!(perms & PTE_US) || (write && !(perms & PTE_RW))) pageFault(cpu, lin, PF_P, write, user);
  } else if (write && !(perms & PTE_RW) && cpu.s[I_CR0] & CR0_WP) {
    pageFault(cpu, lin, PF_P, write, user);
  }
}

/** Sets CR2 and raises #PF; `bits` holds P and RSVD, W and U come from the access. */
function pageFault(cpu: Cpu, lin: number, bits: number, write: boolean, user: boolean): never {
  cpu.s[I_CR2] = lin;
  throw new GuestFault(EX_PF, bits | (write ? PF_W : 0) | (user ? PF_U : 0));
}

/**
 * Reads `n` bytes at linear address `lin` as an implicit supervisor access (GDT/LDT/IDT entries,
 * the TSS, the I/O permission bitmap): at CPL 3 it is checked as a supervisor access, so a page
 * fault has U/S = 0. The result is unsigned for n < 4 and an int32 for n = 4.
 */
export function readSys(cpu: Cpu, lin: number, n: 1 | 2 | 4): number {
  if (cpu.s[I_CPL] !== 3) return n === 1 ? cpu.read8(lin) : n === 2 ? cpu.read16(lin) : cpu.read32(lin);
  if ((lin & 0xfff) + n > 0x1000) {
    // Crosses a page: translate both pages first so that a fault leaves nothing half-read.
    translateLinear(cpu, lin, ACC_READ | ACC_SUPERVISOR);
    translateLinear(cpu, (lin + n - 1) & ~0xfff, ACC_READ | ACC_SUPERVISOR);
    let v = 0;
    for (let k = 0; k < n; k++) v |= readSys(cpu, (lin + k) | 0, 1) << (8 * k);
    return n === 4 ? v | 0 : v;
  }
  const h = translateLinear(cpu, lin, ACC_READ | ACC_SUPERVISOR);
  if (h < 0) return cpu.mmioRead(cpu.lastPhys, n);
  return n === 1 ? cpu.u8[h] : n === 2 ? cpu.dv.getUint16(h, true) : cpu.dv.getInt32(h, true);
}

/** Writes `n` bytes at `lin` as an implicit supervisor access (descriptor A/busy bits, TSS). */
export function writeSys(cpu: Cpu, lin: number, n: 1 | 2 | 4, v: number): void {
  if (cpu.s[I_CPL] !== 3) {
    if (n === 1) cpu.write8(lin, v);
    else if (n === 2) cpu.write16(lin, v);
    else cpu.write32(lin, v);
    return;
  }
  if ((lin & 0xfff) + n > 0x1000) {
    translateLinear(cpu, lin, ACC_WRITE | ACC_SUPERVISOR);
    translateLinear(cpu, (lin + n - 1) & ~0xfff, ACC_WRITE | ACC_SUPERVISOR);
    for (let k = 0; k < n; k++) writeSys(cpu, (lin + k) | 0, 1, v >>> (8 * k));
    return;
  }
  const h = translateLinear(cpu, lin, ACC_WRITE | ACC_SUPERVISOR);
  if (h < 0) {
    cpu.mmioWrite(cpu.lastPhys, n, n === 4 ? v | 0 : v & (n === 1 ? 0xff : 0xffff));
    return;
  }
  if (n === 1) cpu.u8[h] = v;
  else if (n === 2) cpu.dv.setUint16(h, v, true);
  else cpu.dv.setInt32(h, v, true);
  if (cpu.codePages[(h - RAM_OFFSET) >>> 12]) cpu.onCodeWrite(h - RAM_OFFSET);
}

/**
 * INVLPG: drops the TLB entries of the page that contains `lin`. The soft TLB holds a 4 MiB
 * page as 1024 separate 4 KiB entries, and the current PDE may no longer say how the page was
 * mapped, so where entries from a 4 MiB page were made since the last full flush
 * (cpu.tlbLarge) the whole 4 MiB-aligned region is dropped (flushing more than asked is always
 * allowed); elsewhere only the page.
 */
export function invalidatePage(cpu: Cpu, lin: number): void {
  const region = lin >>> 22;
  if (!cpu.tlbLarge[region]) {
    cpu.flushTlbPage(lin);
    return;
  }
  cpu.tlbLarge[region] = 0;
  const first = lin & 0xffc00000;
  for (let k = 0; k < 1024; k++) cpu.flushTlbPage((first + (k << 12)) | 0);
}
