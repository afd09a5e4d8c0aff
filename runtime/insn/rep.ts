/**
 * String-instruction registers and the REP drivers, shared by the string instructions
 * (interp/string.ts) and INS/OUTS (vmm/insns-system.ts). SDM vol. 2, "REP/REPE/REPZ/REPNE/REPNZ".
 *
 * - The address size selects SI/DI/CX or ESI/EDI/ECX; 16-bit forms wrap at 64 KiB and keep the
 *   upper halves. EFLAGS.DF selects the direction.
 * - A repeated instruction runs at most REP_CHUNK element iterations (and REP_FAST_BYTES bytes
 *   on a fast path) per handler call; if it is not finished it sets `cpu.next = i.eip`, so it
 *   restarts, and interrupts are taken between the chunks, as on hardware. The count and the
 *   index registers are updated after every iteration, so a fault in iteration k leaves exactly
 *   k-1 iterations done with EIP at the instruction.
 */
import { EFLAGS, F_DF, R_ECX } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { P_REP, P_REPNE } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { getZF } from '../lazy-flags.ts';

const I_EFLAGS = EFLAGS >> 2;
/** Iterations per handler call on the general (element by element) path. */
export const REP_CHUNK = 1024;
/** Bytes per handler call on the typed-array fast paths. */
export const REP_FAST_BYTES = 64 * 1024;

/** Current index register value (SI/DI or ESI/EDI by the address size), unsigned for 16 bits. */
export function idx(cpu: Cpu, i: Insn, r: number): number {
  return i.a32 ? cpu.s[r] : cpu.u16[r << 1];
}

/** Advances an index register by `delta` at the address size. */
export function advance(cpu: Cpu, i: Insn, r: number, delta: number): void {
  if (i.a32) cpu.s[r] = (cpu.s[r] + delta) | 0;
  else cpu.u16[r << 1] = cpu.u16[r << 1] + delta;
}

/** Element step of `n` bytes: +n or -n by DF. */
export function step(cpu: Cpu, n: number): number {
  return cpu.s[I_EFLAGS] & F_DF ? -n : n;
}

/** The instruction has a REP, REPE or REPNE prefix. */
export function repeated(i: Insn): boolean {
  return (i.prefixes & (P_REP | P_REPNE)) !== 0;
}

function getCount(cpu: Cpu, i: Insn): number {
  return i.a32 ? cpu.s[R_ECX] : cpu.u16[R_ECX << 1];
}

function setCount(cpu: Cpu, i: Insn, v: number): void {
  if (i.a32) cpu.s[R_ECX] = v;
  else cpu.u16[R_ECX << 1] = v;
}

/**
 * The REP loop: runs `once` while (E)CX is not zero, decrementing it after each iteration; with
 * `compare`, REPE/REPNE also stop when ZF fails the prefix's test (REPE: continue while ZF = 1).
 * `fast`, if given, may do a whole run of up to `count` elements at once and returns how many
 * it did (0: none, take one iteration). At most REP_CHUNK iterations and REP_FAST_BYTES bytes
 * of runs per call.
 */
export function repeat(cpu: Cpu, i: Insn, once: () => void, opts: { compare?: boolean; fast?: (count: number) => number; bytesPerElement?: number } = {}): void {
  const whileZero = (i.prefixes & P_REP) !== 0;
  let count = getCount(cpu, i);
  let slow = 0;
  let bytes = 0;
  while (count !== 0) {
    if (slow === REP_CHUNK || bytes >= REP_FAST_BYTES) {
      cpu.next = i.eip;
      return;
    }
    const k = opts.fast ? opts.fast(count) : 0;
    if (k > 0) {
      count = i.a32 ? (count - k) | 0 : count - k;
      setCount(cpu, i, count);
      bytes += k * (opts.bytesPerElement ?? 1);
      continue;
    }
    once();
    count = i.a32 ? (count - 1) | 0 : count - 1;
    setCount(cpu, i, count);
    slow++;
    if (opts.compare && getZF(cpu.s) !== whileZero) return;
  }
}
