/**
 * The case generator core: turns a table row and an operand form into random test cases.
 *
 * Pipeline for one case (CaseBuilder.build):
 *   1. random registers, EFLAGS (status flags, DF, NT, ID; IF is always 1 as in user mode) and
 *      data-segment selectors (mostly flat, sometimes null, read-only code or RPL variants);
 *   2. prefixes for the form (66, 67), plus random segment overrides, LOCK and REP where legal,
 *      in random order;
 *   3. placement of the instruction in a code window (sometimes across a page boundary);
 *   4. the row's hook `prepare` (gen-rows.ts): fixes registers the semantics need (stack
 *      pointer, string pointers, counts), the ModRM reg field, memory-access margins;
 *   5. ModRM: a register, or a random addressing form solved onto a target inside a data window;
 *   6. immediates and operand values from edge-biased distributions;
 *   7. the hook's `finish`: dependent values (dividends, equal compare operands, return
 *      addresses), and refinements of the undefined-flag and undefined-result masks;
 *   8. encoding, relative branch targets (chosen among stub addresses), and a check that the
 *      project's decoder decodes the bytes back to the same row and length.
 */
import { R_EAX, R_ECX, R_ESP, SEG_DS, SEG_SS } from '../../translator/abi.ts';
import { decode } from '../../translator/decoder/decode.ts';
import type { Operand, Row } from '../../translator/isa/types.ts';
import { evalEa, randomEaForm, solveEa } from './ea.ts';
import type { EaForm } from './ea.ts';
import { encode, immSizes, isImmOperand, memOperandSize } from './encode.ts';
import { CODE, CODE16, CODE_WINDOWS, DATA16, DATA32, SEL_USER_DS, STACK, windowOf } from './layout.ts';
import type { Window } from './layout.ts';
import type { Rng } from './rng.ts';
import type { Form, GenContext, MemIgnore, OracleCase, Poke } from './types.ts';

/** Row-specific generation logic (gen-rows.ts). */
export interface Hook {
  /** Before ModRM and immediates are chosen. */
  prepare?(b: CaseBuilder): void;
  /** After operand values are chosen, before encoding. */
  finish?(b: CaseBuilder): void;
  /** Supplies the complete instruction bytes instead of the table-driven encoder. */
  bytes?(b: CaseBuilder): Uint8Array;
  /** Row id the decoder must produce for `bytes` (default: the row itself). */
  expectRow?: number;
}

/** The EFLAGS bits a case randomizes: status flags, DF, NT and ID. */
const RANDOM_FLAGS = 0x0001 | 0x0004 | 0x0010 | 0x0040 | 0x0080 | 0x0800 | 0x0400 | 0x4000 | 0x200000;
const FIXED_FLAGS = 0x0202; // bit 1 and IF
const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]; // ES CS SS DS FS GS

/**
 * Selectors that load into DS/ES/FS/GS at any CPL with the mirror GDT (null, flat, RPL variants,
 * code). Null selectors with a nonzero RPL (1..3) are left out: the host kernel does not always
 * preserve them across an interrupt (ES = 1 came back as 0).
 */
export const DATA_SELECTORS_ANY_CPL = [0x2b, 0x28, 0x29, 0x2a, 0x23, 0x20, 0x33, 0];
/** Selectors that fail to load into DS/ES/FS/GS at any CPL (#GP(selector)). */
export const BAD_SELECTORS = [0x38, 0x3b, 0x80, 0x83, 0xfff8, 0x04, 0x2c, 0x2f];
/** Kernel selectors: load at CPL 0, #GP at CPL 3. */
export const KERNEL_SELECTORS = [0x08, 0x10, 0x18, 0x0b, 0x13];

export class GenReject extends Error {}

