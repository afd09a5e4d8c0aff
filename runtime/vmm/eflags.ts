/**
 * EFLAGS as the VMM reads and replaces it (SDM vol. 1, 3.4.3; vol. 3, 2.3), and the operating
 * mode tests the privileged-instruction handlers share (real, protected, virtual-8086).
 *
 * Invariants kept by writeEflags: the lazy-flags record is retired (the value written is
 * authoritative), reserved bits read as their fixed values, a change of VM recomputes the
 * segment access ranges and the mode bits (virtual-8086 segments have no type checks), and IF
 * going from 0 to 1 while an interrupt waits (IRQ_WAITING) asks the run loop to deliver it.
 */
import { CR, EFLAGS, EXIT_REQUEST, F_DEFINED, F_FIXED1, F_IF, F_VM, IRQ_WAITING, LF_NONE, LF_OP } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { materializeFlags } from '../lazy-flags.ts';

const I_EFLAGS = EFLAGS >> 2;


/** The full, current EFLAGS value (status flags computed). */
export function readEflags(cpu: Cpu): number {
  materializeFlags(cpu.s);
  return cpu.s[I_EFLAGS];
}

/**
 * Replaces EFLAGS with `v` (every defined bit; callers apply the privilege rules first) and keeps
 * the derived state in step (see the file comment).
 */
export function writeEflags(cpu: Cpu, v: number): void {
  const s = cpu.s;
  const old = s[I_EFLAGS];
  const nv = (v & F_DEFINED) | F_FIXED1;
  s[LF_OP >> 2] = LF_NONE;
  s[I_EFLAGS] = nv;
  if ((old ^ nv) & F_VM) {
    for (let seg = 0; seg < 6; seg++) cpu.refreshSegment(seg);
    cpu.refreshMode();
  }
  if (nv & F_IF && !(old & F_IF) && s[IRQ_WAITING >> 2] !== 0) s[EXIT_REQUEST >> 2] = 1;
}

/** CR0.PE: protected mode (including virtual-8086 mode). */
export function isProtected(cpu: Cpu): boolean {
  return (cpu.s[CR >> 2] & 1) !== 0;
}

/** EFLAGS.VM: virtual-8086 mode (only meaningful with CR0.PE). */
export function isV86(cpu: Cpu): boolean {
  return (cpu.s[I_EFLAGS] & F_VM) !== 0;
}

/** Protected mode proper: CR0.PE and not virtual-8086 (descriptor-based segmentation). */
export function isProtectedNotV86(cpu: Cpu): boolean {
  return (cpu.s[CR >> 2] & 1) !== 0 && (cpu.s[I_EFLAGS] & F_VM) === 0;
}

/** EFLAGS.IOPL. */
export function iopl(cpu: Cpu): number {
  return (cpu.s[I_EFLAGS] >>> 12) & 3;
}
