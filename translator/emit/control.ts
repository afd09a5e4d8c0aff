/**
 * Emitters: near control transfers (Jcc, JMP, CALL, RET, LOOP/LOOPcc, JCXZ), facing
 * runtime/interp/control.ts. Each ends its segment: it retires the instruction, then branches
 * to the target block when the region has it, or exits to the run loop. Jcc after a flag-setting
 * instruction of the same segment compiles to one comparison (flags.ts).
 */
import type { Insn } from '../decoder/insn.ts';
import { R_ECX, SZ16, SZ32 } from '../abi.ts';
import { directTarget } from '../scan/region.ts';
import type { Expr } from '../wasm/backend.ts';
import type { EmitCtx } from './context.ts';
import { condition } from './flags.ts';
import { adjustStack, peek, push, readRM } from './memory.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

function target(c: EmitCtx, i: Insn): number {
  return directTarget(i, c.code32) as number;
}

/** A near transfer's target masked to the operand size. */
function maskIp(c: EmitCtx, i: Insn, v: Expr): Expr {
  return i.o32 ? v : c.i32.and(v, c.const(0xffff));
}

/** Retires the instruction; after a write that may have hit this region's code, exits to `next`. */
function retire(c: EmitCtx, next: Expr): void {
  c.emit(...c.retire(true));
  if (c.mayWriteCode) c.emit(c.smcCheck(next, true));
}

function branch(c: EmitCtx, i: Insn, cond: Expr): void {
  const { m } = c;
  const t = target(c, i);
  // Retiring touches only the budget and counter locals, never what a condition reads.
  retire(c, c.nextEip());
  const arm = (s: Expr[]): Expr | undefined => (s.length === 0 ? undefined : s.length === 1 ? s[0] : m.block(null, s));
  const taken = c.goto(t, false);
  const fall = c.goto(c.next, true);
  c.emit(m.if(cond, arm(taken) ?? m.nop(), arm(fall)));
}

function jcc(c: EmitCtx, i: Insn): void {
  branch(c, i, condition(c, i.opcode & 15));
}

/** LOOP/LOOPE/LOOPNE: the count register (CX or ECX by address size) is decremented first. */
function loop(kind: 'loop' | 'loope' | 'loopne') {
  return (c: EmitCtx, i: Insn): void => {
    const { i32 } = c;
    const sz = i.a32 ? SZ32 : SZ16;
    const cnt = c.save(i.a32 ? i32.sub(c.reg(R_ECX, SZ32), c.const(1)) : i32.and(i32.sub(c.reg(R_ECX, SZ32), c.const(1)), c.const(0xffff)));
    let cond = i32.ne(cnt, c.const(0));
    if (kind !== 'loop') {
      const zf = condition(c, 4);
      cond = i32.and(cond, kind === 'loope' ? zf : i32.eqz(zf));
    }
    const taken = c.save(cond);
    c.emit(c.setReg(R_ECX, sz, cnt));
    branch(c, i, taken);
  };
}

export const CONTROL_EMITTERS: EmitterMap = {
  ...Object.fromEntries(Array.from({ length: 16 }, (_, n) => n).flatMap((n) => {
    const cc = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'][n];
    return [[`j${cc}Jb`, jcc], [`j${cc}Jz`, jcc]];
  })),
  jmpJb: (c, i) => { retire(c, c.nextEip()); c.emit(...c.goto(target(c, i), true)); },
  jmpJz: (c, i) => { retire(c, c.nextEip()); c.emit(...c.goto(target(c, i), true)); },
  jmpEv: (c, i) => {
    const t = c.save(maskIp(c, i, readRM(c, i, vsize(i))));
    retire(c, t);
    c.emit(...c.gotoDynamic(t));
  },
  callJz: (c, i) => {
    const t = target(c, i);
    push(c, vsize(i), c.const(i.o32 ? c.next : c.next & 0xffff));
    retire(c, c.const(t));
    c.emit(...c.goto(t, true));
  },
  callEv: (c, i) => {
    const t = c.save(maskIp(c, i, readRM(c, i, vsize(i))));
    push(c, vsize(i), c.const(i.o32 ? c.next : c.next & 0xffff));
    retire(c, t);
    c.emit(...c.gotoDynamic(t));
  },
  ret: (c, i) => {
    const sz = vsize(i);
    const t = peek(c, sz, 0);
    c.emit(adjustStack(c, sz === SZ32 ? 4 : 2));
    retire(c, t);
    c.emit(...c.gotoDynamic(t));
  },
  retIw: (c, i) => {
    const sz = vsize(i);
    const t = peek(c, sz, 0);
    c.emit(adjustStack(c, (sz === SZ32 ? 4 : 2) + (i.imm & 0xffff)));
    retire(c, t);
    c.emit(...c.gotoDynamic(t));
  },
  loopJb: loop('loop'),
  loopeJb: loop('loope'),
  loopneJb: loop('loopne'),
  jcxzJb: (c, i) => branch(c, i, c.i32.eqz(c.reg(R_ECX, i.a32 ? SZ32 : SZ16))),
};