export class CaseBuilder {
  readonly regs = new Int32Array(8);
  readonly pinned: boolean[] = new Array<boolean>(8).fill(false);
  eflags: number;
  /** DS ES FS GS. */
  sel: [number, number, number, number] = [SEL_USER_DS, SEL_USER_DS, SEL_USER_DS, SEL_USER_DS];
  readonly pokeBytes = new Map<number, number>();
  prefixes: number[] = [];
  /** Segment-override prefix chosen (SEG_* number) or -1. */
  segOverride = -1;
  lock = false;
  /** F3 or F2 prefix byte, or 0. */
  rep = 0;
  /** ModRM.reg (or +r register); undefined = choose randomly. */
  reg: number | undefined;
  /** Register-form r/m register; undefined = choose randomly. */
  rmReg: number | undefined;
  ea: EaForm | undefined;
  /** Linear address of the memory operand, or -1. */
  memAddr = -1;
  /** Bytes accessed at memAddr. */
  memSize = 0;
  /** Extra bytes that must be inside the window before/after the operand (e.g. BT offsets). */
  memBefore = 0;
  memAfter = 0;
  /** The r/m memory operand is not accessed (LEA, NOP Ev): any address is fine. */
  memNoAccess = false;
  /** Windows a memory operand may land in (default: DATA32/STACK, or DATA16 for 16-bit addressing). */
  memWindows: readonly Window[] | undefined;
  /** Immediate slots (see immSizes); undefined = choose by operand kind. */
  readonly imms: (number | undefined)[];
  eip = 0;
  flagsIgnore: number;
  regIgnore: number[] | undefined;
  readonly memIgnore: MemIgnore[] = [];
  readonly notes: string[] = [];
  fpu: Uint8Array | undefined;
  captureFpu = false;
  /** Relative-branch target chosen by a hook (linear address), else random. */
  branchTarget: number | undefined;
  /** Skip default operand values for these operand kinds (a hook sets them). */
  readonly fixedOperands = new Set<Operand>();
  /**
   * Under the CPL-3 setup (paging on), some cases aim their memory operand or stack across the
   * end of a window into an unmapped page: the expected outcome is a #PF with CR2 and no partial
   * write. Pokes that fall outside the windows are then dropped instead of being an error.
   */
  pageFaultCase = false;
  /** Bits of CR2 compared after a #PF (see OracleCase.cr2Mask). */
  cr2Mask = -1;

  constructor(
    readonly row: Row,
    readonly form: Form,
    readonly ctx: GenContext,
  ) {
    const rng = ctx.rng;
    for (let r = 0; r < 8; r++) this.regs[r] = rng.u32() | 0;
    this.regs[R_ESP] = this.stackPointer();
    this.eflags = (rng.u32() & RANDOM_FLAGS) | FIXED_FLAGS;
    for (let k = 0; k < 4; k++) if (rng.chance(0.03)) this.sel[k] = rng.pick(DATA_SELECTORS_ANY_CPL);
    this.imms = new Array<number | undefined>(immSizes(row, form).length).fill(undefined);
    this.flagsIgnore = row.flagsUndefined;
  }

  get rng(): Rng {
    return this.ctx.rng;
  }

  /** The case runs in the 16-bit code segment. */
  get code16(): boolean {
    return this.ctx.code16 === true;
  }

  get osz(): 16 | 32 {
    return this.form.osz;
  }

  get asz(): 16 | 32 {
    return this.form.asz;
  }

  reject(why: string): never {
    throw new GenReject(why);
  }

  // ----------------------------------------------------------------------------- registers
  /** Sets and pins a whole register. */
  setReg(r: number, v: number): void {
    this.regs[r] = v | 0;
    this.pinned[r] = true;
  }

