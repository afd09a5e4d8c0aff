/**
 * Emitters for sensitive and privileged rows, facing runtime/vmm/ (flags-insns.ts, segments.ts,
 * insns-system.ts): the VMM's emulation of the frequent cases done inside translated code, as
 * VMware's binary translator did for CLI, STI, PUSHF, POPF and segment loads (Adams & Agesen,
 * ASPLOS 2006). Each emitter's fast path is exact for the cases it takes; every other case
 * (a privilege or IOPL check that would fault, virtual-8086 mode, a pending interrupt that STI
 * or POPF would make deliverable, TF, SS loads) takes `c.toStub`, which runs the VMM's handler
 * through the interp stub, before anything was changed. The mode bits of the region (PE, VM86,
 * CPL, the stack width) are constants here, so most checks disappear at translation time.
 *
 * Invariants (region.ts keeps them): a VMM row ends its segment, so the stub path resumes at the
 * next segment; the region counts each fast-path execution under the row's exit reason
 * (DBT_INLINE) and its class. Segment loads and RDTSC call small helpers (`ldseg`, `rdtsc`)
 * rather than the interp stub: no registers are stored and reloaded, and a fault they raise
 * leaves the state as before the instruction.
 */
import {
  CPL, CR, EFLAGS, EXIT_REQUEST, F_DEFINED, F_FIXED1, F_IF, F_IOPL, F_POPF, F_RF, F_TF, F_VM, F_ZF,
  GDTR_BASE, GDTR_LIMIT, IRQ_WAITING, LF_NONE, MODE, MODE_CPL_MASK, MODE_CPL_SHIFT, MODE_CS32, MODE_FLAT,
  MODE_PE, MODE_PG, MODE_SS32, MODE_VM86, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, R_EAX, R_ECX,
  R_EDX, R_ESP, SCRATCH, SEGF_ACCESSED, SEGF_DPL_SHIFT, SEGF_FLAT_CODE, SEGF_FLAT_DATA, SEGF_USABLE,
  SEG_BASE, SEG_CS, SEG_DS, SEG_ES, SEG_FLAGS, SEG_FS, SEG_GS, SEG_LIMIT, SEG_RD_HI, SEG_RD_LO, SEG_SEL,
  SEG_SS, SEG_WR_HI, SEG_WR_LO, SZ16, SZ32, SZ8, TLB_CODE, TLB_MMIO, TLB_NO_USER, TLB_OFFSET, TLB_READ_MASK,
  TLB_RO_SUP, TLB_RO_USER, TLB_VALID, TLB_WRITE_MASK,
} from '../abi.ts';
import type { Insn } from '../decoder/insn.ts';
import { vsize } from '../decoder/insn.ts';
import type { Expr } from '../wasm/backend.ts';
import type { EmitCtx } from './context.ts';
import { L_LFOP } from './context.ts';
import { materializeFlags, setArithFlags } from './flags.ts';
import { adjustStack, operandLinear, peek, push, readRM, saveLin, writeLinear } from './memory.ts';
import type { EmitterMap } from './types.ts';

const cplOf = (c: EmitCtx): number => (c.mode & MODE_CPL_MASK) >>> MODE_CPL_SHIFT;
const protectedMode = (c: EmitCtx): boolean => (c.mode & MODE_PE) !== 0;
const v86 = (c: EmitCtx): boolean => (c.mode & MODE_VM86) !== 0;

function eflags(c: EmitCtx): Expr {
  return c.i32.load(EFLAGS, 4, c.i32.const(0));
}

function setEflags(c: EmitCtx, v: Expr): Expr {
  return c.i32.store(EFLAGS, 4, c.i32.const(0), v);
}

/** IOPL as 0..3 from an EFLAGS value. */
function ioplOf(c: EmitCtx, ef: Expr): Expr {
  const { i32 } = c;
  return i32.and(i32.shr_u(ef, i32.const(12)), i32.const(3));
}

/**
 * The IOPL CLI and STI need (SDM vol. 2, CLI/STI operation): none in real mode, 3 in
 * virtual-8086 mode (no VME), CPL in protected mode. The condition that faults, or null.
 */
