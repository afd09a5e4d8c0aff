/**
 * The emission context of one region function: its locals, the guest registers held in them,
 * the statement list of the segment being emitted, and the exits every emitter may take.
 *
 * Invariants the emitters rely on (and the exits maintain):
 * - Guest registers live in Wasm locals R[0..7] for the whole function; the state block is
 *   stale for a register while its local is newer. Every exit stores the registers the region
 *   writes (`flush`), so the state block is exact whenever the runtime or a helper looks.
 * - The lazy-flags record lives in locals LF* the same way (runtime/lazy-flags.ts semantics).
 * - An instruction performs every access that may fault before it writes a register or a flag
 *   local. Helpers report faults by throwing; the function's catch_all stores the locals as they
 *   are and the runtime sets EIP from the instruction index the helper was given, so the state
 *   is as before the faulting instruction: page-fault exactness. Inline faults (#DE) take
 *   `faultExit`, which does the same explicitly.
 * - Instruction counts: each segment subtracts its inline instructions from the BUDGET local
 *   when it ends; a fault exit subtracts only those completed before the faulting one.
 */
import type { Insn } from '../decoder/insn.ts';
import {
  EXIT_REQUEST, LF_A, LF_B, LF_C, LF_OP, LF_RES, REGS,
  MODE_CS32, MODE_FLAT, MODE_SS32, SZ16, SZ32,
} from '../abi.ts';
import type { Expr, I32Ops, I64Ops, ModuleBuilder, ValType } from '../wasm/backend.ts';
import type { Route } from './loops.ts';

/** Fixed local indices (local 0 is the `entry` parameter). */
export const L_ENTRY = 0;
export const L_REG = 1; // 1..8: EAX..EDI
export const L_LFOP = 9;
export const L_LFA = 10;
export const L_LFB = 11;
export const L_LFR = 12;
export const L_LFC = 13;
/** Segment to dispatch to at the loop head (after the interp stub: -1 leaves the region). */
export const L_PC = 14;
/** EIP to store on exit (the value an exit carries to `$exit`). */
export const L_EIP = 15;
/** Exit code to return; zero-initialized, so it stays EXIT_CONTINUE unless a path sets it. */
export const L_CODE = 16;
/** Instructions left in the slice (state BUDGET). */
export const L_BUDGET = 17;
/** Control-class instructions run inline. */
export const L_NCTL = 18;
/** Region instruction index carried to the interp stub (-1: a plain exit), then its result. */
export const L_ARG = 19;
/** Soft-TLB masks for reads and writes (state TLB_READ_MASK / TLB_WRITE_MASK). */
export const L_RMASK = 20;
export const L_WMASK = 21;
/** Set when a write hit a page of the running region's code (finish the instruction, then exit). */
export const L_SMC = 22;
/** Region index of the instruction whose write hit the region's code (the value `$smc` carries). */
export const L_SMCK = 23;
const FIRST_TEMP = 24;

/**
 * Labels of the region function's skeleton (see region.ts). `$exit`, `$stub` and `$smc` are
 * blocks with an i32 result, so that one `br` with a value leaves: the EIP to continue at, the
 * instruction to run through the interp helper, the instruction that wrote the region's code.
 */
export const LBL_TOP = 'top';
export const LBL_STUB = 'stub';
export const LBL_EXIT = 'exit';
export const LBL_SMC = 'smc';
export const LBL_OUT = 'out';

/** How the region emitter answers questions about the region's layout. */
export interface RegionLayout {
  /** Segment index of the block starting at `eip`, or -1 if no block of the region starts there. */
  segmentAt(eip: number): number;
  /** Block starts that dynamic transfers (RET, JMP r/m) are compared against, in priority order. */
  readonly dynamicTargets: readonly number[];
  /** How a goto from segment `from` reaches the start of segment `to` (emit/loops.ts). */
  route(from: number, to: number): Route;
}

export class EmitCtx {
  readonly i32: I32Ops;
  readonly i64: I64Ops;
  readonly code32: boolean;
  readonly stack32: boolean;
  /** CS, DS, ES, SS are flat (base 0, 4 GiB): their offsets are linear addresses. */
  readonly flat: boolean;

  /** Types of the declared (non-parameter) locals, index = local - 1. */
  readonly vars: ValType[] = [];
  private freeI32: number[] = [];
  private freeI64: number[] = [];
  private tempsInUse: [number, boolean][] = [];

  /** Registers read or written (bit r), and written, by inline code. */
  usedRegs = 0;
  writtenRegs = 0;
  usesFlags = false;
  usesMemory = false;
  /** Some instruction runs through the interp stub; some write may hit the region's code. */
  usesStub = false;
  usesSmc = false;

  /** Statically known kind (LFK_*) and size of the lazy-flags record, or -1 when unknown. */
  flagKind = -1;
  flagSize = SZ32;

