/**
 * The virtual CPU: typed-array views of the shared state block, register access, segment
 * caches, and guest memory access through the soft TLB (SDM vol. 3, chapters 3 and 4).
 *
 * The architectural state lives in shared memory at the offsets in translator/abi.ts; this class
 * adds only derived JS-side caches (segment access ranges, the current TLB masks) that the
 * runtime recomputes whenever the state they derive from changes (`refreshSegment`,
 * `refreshMode`). Memory accessors are the hot path of the interpreter: a TLB hit is one typed
 * load plus a mask test; everything else goes to the `*Slow` methods and vmm/paging.ts.
 *
 * Faults are thrown as GuestFault and leave the state as it was before the instruction, so every
 * handler performs its memory accesses (which may fault) before it writes registers.
 */
import {
  CPL, CR, EFLAGS, EIP, EX_GP, EX_SS, F_VM, MODE, MODE_CPL_SHIFT, MODE_CS32, MODE_FLAT, MODE_PE,
  MODE_PG, MODE_SS32, MODE_VM86, RAM_OFFSET, SEG_BASE, SEG_CS, SEG_DS, SEG_ES, SEG_FLAGS,
  SEG_LIMIT, SEG_RD_HI, SEG_RD_LO, SEG_SEL, SEG_WR_HI, SEG_WR_LO, SEG_SS, SEGF_DB, SEGF_S, SEGF_USABLE, TLB_CODE, TLB_GLOBAL, TLB_ENTRIES, TLB_MMIO,
  TLB_NO_USER, TLB_OFFSET, TLB_READ_MASK, TLB_RO_SUP, TLB_RO_USER, TLB_VALID, TLB_WRITE_MASK,
} from '../translator/abi.ts';
import { fault } from './fault.ts';
import type { SharedMemory } from './memory.ts';

/** Port and memory-mapped I/O, implemented by the machine's device bus. */
export interface IoBus {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
  mmioRead(phys: number, size: 1 | 2 | 4): number;
  mmioWrite(phys: number, size: 1 | 2 | 4, value: number): void;
}

/** An I/O bus with nothing on it: reads return all ones, writes vanish. */
export const EMPTY_BUS: IoBus = {
  portIn: (_p, size) => (size === 4 ? -1 : (1 << (size * 8)) - 1),
  portOut: () => {},
  mmioRead: (_a, size) => (size === 4 ? -1 : (1 << (size * 8)) - 1),
  mmioWrite: () => {},
};

/**
 * The CPU's local APIC as the core sees it (runtime/devices/local-apic.ts): the IA32_APIC_BASE
 * MSR, the CPUID.APIC bit it controls, and its 4 KiB register page, which memory accesses reach
 * before the machine's bus.
 */
export interface CpuApic {
  /** IA32_APIC_BASE (the low dword; the high dword is 0). */
  readonly baseMsr: number;
  /** WRMSR to IA32_APIC_BASE; raises #GP(0) for reserved bits. */
  writeBaseMsr(eax: number, edx: number): void;
  /** The APIC is enabled in IA32_APIC_BASE (CPUID.01H:EDX.APIC reports this). */
  readonly enabled: boolean;
  /** True if physical address `phys` is in the register page (enabled, at its base). */
  claims(phys: number): boolean;
  read(phys: number, size: 1 | 2 | 4): number;
  write(phys: number, size: 1 | 2 | 4, value: number): void;
}

/** Access kinds for address translation. */
export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_EXEC = 2;

/** Index of an 8-bit register (AL CL DL BL AH CH DH BH) in the byte view of the state block. */
const R8_INDEX = [0, 4, 8, 12, 1, 5, 9, 13];

const I_EIP = EIP >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_CPL = CPL >> 2;
const I_MODE = MODE >> 2;
const I_SEG_SEL = SEG_SEL >> 2;
const I_SEG_BASE = SEG_BASE >> 2;
const I_SEG_LIMIT = SEG_LIMIT >> 2;
const I_SEG_FLAGS = SEG_FLAGS >> 2;
const I_CR0 = CR >> 2;
const I_TLB_READ_MASK = TLB_READ_MASK >> 2;
const I_TLB_WRITE_MASK = TLB_WRITE_MASK >> 2;

/** Translates a linear address that missed the TLB; installed by vmm/paging.ts. */
export type TranslateFn = (cpu: Cpu, lin: number, access: number) => number;