function ioplFails(c: EmitCtx, ef: Expr): Expr | null {
  const need = !protectedMode(c) ? 0 : v86(c) ? 3 : cplOf(c);
  if (need === 0) return null;
  return c.i32.lt_u(ioplOf(c, ef), c.i32.const(need));
}

function or(c: EmitCtx, a: Expr | null, b: Expr): Expr {
  return a === null ? b : c.i32.or(a, b);
}

/** CLI: clears IF. */
function emitCli(c: EmitCtx): void {
  const { i32 } = c;
  const ef = c.save(eflags(c));
  const fails = ioplFails(c, ef);
  if (fails) c.emit(c.toStub(fails));
  c.emit(setEflags(c, i32.and(ef, i32.const(~F_IF))));
}

/**
 * STI: sets IF. It opens an interrupt shadow only when an interrupt could be taken after it
 * (runtime/vmm/flags-insns.ts): with IF clear and an interrupt waiting or a request pending the
 * stub runs it.
 */
function emitSti(c: EmitCtx): void {
  const { i32 } = c;
  const ef = c.save(eflags(c));
  const waiting = i32.and(
    i32.eqz(i32.and(ef, i32.const(F_IF))),
    i32.ne(i32.or(i32.load(IRQ_WAITING, 4, i32.const(0)), i32.load(EXIT_REQUEST, 4, i32.const(0))), i32.const(0)),
  );
  c.emit(c.toStub(or(c, ioplFails(c, ef), waiting)));
  c.emit(setEflags(c, i32.or(ef, i32.const(F_IF))));
}

/** PUSHF/PUSHFD: the image has VM and RF clear; virtual-8086 mode needs IOPL 3. */
function emitPushf(c: EmitCtx, i: Insn): void {
  const { i32 } = c;
  if (v86(c)) c.emit(c.toStub(i32.ne(ioplOf(c, eflags(c)), i32.const(3))));
  const sz = vsize(i);
  const f = i32.and(materializeFlags(c), i32.const(sz === SZ32 ? ~(F_VM | F_RF) : 0xffff));
  push(c, sz, f);
}

/**
 * POPF/POPFD outside virtual-8086 mode: the flags the mode lets it change (IOPL only at CPL 0, IF
 * only when CPL <= IOPL) come from the stack, RF is cleared. Setting TF (a trap after the next
 * instruction) or IF while an interrupt waits goes through the stub, which leaves for the run loop.
 */
function emitPopf(c: EmitCtx, i: Insn): void {
  const { i32, m } = c;
  if (v86(c)) {
    c.emit(c.toStub(i32.const(1)));
    return;
  }
  const sz = vsize(i);
  const cpl = protectedMode(c) ? cplOf(c) : 0;
  const width = sz === SZ32 ? -1 : 0xffff;
  const v = peek(c, sz, 0);
  const old = c.save(eflags(c));
  let mask: Expr = i32.const((cpl > 0 ? F_POPF & ~F_IOPL & ~F_IF : F_POPF) & width);
  // Above CPL 0, IF follows the stack only when CPL <= IOPL.
  if (cpl > 0) mask = c.save(i32.or(mask, m.select(i32.ge_u(ioplOf(c, old), i32.const(cpl)), i32.const(F_IF), i32.const(0))));
  const nv = c.save(i32.or(
    i32.and(i32.or(i32.and(old, i32.xor(mask, i32.const(-1))), i32.and(v, mask)), i32.const(F_DEFINED & ~F_RF)),
    i32.const(F_FIXED1),
  ));
  const rising = i32.ne(i32.and(i32.and(nv, i32.xor(old, i32.const(-1))), i32.const(F_IF)), i32.const(0));
  c.emit(c.toStub(i32.or(
    i32.ne(i32.and(nv, i32.const(F_TF)), i32.const(0)),
    i32.and(rising, i32.ne(i32.load(IRQ_WAITING, 4, i32.const(0)), i32.const(0))),
  )));
  c.emit(adjustStack(c, sz === SZ32 ? 4 : 2));
  c.emit(setEflags(c, nv));
  c.usesFlags = true;
  c.emit(m.set(L_LFOP, i32.const(LF_NONE)));
  c.flagKind = LF_NONE;
}

