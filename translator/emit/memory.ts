/**
 * Guest memory access in emitted code: effective addresses (SDM vol. 2, 2.1.5), segmentation
 * and the inline soft-TLB fast path (design.md §5: ~1 ns per access), with a helper call only on
 * a miss, a page crossing, MMIO or a code page.
 *
 * TLB entry format (translator/abi.ts): usable for an access iff (entry & mask) === TLB_VALID,
 * where the mask (state TLB_READ_MASK / TLB_WRITE_MASK, loaded into locals at region entry)
 * depends only on CPL, which is part of the mode key. The host address is
 * (entry & ~0xfff) ^ linear. Pages holding code carry TLB_CODE, which the write mask tests, so
 * every write to code takes the slow path and is seen by the runtime (self-modifying code).
 *
 * The fast path is inline at every access. Up to 77d6883 only blocks on a cycle had it, and
 * the rest called small module-internal functions (`ld32`, `st32`, ...: ~25 fewer Wasm nodes
 * per access, and translation cost grows with nodes); but a call costs more than its ~1 ns in
 * V8, most likely because its Wasm code keeps no value in a register across a call, so each
 * one sends the region's live guest registers to the stack and back. With every access inline
 * the Debian guest's getppid loop took 1.5-2.7 s of main-thread CPU instead of 2.5-3.5 s (six
 * alternated pairs, each pair in favour of inline), with 27 % more Wasm bytes per guest
 * instruction and the boot's main-thread CPU unchanged within the noise (translator/README.md).
 *
 * Segmentation: in a FLAT mode, offsets in CS (reads), DS, ES and SS are linear addresses. Any
 * other case (FS/GS, CS writes, real and 16-bit modes) checks the offset inline against the
 * segment's range in the state block and adds its base; a failing check calls the linr/linw
 * helper, which applies runtime/cpu.ts's checks and raises the fault.
 */
import type { Insn } from '../decoder/insn.ts';
import {
  packSegK, R_ESP, SEG_BASE, SEG_CS, SEG_RD_HI, SEG_RD_LO, SEG_SS, SEG_WR_HI, SEG_WR_LO, SZ16, SZ32, SZ8, TLB_OFFSET,
} from '../abi.ts';
import type { Expr } from '../wasm/backend.ts';
import { L_RMASK, L_SMC, L_WMASK } from './context.ts';
import type { EmitCtx } from './context.ts';

/** Effective address (offset in the segment) of the instruction's memory operand. */
export function effectiveAddress(c: EmitCtx, i: Insn): Expr {
  const { i32 } = c;
  let a: Expr | null = null;
  if (i.base >= 0) a = c.reg(i.base, SZ32);
  if (i.index >= 0) {
    let x = c.reg(i.index, SZ32);
    if (i.scale) x = i32.shl(x, i32.const(i.scale));
    a = a === null ? x : i32.add(a, x);
  }
  if (a === null) a = i32.const(i.a32 ? i.disp : i.disp & 0xffff);
  else if (i.disp !== 0) a = i32.add(a, i32.const(i.disp));
  return i.a32 ? a : i32.and(a, i32.const(0xffff));
}

/** True if offsets in `seg` are linear addresses for this access without any check. */
function isFlatSeg(c: EmitCtx, seg: number, write: boolean): boolean {
  return c.flat && seg !== 4 && seg !== 5 && !(seg === SEG_CS && write);
}

/**
 * A linear address: `addr`, and `seg` = the flat segment it is an offset in (its limit check was
 * elided; the slow-path helpers apply it to accesses that wrap past 4 GiB), or -1 when a helper
 * has already applied the segment checks.
 */
export interface Lin {
  readonly addr: Expr;
  readonly seg: number;
}

/**
 * Linear address of `seg:off` for an access of `n` bytes. Outside a flat segment the offset is
 * checked inline against the segment's valid range in the state block (SEG_RD_LO...) and the
 * base added; only when the check fails does the linr/linw helper run, to raise the fault
 * exactly as the interpreter does (the Linux kernel's per-CPU data is FS-relative).
 */
export function linear(c: EmitCtx, seg: number, off: Expr, n: number, write: boolean): Lin {
  if (isFlatSeg(c, seg, write)) return { addr: off, seg };
  const { m, i32 } = c;
  const o = c.tmp();
  const at = (field: number): Expr => i32.load(field + seg * 4, 4, i32.const(0));
  const last = n === 1 ? m.get(o) : i32.add(m.get(o), i32.const(n - 1));
  let bad = i32.or(i32.lt_u(m.tee(o, off), at(write ? SEG_WR_LO : SEG_RD_LO)), i32.gt_u(last, at(write ? SEG_WR_HI : SEG_RD_HI)));
  if (n > 1) bad = i32.or(bad, i32.lt_u(i32.add(m.get(o), i32.const(n - 1)), m.get(o))); // wraps past 4 GiB
  const helper = m.call(write ? 'linw' : 'linr', [i32.const(seg), m.get(o), i32.const((c.insnIndex << 4) | n)]);
  return { addr: m.if(bad, helper, i32.add(at(SEG_BASE), m.get(o))), seg: -1 };
}