  /** Statements of the segment being emitted. */
  out: Expr[] = [];

  // The instruction being emitted.
  insn!: Insn;
  /** Index of the instruction in the region (argument of the interp helper). */
  insnIndex = 0;
  /** CS offset of the next instruction. */
  next = 0;
  /** Inline instructions of the current segment before this one. */
  done = 0;
  /** The instruction has a slow-path write that may hit the running region's code. */
  mayWriteCode = false;
  /**
   * The flags record the instruction leaves can be observed (liveness.ts); when false its
   * emitter records nothing (and keeps `flagKind`, which still describes the locals).
   */
  flagsLive = true;
  /**
   * For a VMM row emitted inline (emit/vmm.ts): the segment its slow path resumes at after the
   * interp stub ran the instruction (-1: leave the region).
   */
  resumeSeg = -1;
  /** Set by a VMM row's emitter: after the instruction retires, leave the region when it is nonzero. */
  exitAfter: Expr | null = null;
  /** Set by a VMM emitter whose fast path transfers control: the region leaves after it to this EIP (in the mode then in force). */
  exitAt: Expr | null = null;
  /** Index of the current segment, and the label of its self-loop if it has one. */
  segment = 0;
  selfLoopLabel: string | null = null;
  selfLoopEip = 0;
  /** The self-loop block's instruction count (its back edge checks the budget for the next turn). */
  selfLoopLen = 0;

  constructor(readonly m: ModuleBuilder, readonly mode: number, readonly layout: RegionLayout) {
    this.i32 = m.i32;
    this.i64 = m.i64;
    this.code32 = (mode & MODE_CS32) !== 0;
    this.stack32 = (mode & MODE_SS32) !== 0;
    this.flat = (mode & MODE_FLAT) !== 0;
    // Fixed locals 1..23 are i32.
    for (let l = 1; l < FIRST_TEMP; l++) this.vars.push(m.i32Type);
  }

  // ------------------------------------------------------------------ statements and temps
  emit(...e: Expr[]): void {
    this.out.push(...e);
  }

  private labelCount = 0;

  /** A label name unique in the function. */
  label(prefix: string): string {
    return `${prefix}${this.labelCount++}`;
  }

  /** Runs `f` with a fresh statement list and returns what it emitted (for conditional arms). */
  capture(f: () => void): Expr[] {
    const saved = this.out;
    this.out = [];
    try {
      f();
      return this.out;
    } finally {
      this.out = saved;
    }
  }

  /** A scratch i32 local, free again after the current instruction. */
  tmp(): number {
    let l = this.freeI32.pop();
    if (l === undefined) {
      l = this.vars.length + 1;
      this.vars.push(this.m.i32Type);
    }
    this.tempsInUse.push([l, false]);
    return l;
  }

  /** A scratch i64 local, free again after the current instruction. */
  tmp64(): number {
    let l = this.freeI64.pop();
    if (l === undefined) {
      l = this.vars.length + 1;
      this.vars.push(this.m.i64Type);
    }
    this.tempsInUse.push([l, true]);
    return l;
  }

  /**
   * True if `e` reads the same value wherever it is used during this instruction: a constant,
   * or a read of a temp (temps are assigned once per instruction). Register and flag locals
   * change, so reads of them are not stable.
   */
  private isStable(e: Expr): boolean {
    const l = this.m.localOf(e);
    return l >= 0 ? l >= FIRST_TEMP : this.m.isLeaf(e);
  }

  /**
   * Evaluates `e` now (a statement into a fresh temp) and returns a reading of it that may be
   * used several times; a stable leaf is returned as it is.
   */
  save(e: Expr): Expr {
    if (this.isStable(e)) return e;
    const t = this.tmp();
    this.emit(this.m.set(t, e));
    return this.m.get(t);
  }

  /**
   * A local holding `e` for repeated reads: `e`'s own local if it is a local.get (any local when
   * the reads are all in one expression tree, only a temp if `stable` is asked for), else a temp;
   * then `init` is the statement that fills it, to place first.
   */
  localFor(e: Expr, stable = false): { local: number; init: Expr | null } {
    const l = this.m.localOf(e);
    if (l >= 0 && (!stable || l >= FIRST_TEMP)) return { local: l, init: null };
    const t = this.tmp();
    return { local: t, init: this.m.set(t, e) };
  }

  releaseTemps(): void {
    for (const [l, wide] of this.tempsInUse) (wide ? this.freeI64 : this.freeI32).push(l);
    this.tempsInUse = [];
  }

  get(l: number): Expr { return this.m.get(l); }
  set(l: number, v: Expr): Expr { return this.m.set(l, v); }
  const(v: number): Expr { return this.i32.const(v | 0); }