/** PUSH Sreg: the selector, zero-extended to the operand size. */
function pushSeg(seg: number) {
  return (c: EmitCtx, i: Insn): void => {
    push(c, vsize(i), c.i32.load16_u(SEG_SEL + 4 * seg, 2, c.i32.const(0)));
  };
}

/** True for the segment registers loaded through `ldseg` (SS, with its shadow and stack width, and CS take the stub). */
const dataSeg = (seg: number): boolean => seg === SEG_DS || seg === SEG_ES || seg === SEG_FS || seg === SEG_GS;

/**
 * Statements that read the 8 bytes of the GDT entry `sel` names into locals `lo` and `hi`, or
 * take `no` (a branch out with 0) for the LDT, an entry past the GDT limit, or one the soft TLB
 * does not map (an implicit supervisor read, so the entry's user bit does not matter; not across
 * a page; not MMIO). The null selector is the caller's to check first.
 */
function readGdtDescriptor(c: EmitCtx, sel: Expr, no: (cond: Expr) => Expr, lo: number, hi: number): Expr[] {
  const { m, i32 } = c;
  const z = i32.const(0);
  const lin = c.tmp();
  const e = c.tmp();
  return [
    no(i32.and(sel, i32.const(4))), // the LDT
    no(i32.gt_u(i32.or(i32.and(sel, i32.const(0xfff8)), i32.const(7)), i32.load(GDTR_LIMIT, 4, z))),
    m.set(lin, i32.add(i32.load(GDTR_BASE, 4, z), i32.and(sel, i32.const(0xfff8)))),
    no(i32.gt_u(i32.and(m.get(lin), i32.const(0xfff)), i32.const(0xff8))),
    m.set(e, i32.load(TLB_OFFSET, 4, i32.shl(i32.shr_u(m.get(lin), i32.const(12)), i32.const(2)))),
    no(i32.ne(i32.and(m.get(e), i32.const(TLB_VALID | TLB_MMIO)), i32.const(TLB_VALID))),
    m.set(lo, i32.load(0, 4, i32.xor(i32.and(m.get(e), i32.const(-4096)), m.get(lin)))),
    m.set(hi, i32.load(4, 4, i32.xor(i32.and(m.get(e), i32.const(-4096)), m.get(lin)))),
  ];
}

/**
 * 1 when the load of `sel` into `seg` is done inline, 0 when the VMM must do it (`ldseg`).
 *
 * Inline: `sel` names a GDT entry within the limit whose 8 bytes the soft TLB maps (an implicit
 * supervisor read, not across a page), the descriptor is present, accessed and readable, and the
 * privilege check passes (CPL is the region's). Then a load that changes nothing (the register
 * holds `sel` with the same base, limit and attributes: the kernel reloads DS and ES with the
 * same selector on every system call) is done; and for FS and GS (`load`), which no mode bit
 * depends on, so is a load of an expand-up data segment or of a null selector: the cache and the
 * offset ranges are written as runtime/cpu.ts setSegment/refreshSegment would (the kernel's
 * per-CPU FS and stack-protector GS on entry, the user's on return). Anything else (the LDT, a
 * descriptor to mark accessed, code or expand-down segments, a check that would fault) goes to
 * `ldseg`.
 */