export class Cpu {
  readonly mem: SharedMemory;
  /** The state block and all of memory as int32 words: register n is s[n]. */
  readonly s: Int32Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly dv: DataView;
  /** The TLB as its own view (index = linear page number). */
  readonly tlb: Int32Array;

  io: IoBus = EMPTY_BUS;
  /** The local APIC, if the machine has one (none: CPUID reports no APIC, its MSR raises #GP). */
  apic: CpuApic | null = null;
  /**
   * The A20 mask applied to every physical address (vmm/paging.ts): all ones with the A20 gate
   * open, bit 20 clear with it closed (addresses wrap at 1 MiB as on an 8086). `setA20` changes it.
   */
  a20Mask = -1;
  /** Slow-path translation (paging walk or identity); set by the VMM. */
  translate: TranslateFn;
  /** Called after a guest write to a physical page that holds cached code. */
  onCodeWrite: (phys: number) => void = () => {};
  /**
   * Called once per instruction the VMM emulates (a VMM exit), with the index in EXIT_REASONS of
   * the reason its table row declares (runtime/dispatch.ts); the Vm counts them for --stats.
   */
  onExit: (exit: number) => void = () => {};

  /** EIP of the instruction after the current one; jumps overwrite it. */
  next = 0;
  /** Current TLB masks: TLB_READ_MASK / TLB_WRITE_MASK of the state block (translated code changes them too: SYSENTER, SYSEXIT). */
  get readMask(): number { return this.s[I_TLB_READ_MASK]; }
  get writeMask(): number { return this.s[I_TLB_WRITE_MASK]; }
  /** Valid offset ranges per segment for reads and writes (unsigned, inclusive; in the state block: abi.ts SEG_RD_LO). */
  readonly segRdLo: Uint32Array;
  readonly segRdHi: Uint32Array;
  readonly segWrLo: Uint32Array;
  readonly segWrHi: Uint32Array;
  /**
   * Linear page numbers with a live TLB entry, in two lists so that a flush costs in proportion
   * to the entries it removes: `tlbValid` for non-global entries (emptied by every flush),
   * `tlbGlobal` for global ones (kept by a CR3 write with CR4.PGE). A page may be listed more
   * than once, or in a list its entry no longer fits (INVLPG, a remap): flushes look at the entry.
   */
  tlbValid = new Int32Array(4096);
  tlbValidCount = 0;
  tlbGlobal = new Int32Array(1024);
  tlbGlobalCount = 0;
  /**
   * 4 MiB linear regions (lin >>> 22) holding TLB entries made from a 4 MiB page: INVLPG must
   * drop all 1024 entries there (the soft TLB splits a large page into 4 KiB entries), elsewhere
   * one. Cleared by a full flush and by the INVLPG that drops the region.
   */
  readonly tlbLarge = new Uint8Array(1024);
  /** Physical address produced by the last slow-path translation (for MMIO). */
  lastPhys = 0;
  /** Bumped whenever cached code is invalidated, so a running block can notice. */
  codeEpoch = 0;
  /** Physical pages that hold cached code (1 byte per 4 KiB RAM page). */
  readonly codePages: Uint8Array;
  /** Instructions retired since reset (for RDTSC and statistics). */
  icount = 0;
  /** HLT executed: no instructions run until an interrupt arrives. */
  halted = false;
  /**
   * Exceptions and interrupts delivered since reset (vmm/interrupts.ts). The run loop compares
   * it around a single-stepped instruction: an INT n that delivered its own event takes no
   * TF trap afterwards.
   */
  events = 0;
  /**
   * Called as each delivery of an interrupt or exception starts (vmm/interrupts.ts), nested ones
   * included, with the event's kind, vector, error code (-1: none) and the CS:EIP it interrupts.
   * Null unless tracing (runtime/trace.ts `int`).
   */
  onEvent: ((kind: 'exception' | 'external' | 'software' | 'icebp', vector: number, errorCode: number) => void) | null = null;

