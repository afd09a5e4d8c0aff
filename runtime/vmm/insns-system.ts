/**
 * VMM handlers: control and debug registers, MSRs, CPUID, RDTSC/RDPMC, cache and TLB control,
 * HLT, RSM, and port I/O (IN/OUT/INS/OUTS with IOPL and the TSS I/O permission bitmap).
 * SDM vol. 2 entries of the same names; the privilege rules are in each entry's
 * "Protected Mode Exceptions".
 *
 * Every handler here is one VMM exit, counted under the reason its table row declares (`exit`:
 * 'mov-cr', 'msr', 'io', ...; runtime/dispatch.ts counts it), also when the instruction faults. Fault order follows the SDM's exception priorities: an invalid
 * register number is a decode-time #UD, ahead of the privilege check's #GP(0).
 *
 * Privileged instructions require CPL 0; in virtual-8086 mode CPL is 3, so they raise #GP(0)
 * there too. In real mode CPL is 0 and all of them run.
 */
import {
  CPL, CR, EFLAGS, EX_GP, EX_UD, F_VM, R_EAX, R_EBX, R_ECX, R_EDI, R_EDX, R_ESI, SEG_ES,
} from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { ea } from '../insn/operands.ts';
import { advance, idx, repeat, repeated, step } from '../insn/rep.ts';
import { clearTs, readCr, readDr, writeCr, writeDr } from './control-regs.ts';
import { cpuid } from './cpuid.ts';
import { checkIoPermission } from './io.ts';
import { readMsr, readTsc, writeMsr } from './msr.ts';
import { CR4_PCE, CR4_TSD, invalidatePage } from './paging.ts';

const I_CPL = CPL >> 2;
const I_CR4 = (CR >> 2) + 4;
const I_EFLAGS = EFLAGS >> 2;
const TWO32 = 4294967296;

/** #GP(0) unless CPL is 0 (also covers virtual-8086 mode, where CPL is 3). */
function requireCpl0(cpu: Cpu): void {
  if (cpu.s[I_CPL] !== 0 || cpu.s[I_EFLAGS] & F_VM) fault(EX_GP, 0);
}

/** True at CPL > 0 (protected or virtual-8086 mode). */
function unprivileged(cpu: Cpu): boolean {
  return cpu.s[I_CPL] !== 0 || (cpu.s[I_EFLAGS] & F_VM) !== 0;
}

// ------------------------------------------------------------------------- control registers
function movRdCd(cpu: Cpu, i: Insn): void {
  if (i.reg === 1 || i.reg > 4) fault(EX_UD);
  requireCpl0(cpu);
  cpu.s[i.rm] = readCr(cpu, i.reg);
}

function movCdRd(cpu: Cpu, i: Insn): void {
  if (i.reg === 1 || i.reg > 4) fault(EX_UD);
  requireCpl0(cpu);
  writeCr(cpu, i.reg, cpu.s[i.rm]);
}

function movRdDd(cpu: Cpu, i: Insn): void {
  requireCpl0(cpu);
  cpu.s[i.rm] = readDr(cpu, i.reg);
}

function movDdRd(cpu: Cpu, i: Insn): void {
  requireCpl0(cpu);
  writeDr(cpu, i.reg, cpu.s[i.rm]);
}

function clts(cpu: Cpu): void {
  requireCpl0(cpu);
  clearTs(cpu);
}

// ------------------------------------------------------------------------- caches and TLB
function invlpgM(cpu: Cpu, i: Insn): void {
  requireCpl0(cpu);
  // No segment limit check: INVLPG does not access memory.
  invalidatePage(cpu, (cpu.segBase(i.seg) + ea(cpu, i)) | 0);
}

function invd(cpu: Cpu): void {
  requireCpl0(cpu);
}

// ------------------------------------------------------------------------- HLT, RSM
function hlt(cpu: Cpu): void {
  requireCpl0(cpu);
  // EIP already points past HLT (cpu.next), so the interrupt that wakes us returns there.
  cpu.halted = true;
}

// ------------------------------------------------------------------------- MSRs, TSC, PMC
function rdmsr(cpu: Cpu): void {
  requireCpl0(cpu);
  const [lo, hi] = readMsr(cpu, cpu.s[R_ECX]);
  cpu.s[R_EAX] = lo;
  cpu.s[R_EDX] = hi;
}

function wrmsr(cpu: Cpu): void {
  requireCpl0(cpu);
  writeMsr(cpu, cpu.s[R_ECX], cpu.s[R_EAX], cpu.s[R_EDX]);
}

/** RDTSC's check (#GP(0) when CR4.TSD and CPL > 0) and value; the translator's `rdtsc` helper uses it too. */
export function rdtscValue(cpu: Cpu): number {
  if (cpu.s[I_CR4] & CR4_TSD && unprivileged(cpu)) fault(EX_GP, 0);
  return readTsc(cpu);
}

function rdtsc(cpu: Cpu): void {
  const t = rdtscValue(cpu);
  cpu.s[R_EAX] = (t % TWO32) | 0;
  cpu.s[R_EDX] = Math.floor(t / TWO32) | 0;
}