function inlineSegmentLoad(c: EmitCtx, seg: number, sel: Expr, load: boolean): Expr {
  const { m, i32 } = c;
  const z = i32.const(0);
  const done = c.label('ldsame');
  const lo = c.tmp();
  const hi = c.tmp();
  const no = (cond: Expr): Expr => m.drop(m.br(done, cond, i32.const(0)));
  const at = (field: number): Expr => i32.load(field + 4 * seg, 4, z);
  const put = (field: number, v: Expr): Expr => i32.store(field + 4 * seg, 4, z, v);
  const dpl = (): Expr => i32.and(i32.shr_u(m.get(hi), i32.const(13)), i32.const(3));
  const conforming = i32.eq(i32.and(m.get(hi), i32.const(0xc00)), i32.const(0xc00));
  const privOk = i32.or(conforming, i32.and(i32.le_u(i32.and(sel, i32.const(3)), dpl()), i32.le_u(i32.const(cplOf(c)), dpl())));
  const base = (): Expr => i32.or(i32.or(i32.shr_u(m.get(lo), i32.const(16)), i32.shl(i32.and(m.get(hi), i32.const(0xff)), i32.const(16))),
    i32.and(m.get(hi), i32.const(0xff000000 | 0)));
  const raw = (): Expr => i32.or(i32.and(m.get(lo), i32.const(0xffff)), i32.and(m.get(hi), i32.const(0xf0000)));
  const limit = (): Expr => m.select(i32.and(m.get(hi), i32.const(0x800000)), i32.or(i32.shl(raw(), i32.const(12)), i32.const(0xfff)), raw());
  const flags = (): Expr => i32.or(i32.and(i32.shr_u(m.get(hi), i32.const(8)), i32.const(0xf0ff)), i32.const(SEGF_USABLE | SEGF_ACCESSED));
  const same = (): Expr => i32.and(i32.and(i32.and(i32.eq(sel, at(SEG_SEL)), i32.eq(base(), at(SEG_BASE))), i32.eq(limit(), at(SEG_LIMIT))),
    i32.eq(flags(), at(SEG_FLAGS)));
  const body: Expr[] = [];
  if (!load) body.push(no(i32.ne(sel, at(SEG_SEL))));
  const isNull = i32.eqz(i32.and(sel, i32.const(0xfffc)));
  if (load) {
    // A null selector: an unusable segment, no descriptor read (setSegment(seg, sel, 0, 0, 0)).
    body.push(m.if(isNull, m.block(null, [
      put(SEG_SEL, sel), put(SEG_BASE, z), put(SEG_LIMIT, z), put(SEG_FLAGS, z),
      put(SEG_RD_LO, i32.const(1)), put(SEG_RD_HI, z), put(SEG_WR_LO, i32.const(1)), put(SEG_WR_HI, z),
      m.br(done, undefined, i32.const(1)),
    ])));
  } else {
    body.push(no(isNull));
  }
  body.push(
    ...readGdtDescriptor(c, sel, no, lo, hi),
    // Present, S, accessed; data, or code with R.
    no(i32.ne(i32.and(m.get(hi), i32.const(0x9100)), i32.const(0x9100))),
    no(i32.eq(i32.and(m.get(hi), i32.const(0xa00)), i32.const(0x800))),
    no(i32.eqz(privOk)),
  );
  if (!load) {
    body.push(same());
  } else {
    const writable = i32.and(m.get(hi), i32.const(0x200));
    body.push(
      m.drop(m.br(done, same(), i32.const(1))),
      // Expand-up data only (code and expand-down segments have other offset ranges).
      no(i32.and(m.get(hi), i32.const(0xc00))),
      put(SEG_SEL, sel), put(SEG_BASE, base()), put(SEG_LIMIT, limit()), put(SEG_FLAGS, flags()),
      put(SEG_RD_LO, z), put(SEG_RD_HI, limit()),
      put(SEG_WR_LO, i32.eqz(writable)), put(SEG_WR_HI, m.select(writable, limit(), z)),
      i32.const(1),
    );
  }
  return m.block(done, body, m.i32Type);
}

/** Loads `seg` with `sel` inline when it can (inlineSegmentLoad), else through the `ldseg` helper; a mode change leaves after the instruction. */
function loadSeg(c: EmitCtx, seg: number, sel: Expr): void {
  const { m, i32 } = c;
  const call = m.call('ldseg', [i32.const((c.insnIndex << 3) | seg), sel]);
  const inline = protectedMode(c) && !v86(c) ? inlineSegmentLoad(c, seg, sel, seg === SEG_FS || seg === SEG_GS) : null;
  c.exitAfter = c.save(inline === null ? call : m.if(inline, i32.const(0), call));
}

/** MOV Sreg, r/m16 for DS, ES, FS, GS. */
function emitMovSwEw(c: EmitCtx, i: Insn): void {
  if (!dataSeg(i.reg)) {
    c.emit(c.toStub(c.i32.const(1)));
    return;
  }
  loadSeg(c, i.reg, c.save(readRM(c, i, SZ16)));
}