/** Evaluates a linear address now (it may fault) into a temp. */
export function saveLin(c: EmitCtx, lin: Lin): Lin {
  return { addr: c.save(lin.addr), seg: lin.seg };
}

/** Linear address of the instruction's memory operand. */
export function operandLinear(c: EmitCtx, i: Insn, n: number, write: boolean): Lin {
  return linear(c, i.seg, effectiveAddress(c, i), n, write);
}

/** The TLB-hit test for an access of size `sz` at linear address local `lin`, entry into local `e`. */
function tlbHit(c: EmitCtx, sz: number, lin: number, e: number, write: boolean): Expr {
  const { m, i32 } = c;
  c.usesMemory = true;
  const entry = m.tee(e, i32.load(TLB_OFFSET, 4, i32.and(i32.shr_u(m.get(lin), i32.const(10)), i32.const(0x3ffffc))));
  const ok = i32.eq(i32.and(entry, m.get(write ? L_WMASK : L_RMASK)), i32.const(1));
  if (sz === SZ8) return ok;
  const inPage = sz === SZ16
    ? i32.ne(i32.and(m.get(lin), i32.const(0xfff)), i32.const(0xfff))
    : i32.le_u(i32.and(m.get(lin), i32.const(0xfff)), i32.const(0xffc));
  return i32.and(ok, inPage);
}

function hostAddr(c: EmitCtx, lin: number, e: number): Expr {
  const { m, i32 } = c;
  return i32.xor(i32.and(m.get(e), i32.const(-4096)), m.get(lin));
}

function loadHost(c: EmitCtx, sz: number, addr: Expr): Expr {
  const { i32 } = c;
  return sz === SZ8 ? i32.load8_u(0, 1, addr) : sz === SZ16 ? i32.load16_u(0, 1, addr) : i32.load(0, 1, addr);
}

function storeHost(c: EmitCtx, sz: number, addr: Expr, v: Expr): Expr {
  const { i32 } = c;
  return sz === SZ8 ? i32.store8(0, 1, addr, v) : sz === SZ16 ? i32.store16(0, 1, addr, v) : i32.store(0, 1, addr, v);
}

const RD = ['rd8', 'rd16', 'rd32'] as const;
const WR = ['wr8', 'wr16', 'wr32'] as const;

/** A read through a helper (TLB miss); a fault throws (see context.ts). */
function slowRead(c: EmitCtx, sz: number, lin: Expr, seg: number): Expr {
  return c.m.call(RD[sz], [lin, c.i32.const(packSegK(c.insnIndex, seg))]);
}

/** A write through a helper; WR_CODE (it hit this region's code) is remembered for the SMC check. */
function slowWrite(c: EmitCtx, sz: number, lin: Expr, v: Expr, seg: number): Expr {
  const { m, i32 } = c;
  c.mayWriteCode = true;
  return m.if(m.call(WR[sz], [lin, v, i32.const(packSegK(c.insnIndex, seg))]), m.set(L_SMC, i32.const(1)));
}

/** Reads `sz` at linear address `linExpr`: an expression (8/16-bit zero-extended). */
export function readLinear(c: EmitCtx, sz: number, l: Lin): Expr {
  const { m } = c;
  const { local: lin, init } = c.localFor(l.addr);
  const e = c.tmp();
  const access = m.if(tlbHit(c, sz, lin, e, false), loadHost(c, sz, hostAddr(c, lin, e)), slowRead(c, sz, m.get(lin), l.seg));
  return init === null ? access : m.block(null, [init, access], m.i32Type);
}

/**
 * Writes `v` (masked to `sz`) at linear address `l`: a statement. `final` says the write is the
 * instruction's last effect, so a write into the region's own code may leave at once (else it
 * is remembered in L_SMC and checked after the instruction).
 */
