/**
 * Interpreter handlers: near control transfers (SDM vol. 2: Jcc, JMP, CALL, RET, LOOP/LOOPcc,
 * JCXZ/JECXZ) and BOUND. Far transfers, INT n and IRET are the VMM's.
 *
 * Invariants:
 * - `cpu.next` holds the address of the next instruction (the return address of a CALL);
 *   a transfer replaces it. Targets are wrapped to 16 bits when the operand size is 16.
 * - A target beyond the CS limit raises #GP(0) before anything changes: a CALL's push, a RET's
 *   pop and a LOOP's count update happen only once the target is known to be good.
 * - LOOP and JCXZ count with CX or ECX by the address size.
 */
import { EX_BR, EX_GP, R_ECX, SEG_CS, SZ32 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { CONDITIONS } from '../../translator/isa/rows-bit.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { getZF, testCC } from '../lazy-flags.ts';
import { adjustSp, getReg, maskIp, memLinRead, peek, push, readE, readMem } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

/** The target wrapped to the operand size, after the CS limit check. */
function target(cpu: Cpu, i: Insn, t: number): number {
  const ip = maskIp(i, t);
  if (ip >>> 0 > cpu.segLimit(SEG_CS)) fault(EX_GP, 0);
  return ip;
}

/** Relative jump (Jb/Jz): the displacement is already sign-extended. */
const jmpRel: Handler = (cpu, i) => {
  cpu.next = target(cpu, i, cpu.next + i.imm);
};

function jccHandlers(): HandlerMap {
  const h: Record<string, Handler> = {};
  CONDITIONS.forEach(([cc], n) => {
    const jcc: Handler = (cpu, i) => {
      if (testCC(cpu.s, n)) cpu.next = target(cpu, i, cpu.next + i.imm);
    };
    h[`j${cc}Jb`] = jcc;
    h[`j${cc}Jz`] = jcc;
  });
  return h;
}

function callTo(cpu: Cpu, i: Insn, t: number): void {
  const ip = target(cpu, i, t);
  push(cpu, vsize(i), cpu.next);
  cpu.next = ip;
}

/** RET [imm16]: pops the return address, then releases `release` more bytes. */
function ret(cpu: Cpu, i: Insn, release: number): void {
  const sz = vsize(i);
  const ip = target(cpu, i, peek(cpu, sz, 0));
  adjustSp(cpu, (sz === SZ32 ? 4 : 2) + release);
  cpu.next = ip;
}

/** LOOP family: decrement the count register; `cond` 0 = LOOP, 1 = LOOPE, 2 = LOOPNE. */
function loop(cpu: Cpu, i: Insn, cond: number): void {
  const s = cpu.s;
  const count = i.a32 ? (s[R_ECX] - 1) | 0 : (cpu.u16[R_ECX << 1] - 1) & 0xffff;
  let taken = count !== 0;
  if (taken && cond !== 0) taken = getZF(s) === (cond === 1);
  const ip = taken ? target(cpu, i, cpu.next + i.imm) : 0;
  if (i.a32) s[R_ECX] = count;
  else cpu.u16[R_ECX << 1] = count;
  if (taken) cpu.next = ip;
}

/** BOUND: #BR unless lower <= index <= upper (signed, at the operand size). */
function bound(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const lin = memLinRead(cpu, i, 2 * n);
  let lo = readMem(cpu, sz, lin);
  let hi = readMem(cpu, sz, (lin + n) | 0);
  let idx = getReg(cpu, sz, i.reg);
  if (n === 2) {
    lo = (lo << 16) >> 16;
    hi = (hi << 16) >> 16;
    idx = (idx << 16) >> 16;
  }
  if (idx < lo || idx > hi) fault(EX_BR);
}

export const CONTROL_HANDLERS: HandlerMap = {
  ...jccHandlers(),
  jmpJb: jmpRel,
  jmpJz: jmpRel,
  jmpEv: (cpu, i) => { cpu.next = target(cpu, i, readE(cpu, i, vsize(i))); },
  callJz: (cpu, i) => callTo(cpu, i, cpu.next + i.imm),
  callEv: (cpu, i) => callTo(cpu, i, readE(cpu, i, vsize(i))),
  ret: (cpu, i) => ret(cpu, i, 0),
  retIw: (cpu, i) => ret(cpu, i, i.imm & 0xffff),
  loopJb: (cpu, i) => loop(cpu, i, 0),
  loopeJb: (cpu, i) => loop(cpu, i, 1),
  loopneJb: (cpu, i) => loop(cpu, i, 2),
  jcxzJb: (cpu, i) => {
    const c = i.a32 ? cpu.s[R_ECX] : cpu.u16[R_ECX << 1];
    if (c === 0) cpu.next = target(cpu, i, cpu.next + i.imm);
  },
  boundGvMa: bound,
};