/** MOV r/m16, Sreg: a register destination with 32-bit operand size gets the selector zero-extended. */
function emitMovEwSw(c: EmitCtx, i: Insn): void {
  const { i32 } = c;
  if (i.reg > SEG_GS) {
    c.emit(c.toStub(i32.const(1)));
    return;
  }
  const sel = i32.load16_u(SEG_SEL + 4 * i.reg, 2, i32.const(0));
  if (i.mod === 3) {
    c.emit(c.setReg(i.rm, i.o32 ? SZ32 : SZ16, sel));
  } else {
    const lin = saveLin(c, operandLinear(c, i, 2, true));
    c.emit(writeLinear(c, SZ16, lin, sel, true));
  }
}

/** POP DS/ES/FS/GS: the load is checked before ESP moves. */
function popSeg(seg: number) {
  return (c: EmitCtx, i: Insn): void => {
    const sz = vsize(i);
    const sel = c.save(c.i32.and(peek(c, sz, 0), c.i32.const(0xffff)));
    loadSeg(c, seg, sel);
    c.emit(adjustStack(c, sz === SZ32 ? 4 : 2));
  };
}

/**
 * 1 when VERW's answer for `sel` is certainly 1 from the GDT entry read inline (readGdtDescriptor):
 * present writable data whose DPL is at least CPL (the region's) and RPL; else 0, and the
 * `verify` helper answers. Linux runs VERW on every return to user mode (MDS buffer clearing).
 */
function verwWritable(c: EmitCtx, sel: Expr): Expr {
  const { m, i32 } = c;
  const done = c.label('verw');
  const lo = c.tmp();
  const hi = c.tmp();
  const no = (cond: Expr): Expr => m.drop(m.br(done, cond, i32.const(0)));
  const dpl = i32.and(i32.shr_u(m.get(hi), i32.const(13)), i32.const(3));
  return m.block(done, [
    no(i32.eqz(i32.and(sel, i32.const(0xfffc)))),
    ...readGdtDescriptor(c, sel, no, lo, hi),
    // P, S, not code, W.
    no(i32.ne(i32.and(m.get(hi), i32.const(0x9a00)), i32.const(0x9200))),
    i32.and(i32.le_u(i32.const(cplOf(c)), dpl), i32.le_u(i32.and(sel, i32.const(3)), dpl)),
  ], m.i32Type);
}

/**
 * VERR/VERW r/m16 in protected mode: the selector is read inline (a memory operand may fault),
 * the `verify` helper probes the descriptor (it never faults), ZF takes the answer; VERW of a
 * writable data segment is answered inline (verwWritable). Real and virtual-8086 mode (#UD)
 * take the stub.
 */
function verify(write: boolean) {
  return (c: EmitCtx, i: Insn): void => {
    const { m, i32 } = c;
    if (!protectedMode(c) || v86(c)) {
      c.emit(c.toStub(i32.const(1)));
      return;
    }
    const sel = c.save(readRM(c, i, SZ16));
    const call = m.call('verify', [i32.const(write ? 1 : 0), sel]);
    const z = c.save(write ? m.if(verwWritable(c, sel), i32.const(1), call) : call);
    setArithFlags(c, F_ZF, i32.shl(z, i32.const(6)));
  };
}

/** MOV r32, CRn at CPL 0 (CR0, CR2, CR3, CR4): a load from the state block. */
function emitMovRdCd(c: EmitCtx, i: Insn): void {
  const { i32 } = c;
  if (i.reg === 1 || i.reg > 4 || cplOf(c) !== 0 || v86(c)) {
    c.emit(c.toStub(i32.const(1)));
    return;
  }
  c.emit(c.setReg(i.rm, SZ32, i32.load(CR + 4 * i.reg, 4, i32.const(0))));
}

/**
 * IN and OUT with the accumulator, port from an immediate or DX: the `io` helper checks the
 * permission (IOPL, the TSS bitmap) and talks to the device; the region leaves after the
 * instruction when a device asked for the run loop (EXIT_REQUEST: an interrupt, a stop).
 */
