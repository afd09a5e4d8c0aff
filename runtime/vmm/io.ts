/**
 * Port I/O permission (SDM vol. 1, 19.5 "Protection-Mode I/O"; vol. 3, 8.2.1/8.7 for the TSS).
 *
 * In real mode every port is accessible. In protected mode, IN/OUT/INS/OUTS are allowed outright
 * when CPL <= IOPL; otherwise (and always in virtual-8086 mode, whatever IOPL) the processor
 * consults the I/O permission bitmap of the current 32-bit TSS: the 16-bit bitmap offset at
 * TSS+0x66 locates the bitmap; the bits for every port of the access (1, 2 or 4 consecutive
 * ports) must all be 0. The processor always reads two bitmap bytes, and both must lie within
 * the TSS limit; a 16-bit TSS has no bitmap. Any failure is #GP(0).
 *
 * The TSS reads are implicit supervisor accesses (readSys), so at CPL 3 a bitmap in a
 * supervisor page is still readable, and a page fault on it reports U/S = 0.
 */
import { CPL, CR, EFLAGS, EX_GP, F_VM, TR_BASE, TR_FLAGS, TR_LIMIT } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { readSys } from './paging.ts';

const I_CPL = CPL >> 2;
const I_CR0 = CR >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_TR_BASE = TR_BASE >> 2;
const I_TR_LIMIT = TR_LIMIT >> 2;
const I_TR_FLAGS = TR_FLAGS >> 2;

/** Offset of the I/O map base field in a 32-bit TSS. */
const TSS_IOMAP_BASE = 0x66;

/**
 * Raises #GP(0) unless the current privilege level and the TSS I/O bitmap allow an access of
 * `size` bytes at `port`. Must be called before the access has any effect.
 */
export function checkIoPermission(cpu: Cpu, port: number, size: 1 | 2 | 4): void {
  const s = cpu.s;
  if (!(s[I_CR0] & 1)) return;
  const eflags = s[I_EFLAGS];
  if (!(eflags & F_VM) && s[I_CPL] <= ((eflags >> 12) & 3)) return;
  checkBitmap(cpu, port & 0xffff, size);
}

function checkBitmap(cpu: Cpu, port: number, size: number): void {
  const s = cpu.s;
  // Type 9 (available) or 11 (busy) 32-bit TSS: bit 3 of the type distinguishes 32- from 16-bit.
  const type = s[I_TR_FLAGS] & 0x0f;
  if (type !== 9 && type !== 11) fault(EX_GP, 0);
  const limit = s[I_TR_LIMIT] >>> 0;
  if (TSS_IOMAP_BASE + 1 > limit) fault(EX_GP, 0);
  const base = s[I_TR_BASE];
  const mapOff = readSys(cpu, (base + TSS_IOMAP_BASE) | 0, 2);
  const at = mapOff + (port >>> 3);
  if (at + 1 > limit) fault(EX_GP, 0);
  const bits = readSys(cpu, (base + at) | 0, 2);
  if ((bits >>> (port & 7)) & ((1 << size) - 1)) fault(EX_GP, 0);
}
