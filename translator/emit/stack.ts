/**
 * Emitters: the stack (PUSH, POP, LEAVE), facing runtime/interp/stack.ts. The stack pointer is
 * ESP or SP by SS.B (a mode bit, so fixed per translation); ESP changes only after the memory
 * access succeeded. PUSHF/POPF and segment pushes are sensitive and never emitted here.
 */
import { R_EBP, R_ESP, SEG_SS, SZ16, SZ32 } from '../abi.ts';
import type { EmitCtx } from './context.ts';
import { imm } from './alu.ts';
import { adjustStack, linear, peek, push, readLinear, readRM } from './memory.ts';
import type { EmitterMap } from './types.ts';
import { vsize } from '../decoder/insn.ts';

function popReg(c: EmitCtx, r: number, sz: number): void {
  const v = peek(c, sz, 0);
  c.emit(adjustStack(c, sz === SZ32 ? 4 : 2));
  // POP ESP: the popped value wins over the increment.
  c.emit(c.setReg(r, sz, v));
}

export const STACK_EMITTERS: EmitterMap = {
  pushZv: (c, i) => push(c, vsize(i), c.reg(i.reg, vsize(i))),
  popZv: (c, i) => popReg(c, i.reg, vsize(i)),
  pushIz: (c, i) => push(c, vsize(i), imm(c, i, vsize(i))),
  pushIbs: (c, i) => push(c, vsize(i), imm(c, i, vsize(i))),
  // The source is read (and may fault) before anything is pushed.
  pushEv: (c, i) => push(c, vsize(i), i.mod === 3 ? c.reg(i.rm, vsize(i)) : c.save(readRM(c, i, vsize(i)))),
  // Register destinations only (table.ts): a memory destination's address uses the incremented
  // ESP; that rare form runs in the interpreter.
  popEv: (c, i) => popReg(c, i.rm, vsize(i)),
  leave: (c, i) => {
    const { i32 } = c;
    const sz = vsize(i);
    const n = sz === SZ32 ? 4 : 2;
    // (E)SP = (E)BP, then pop (E)BP: the read at the old frame pointer comes first.
    const bp = c.save(c.stack32 ? c.reg(R_EBP, SZ32) : c.reg(R_EBP, SZ16));
    const v = c.save(readLinear(c, sz, linear(c, SEG_SS, bp, n, false)));
    const sp = i32.add(bp, c.const(n));
    c.emit(c.stack32 ? c.setReg(R_ESP, SZ32, sp) : c.setReg(R_ESP, SZ16, i32.and(sp, c.const(0xffff))));
    c.emit(c.setReg(R_EBP, sz, v));
  },
};