function portIo(out: boolean, width: 'b' | 'v', fromDx: boolean) {
  return (c: EmitCtx, i: Insn): void => {
    const { i32 } = c;
    const size = width === 'b' ? 1 : i.o32 ? 4 : 2;
    const sz = size === 1 ? SZ8 : size === 2 ? SZ16 : SZ32;
    const port = fromDx ? c.reg(R_EDX, SZ16) : i32.const(i.imm & 0xff);
    const info = i32.const((c.insnIndex << 4) | (out ? 8 : 0) | size);
    if (out) {
      c.emit(c.m.drop(c.m.call('io', [info, port, c.reg(R_EAX, sz)])));
    } else {
      const v = c.save(c.m.call('io', [info, port, i32.const(0)]));
      c.emit(c.setReg(R_EAX, sz, size === 4 ? v : i32.and(v, i32.const(size === 1 ? 0xff : 0xffff))));
    }
    c.exitAfter = i32.load(EXIT_REQUEST, 4, i32.const(0));
  };
}

/**
 * Loads a segment register with one of SYSENTER's and SYSEXIT's fixed flat caches (base 0,
 * limit 4 GiB; `flags` SEGF_FLAT_CODE or _DATA) and its offset ranges, as Cpu.setSegment and
 * refreshSegment do for those caches: readable everywhere, writable everywhere or nowhere.
 */
function loadFlat(c: EmitCtx, seg: number, sel: Expr, flags: number, writable: boolean): Expr[] {
  const { i32 } = c;
  const put = (field: number, v: Expr): Expr => i32.store(field + 4 * seg, 4, i32.const(0), v);
  return [
    put(SEG_SEL, sel),
    put(SEG_BASE, i32.const(0)),
    put(SEG_LIMIT, i32.const(-1)),
    put(SEG_FLAGS, i32.const(flags)),
    put(SEG_RD_LO, i32.const(0)),
    put(SEG_RD_HI, i32.const(-1)),
    put(SEG_WR_LO, i32.const(writable ? 0 : 1)),
    put(SEG_WR_HI, i32.const(writable ? -1 : 0)),
  ];
}

/**
 * CPL, MODE and the TLB masks after SYSENTER or SYSEXIT loaded flat 32-bit CS and SS, as
 * Cpu.refreshMode computes them: PE, both 32-bit bits, PG from CR0, VM clear, FLAT when DS and
 * ES are flat too (base 0, readable and writable 0..4 GiB).
 */
function enterCpl(c: EmitCtx, cpl: 0 | 3): Expr[] {
  const { i32 } = c;
  const z = i32.const(0);
  const at = (field: number, seg: number): Expr => i32.load(field + 4 * seg, 4, z);
  const flat = (seg: number): Expr => i32.and(
    i32.and(i32.eqz(at(SEG_BASE, seg)), i32.eqz(at(SEG_RD_LO, seg))),
    i32.and(i32.eq(at(SEG_RD_HI, seg), i32.const(-1)), i32.eq(at(SEG_WR_HI, seg), i32.const(-1))),
  );
  const fixed = (cpl << MODE_CPL_SHIFT) | MODE_CS32 | MODE_SS32 | MODE_PE;
  const pg = i32.and(i32.shr_u(i32.load(CR, 4, z), i32.const(31 - 3)), i32.const(MODE_PG));
  const mode = i32.or(i32.or(i32.const(fixed), pg), i32.mul(i32.and(flat(SEG_DS), flat(SEG_ES)), i32.const(MODE_FLAT)));
  const user = cpl === 3;
  return [
    i32.store(CPL, 4, z, i32.const(cpl)),
    i32.store(MODE, 4, z, mode),
    i32.store(TLB_READ_MASK, 4, z, i32.const(TLB_VALID | TLB_MMIO | (user ? TLB_NO_USER : 0))),
    i32.store(TLB_WRITE_MASK, 4, z, i32.const(TLB_VALID | TLB_MMIO | TLB_CODE | (user ? TLB_NO_USER | TLB_RO_USER : TLB_RO_SUP))),
  ];
}

/**
 * SYSENTER in protected mode (not virtual-8086) with a usable IA32_SYSENTER_CS: VM, IF and RF
 * cleared, flat CS and SS at CPL 0 from the MSR, ESP and EIP from theirs; the region leaves for
 * the new EIP in the new mode (the jump cache enters the kernel's region directly). A null
 * SYSENTER_CS (#GP) takes the stub.
 */