  // ------------------------------------------------------------------ guest registers
  /** Reads register `r` at size `sz` (8/16-bit values zero-extended). */
  reg(r: number, sz: number): Expr {
    const { i32, m } = this;
    if (sz === SZ32) { this.usedRegs |= 1 << r; return m.get(L_REG + r); }
    if (sz === SZ16) { this.usedRegs |= 1 << r; return i32.and(m.get(L_REG + r), i32.const(0xffff)); }
    const base = r & 3;
    this.usedRegs |= 1 << base;
    if (r < 4) return i32.and(m.get(L_REG + base), i32.const(0xff));
    return i32.and(i32.shr_u(m.get(L_REG + base), i32.const(8)), i32.const(0xff));
  }

  /** Writes register `r` at size `sz`; `v` must already be masked to the size. */
  setReg(r: number, sz: number, v: Expr): Expr {
    const { i32, m } = this;
    if (sz === SZ32) { this.markWrite(r); return m.set(L_REG + r, v); }
    if (sz === SZ16) {
      this.markWrite(r);
      return m.set(L_REG + r, i32.or(i32.and(m.get(L_REG + r), i32.const(0xffff0000 | 0)), v));
    }
    const base = r & 3;
    this.markWrite(base);
    if (r < 4) return m.set(L_REG + base, i32.or(i32.and(m.get(L_REG + base), i32.const(~0xff)), v));
    return m.set(L_REG + base, i32.or(i32.and(m.get(L_REG + base), i32.const(~0xff00)), i32.shl(v, i32.const(8))));
  }

  private markWrite(r: number): void {
    this.usedRegs |= 1 << r;
    this.writtenRegs |= 1 << r;
  }

  /** Stores the registers written by the region and the lazy-flags locals to the state block. */
  flushState(): Expr[] {
    const { i32, m } = this;
    const out: Expr[] = [];
    for (let r = 0; r < 8; r++) {
      if (this.writtenRegs & (1 << r)) out.push(i32.store(REGS + 4 * r, 4, i32.const(0), m.get(L_REG + r)));
    }
    if (this.usesFlags) out.push(...this.flushFlags());
    return out;
  }

  /** Stores the lazy-flags locals to the state block (before a helper that reads them). */
  flushFlags(): Expr[] {
    const { i32, m } = this;
    this.usesFlags = true;
    return [
      i32.store(LF_OP, 4, i32.const(0), m.get(L_LFOP)),
      i32.store(LF_A, 4, i32.const(0), m.get(L_LFA)),
      i32.store(LF_B, 4, i32.const(0), m.get(L_LFB)),
      i32.store(LF_RES, 4, i32.const(0), m.get(L_LFR)),
      i32.store(LF_C, 4, i32.const(0), m.get(L_LFC)),
    ];
  }

  /** Loads the registers the region uses and the lazy-flags locals from the state block. */
  reloadState(): Expr[] {
    const { i32, m } = this;
    const out: Expr[] = [];
    for (let r = 0; r < 8; r++) {
      if (this.usedRegs & (1 << r)) out.push(m.set(L_REG + r, i32.load(REGS + 4 * r, 4, i32.const(0))));
    }
    if (this.usesFlags) {
      out.push(
        m.set(L_LFOP, i32.load(LF_OP, 4, i32.const(0))),
        m.set(L_LFA, i32.load(LF_A, 4, i32.const(0))),
        m.set(L_LFB, i32.load(LF_B, 4, i32.const(0))),
        m.set(L_LFR, i32.load(LF_RES, 4, i32.const(0))),
        m.set(L_LFC, i32.load(LF_C, 4, i32.const(0))),
      );
    }
    return out;
  }

  // ------------------------------------------------------------------ exits
  /**
   * The slow path of a VMM row emitted inline: when `cond` holds, the whole instruction runs
   * through the interp stub (the VMM's handler, with every check and fault) instead. Nothing
   * may have been changed by the fast path before this test.
   */
  toStub(cond: Expr): Expr {
    const { m, i32 } = this;
    this.usesStub = true;
    return m.if(cond, m.block(null, [
      m.set(L_EIP, i32.const(this.insn.eip)),
      m.set(L_PC, i32.const(this.resumeSeg)),
      m.br(LBL_STUB, undefined, i32.const(this.insnIndex)),
    ]));
  }