export function writeLinear(c: EmitCtx, sz: number, l: Lin, v: Expr, final = false): Expr {
  const { m, i32 } = c;
  const slow = (lin: Expr, val: Expr): Expr => {
    const call = m.call(WR[sz], [lin, val, i32.const(packSegK(c.insnIndex, l.seg))]);
    if (final) return c.smcExitIf(call);
    c.mayWriteCode = true;
    return m.if(call, m.set(L_SMC, i32.const(1)));
  };
  const { local: lin, init } = c.localFor(l.addr);
  const e = c.tmp();
  const out: Expr[] = init === null ? [] : [init];
  let val = v;
  if (!m.isLeaf(v)) {
    const t = c.tmp();
    out.push(m.set(t, v));
    val = m.get(t);
  }
  out.push(m.if(tlbHit(c, sz, lin, e, true), storeHost(c, sz, hostAddr(c, lin, e), val), slow(m.get(lin), val)));
  return out.length === 1 ? out[0] : m.block(null, out);
}

/**
 * A read-modify-write access: one translation for writing (so a fault has the write bit, as on
 * hardware), then `read` and `write(v)` through the host address or the helpers.
 */
export interface RmwAccess {
  read: Expr;
  write(v: Expr): Expr;
}

export function rmwLinear(c: EmitCtx, sz: number, l: Lin): RmwAccess {
  const { m, i32 } = c;
  // `lin` is read again by `write`, after other statements: it must not be a register's local.
  const { local: lin, init } = c.localFor(l.addr, true);
  const e = c.tmp();
  const h = c.tmp();
  const n = 1 << sz;
  if (init !== null) c.emit(init);
  c.emit(m.set(h, m.if(tlbHit(c, sz, lin, e, true), hostAddr(c, lin, e), m.block(null, [
    m.drop(m.call('chkw', [m.get(lin), i32.const(n), i32.const(packSegK(c.insnIndex, l.seg))])),
    i32.const(-1),
  ], m.i32Type))));
  const slow = i32.eq(m.get(h), i32.const(-1));
  return {
    // After chkw, the helpers need no segment check (-1).
    read: m.if(slow, slowRead(c, sz, m.get(lin), -1), loadHost(c, sz, m.get(h))),
    write: (v: Expr) => {
      const val = c.save(v);
      return m.if(slow, slowWrite(c, sz, m.get(lin), val, -1), storeHost(c, sz, m.get(h), val));
    },
  };
}

/** Reads the r/m operand of size `sz` (register or memory). */
export function readRM(c: EmitCtx, i: Insn, sz: number): Expr {
  if (i.mod === 3) return c.reg(i.rm, sz);
  return readLinear(c, sz, operandLinear(c, i, 1 << sz, false));
}

// ------------------------------------------------------------------------------ stack
/** The stack pointer at the stack's width (ESP, or SP zero-extended). */
export function stackPointer(c: EmitCtx): Expr {
  return c.stack32 ? c.reg(R_ESP, SZ32) : c.reg(R_ESP, SZ16);
}

/** `sp + delta` wrapped to the stack's width. */
export function stackAdd(c: EmitCtx, sp: Expr, delta: number): Expr {
  const { i32 } = c;
  const v = i32.add(sp, i32.const(delta));
  return c.stack32 ? v : i32.and(v, i32.const(0xffff));
}

/** Sets the stack pointer (ESP, or SP keeping ESP's upper half). */
export function setStackPointer(c: EmitCtx, v: Expr): Expr {
  return c.setReg(R_ESP, c.stack32 ? SZ32 : SZ16, v);
}

/**
 * PUSH of `v` (operand size `sz`, SZ16 or SZ32): the write happens first, ESP changes only after
 * it succeeded. `v` is evaluated before ESP changes (PUSH ESP pushes the old value).
 */
export function push(c: EmitCtx, sz: number, v: Expr): void {
  const { m } = c;
  const n = sz === SZ32 ? 4 : 2;
  const sp = c.tmp();
  c.emit(m.set(sp, stackAdd(c, stackPointer(c), -n)));
  c.emit(writeLinear(c, sz, linear(c, SEG_SS, m.get(sp), n, true), v));
  c.emit(setStackPointer(c, m.get(sp)));
}

/**
 * Reads the value `delta` bytes above the top of the stack into a temp; returns its getter.
 * Nothing is modified (the caller adjusts ESP after every access that may fault).
 */
export function peek(c: EmitCtx, sz: number, delta: number): Expr {
  const n = sz === SZ32 ? 4 : 2;
  const off = delta ? stackAdd(c, stackPointer(c), delta) : stackPointer(c);
  return c.save(readLinear(c, sz, linear(c, SEG_SS, off, n, false)));
}

/** Adds `delta` to the stack pointer (at the stack's width). */
export function adjustStack(c: EmitCtx, delta: number): Expr {
  return setStackPointer(c, stackAdd(c, stackPointer(c), delta));
}
