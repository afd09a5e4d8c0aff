/**
 * Address translation on a soft-TLB miss: 32-bit two-level paging with 4 KiB pages and, with
 * CR4.PSE, 4 MiB pages; global pages (CR4.PGE); CR0.WP; accessed and dirty bits; page faults
 * with their error code and CR2 (SDM vol. 3, chapter 4.3 and 4.7). PAE is not implemented
 * (CPUID does not report it).
 *
 * The walk installs a TLB entry whose flags let later accesses of the same kind hit the fast
 * path. A page whose dirty bit is still clear is installed read-only for everyone, so the first
 * write comes back here and sets D.
 */
import {
  CR, CPL, EX_PF, RAM_OFFSET, TLB_GLOBAL, TLB_NO_USER, TLB_RO_SUP, TLB_RO_USER,
} from '../../translator/abi.ts';
import { ACC_WRITE } from '../cpu.ts';
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
  return cpu.io.mmioRead(phys >>> 0, 4);
}

function writePhys32(cpu: Cpu, phys: number, v: number): void {
  if (phys >>> 0 < cpu.mem.ramSize - 3) {
    cpu.i32[(RAM_OFFSET + phys) >>> 2] = v;
    if (cpu.codePages[phys >>> 12]) cpu.onCodeWrite(phys);
  } else {
    cpu.io.mmioWrite(phys >>> 0, 4, v);
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
  if (s[I_CR0] >= 0) {
    // Paging off (CR0.PG is bit 31: the sign bit).
    phys = lin >>> 0;
  } else {
    const write = (access & ACC_WRITE) !== 0;
    const user = s[I_CPL] === 3 && (access & ACC_SUPERVISOR) === 0;
    const cr4 = s[I_CR4];
    const pdeAddr = (s[I_CR3] & ~0xfff) + ((lin >>> 22) << 2);
    let pde = readPhys32(cpu, pdeAddr);
    if (!(pde & PTE_P)) pageFault(cpu, lin, 0, write, user);
    let perms: number;
    let global: number;
    if (pde & PDE_PS && cr4 & CR4_PSE) {
      perms = pde;
      checkAccess(cpu, lin, perms, write, user);
      const want = pde | PTE_A | (write ? PTE_D : 0);
      if (want !== pde) writePhys32(cpu, pdeAddr, (pde = want));
      phys = ((pde & 0xffc00000) | (lin & 0x3ff000)) >>> 0;
      global = pde & PTE_G;
      flags = pde & PTE_D ? 0 : TLB_RO_USER | TLB_RO_SUP;
    } else {
      const pteAddr = (pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2);
      let pte = readPhys32(cpu, pteAddr);
      if (!(pte & PTE_P)) pageFault(cpu, lin, 0, write, user);
      perms = pde & pte;
      checkAccess(cpu, lin, perms, write, user);
      if (!(pde & PTE_A)) writePhys32(cpu, pdeAddr, (pde |= PTE_A));
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
    phys = (phys | (lin & 0xfff)) >>> 0;
  }
  if (phys < cpu.mem.ramSize) {
    // An implicit supervisor access must not leave an entry that a CPL-3 access could use.
    if (access & ACC_SUPERVISOR && s[I_CPL] === 3) return RAM_OFFSET + phys;
    cpu.setTlb(lin, phys, flags);
    return RAM_OFFSET + phys;
  }
  cpu.lastPhys = phys;
  return -1;
}

function checkAccess(cpu: Cpu, lin: number, perms: number, write: boolean, user: boolean): void {
  if (user) {
    if (!(perms & PTE_US) || (write && !(perms & PTE_RW))) pageFault(cpu, lin, 1, write, user);
  } else if (write && !(perms & PTE_RW) && cpu.s[I_CR0] & CR0_WP) {
    pageFault(cpu, lin, 1, write, user);
  }
}

function pageFault(cpu: Cpu, lin: number, present: number, write: boolean, user: boolean): never {
  cpu.s[I_CR2] = lin;
  throw new GuestFault(EX_PF, present | (write ? 2 : 0) | (user ? 4 : 0));
}