  /** Exit leaving the current instruction undone (an inline fault): state as before it, EIP = its address. */
  faultExit(code: number): Expr {
    const { m, i32 } = this;
    const s: Expr[] = [];
    if (this.done) s.push(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(this.done))));
    s.push(m.set(L_CODE, i32.const(code)), m.br(LBL_EXIT, undefined, i32.const(this.insn.eip)));
    return m.block(null, s);
  }

  /**
   * Counts the current instruction as completed and ends the segment's accounting: subtracts the
   * segment's inline instructions from the budget. Emitted once on every path that leaves the
   * segment after completing the instruction (control emitters call it before their gotos).
   */
  retire(isControl: boolean): Expr[] {
    const { m, i32 } = this;
    const out: Expr[] = [m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(this.done + 1)))];
    if (isControl) out.push(m.set(L_NCTL, i32.add(m.get(L_NCTL), i32.const(1))));
    return out;
  }

  /**
   * After an instruction whose write may have hit this region's code: leave before running
   * stale code (the runtime continues after instruction `insnIndex`).
   */
  smcAfter(): Expr {
    const { m, i32 } = this;
    this.usesSmc = true;
    return m.drop(m.br(LBL_SMC, m.get(L_SMC), i32.const(this.insnIndex)));
  }

  /**
   * A write that is the last effect of its instruction: `hit` (the write's WR_* result) leaves
   * the region right away when the write hit the region's code.
   */
  smcExitIf(hit: Expr): Expr {
    const { m, i32 } = this;
    this.usesSmc = true;
    return m.drop(m.br(LBL_SMC, hit, i32.const(this.insnIndex)));
  }

  /**
   * The same for control transfers, which have retired already and continue at `nextEip`.
   * `retired` says the instruction was already counted.
   */
  smcCheck(nextEip: Expr, retired: boolean): Expr {
    const { m, i32 } = this;
    const s: Expr[] = [];
    if (!retired) s.push(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(this.done + 1))));
    s.push(m.br(LBL_EXIT, undefined, nextEip));
    return m.if(m.get(L_SMC), s.length === 1 ? s[0] : m.block(null, s));
  }

  /** Exit to the run loop, continuing at `eip` (the instruction has been retired). */
  exitTo(eip: Expr): Expr {
    return this.m.br(LBL_EXIT, undefined, eip);
  }

  /** Exit to the run loop at `eip` if `cond` holds (a statement). */
  exitIf(cond: Expr, eip: number): Expr {
    const { m, i32 } = this;
    return m.drop(m.br(LBL_EXIT, cond, i32.const(eip)));
  }

  /** Exit at `eip` if the run loop asked for control (interrupts, stop). */
  private exitRequestCheck(eip: number): Expr {
    return this.exitIf(this.i32.load(EXIT_REQUEST, 4, this.i32.const(0)), eip);
  }

  /**
   * Continues at the constant CS offset `target` after the instruction was retired: a branch
   * inside the region when a block starts there, else an exit. `last` says the goto is the final
   * statement of the segment, so a jump to the next segment may simply fall through.
   */
  goto(target: number, last: boolean): Expr[] {
    const { m, i32 } = this;
    const seg = this.layout.segmentAt(target);
    if (seg < 0) return [this.exitTo(i32.const(target))];
    if (this.selfLoopLabel !== null && target === this.selfLoopEip) {
      // The next turn's budget check and the exit-request test in one branch, on the back edge
      // rather than at the loop head (region.ts startSegment): nothing at the head then observes
      // the lazy-flags record, so its locals do not live across the back edge.
      const again = i32.or(i32.load(EXIT_REQUEST, 4, i32.const(0)), i32.lt_s(m.get(L_BUDGET), i32.const(this.selfLoopLen)));
      return [this.exitIf(again, target), m.br(this.selfLoopLabel)];
    }
    if (seg === this.segment + 1 && last) return [];
    return this.toSegment(seg, target);
  }

  /** Branches to the start of segment `seg` (at CS offset `eip`) of this region: emit/loops.ts. */
  private toSegment(seg: number, eip: number): Expr[] {
    const { m, i32 } = this;
    const r = this.layout.route(this.segment, seg);
    const out: Expr[] = [];
    if (r.back) out.push(this.exitRequestCheck(eip));
    if (r.setPc) out.push(m.set(L_PC, i32.const(seg)));
    out.push(m.br(r.label));
    return out;
  }

  /** Continues at a computed CS offset (RET, JMP r/m): compared with likely targets, else an exit. */
  gotoDynamic(target: Expr): Expr[] {
    const { m, i32 } = this;
    const t = this.m.localOf(target);
    const out: Expr[] = [];
    let local = t;
    if (local < 0 || this.layout.dynamicTargets.length === 0) {
      if (this.layout.dynamicTargets.length === 0) return [this.exitTo(target)];
      local = L_EIP;
      out.push(m.set(L_EIP, target));
    }
    for (const d of this.layout.dynamicTargets) {
      const seg = this.layout.segmentAt(d);
      const go = this.toSegment(seg, d);
      out.push(m.if(i32.eq(m.get(local), i32.const(d)), go.length === 1 ? go[0] : m.block(null, go)));
    }
    out.push(this.exitTo(m.get(local)));
    return out;
  }

  /** The next-instruction EIP as a constant expression. */
  nextEip(): Expr {
    return this.i32.const(this.next);
  }
}
