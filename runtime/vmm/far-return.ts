/**
 * The far-pointer return both far RET and IRET make in protected mode (SDM vol. 2, "RET" and
 * "IRET/IRETD", protected-mode operation): the checks of the code selector popped from the stack,
 * and the return to an outer privilege level, where SS:ESP follow on the stack and the data
 * segments the outer level may not use become null. Nothing changes until every check passed.
 */
import { EX_GP, EX_NP, R_ESP, SEG_SS, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { peek } from '../insn/operands.ts';
import { descDpl, descIsCode, descIsConforming, descPresent, fetchDescriptor, isNullSel, selError } from './descriptors.ts';
import type { Descriptor } from './descriptors.ts';
import { checkStackSegment, commitSegment, nullInaccessibleDataSegments } from './segments.ts';
import { mergeSp } from './system-stack.ts';

/**
 * The checked descriptor of the code selector a return pops: not null, a code segment with
 * RPL >= CPL, DPL = RPL (conforming: DPL <= RPL), present.
 */
export function checkReturnCode(cpu: Cpu, sel: number): Descriptor {
  if (isNullSel(sel)) fault(EX_GP, 0);
  const cd = fetchDescriptor(cpu, sel, EX_GP);
  const rpl = sel & 3;
  const dpl = descDpl(cd);
  if (!descIsCode(cd) || rpl < cpu.cpl) fault(EX_GP, selError(sel));
  if (descIsConforming(cd) ? dpl > rpl : dpl !== rpl) fault(EX_GP, selError(sel));
  if (!descPresent(cd)) fault(EX_NP, selError(sel));
  return cd;
}

/** The outer level's stack, read and checked (not yet loaded). */
export interface OuterStack {
  readonly esp: number;
  readonly ssSel: number;
  readonly sd: Descriptor;
}

/** Reads SS:ESP at `at` bytes above the stack pointer (operand size 16 or 32) and checks SS for level `rpl`. */
export function readOuterStack(cpu: Cpu, o32: boolean, at: number, rpl: number): OuterStack {
  const sz = o32 ? SZ32 : SZ16;
  let esp = peek(cpu, sz, at);
  const ssSel = peek(cpu, sz, at + (o32 ? 4 : 2)) & 0xffff;
  if (!o32) esp &= 0xffff;
  return { esp, ssSel, sd: checkStackSegment(cpu, ssSel, rpl, EX_GP) };
}

/** Loads the outer stack (ESP + `release` bytes) and nulls the data segments the new CPL may not use. */
export function enterOuterStack(cpu: Cpu, st: OuterStack, release: number): void {
  commitSegment(cpu, SEG_SS, st.ssSel, st.sd);
  cpu.s[R_ESP] = mergeSp(cpu, st.esp + release, cpu.stack32);
  nullInaccessibleDataSegments(cpu);
}