function rdpmc(cpu: Cpu): void {
  if (!(cpu.s[I_CR4] & CR4_PCE) && unprivileged(cpu)) fault(EX_GP, 0);
  // We model no performance counters, so every ECX names an invalid counter.
  fault(EX_GP, 0);
}

function cpuidInsn(cpu: Cpu): void {
  const r = cpuid(cpu.s[R_EAX], cpu.apic?.enabled ?? false);
  cpu.s[R_EAX] = r.eax;
  cpu.s[R_EBX] = r.ebx;
  cpu.s[R_ECX] = r.ecx;
  cpu.s[R_EDX] = r.edx;
}

// ------------------------------------------------------------------------- port I/O
/** IN's permission check and read (also the translator's `io` helper). */
export function portIn(cpu: Cpu, port: number, size: 1 | 2 | 4): number {
  checkIoPermission(cpu, port, size);
  return cpu.io.portIn(port, size);
}

/** OUT's permission check and write (also the translator's `io` helper). */
export function portOut(cpu: Cpu, port: number, size: 1 | 2 | 4, v: number): void {
  checkIoPermission(cpu, port, size);
  cpu.io.portOut(port, size, size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff));
}

function setAcc(cpu: Cpu, size: 1 | 2 | 4, v: number): void {
  if (size === 1) cpu.setReg8(R_EAX, v & 0xff);
  else if (size === 2) cpu.u16[R_EAX << 1] = v & 0xffff;
  else cpu.s[R_EAX] = v | 0;
}

function getAcc(cpu: Cpu, size: 1 | 2 | 4): number {
  return size === 1 ? cpu.reg8(R_EAX) : size === 2 ? cpu.u16[R_EAX << 1] : cpu.s[R_EAX];
}

const vsz = (i: Insn): 2 | 4 => (i.o32 ? 4 : 2);

function inAcc(size: (i: Insn) => 1 | 2 | 4, fromDx: boolean): Handler {
  return (cpu, i) => {
    const sz = size(i);
    setAcc(cpu, sz, portIn(cpu, fromDx ? cpu.u16[R_EDX << 1] : i.imm & 0xff, sz));
  };
}

function outAcc(size: (i: Insn) => 1 | 2 | 4, toDx: boolean): Handler {
  return (cpu, i) => {
    const sz = size(i);
    portOut(cpu, toDx ? cpu.u16[R_EDX << 1] : i.imm & 0xff, sz, getAcc(cpu, sz));
  };
}

/**
 * INS: port DX → ES:(E)DI. With a REP prefix (F3 or F2, both mean REP here) it repeats while
 * (E)CX != 0 (insn/rep.ts: bounded chunks, restartable, interrupts between chunks; each chunk is
 * one VMM exit). The permission check happens before the first iteration (also with a zero
 * count). Each iteration checks the destination's segment and page for writing before it reads
 * the port, so a fault loses no device data.
 */
function ins(size: (i: Insn) => 1 | 2 | 4): Handler {
  return (cpu, i) => {
    const n = size(i);
    const port = cpu.u16[R_EDX << 1];
    checkIoPermission(cpu, port, n);
    const once = (): void => {
      const lin = cpu.linWrite(SEG_ES, idx(cpu, i, R_EDI), n);
      cpu.checkWrite(lin, n);
      const v = cpu.io.portIn(port, n);
      if (n === 1) cpu.write8(lin, v);
      else if (n === 2) cpu.write16(lin, v);
      else cpu.write32(lin, v);
      advance(cpu, i, R_EDI, step(cpu, n));
    };
    if (repeated(i)) repeat(cpu, i, once);
    else once();
  };
}

/** OUTS: DS:(E)SI (segment overridable) → port DX, repeated like INS. */
function outs(size: (i: Insn) => 1 | 2 | 4): Handler {
  return (cpu, i) => {
    const n = size(i);
    const port = cpu.u16[R_EDX << 1];
    checkIoPermission(cpu, port, n);
    const once = (): void => {
      const lin = cpu.linRead(i.seg, idx(cpu, i, R_ESI), n);
      cpu.io.portOut(port, n, n === 1 ? cpu.read8(lin) : n === 2 ? cpu.read16(lin) : cpu.read32(lin));
      advance(cpu, i, R_ESI, step(cpu, n));
    };
    if (repeated(i)) repeat(cpu, i, once);
    else once();
  };
}

const one = (): 1 => 1;

export const SYSTEM_MISC_HANDLERS: HandlerMap = {
  movRdCd, movCdRd, movRdDd, movDdRd, clts, invlpgM, invd, wbinvd: invd, hlt,
  rdmsr, wrmsr, rdtsc, rdpmc, cpuid: cpuidInsn,
  rsm: () => fault(EX_UD),
  inALIb: inAcc(one, false), ineAXIb: inAcc(vsz, false), inALDX: inAcc(one, true), ineAXDX: inAcc(vsz, true),
  outIbAL: outAcc(one, false), outIbeAX: outAcc(vsz, false), outDXAL: outAcc(one, true), outDXeAX: outAcc(vsz, true),
  insb: ins(one), insv: ins(vsz), outsb: outs(one), outsv: outs(vsz),
};
