/**
 * Emitters: string instructions MOVS, STOS, LODS, CMPS, SCAS with and without REP/REPE/REPNE,
 * facing runtime/interp/string.ts (SDM vol. 2, "REP/REPE/REPZ/REPNE/REPNZ"). The count and index
 * registers follow the address size; the direction is EFLAGS.DF (state block).
 *
 * A REP instruction is one instruction however many iterations it runs. Registers advance per
 * element, so a fault in the middle leaves (E)CX, (E)SI, (E)DI as after the last completed
 * element with EIP at the instruction, exactly as on hardware; the guest resumes it after its
 * page-fault handler. Fast paths (flat 32-bit addressing, DF = 0, both pages in the TLB) move a
 * page-bounded chunk at a time with memory.copy / memory.fill when that is indistinguishable
 * from element-by-element execution.
 */
import type { Insn } from '../decoder/insn.ts';
import { P_REP, P_REPNE, vsize } from '../decoder/insn.ts';
import { EFLAGS, F_DF, LFK_SUB, R_EAX, R_ECX, R_EDI, R_ESI, SEG_ES, SIZE_MASK, SZ16, SZ32, SZ8, TLB_OFFSET } from '../abi.ts';
import type { Expr } from '../wasm/backend.ts';
import { L_RMASK, L_WMASK } from './context.ts';
import type { EmitCtx } from './context.ts';
import { condition, recordFlags } from './flags.ts';
import { linear, readLinear, writeLinear } from './memory.ts';
import type { EmitterMap } from './types.ts';

type Op = 'movs' | 'stos' | 'lods' | 'cmps' | 'scas';

interface Ctx {
  sz: number;
  n: number;
  /** Address size of the index and count registers. */
  asz: number;
  /** Per-element pointer increment (+n or -n by DF), a temp. */
  delta: Expr;
}

function advance(c: EmitCtx, s: Ctx, r: number): Expr {
  const { i32 } = c;
  return c.setReg(r, s.asz, s.asz === SZ32 ? i32.add(c.reg(r, SZ32), s.delta) : i32.and(i32.add(c.reg(r, SZ32), s.delta), c.const(0xffff)));
}

/** One element of `op`; every access precedes every register update. */
function element(c: EmitCtx, i: Insn, op: Op, s: Ctx): void {
  const si = (): Expr => c.reg(R_ESI, s.asz);
  const di = (): Expr => c.reg(R_EDI, s.asz);
  switch (op) {
    case 'movs': {
      const v = c.save(readLinear(c, s.sz, linear(c, i.seg, si(), s.n, false)));
      c.emit(writeLinear(c, s.sz, linear(c, SEG_ES, di(), s.n, true), v));
      c.emit(advance(c, s, R_ESI), advance(c, s, R_EDI));
      return;
    }
    case 'stos':
      c.emit(writeLinear(c, s.sz, linear(c, SEG_ES, di(), s.n, true), c.reg(R_EAX, s.sz)));
      c.emit(advance(c, s, R_EDI));
      return;
    case 'lods': {
      const v = c.save(readLinear(c, s.sz, linear(c, i.seg, si(), s.n, false)));
      c.emit(c.setReg(R_EAX, s.sz, v));
      c.emit(advance(c, s, R_ESI));
      return;
    }
    case 'cmps': {
      const a = c.save(readLinear(c, s.sz, linear(c, i.seg, si(), s.n, false)));
      const b = c.save(readLinear(c, s.sz, linear(c, SEG_ES, di(), s.n, false)));
      recordFlags(c, LFK_SUB, s.sz, a, b, maskTo(c, s.sz, c.i32.sub(a, b)));
      c.emit(advance(c, s, R_ESI), advance(c, s, R_EDI));
      return;
    }
    case 'scas': {
      const b = c.save(readLinear(c, s.sz, linear(c, SEG_ES, di(), s.n, false)));
      const a = c.save(c.reg(R_EAX, s.sz));
      recordFlags(c, LFK_SUB, s.sz, a, b, maskTo(c, s.sz, c.i32.sub(a, b)));
      c.emit(advance(c, s, R_EDI));
    }
  }
}

function maskTo(c: EmitCtx, sz: number, v: Expr): Expr {
  return sz === SZ32 ? v : c.i32.and(v, c.const(SIZE_MASK[sz]));
}

/** TLB entry test for linear address `lin` (a temp), setting `e`. */
function tlbOk(c: EmitCtx, lin: Expr, e: number, write: boolean): Expr {
  const { i32, m } = c;
  c.usesMemory = true;
  const entry = m.tee(e, i32.load(TLB_OFFSET, 4, i32.and(i32.shr_u(lin, c.const(10)), c.const(0x3ffffc))));
  return i32.eq(i32.and(entry, m.get(write ? L_WMASK : L_RMASK)), c.const(1));
}

/** Elements that fit before the end of the page of `lin`. */
function room(c: EmitCtx, lin: Expr, sz: number): Expr {
  const { i32 } = c;
  return i32.shr_u(i32.sub(c.const(0x1000), i32.and(lin, c.const(0xfff))), c.const(sz));
}

function umin(c: EmitCtx, a: Expr, b: Expr): Expr {
  // Both operands are read twice: only pass side-effect-free expressions.
  return c.m.select(c.i32.lt_u(a, b), a, b);
}

/**
 * The REP MOVS / REP STOS fast path: one chunk inside a page pair, then `continue`. Returns the
 * statements (to be placed at the top of the loop body) or none when it does not apply.
 */