  /** Sets the low `bits` bits of register r (8 = AL..BH numbering, 16, 32), keeping the rest; pins it. */
  setRegPart(r: number, bits: number, v: number): void {
    if (bits === 32) this.regs[r] = v | 0;
    else if (bits === 16) this.regs[r] = (this.regs[r] & ~0xffff) | (v & 0xffff);
    else if (r < 4) this.regs[r] = (this.regs[r] & ~0xff) | (v & 0xff);
    else this.regs[r - 4] = (this.regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
    this.pinned[bits === 8 && r >= 4 ? r - 4 : r] = true;
  }

  /** Reads the low `bits` bits of register r (8 = AL..BH numbering). */
  regPart(r: number, bits: number): number {
    if (bits === 32) return this.regs[r] >>> 0;
    if (bits === 16) return this.regs[r] & 0xffff;
    return r < 4 ? this.regs[r] & 0xff : (this.regs[r - 4] >> 8) & 0xff;
  }

  /** True if register r (8-bit numbering when bits = 8) is pinned. */
  isPinned(r: number, bits: number): boolean {
    return this.pinned[bits === 8 && r >= 4 ? r - 4 : r];
  }

  /** A stack pointer near the middle of the stack window, usually dword aligned. */
  stackPointer(): number {
    const rng = this.rng;
    let sp = STACK.addr + 0x1000 + rng.range(-0x40, 0x40);
    const k = rng.below(10);
    if (k < 8) sp &= ~3;
    else if (k < 9) sp &= ~1;
    return sp;
  }

  /**
   * Pins ESP inside the stack window; under paging, unless `noFault`, sometimes at its very
   * bottom or top so that the stack accesses run into an unmapped page.
   */
  useStack(noFault = false): void {
    const rng = this.rng;
    if (!noFault && this.ctx.setup.cpl === 3 && rng.chance(0.05)) {
      this.pageFaultCase = true;
      const sp = rng.chance(0.5) ? STACK.addr + rng.range(0, 12) : STACK.addr + STACK.size - rng.range(0, 8);
      this.setReg(R_ESP, sp);
      return;
    }
    this.setReg(R_ESP, this.stackPointer());
  }

  // ----------------------------------------------------------------------------- memory
  /** Writes `len` little-endian bytes of `v` at `addr` (over the background). */
  poke(addr: number, v: number, len: number): void {
    for (let i = 0; i < len; i++) this.pokeBytes.set((addr + i) >>> 0, i < 4 ? (v >>> (8 * i)) & 0xff : 0);
  }

  pokeBytesAt(addr: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.pokeBytes.set((addr + i) >>> 0, bytes[i] & 0xff);
  }

  /** The value of a poked location (little-endian, up to 4 bytes); undefined if not poked. */
  peek(addr: number, len: number): number | undefined {
    let v = 0;
    for (let i = 0; i < len; i++) {
      const b = this.pokeBytes.get((addr + i) >>> 0);
      if (b === undefined) return undefined;
      v |= b << (8 * i);
    }
    return len === 4 ? v >>> 0 : v;
  }

  /** Pokes random bytes with an edge-value bias. */
  pokeEdge(addr: number, len: number): void {
    for (let i = 0; i < len; i += 4) {
      const n = Math.min(4, len - i);
      this.poke(addr + i, this.rng.edge(n === 4 ? 32 : n === 2 || n === 3 ? 16 : 8), n);
    }
  }

  /** A random address in window `w` with room for `before` bytes below and `len + after` from it. */
  addrIn(w: Window, len: number, before = 0, after = 0): number {
    return w.addr + this.rng.range(before, w.size - len - after);
  }

  /** Effective segment of the memory operand. */
  memSegment(): number {
    if (this.segOverride >= 0) return this.segOverride;
    return this.ea?.stackSeg ? SEG_SS : SEG_DS;
  }

  // ----------------------------------------------------------------------------- misc
  /** Ignores (does not compare) `mask` bits of register r. */
  ignoreReg(r: number, mask: number): void {
    this.regIgnore ??= new Array<number>(8).fill(0);
    this.regIgnore[r] |= mask;
  }

  note(s: string): void {
    this.notes.push(s);
  }

  // ----------------------------------------------------------------------------- pipeline
  /** Runs the pipeline (see the file overview) and returns the case. */
  build(hook: Hook | undefined): OracleCase {
    const { row, form, rng } = this;
    this.choosePrefixes();
    this.place();
    hook?.prepare?.(this);
    let code: Uint8Array;
    if (hook?.bytes) {
      code = hook.bytes(this);
    } else {
      if (row.modrm) this.chooseModrm();
      else if (row.plusReg) this.reg ??= rng.below(8);
      this.chooseImmediates();
      this.chooseOperandValues();
      hook?.finish?.(this);
      code = this.encodeWithBranch();
    }
    this.checkDecode(code, hook?.expectRow ?? row.id, hook?.bytes !== undefined);
    const pokes: Poke[] = [];
    const addrs = [...this.pokeBytes.keys()].sort((a, b) => a - b);
    for (let i = 0; i < addrs.length;) {
      let j = i + 1;
      while (j < addrs.length && addrs[j] === addrs[j - 1] + 1) j++;
      const first = addrs[i];
      i = j;
      const bytes = Uint8Array.from(addrs.slice(addrs.indexOf(first), j), (a) => this.pokeBytes.get(a)!);
      if (windowOf(first, bytes.length)) {
        pokes.push({ addr: first, bytes });
        continue;
      }
      if (!this.pageFaultCase) throw new Error(`${row.name}: poke at 0x${first.toString(16)} outside the windows`);
      // A page-fault case: keep the bytes that are inside a window.
      for (let k = 0; k < bytes.length; k++) {
        if (windowOf(first + k)) pokes.push({ addr: first + k, bytes: bytes.subarray(k, k + 1) });
      }
    }
    return {
      row, form, code16: this.code16, eip: this.eip, code, regs: this.regs, eflags: this.eflags, sel: this.sel, pokes,
      fpu: this.fpu, captureFpu: this.captureFpu || this.fpu !== undefined,
      flagsIgnore: this.flagsIgnore, regIgnore: this.regIgnore, memIgnore: this.memIgnore, cr2Mask: this.cr2Mask,
      mem: this.memAddr >= 0 && !this.memNoAccess ? { addr: this.memAddr, size: this.memSize } : undefined,
      note: this.notes.length ? this.notes.join('; ') : undefined,
    };
  }

  private choosePrefixes(): void {
    const { row, form, rng } = this;
    const pre: number[] = [];
    // Operand- and address-size prefixes select the size other than the code segment's default.
    if ((form.osz === 16) !== this.code16) pre.push(0x66);
    if ((form.asz === 16) !== this.code16) pre.push(0x67);
    const usesSeg = form.rm === 'mem' || row.ops.some((o) => o === 'Ob' || o === 'Ov' || o === 'Xb' || o === 'Xv') || row.name === 'xlat';
    if (usesSeg && rng.chance(0.25)) {
      this.segOverride = rng.below(6);
      pre.push(SEG_PREFIX[this.segOverride]);
    } else if (!usesSeg && rng.chance(0.03) && row.cls !== 'control') {
      pre.push(rng.pick(SEG_PREFIX)); // ignored by instructions without memory operands
    }
    if (row.lock && form.rm === 'mem' && rng.chance(0.2)) {
      this.lock = true;
      pre.push(0xf0);
    }
    if (row.rep === 'rep' && rng.chance(0.6)) this.rep = 0xf3;
    else if (row.rep === 'repe' && rng.chance(0.7)) this.rep = rng.chance(0.5) ? 0xf3 : 0xf2;
    if (this.rep) pre.push(this.rep);
    // A redundant repeat of a prefix now and then (still well under 15 bytes).
    if (pre.length > 0 && rng.chance(0.05)) pre.push(rng.pick(pre));
    for (let i = pre.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [pre[i], pre[j]] = [pre[j], pre[i]];
    }
    this.prefixes = pre;
  }

  private place(): void {
    const rng = this.rng;
    const w = !this.code16 && rng.chance(0.7) ? CODE : CODE16;
    // Sometimes straddle the page boundary inside the window (the VM executes such
    // instructions uncached); otherwise keep 0x100 bytes of stubs on both sides.
    this.eip = rng.chance(0.08) ? w.addr + 0x1000 - rng.range(1, 8) : w.addr + rng.range(0x100, w.size - 0x100);
  }

  private chooseModrm(): void {
    const { row, form, rng } = this;
    this.reg ??= row.reg ?? rng.below(8);
    if (form.rm === 'reg') {
      this.rmReg ??= row.rm ?? rng.below(8);
      return;
    }
    this.memSize = memOperandSize(row, form);
    for (let attempt = 0; attempt < 40; attempt++) {
      const f = randomEaForm(rng, form.asz);
      if (this.memNoAccess) {
        for (const r of f.terms.keys()) if (!this.pinned[r]) this.regs[r] = rng.u32() | 0;
        this.ea = f;
        this.memAddr = evalEa(f, this.regs, form.asz);
        return;
      }
      const wins = this.memWindows ?? (form.asz === 16 ? [DATA16] : [DATA32, DATA32, STACK]);
      const w = rng.pick(wins);
      const len = Math.max(this.memSize, 1);
      const plain = this.memBefore === 0 && this.memAfter === 0;
      let target = this.addrIn(w, len, this.memBefore + 8, this.memAfter + 8);
      let outside = false;
      if (plain && this.ctx.setup.cpl === 3 && rng.chance(0.05)) {
        // Across the window's end into an unmapped page, or wholly past it: #PF.
        target = w.addr + w.size - (len > 1 && rng.chance(0.6) ? rng.range(1, len - 1) : -rng.below(64));
        outside = true;
      } else if (len > 1 && plain && rng.chance(0.1)) {
        target = w.addr + 0x1000 - rng.range(1, len - 1); // straddles the window's page boundary
      }
      const saved = Int32Array.from(this.regs);
      const ea = solveEa(rng, f, this.regs, this.pinned, form.asz === 16 ? target & 0xffff : target, form.asz);
      const lin = ea; // every selector the generator uses has base 0
      if (outside && lin === target) {
        this.pageFaultCase = true;
        if (row.ops.includes('Menv') || row.ops.includes('Mstate')) {
          // Which part of a 14..108-byte operand is probed first is implementation-specific.
          this.cr2Mask = ~0xfff;
          this.note('x87 environment/state operand: CR2 compared to the page only');
        }
        this.ea = f;
        this.memAddr = lin;
        for (const r of f.terms.keys()) this.pinned[r] = true;
        return;
      }
      if (!outside && windowOf(lin - this.memBefore, this.memBefore + len + this.memAfter)) {
        this.ea = f;
        this.memAddr = lin;
        for (const r of f.terms.keys()) this.pinned[r] = true;
        return;
      }
      this.regs.set(saved);
    }
    this.reject('no addressing form reaches a window');
  }

  private chooseImmediates(): void {
    const { row, rng } = this;
    let slot = 0;
    for (const o of row.ops) {
      if (!isImmOperand(o)) continue;
      const n = o === 'Ap' ? 2 : 1;
      for (let k = 0; k < n; k++, slot++) {
        if (this.imms[slot] !== undefined) continue;
        switch (o) {
          case 'Ib': case 'Ibs': this.imms[slot] = rng.edge(8); break;
          case 'Iw': this.imms[slot] = rng.edge(16); break;
          case 'Iz': case 'Iv': this.imms[slot] = rng.edge(this.osz); break;
          case 'Jb': case 'Jz': this.imms[slot] = 0; break; // patched in encodeWithBranch
          case 'Ob': case 'Ov': {
            const len = o === 'Ob' ? 1 : this.osz / 8;
            const w = this.asz === 16 ? DATA16 : rng.pick([DATA32, STACK]);
            this.memAddr = this.addrIn(w, len, 8, 8);
            this.memSize = len;
            this.imms[slot] = this.asz === 16 ? this.memAddr & 0xffff : this.memAddr;
            break;
          }
          default: this.imms[slot] = rng.u32();
        }
      }
    }
  }

  /** Edge values for register and memory operands that no hook or address fixed. */
  private chooseOperandValues(): void {
    const { row, rng } = this;
    for (const o of row.ops) {
      if (this.fixedOperands.has(o)) continue;
      const bits = operandBits(o, this.osz);
      switch (o) {
        case 'Gb': case 'Gw': case 'Gv': case 'Gd': case 'Zb': case 'Zv':
          if (!this.isPinned(this.reg!, bits)) this.setRegPart(this.reg!, bits, rng.edge(bits));
          break;
        case 'Eb': case 'Ew': case 'Ev': case 'Ed':
          if (this.form.rm === 'reg') {
            if (!this.isPinned(this.rmReg!, bits)) this.setRegPart(this.rmReg!, bits, rng.edge(bits));
          }
          break;
        case 'AL': case 'AX': case 'eAX':
          if (!this.pinned[R_EAX]) this.setRegPart(R_EAX, bits, rng.edge(bits));
          break;
        case 'CL':
          if (!this.pinned[R_ECX]) this.setRegPart(R_ECX, 8, rng.shiftCount());
          break;
      }
    }
    if (this.memAddr >= 0 && !this.memNoAccess && this.memSize > 0 && this.peek(this.memAddr, 1) === undefined) {
      this.pokeEdge(this.memAddr, this.memSize);
    }
  }

  private encodeWithBranch(): Uint8Array {
    const { row, form } = this;
    const spec = () => ({
      row, form, prefixes: this.prefixes, reg: this.reg ?? 0,
      modrm: row.modrm ? this.modrmBytes() : undefined,
      imms: this.imms.map((v) => v ?? 0),
    });
    let code = encode(spec());
    // Long forms (both size prefixes, a LOCK, a segment override, disp32 and imm32) can exceed
    // the 15-byte limit; that is the tooLong row's business, not this row's.
    if (code.length > 15) this.reject('longer than 15 bytes');
    const jIndex = row.ops.findIndex((o) => o === 'Jb' || o === 'Jz');
    if (jIndex >= 0) {
      const slot = row.ops.slice(0, jIndex).filter(isImmOperand).length;
      const next = this.eip + code.length;
      const rel = this.chooseBranch(next, code.length, row.ops[jIndex] === 'Jb');
      this.imms[slot] = rel;
      code = encode(spec());
    }
    return code;
  }

  private modrmBytes(): { mod: number; rm: number; sib?: number; disp: number; dispSize: 0 | 1 | 2 | 4 } {
    if (this.form.rm === 'reg' || !this.ea) return { mod: 3, rm: this.rmReg ?? 0, disp: 0, dispSize: 0 };
    const f = this.ea;
    return { mod: f.mod, rm: f.rm, sib: f.sib, disp: f.disp, dispSize: f.dispSize };
  }

  /**
   * True if control may land at `t` (a stub address): inside a code window, not in the
   * instruction, and followed by at least 15 stub bytes (the VM's stub is a run of 15 LOCK
   * prefixes, so a target just before the instruction would run into its bytes).
   */
  isStubAddress(t: number, len: number): boolean {
    const a = t >>> 0;
    const w = (this.code16 ? [CODE16] : CODE_WINDOWS).find((cw) => a >= cw.addr && a <= cw.addr + cw.size - 16);
    return w !== undefined && (a + 15 <= this.eip || a >= this.eip + len);
  }

  /** A random stub address for an indirect transfer (register or memory operand). */
  randomTarget(bits: 16 | 32): number {
    for (;;) {
      const w = bits === 16 || this.code16 ? CODE16 : this.rng.pick(CODE_WINDOWS);
      const t = this.addrIn(w, 16);
      if (this.isStubAddress(t, 16)) return t;
    }
  }

  private chooseBranch(next: number, len: number, short: boolean): number {
    const rng = this.rng;
    const mask = this.osz === 16 ? 0xffff : 0xffffffff;
    if (this.branchTarget !== undefined) return (this.branchTarget - next) | 0;
    for (let attempt = 0; attempt < 200; attempt++) {
      let rel: number;
      if (short) rel = rng.range(-128, 127);
      else if (rng.chance(0.3)) rel = rng.range(-200, 200);
      else rel = (this.randomTarget(this.osz) - next) | 0;
      const target = ((next + rel) & mask) >>> 0;
      if (this.isStubAddress(target, len)) return this.osz === 16 && !short ? rel & 0xffff : rel;
    }
    return this.reject('no branch target');
  }

  private checkDecode(code: Uint8Array, rowId: number, custom: boolean): void {
    const eip = this.eip;
    const insn = decode((a) => (a - eip < code.length ? code[a - eip] : 0xf4), eip, !this.code16);
    if (insn.row !== rowId || (!custom && insn.len !== code.length)) {
      const hex = [...code].map((x) => x.toString(16).padStart(2, '0')).join(' ');
      throw new EncodeMismatch(`${this.row.name}: encoded ${hex} decodes as row ${insn.row} length ${insn.len}`);
    }
  }
}

/** The encoder and the decoder disagree: reported against the row, never run. */
export class EncodeMismatch extends Error {}

/** Width in bits of a register or immediate operand kind. */
export function operandBits(o: Operand, osz: 16 | 32): number {
  switch (o) {
    case 'Eb': case 'Gb': case 'Zb': case 'AL': case 'CL': case 'Ib': case 'Ibs': case 'Jb': return 8;
    case 'Ew': case 'Gw': case 'AX': case 'DX': case 'Iw': case 'Sw': return 16;
    case 'Ed': case 'Gd': case 'Rd': return 32;
    default: return osz;
  }
}