  constructor(mem: SharedMemory, translate: TranslateFn) {
    this.mem = mem;
    this.s = mem.i32;
    this.u8 = mem.u8;
    this.u16 = mem.u16;
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.dv = mem.dv;
    this.tlb = new Int32Array(mem.buffer, TLB_OFFSET, TLB_ENTRIES);
    this.segRdLo = new Uint32Array(mem.buffer, SEG_RD_LO, 6);
    this.segRdHi = new Uint32Array(mem.buffer, SEG_RD_HI, 6);
    this.segWrLo = new Uint32Array(mem.buffer, SEG_WR_LO, 6);
    this.segWrHi = new Uint32Array(mem.buffer, SEG_WR_HI, 6);
    this.codePages = new Uint8Array(mem.ramSize >>> 12);
    this.translate = translate;
  }

  // ------------------------------------------------------------------------- registers
  get eip(): number { return this.s[I_EIP]; }
  set eip(v: number) { this.s[I_EIP] = v; }
  get cpl(): number { return this.s[I_CPL]; }
  get cr0(): number { return this.s[I_CR0]; }
  get mode(): number { return this.s[I_MODE]; }

  reg8(r: number): number { return this.u8[R8_INDEX[r]]; }
  setReg8(r: number, v: number): void { this.u8[R8_INDEX[r]] = v; }
  reg16(r: number): number { return this.u16[r << 1]; }
  setReg16(r: number, v: number): void { this.u16[r << 1] = v; }

  /** Raw EFLAGS word (status bits may be stale; use lazy-flags.getEflags for the value). */
  get eflagsRaw(): number { return this.s[I_EFLAGS]; }

  segSel(seg: number): number { return this.s[I_SEG_SEL + seg]; }
  segBase(seg: number): number { return this.s[I_SEG_BASE + seg]; }
  segLimit(seg: number): number { return this.s[I_SEG_LIMIT + seg] >>> 0; }
  segFlags(seg: number): number { return this.s[I_SEG_FLAGS + seg]; }
  /** CS.D: the code segment is 32-bit. */
  get code32(): boolean { return (this.s[I_SEG_FLAGS + SEG_CS] & SEGF_DB) !== 0; }
  /** SS.B: the stack pointer is ESP (else SP). */
  get stack32(): boolean { return (this.s[I_SEG_FLAGS + SEG_SS] & SEGF_DB) !== 0; }

  /**
   * Loads a segment register's hidden part and recomputes the derived caches. `flags` is in the
   * SEG_FLAGS format; `limit` is the byte-granular limit. `mode: false` leaves MODE to the
   * caller, who changes more and then calls refreshMode (or setCpl) once.
   */
  setSegment(seg: number, sel: number, base: number, limit: number, flags: number, mode = true): void {
    this.s[I_SEG_SEL + seg] = sel & 0xffff;
    this.s[I_SEG_BASE + seg] = base;
    this.s[I_SEG_LIMIT + seg] = limit;
    this.s[I_SEG_FLAGS + seg] = flags;
    this.refreshSegment(seg);
    if (mode && (seg === SEG_CS || seg === SEG_SS || seg === SEG_DS || seg === SEG_ES)) this.refreshMode();
  }

  /** True if the segment register holds exactly this selector and cache already (a reload changes nothing). */
  segmentIs(seg: number, sel: number, base: number, limit: number, flags: number): boolean {
    const s = this.s;
    return s[I_SEG_SEL + seg] === (sel & 0xffff) && s[I_SEG_BASE + seg] === (base | 0) &&
      s[I_SEG_LIMIT + seg] === (limit | 0) && s[I_SEG_FLAGS + seg] === (flags | 0);
  }

  /** Recomputes the read/write offset ranges of one segment from its descriptor cache. */
  refreshSegment(seg: number): void {
    const flags = this.s[I_SEG_FLAGS + seg];
    const limit = this.s[I_SEG_LIMIT + seg] >>> 0;
    let lo = 0;
    let hi = limit;
    let readable = true;
    let writable = true;
    const pe = (this.s[I_CR0] & 1) !== 0 && (this.s[I_EFLAGS] & F_VM) === 0;
    if (pe) {
      if (!(flags & SEGF_USABLE) || !(flags & SEGF_S)) {
        readable = writable = false;
      } else if (flags & 0x08) {
        // code segment: never writable, readable if R
        writable = false;
        readable = (flags & 0x02) !== 0;
      } else {
        writable = (flags & 0x02) !== 0;
        if (flags & 0x04) {
          // expand-down data segment: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF
          lo = limit + 1;
          hi = flags & SEGF_DB ? 0xffffffff : 0xffff;
        }
      }
    }
    this.segRdLo[seg] = readable ? lo : 1;
    this.segRdHi[seg] = readable ? hi : 0;
    this.segWrLo[seg] = writable ? lo : 1;
    this.segWrHi[seg] = writable ? hi : 0;
  }