function fastChunk(c: EmitCtx, op: Op, s: Ctx, cont: string): Expr[] {
  if (!c.flat || s.asz !== SZ32 || (op !== 'movs' && op !== 'stos')) return [];
  const { i32, m } = c;
  const ecx = c.reg(R_ECX, SZ32);
  const esi = (): Expr => c.reg(R_ESI, SZ32);
  const edi = (): Expr => c.reg(R_EDI, SZ32);
  const es = c.tmp();
  const ed = c.tmp();
  const k = c.tmp();
  const bytes = c.tmp();
  const hs = c.tmp();
  const hd = c.tmp();
  const host = (e: number, lin: Expr): Expr => i32.xor(i32.and(m.get(e), c.const(-4096)), lin);
  const body: Expr[] = [];
  if (op === 'movs') {
    body.push(
      m.set(k, umin(c, m.get(k), room(c, esi(), s.sz))),
      m.set(hs, host(es, esi())),
      m.set(hd, host(ed, edi())),
      m.set(bytes, i32.shl(m.get(k), c.const(s.sz))),
      // Overlap with the destination ahead of the source would replicate data element by
      // element; memory.copy (memmove) would not. Only the harmless cases take the fast path.
      m.if(i32.and(i32.ne(m.get(k), c.const(0)),
        i32.or(i32.le_u(m.get(hd), m.get(hs)), i32.ge_u(m.get(hd), i32.add(m.get(hs), m.get(bytes))))),
      m.block(null, [
        m.memoryCopy(m.get(hd), m.get(hs), m.get(bytes)),
        c.setReg(R_ESI, SZ32, i32.add(esi(), m.get(bytes))),
        c.setReg(R_EDI, SZ32, i32.add(edi(), m.get(bytes))),
        c.setReg(R_ECX, SZ32, i32.sub(c.reg(R_ECX, SZ32), m.get(k))),
        m.br(cont),
      ])),
    );
  } else {
    // STOS: memory.fill writes one byte value: usable for bytes, and for words/dwords whose
    // bytes are all equal (zeroing, the common case).
    const al = i32.and(c.reg(R_EAX, SZ32), c.const(0xff));
    const uniform = s.sz === SZ8 ? c.const(1)
      : i32.eq(c.reg(R_EAX, s.sz), i32.mul(al, c.const(s.sz === SZ16 ? 0x0101 : 0x01010101)));
    body.push(
      m.set(hd, host(ed, edi())),
      m.set(bytes, i32.shl(m.get(k), c.const(s.sz))),
      m.if(i32.and(i32.ne(m.get(k), c.const(0)), uniform), m.block(null, [
        m.memoryFill(m.get(hd), i32.and(c.reg(R_EAX, SZ32), c.const(0xff)), m.get(bytes)),
        c.setReg(R_EDI, SZ32, i32.add(edi(), m.get(bytes))),
        c.setReg(R_ECX, SZ32, i32.sub(c.reg(R_ECX, SZ32), m.get(k))),
        m.br(cont),
      ])),
    );
  }
  const srcOk = op === 'movs' ? tlbOk(c, esi(), es, false) : c.const(1);
  return [
    m.if(i32.and(i32.eqz(i32.and(i32.load(EFLAGS, 4, c.const(0)), c.const(F_DF))), i32.and(srcOk, tlbOk(c, edi(), ed, true))),
      m.block(null, [m.set(k, umin(c, ecx, room(c, edi(), s.sz))), ...body])),
  ];
}

function emitString(c: EmitCtx, i: Insn, op: Op, sz: number): void {
  const { i32, m } = c;
  const asz = i.a32 ? SZ32 : SZ16;
  const n = 1 << sz;
  const df = i32.and(i32.load(EFLAGS, 4, c.const(0)), c.const(F_DF));
  const delta = c.save(m.select(df, c.const(-n), c.const(n)));
  const s: Ctx = { sz, n, asz, delta };
  const rep = (i.prefixes & (P_REP | P_REPNE)) !== 0;
  if (!rep) {
    element(c, i, op, s);
    return;
  }
  const brk = c.label('repEnd');
  const top = c.label('rep');
  const fast = fastChunk(c, op, s, top);
  const iter = c.capture(() => {
    element(c, i, op, s);
    const cnt = i.a32 ? i32.sub(c.reg(R_ECX, SZ32), c.const(1)) : i32.and(i32.sub(c.reg(R_ECX, SZ32), c.const(1)), c.const(0xffff));
    c.emit(c.setReg(R_ECX, asz, cnt));
    if (op === 'cmps' || op === 'scas') {
      // REPE stops when ZF = 0, REPNE when ZF = 1.
      const zf = condition(c, 4);
      c.emit(m.br(brk, (i.prefixes & P_REPNE) !== 0 ? zf : i32.eqz(zf)));
    }
  });
  c.emit(m.block(brk, [m.loop(top, m.block(null, [
    m.br(brk, i32.eqz(c.reg(R_ECX, asz))),
    ...fast,
    ...iter,
    m.br(top),
  ]))]));
  // With a zero count nothing ran: the flags' producer is only known at run time.
  if (op === 'cmps' || op === 'scas') c.flagKind = -1;
}

export const STRING_EMITTERS: EmitterMap = {
  movsb: (c, i) => emitString(c, i, 'movs', SZ8),
  movsv: (c, i) => emitString(c, i, 'movs', vsize(i)),
  stosb: (c, i) => emitString(c, i, 'stos', SZ8),
  stosv: (c, i) => emitString(c, i, 'stos', vsize(i)),
  lodsb: (c, i) => emitString(c, i, 'lods', SZ8),
  lodsv: (c, i) => emitString(c, i, 'lods', vsize(i)),
  cmpsb: (c, i) => emitString(c, i, 'cmps', SZ8),
  cmpsv: (c, i) => emitString(c, i, 'cmps', vsize(i)),
  scasb: (c, i) => emitString(c, i, 'scas', SZ8),
  scasv: (c, i) => emitString(c, i, 'scas', vsize(i)),
};