function emitSysenter(c: EmitCtx): void {
  const { i32 } = c;
  const z = i32.const(0);
  if (!protectedMode(c) || v86(c)) {
    c.emit(c.toStub(i32.const(1)));
    return;
  }
  const cs = c.save(i32.and(i32.load(MSR_SYSENTER_CS, 4, z), i32.const(0xfffc)));
  c.emit(c.toStub(i32.eqz(cs)));
  c.emit(setEflags(c, i32.and(eflags(c), i32.const(~(F_VM | F_IF | F_RF)))));
  c.emit(...loadFlat(c, SEG_CS, cs, SEGF_FLAT_CODE, false));
  c.emit(...loadFlat(c, SEG_SS, i32.and(i32.add(cs, i32.const(8)), i32.const(0xfffc)), SEGF_FLAT_DATA, true));
  c.emit(...enterCpl(c, 0));
  c.emit(c.setReg(R_ESP, SZ32, i32.load(MSR_SYSENTER_ESP, 4, z)));
  c.exitAt = i32.load(MSR_SYSENTER_EIP, 4, z);
}

/**
 * SYSEXIT at CPL 0 in protected mode with a usable IA32_SYSENTER_CS: flat CS and SS at CPL 3
 * (SYSENTER_CS + 16 and + 24, RPL 3), ESP = ECX, EIP = EDX; the region leaves for EDX in the new
 * mode. Any other case (#GP) takes the stub.
 */
function emitSysexit(c: EmitCtx): void {
  const { i32 } = c;
  const z = i32.const(0);
  if (!protectedMode(c) || v86(c) || cplOf(c) !== 0) {
    c.emit(c.toStub(i32.const(1)));
    return;
  }
  const msr = c.save(i32.and(i32.load(MSR_SYSENTER_CS, 4, z), i32.const(0xffff)));
  c.emit(c.toStub(i32.eqz(i32.and(msr, i32.const(0xfffc)))));
  const dpl3 = 3 << SEGF_DPL_SHIFT;
  const sel = (add: number): Expr => i32.or(i32.and(i32.add(msr, i32.const(add)), i32.const(0xfffc)), i32.const(3));
  const eip = c.save(c.reg(R_EDX, SZ32));
  c.emit(...loadFlat(c, SEG_CS, sel(16), SEGF_FLAT_CODE | dpl3, false));
  c.emit(...loadFlat(c, SEG_SS, sel(24), SEGF_FLAT_DATA | dpl3, true));
  c.emit(...enterCpl(c, 3));
  c.emit(c.setReg(R_ESP, SZ32, c.reg(R_ECX, SZ32)));
  c.exitAt = eip;
}

/** RDTSC: the helper checks CR4.TSD and returns EAX, with EDX in SCRATCH. */
function emitRdtsc(c: EmitCtx): void {
  const { i32 } = c;
  const lo = c.save(c.m.call('rdtsc', [i32.const(c.insnIndex)]));
  c.emit(c.setReg(R_EDX, SZ32, i32.load(SCRATCH, 4, i32.const(0))));
  c.emit(c.setReg(R_EAX, SZ32, lo));
}

export const VMM_EMITTERS: EmitterMap = {
  cli: emitCli,
  sti: emitSti,
  pushf: emitPushf,
  popf: emitPopf,
  pushES: pushSeg(SEG_ES),
  pushCS: pushSeg(SEG_CS),
  pushSS: pushSeg(SEG_SS),
  pushDS: pushSeg(SEG_DS),
  pushFS: pushSeg(SEG_FS),
  pushGS: pushSeg(SEG_GS),
  popDS: popSeg(SEG_DS),
  popES: popSeg(SEG_ES),
  popFS: popSeg(SEG_FS),
  popGS: popSeg(SEG_GS),
  movSwEw: emitMovSwEw,
  movEwSw: emitMovEwSw,
  rdtsc: emitRdtsc,
  sysenter: emitSysenter,
  sysexit: emitSysexit,
  inALIb: portIo(false, 'b', false),
  ineAXIb: portIo(false, 'v', false),
  inALDX: portIo(false, 'b', true),
  ineAXDX: portIo(false, 'v', true),
  outIbAL: portIo(true, 'b', false),
  outIbeAX: portIo(true, 'v', false),
  outDXAL: portIo(true, 'b', true),
  outDXeAX: portIo(true, 'v', true),
  movRdCd: emitMovRdCd,
  verrEw: verify(false),
  verwEw: verify(true),
};