  /** Recomputes MODE and the TLB masks from CR0, EFLAGS.VM, CPL and the segment caches. */
  refreshMode(): void {
    const s = this.s;
    const cr0 = s[I_CR0];
    const cpl = s[I_CPL];
    let m = cpl << MODE_CPL_SHIFT;
    if (s[I_SEG_FLAGS + SEG_CS] & SEGF_DB) m |= MODE_CS32;
    if (s[I_SEG_FLAGS + SEG_SS] & SEGF_DB) m |= MODE_SS32;
    if (cr0 & 1) m |= MODE_PE;
    if (cr0 & 0x80000000) m |= MODE_PG;
    if (s[I_EFLAGS] & F_VM) m |= MODE_VM86;
    if (this.isFlat(SEG_CS) && this.isFlat(SEG_SS) && this.isFlat(SEG_DS) && this.isFlat(SEG_ES)) m |= MODE_FLAT;
    s[I_MODE] = m;
    const user = cpl === 3;
    s[I_TLB_READ_MASK] = TLB_VALID | TLB_MMIO | (user ? TLB_NO_USER : 0);
    s[I_TLB_WRITE_MASK] = TLB_VALID | TLB_MMIO | TLB_CODE | (user ? TLB_NO_USER | TLB_RO_USER : TLB_RO_SUP);
  }

  private isFlat(seg: number): boolean {
    return this.s[I_SEG_BASE + seg] === 0 && this.segRdLo[seg] === 0 && this.segRdHi[seg] === 0xffffffff &&
      (seg === SEG_CS || this.segWrHi[seg] === 0xffffffff);
  }

  /** Sets CPL (the caller keeps CS/SS consistent) and refreshes the mode. */
  setCpl(cpl: number): void {
    this.s[I_CPL] = cpl;
    this.refreshMode();
  }

  /** Opens or closes the A20 gate (the machine's port 92h and 8042 output port drive it). */
  setA20(open: boolean): void {
    const mask = open ? -1 : ~0x100000;
    if (mask === this.a20Mask) return;
    this.a20Mask = mask;
    // Every TLB entry (and what keys on one: the fetch cache, translated code's jump cache) may
    // now map to another physical page.
    this.flushTlb(false);
  }

  /** A read of a non-RAM physical address: the local APIC's page, else the machine's bus. */
  mmioRead(phys: number, size: 1 | 2 | 4): number {
    const apic = this.apic;
    if (apic !== null && apic.claims(phys)) return apic.read(phys, size);
    return this.io.mmioRead(phys, size);
  }

  /** A write to a non-RAM physical address: the local APIC's page, else the machine's bus. */
  mmioWrite(phys: number, size: 1 | 2 | 4, value: number): void {
    const apic = this.apic;
    if (apic !== null && apic.claims(phys)) apic.write(phys, size, value);
    else this.io.mmioWrite(phys, size, value);
  }

  // ------------------------------------------------------------------------- segmentation
  /** Linear address of `seg:off` for a read of `n` bytes, after the limit and rights checks. */
  linRead(seg: number, off: number, n: number): number {
    const o = off >>> 0;
    if (o < this.segRdLo[seg] || o + n - 1 > this.segRdHi[seg]) this.segFault(seg);
    return (this.s[I_SEG_BASE + seg] + o) | 0;
  }

  /** Linear address of `seg:off` for a write of `n` bytes, after the limit and rights checks. */
  linWrite(seg: number, off: number, n: number): number {
    const o = off >>> 0;
    if (o < this.segWrLo[seg] || o + n - 1 > this.segWrHi[seg]) this.segFault(seg);
    return (this.s[I_SEG_BASE + seg] + o) | 0;
  }

  private segFault(seg: number): never {
    // A limit or rights violation: #SS for the stack segment, #GP otherwise (error code 0).
    if (seg === SEG_SS) fault(EX_SS, 0);
    fault(EX_GP, 0);
  }

