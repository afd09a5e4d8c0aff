/**
 * Control and debug registers (SDM vol. 3, 2.5 "Control Registers" and 18.2 "Debug Registers";
 * vol. 2, MOV—Move to/from Control Registers and Debug Registers).
 *
 * Every write to CR0, CR3 and CR4 goes through here, whoever performs it (MOV CRn, LMSW, CLTS,
 * a task switch loading CR3), so the side effects are kept in one place:
 * - CR0: PE, PG and WP change how linear addresses are translated and checked, so a change of
 *   any of them flushes the whole soft TLB, recomputes the segment access ranges (PE changes the
 *   rules: real-mode segments have no type checks) and refreshes the mode (the cache key).
 *   CR0.ET is hardwired to 1 (i686); reserved bits are ignored; PG without PE and NW without CD
 *   raise #GP(0).
 * - CR3: flushes every non-global TLB entry (all entries unless CR4.PGE).
 * - CR4: only TSD, DE, PSE, PGE and PCE exist on our CPU (CPUID reports DE, PSE, TSC, PGE and
 *   no VME, PVI, MCE, PAE, ...); setting any other bit raises #GP(0). Changing PSE or PGE
 *   flushes the whole TLB, global entries included.
 * - Debug registers: DR0–DR3 and DR7 are recorded but breakpoints never trigger (instruction and
 *   data breakpoints are not implemented). DR4/DR5 alias DR6/DR7 unless CR4.DE, when they raise
 *   #UD. DR7.GD makes the next MOV DRn raise #DB with DR6.BD set and GD cleared.
 */
import { CR, DR, EX_DB, EX_GP, EX_UD } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import {
  CR0_AM, CR0_CD, CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP,
  CR4_DE, CR4_PCE, CR4_PGE, CR4_PSE, CR4_TSD,
} from './paging.ts';

const I_CR = CR >> 2;
const I_DR = DR >> 2;

/** CR0 bits that MOV CR0 can change; the rest are reserved (ignored) or hardwired (ET). */
const CR0_WRITABLE = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/** CR0 bits whose change alters address translation or segment rules. */
const CR0_XLATE = CR0_PE | CR0_PG | CR0_WP;
/** CR4 bits our CPU implements. */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE;

/** DR6 bits software can change (B0–B3, BD, BS, BT); the others read as 1 (4–11, 16–31) or 0 (12). */
const DR6_WRITABLE = 0xe00f;
const DR6_ONES = 0xffff0ff0 | 0;
/** DR7 bits that exist on P6 (L0–G3, LE, GE, GD, R/W and LEN fields); bit 10 reads as 1. */
const DR7_WRITABLE = 0xffff23ff | 0;
const DR7_ONES = 0x400;
export const DR6_BD = 0x2000;
export const DR6_BS = 0x4000;
export const DR7_GD = 0x2000;

/** Reads CRn for MOV r32, CRn; CR1 and CR5–CR7 do not exist (#UD). */
export function readCr(cpu: Cpu, n: number): number {
  if (n === 0 || n === 2 || n === 3 || n === 4) return cpu.s[I_CR + n];
  return fault(EX_UD);
}

/** Writes CRn for MOV CRn, r32 (after the caller's CPL check). */
export function writeCr(cpu: Cpu, n: number, v: number): void {
  switch (n) {
    case 0: writeCr0(cpu, v); return;
    case 2: cpu.s[I_CR + 2] = v; return;
    case 3: writeCr3(cpu, v); return;
    case 4: writeCr4(cpu, v); return;
    default: fault(EX_UD);
  }
}

/**
 * Loads CR0 with its architectural side effects (see the file comment). Faults with #GP(0)
 * before changing anything if the combination is invalid.
 */
export function writeCr0(cpu: Cpu, value: number): void {
  const v = (value & CR0_WRITABLE) | CR0_ET;
  if (v & CR0_PG && !(v & CR0_PE)) fault(EX_GP, 0);
  if (v & CR0_NW && !(v & CR0_CD)) fault(EX_GP, 0);
  const s = cpu.s;
  const old = s[I_CR];
  s[I_CR] = v;
  if ((old ^ v) & CR0_XLATE) {
    cpu.flushTlb(false);
    for (let seg = 0; seg < 6; seg++) cpu.refreshSegment(seg);
    cpu.refreshMode();
  }
}

/**
 * LMSW: loads CR0 bits 0–3 (PE, MP, EM, TS) from the low four bits of `msw`. LMSW can set PE but
 * never clear it (SDM vol. 2, LMSW).
 */
export function writeMsw(cpu: Cpu, msw: number): void {
  const cr0 = cpu.s[I_CR];
  writeCr0(cpu, (cr0 & ~0xf) | (msw & 0xf) | (cr0 & CR0_PE));
}

/** CLTS: clears CR0.TS (no translation side effects). */
export function clearTs(cpu: Cpu): void {
  cpu.s[I_CR] &= ~CR0_TS;
}

/** Loads CR3 (the page-directory base) and flushes the non-global TLB entries. */
export function writeCr3(cpu: Cpu, v: number): void {
  const s = cpu.s;
  s[I_CR + 3] = v;
  cpu.flushTlb((s[I_CR + 4] & CR4_PGE) !== 0);
}

/** Loads CR4: #GP(0) for a bit we do not implement; PSE/PGE changes flush the whole TLB. */
export function writeCr4(cpu: Cpu, v: number): void {
  if (v & ~CR4_SUPPORTED) fault(EX_GP, 0);
  const s = cpu.s;
  const old = s[I_CR + 4];
  s[I_CR + 4] = v;
  if ((old ^ v) & (CR4_PSE | CR4_PGE)) cpu.flushTlb(false);
}

/** Maps DR4/DR5 to DR6/DR7 (or #UD under CR4.DE); raises #DB under DR7.GD. */
function drIndex(cpu: Cpu, n: number): number {
  const s = cpu.s;
  if (n === 4 || n === 5) {
    if (s[I_CR + 4] & CR4_DE) fault(EX_UD);
    n += 2;
  }
  if (s[I_DR + 7] & DR7_GD) {
    // General-detect: a debug-register access is a fault; the handler sees BD set and GD clear
    // so that it can itself use the debug registers.
    s[I_DR + 6] |= DR6_BD;
    s[I_DR + 7] &= ~DR7_GD;
    fault(EX_DB);
  }
  return n;
}

/** MOV r32, DRn (after the caller's CPL check). */
export function readDr(cpu: Cpu, n: number): number {
  const k = drIndex(cpu, n);
  const v = cpu.s[I_DR + k];
  if (k === 6) return (v & DR6_WRITABLE) | DR6_ONES;
  if (k === 7) return (v & DR7_WRITABLE) | DR7_ONES;
  return v;
}

/** MOV DRn, r32 (after the caller's CPL check). Breakpoints are recorded, never armed. */
export function writeDr(cpu: Cpu, n: number, v: number): void {
  const k = drIndex(cpu, n);
  if (k === 6) cpu.s[I_DR + 6] = (v & DR6_WRITABLE) | DR6_ONES;
  else if (k === 7) cpu.s[I_DR + 7] = (v & DR7_WRITABLE) | DR7_ONES;
  else cpu.s[I_DR + k] = v;
}