  // ------------------------------------------------------------------------- linear memory
  read8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.readMask) === TLB_VALID) return this.u8[((e & ~0xfff) ^ lin) >>> 0];
    return this.readSlow(lin, 1);
  }

  read16(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.readMask) === TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const h = ((e & ~0xfff) ^ lin) >>> 0;
      return h & 1 ? this.dv.getUint16(h, true) : this.u16[h >>> 1];
    }
    return this.readSlow(lin, 2);
  }

  /** Reads a dword; the result is an int32. */
  read32(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.readMask) === TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const h = ((e & ~0xfff) ^ lin) >>> 0;
      return h & 3 ? this.dv.getInt32(h, true) : this.i32[h >>> 2];
    }
    return this.readSlow(lin, 4);
  }

  write8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) === TLB_VALID) {
      this.u8[((e & ~0xfff) ^ lin) >>> 0] = v;
      return;
    }
    this.writeSlow(lin, 1, v);
  }

  write16(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) === TLB_VALID && (lin & 0xfff) !== 0xfff) {
      const h = ((e & ~0xfff) ^ lin) >>> 0;
      if (h & 1) this.dv.setUint16(h, v, true);
      else this.u16[h >>> 1] = v;
      return;
    }
    this.writeSlow(lin, 2, v);
  }

  write32(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) === TLB_VALID && (lin & 0xfff) <= 0xffc) {
      const h = ((e & ~0xfff) ^ lin) >>> 0;
      if (h & 3) this.dv.setInt32(h, v, true);
      else this.i32[h >>> 2] = v;
      return;
    }
    this.writeSlow(lin, 4, v);
  }

  /**
   * Checks that `n` bytes at `lin` are writable (faulting as a write would) without writing.
   * Read-modify-write instructions call this before reading so that the fault, if any, has the
   * write bit in its error code, as on hardware.
   */
  checkWrite(lin: number, n: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.writeMask) === TLB_VALID && (lin & 0xfff) <= 0x1000 - n) return;
    this.translateWrite(lin);
    if (((lin & 0xfff) + n) > 0x1000) this.translateWrite((lin + n - 1) & ~0xfff);
  }

  /** Host address of the byte at `lin` for a write (through the slow path); -1 for MMIO. */
  private translateWrite(lin: number): number {
    return this.translate(this, lin, ACC_WRITE);
  }

  /** Reads `n` bytes at `lin` after a TLB miss, a page crossing, or for MMIO. */
  readSlow(lin: number, n: 1 | 2 | 4): number {
    if ((lin & 0xfff) + n > 0x1000) {
      // Crosses a page: both pages are translated before any byte is read. The second page is
      // probed at its first byte, which is what CR2 reports if it faults (as on hardware).
      this.translate(this, lin, ACC_READ);
      this.translate(this, (lin + n - 1) & ~0xfff, ACC_READ);
      let v = 0;
      for (let i = 0; i < n; i++) v |= this.read8((lin + i) | 0) << (8 * i);
      return n === 4 ? v | 0 : v;
    }
    const h = this.translate(this, lin, ACC_READ);
    if (h < 0) return this.mmioRead(this.lastPhys, n);
    if (n === 1) return this.u8[h];
    if (n === 2) return this.dv.getUint16(h, true);
    return this.dv.getInt32(h, true);
  }

  /** Writes `n` bytes at `lin` after a TLB miss, a page crossing, for MMIO or a code page. */
  writeSlow(lin: number, n: 1 | 2 | 4, v: number): void {
    if ((lin & 0xfff) + n > 0x1000) {
      this.translateWrite(lin);
      this.translateWrite((lin + n - 1) & ~0xfff);
      for (let i = 0; i < n; i++) this.write8((lin + i) | 0, v >>> (8 * i));
      return;
    }
    const h = this.translateWrite(lin);
    if (h < 0) {
      this.mmioWrite(this.lastPhys, n, n === 4 ? v | 0 : v & (n === 1 ? 0xff : 0xffff));
      return;
    }
    if (n === 1) this.u8[h] = v;
    else if (n === 2) this.dv.setUint16(h, v, true);
    else this.dv.setInt32(h, v, true);
    const page = (h - RAM_OFFSET) >>> 12;
    if (this.codePages[page]) this.onCodeWrite(h - RAM_OFFSET);
  }

  // ------------------------------------------------------------------------- TLB maintenance
  /**
   * Installs a TLB entry for the page of `lin` mapping to physical page `phys` (RAM only);
   * `large`: the translation came from a 4 MiB page.
   */
  setTlb(lin: number, phys: number, flags: number, large = false): void {
    const vpn = lin >>> 12;
    const host = RAM_OFFSET + (phys & ~0xfff);
    let f = flags | TLB_VALID;
    if (this.codePages[phys >>> 12]) f |= TLB_CODE;
    const old = this.tlb[vpn];
    // Listed again only when not yet listed where the new entry belongs.
    if (f & TLB_GLOBAL) {
      if (!(old & TLB_GLOBAL)) this.listGlobal(vpn);
    } else if (old === 0 || old & TLB_GLOBAL) {
      if (this.tlbValidCount === this.tlbValid.length) this.tlbValid = grown(this.tlbValid);
      this.tlbValid[this.tlbValidCount++] = vpn;
    }
    if (large) this.tlbLarge[lin >>> 22] = 1;
    this.tlb[vpn] = ((host ^ (lin & ~0xfff)) & ~0xfff) | f;
  }

  private listGlobal(vpn: number): void {
    if (this.tlbGlobalCount === this.tlbGlobal.length) {
      // Drop the pages whose entries are gone or no longer global (and duplicates) first.
      const tlb = this.tlb;
      const KEEP = 0x800;
      let n = 0;
      for (let i = 0; i < this.tlbGlobalCount; i++) {
        const v = this.tlbGlobal[i];
        const e = tlb[v];
        if (e & TLB_GLOBAL && !(e & KEEP)) {
          tlb[v] = e | KEEP;
          this.tlbGlobal[n++] = v;
        }
      }
      for (let i = 0; i < n; i++) tlb[this.tlbGlobal[i]] &= ~KEEP;
      this.tlbGlobalCount = n;
      if (n * 2 > this.tlbGlobal.length) this.tlbGlobal = grown(this.tlbGlobal);
    }
    this.tlbGlobal[this.tlbGlobalCount++] = vpn;
  }

  /**
   * Removes every TLB entry, or every non-global one (CR3 reload with CR4.PGE): the cost is the
   * number of pages listed since the last flush, global pages excepted when they stay.
   */
  flushTlb(keepGlobal: boolean): void {
    const tlb = this.tlb;
    const list = this.tlbValid;
    for (let i = 0; i < this.tlbValidCount; i++) {
      const vpn = list[i];
      // An entry that became global since it was listed is in tlbGlobal as well.
      if (!keepGlobal || !(tlb[vpn] & TLB_GLOBAL)) tlb[vpn] = 0;
    }
    this.tlbValidCount = 0;
    if (keepGlobal) return;
    for (let i = 0; i < this.tlbGlobalCount; i++) tlb[this.tlbGlobal[i]] = 0;
    this.tlbGlobalCount = 0;
    this.tlbLarge.fill(0);
  }

  /** Removes the TLB entry of one linear page (INVLPG). */
  flushTlbPage(lin: number): void {
    this.tlb[lin >>> 12] = 0; // stays listed until the next flush; harmless
  }

  /** Marks a physical page as holding cached code: writes to it now take the slow path. */
  markCodePage(phys: number): void {
    const page = phys >>> 12;
    if (page >= this.codePages.length || this.codePages[page]) return;
    this.codePages[page] = 1;
    this.retagTlb(page, true);
  }

  /** Clears the code mark of a physical page (its cached code was dropped). */
  unmarkCodePage(phys: number): void {
    const page = phys >>> 12;
    if (!this.codePages[page]) return;
    this.codePages[page] = 0;
    this.retagTlb(page, false);
  }

  private retagTlb(page: number, code: boolean): void {
    this.retagList(this.tlbValid, this.tlbValidCount, page, code);
    this.retagList(this.tlbGlobal, this.tlbGlobalCount, page, code);
  }

  private retagList(list: Int32Array, count: number, page: number, code: boolean): void {
    const tlb = this.tlb;
    const hostPage = (RAM_OFFSET >>> 12) + page;
    for (let i = 0; i < count; i++) {
      const vpn = list[i];
      const e = tlb[vpn];
      if (e === 0 || e & TLB_MMIO) continue;
      if ((((e >>> 12) ^ vpn) >>> 0) === hostPage) tlb[vpn] = code ? e | TLB_CODE : e & ~TLB_CODE;
    }
  }
}

/** A list twice as long with the same leading elements. */
function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
