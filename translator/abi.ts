/**
 * The ABI between translated code, the interpreter and the VMM: where every piece of virtual-CPU
 * state lives in the one shared `WebAssembly.Memory`, the layout of the soft TLB, the cache-key
 * mode bits, block exit codes and the fixed helper table.
 *
 * Memory map (byte offsets into the shared memory):
 *
 *   0x0000_0000  CPU state block (STATE_SIZE bytes, fields below)
 *   0x0001_0000  jump cache of translated code (JUMP_CACHE_ENTRIES x 16 bytes; DBT section)
 *   0x0010_0000  soft TLB: one Int32 per 4 KiB virtual page (2^20 entries, 4 MiB)
 *   0x0080_0000  guest physical RAM (RAM_OFFSET + physical address)
 *
 * Invariants:
 * - Every field is naturally aligned, so the runtime reads it through typed-array views
 *   (`i32[OFF >> 2]`, `f64[OFF >> 3]`) and translated code with aligned loads.
 * - Offsets never move at run time; translated modules bake them in as constants.
 */

// ---------------------------------------------------------------- general state (i32 fields)
/** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI at 0x00..0x1C (index = register number). */
export const REGS = 0x000;
export const EIP = 0x020;
/** EFLAGS. While LF_OP !== LF_NONE its arithmetic bits (CF PF AF ZF SF OF) are stale. */
export const EFLAGS = 0x024;
/** Lazy-flags record: the last flag-setting operation and its inputs/result (see lazy-flags.ts). */
export const LF_OP = 0x028;
export const LF_RES = 0x02c;
export const LF_A = 0x030;
export const LF_B = 0x034;
/** Carry-in for ADC/SBB, or the preserved CF for INC/DEC. */
export const LF_C = 0x038;
export const CPL = 0x03c;

/** Segment registers, in encoding order ES CS SS DS FS GS; one i32 per segment in each array. */
export const SEG_SEL = 0x040;
export const SEG_BASE = 0x058;
export const SEG_LIMIT = 0x070;
/**
 * Descriptor attributes as in the descriptor's high dword bits 8..23 shifted down by 8:
 * bits 0..7 = access byte (type, S, DPL, P), bits 12..15 = AVL, L, D/B, G. Bit 16 (SEGF_USABLE)
 * is ours: clear for a null selector loaded in protected mode.
 */
export const SEG_FLAGS = 0x088;

/** CR0..CR7 (only 0, 2, 3, 4 are meaningful). */
export const CR = 0x0a0;
/** DR0..DR7. */
export const DR = 0x0c0;
export const GDTR_BASE = 0x0e0;
export const GDTR_LIMIT = 0x0e4;
export const IDTR_BASE = 0x0e8;
export const IDTR_LIMIT = 0x0ec;
export const LDTR_SEL = 0x0f0;
export const LDTR_BASE = 0x0f4;
export const LDTR_LIMIT = 0x0f8;
export const LDTR_FLAGS = 0x0fc;
export const TR_SEL = 0x100;
export const TR_BASE = 0x104;
export const TR_LIMIT = 0x108;
export const TR_FLAGS = 0x10c;

/** Soft-TLB masks for the current CPL: an entry is usable iff (entry & mask) === TLB_VALID. */
export const TLB_READ_MASK = 0x110;
export const TLB_WRITE_MASK = 0x114;
/** Current MODE_* bits (the translation-cache key), kept in sync by the runtime. */
export const MODE = 0x118;
/** Nonzero when something (an interrupt request, a stop request) wants the run loop back. */
export const EXIT_REQUEST = 0x11c;
/** Instructions left in the current time slice; translated code decrements it per block. */
export const BUDGET = 0x120;
/** 1 while in an interrupt shadow (the instruction after STI or MOV SS / POP SS). */
export const INHIBIT_IRQ = 0x124;
/** Scratch words for helpers that return more than one i32. */
export const SCRATCH = 0x128; // 4 x i32
/**
 * Nonzero while an interrupt is pending that IF = 0 held back when the run loop last looked.
 * Setting IF from 0 (STI, POPF, IRET) must then return to the run loop (EXIT_REQUEST); while it
 * is 0 and EXIT_REQUEST is 0 no interrupt is pending, so STI needs no interrupt shadow and IF
 * changes need no exit (no interrupt becomes pending inside an instruction except through the
 * instruction's own device access, which sets EXIT_REQUEST).
 */
export const IRQ_WAITING = 0x138;

/** Model-specific registers that a Linux guest uses. */
export const MSR_SYSENTER_CS = 0x140;
export const MSR_SYSENTER_ESP = 0x144;
export const MSR_SYSENTER_EIP = 0x148;
/** Time-stamp counter offset as f64 (guest TSC = host-derived count + offset). */
export const TSC_OFFSET = 0x150; // f64
/**
 * Translated-code words (see the DBT section at the end): a region's epilogue stores the
 * instruction an EXIT_AFTER refers to in DBT_INSN, and its control-class instruction count in
 * DBT_NCTL (accumulated over regions entered from each other); DBT_REGION holds the table slot
 * of the running region (0: none), DBT_CHAINS counts entries from region to region.
 */
export const DBT_INSN = 0x160;
export const DBT_NCTL = 0x164;
export const DBT_REGION = 0x168;
export const DBT_CHAINS = 0x16c;

// ---------------------------------------------------------------- x87 FPU
/** Control and status words, tags and pointers; the data registers are at FPU_ST (0x400). */
export const FPU_CW = 0x1c0;
/** Status word with the TOP field (bits 11..13) held separately in FPU_TOP. */
export const FPU_SW = 0x1c4;
export const FPU_TOP = 0x1c8;
/** Full 16-bit tag word: 2 bits per physical register, 00 valid, 01 zero, 10 special, 11 empty. */
export const FPU_TAG = 0x1cc;
export const FPU_FIP = 0x1d0;
export const FPU_FCS = 0x1d4;
export const FPU_FDP = 0x1d8;
export const FPU_FDS = 0x1dc;
export const FPU_FOP = 0x1e0;

/**
 * VMM work done inside translated code: one i32 counter per EXIT_REASONS entry (isa/types.ts,
 * at most DBT_INLINE_MAX), incremented by compiled code each time it emulates a sensitive,
 * privileged or I/O instruction on its fast path instead of leaving; the runtime moves the
 * counts into its statistics and zeroes them.
 */
export const DBT_INLINE = 0x200;
export const DBT_INLINE_MAX = 64;

/**
 * Valid offset ranges of each segment, one u32 per segment register (SEG_* order) in each array,
 * derived from the descriptor caches by Cpu.refreshSegment in every mode: an access of n bytes at
 * offset o is allowed iff lo <= o and o + n - 1 <= hi without wrapping past 4 GiB (an unusable,
 * unreadable or unwritable segment has lo = 1, hi = 0). Translated code checks accesses through
 * segments whose offsets are not linear addresses (FS, GS, any segment outside a flat mode)
 * against them inline; only a failing check calls the linr/linw helper, which faults.
 */
export const SEG_RD_LO = 0x300;
export const SEG_RD_HI = 0x318;
export const SEG_WR_LO = 0x330;
export const SEG_WR_HI = 0x348;

/**
 * The eight physical x87 data registers R0..R7 (not ST(i); ST(i) = R[(TOP + i) & 7]) in
 * double-extended format, FPU_SLOT bytes each: significand low u32, significand high u32 (bit
 * 31 the integer bit J), sign+exponent in the low 16 bits of the third u32; the fourth is unused.
 * FPU_TMP follows as slots 8 and 9: scratch registers for a memory source operand or a constant
 * while one instruction runs, so register and memory operands share one code path. Not
 * architectural; meaningless between instructions.
 */
export const FPU_ST = 0x400;
export const FPU_SLOT = 16;
export const FPU_TMP = FPU_ST + 8 * FPU_SLOT; // 2 slots

export const STATE_SIZE = 0x1000;

// ---------------------------------------------------------------- soft TLB
export const TLB_OFFSET = 0x0010_0000;
export const TLB_ENTRIES = 1 << 20;
/**
 * An entry is `(hostPageAddress ^ virtualPageAddress) | flags`; for a usable entry the host
 * address of virtual address `va` is `(entry & ~0xfff) ^ va`. Zero means "not cached".
 */
export const TLB_VALID = 0x001;
/** User-mode writes must take the slow path (page read-only for CPL 3, or D bit still clear). */
export const TLB_RO_USER = 0x002;
/** Supervisor writes must take the slow path (read-only with CR0.WP=1, or D bit still clear). */
export const TLB_RO_SUP = 0x004;
/** Page is not accessible at CPL 3. */
export const TLB_NO_USER = 0x008;
/** Physical page holds translated or cached code: writes go through the slow path. */
export const TLB_CODE = 0x010;
/** Not RAM (device memory or unbacked): every access takes the slow path. */
export const TLB_MMIO = 0x020;
/** A global page (CR4.PGE and PTE.G): the entry survives CR3 reloads. Never tested by fast paths. */
export const TLB_GLOBAL = 0x040;

// ---------------------------------------------------------------- guest RAM
export const RAM_OFFSET = 0x0080_0000;

// ---------------------------------------------------------------- mode bits (cache key)
/** CS.D: 32-bit default operand and address size. */
export const MODE_CS32 = 1 << 0;
/** SS.B: 32-bit stack pointer. */
export const MODE_SS32 = 1 << 1;
/** CR0.PE */
export const MODE_PE = 1 << 2;
/** CR0.PG */
export const MODE_PG = 1 << 3;
/** EFLAGS.VM (virtual-8086 mode). */
export const MODE_VM86 = 1 << 4;
/** CS, DS, ES, SS all have base 0 and a 4 GiB expand-up limit: segment arithmetic can be elided. */
export const MODE_FLAT = 1 << 5;
/** CPL in bits 6..7. */
export const MODE_CPL_SHIFT = 6;
export const MODE_CPL_MASK = 3 << MODE_CPL_SHIFT;

// ---------------------------------------------------------------- segment attribute bits
export const SEGF_ACCESSED = 0x01;
export const SEGF_TYPE_MASK = 0x0f;
export const SEGF_S = 0x10;
export const SEGF_DPL_SHIFT = 5;
export const SEGF_P = 0x80;
export const SEGF_AVL = 0x1000;
export const SEGF_DB = 0x4000;
export const SEGF_G = 0x8000;
export const SEGF_USABLE = 0x10000;
/**
 * The fixed caches SYSENTER and SYSEXIT load (SDM vol. 2, SYSENTER): flat 4 GiB 32-bit code
 * (execute/read) and data (read/write), accessed, DPL 0 (SYSEXIT adds DPL 3).
 */
export const SEGF_FLAT_CODE = SEGF_USABLE | SEGF_P | SEGF_S | 0x0a | SEGF_ACCESSED | SEGF_DB | SEGF_G;
export const SEGF_FLAT_DATA = SEGF_USABLE | SEGF_P | SEGF_S | 0x02 | SEGF_ACCESSED | SEGF_DB | SEGF_G;

/** Segment register numbers (ModRM encoding order). */
export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;

/** General register numbers (ModRM encoding order). */
export const R_EAX = 0;
export const R_ECX = 1;
export const R_EDX = 2;
export const R_EBX = 3;
export const R_ESP = 4;
export const R_EBP = 5;
export const R_ESI = 6;
export const R_EDI = 7;

// ---------------------------------------------------------------- EFLAGS bits
export const F_CF = 0x0001;
export const F_PF = 0x0004;
export const F_AF = 0x0010;
export const F_ZF = 0x0040;
export const F_SF = 0x0080;
export const F_TF = 0x0100;
export const F_IF = 0x0200;
export const F_DF = 0x0400;
export const F_OF = 0x0800;
export const F_IOPL = 0x3000;
export const F_NT = 0x4000;
export const F_RF = 0x10000;
export const F_VM = 0x20000;
export const F_AC = 0x40000;
export const F_VIF = 0x80000;
export const F_VIP = 0x100000;
export const F_ID = 0x200000;
/** The six status flags that the lazy-flags record can hold. */
export const F_ARITH = F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF;
/** Bit 1 of EFLAGS always reads as 1. */
export const F_FIXED1 = 0x0002;
/** Every EFLAGS bit that exists on an i686 (the others are reserved: bit 1 reads 1, the rest 0). */
export const F_DEFINED = F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_IF | F_DF | F_OF | F_IOPL |
  F_NT | F_RF | F_VM | F_AC | F_VIF | F_VIP | F_ID;
/** The flags POPF may change at CPL 0 (it never changes RF, VM, VIF, VIP); less IOPL above CPL 0, less IF when CPL > IOPL. */
export const F_POPF = F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_IF | F_DF | F_OF | F_IOPL | F_NT | F_AC | F_ID;

// ---------------------------------------------------------------- exception vectors
export const EX_DE = 0;
export const EX_DB = 1;
export const EX_NMI = 2;
export const EX_BP = 3;
export const EX_OF = 4;
export const EX_BR = 5;
export const EX_UD = 6;
export const EX_NM = 7;
export const EX_DF = 8;
export const EX_TS = 10;
export const EX_NP = 11;
export const EX_SS = 12;
export const EX_GP = 13;
export const EX_PF = 14;
export const EX_MF = 16;
export const EX_AC = 17;

// ---------------------------------------------------------------- operand sizes
/** Operand-size codes (lazy-flags records, interpreter and emitters): 8, 16, 32 bits. */
export const SZ8 = 0;
export const SZ16 = 1;
export const SZ32 = 2;
/** Value mask of each size code. */
export const SIZE_MASK = [0xff, 0xffff, -1] as const;
/** Bits of each size code. */
export const SIZE_BITS = [8, 16, 32] as const;

// ---------------------------------------------------------------- lazy-flags operation codes
/**
 * LF_OP = (kind << 2) | size (SZ8/SZ16/SZ32). LF_A, LF_B and LF_RES hold the
 * operands and result masked to the size; LF_C holds the carry-in (ADC/SBB), the preserved CF
 * (INC/DEC) or the computed CF and OF (shifts: bit 0 = CF, bit 1 = OF).
 */
export const LF_NONE = 0;
export const LFK_ADD = 1;
export const LFK_ADC = 2;
export const LFK_SUB = 3;
export const LFK_SBB = 4;
export const LFK_LOGIC = 5;
export const LFK_INC = 6;
export const LFK_DEC = 7;
/** Shifts: CF and OF were computed at the shift and stored in LF_C; AF reads as 0. */
export const LFK_SHIFT = 8;

// ---------------------------------------------------------------- translated code (DBT)
/**
 * A compiled region is a Wasm function `(entry: i32) -> i32`: `entry` selects the block to start
 * at, the result is an exit code. Guest registers and the lazy-flags record live in Wasm locals
 * while it runs and are stored back to the state block before every exit and helper call that
 * can observe them, so the state block is exact whenever the runtime looks.
 */
/** Continue at the EIP in the state block (budget spent, exit request, unknown target, ...). */
export const EXIT_CONTINUE = 0;
/**
 * A helper threw (a guest fault, or another throwable): the region caught it with `catch_all`,
 * stored its registers and lazy flags, and returned. The helper recorded the value and the
 * index of the instruction it was running for; the runtime sets EIP to that instruction and
 * rethrows the value.
 */
export const EXIT_PENDING = 1;
/**
 * The instruction with region index DBT_INSN completed with a write into the running region's
 * own code: continue after it (the runtime computes its EIP), with fresh translations.
 */
export const EXIT_AFTER = 2;
/** `EXIT_EXCEPTION | vector`: raise exception `vector` (no error code) at the EIP in the state block. */
export const EXIT_EXCEPTION = 0x100;

/**
 * Direct entry from region to region (no return to the run loop). Each region is in the shared
 * function table (WASM_TABLE_NAME) at its slot; a region enters another by tail-calling
 * WASM_JUMP_NAME(slot, entry), which tail-calls through the table (see WASM_HUB_NAME). The
 * jump cache, JUMP_CACHE_ENTRIES entries of four i32 at JUMP_CACHE indexed by
 * `jumpCacheIndex(eip)`, maps an EIP to a region entry:
 * `[eip, tlb, mode | blockLength << 8, slot << 16 | entry]`. It is valid while the soft-TLB
 * entry of the EIP's page still equals `tlb` (same physical page, same permissions), the running
 * mode equals `mode`, and the budget covers `blockLength` instructions (the entered block's
 * own check). Only regions of flat modes (MODE_FLAT: linear address = EIP) use it. The runtime
 * fills entries as it enters regions and clears every entry of a region it drops, before the
 * slot is reused. An all-zero entry never matches (a flat mode is never 0).
 */
export const JUMP_CACHE = 0x0001_0000;
/**
 * 2^15 entries (512 KiB, the most that fits below the soft TLB). The kernel paths of a Linux
 * guest enter thousands of distinct blocks from other regions: with 2^12 entries the fork loop
 * of bench:guest returned to JS to enter a region 950 times per fork (725 of them found by the
 * run loop's chaining, i.e. jump-cache conflicts), with 2^15 380 (160 chained).
 */
export const JUMP_CACHE_ENTRIES = 32768;
/** The jump-cache index of `eip` (emitted inline by translated code in the same way). */
export function jumpCacheIndex(eip: number): number {
  return (eip ^ (eip >>> 12)) & (JUMP_CACHE_ENTRIES - 1);
}

/** Results of the `interp` helper (it throws when the instruction faults). */
export const STUB_NEXT = 0; // completed, control falls through to the next instruction
export const STUB_EXIT = 1; // completed, and the run loop must look (request, shadow, TF/RF, HLT, rewritten code)
export const STUB_JUMP = 2; // completed with a transfer or a mode change: continue at the EIP in the state block

/** Results of the write helpers (they throw on a fault). */
export const WR_OK = 0;
/** The write hit a page holding the running region's code: finish the instruction, then exit. */
export const WR_CODE = 1;

/**
 * Memory helpers get the instruction's index in the region and the flat segment packed in one
 * argument, `k << 3 | (seg + 1)`: `seg` is the flat segment the linear address is an offset in
 * (its limit check was elided inline: the helper applies it to accesses that wrap past 4 GiB),
 * or -1 when a helper already checked the address. The segment helpers pack `k << 4 | n`.
 */
export function packSegK(k: number, seg: number): number {
  return (k << 3) | (seg + 1);
}

/** What a helper may touch (QEMU-style effect flags; the emitter flushes state accordingly). */
export type HelperEffects =
  /** Reads and writes any state: registers and lazy flags must be in memory, reloaded after. */
  | 'state'
  /** Reads the lazy-flags record (it must be in memory); writes nothing. */
  | 'reads-flags'
  /** Touches guest memory or segment caches only; may fault (throws). */
  | 'memory';

export interface HelperSpec {
  readonly params: readonly 'i32'[];
  readonly result: 'i32';
  readonly effects: HelperEffects;
}

/**
 * The fixed helper table: what compiled code calls through WASM_HUB_NAME. A helper reports a
 * guest fault by throwing; the region's catch_all stores its state (see EXIT_PENDING). Three
 * signatures occur, (i32)->i32, (i32,i32)->i32 and (i32,i32,i32)->i32. The runtime implements it
 * with `HelperImpls`, so a helper missing there is a type error; `testcc` and `flags` are also
 * Wasm functions of the hub (translator/emit/flags.ts addFlagHelpers), which the hub that
 * translate.ts `hubModule` builds uses instead of the JS ones.
 */
export const HELPERS = {
  /** interp(k): runs instruction k of the region with the interpreter's handler; returns STUB_*, or throws. */
  interp: { params: ['i32'], result: 'i32', effects: 'state' },
  /** testcc(cc): condition code cc (0..15) from the lazy-flags record in memory, 0 or 1. */
  testcc: { params: ['i32'], result: 'i32', effects: 'reads-flags' },
  /**
   * flags(0): materializes the lazy-flags record in memory into EFLAGS (LF_OP = LF_NONE) and
   * returns EFLAGS; for instructions that keep some status flags and change others.
   */
  flags: { params: ['i32'], result: 'i32', effects: 'reads-flags' },
  /** rd8/rd16/rd32(lin, segk): a read after a soft-TLB miss (segk: see packSegK). */
  rd8: { params: ['i32', 'i32'], result: 'i32', effects: 'memory' },
  rd16: { params: ['i32', 'i32'], result: 'i32', effects: 'memory' },
  rd32: { params: ['i32', 'i32'], result: 'i32', effects: 'memory' },
  /** wr8/wr16/wr32(lin, v, segk): a write after a soft-TLB miss (or to a code page); returns WR_*. */
  wr8: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  wr16: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  wr32: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  /** chkw(lin, n, segk): checks that n bytes at lin are writable (read-modify-write); returns WR_OK. */
  chkw: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  /** linr/linw(seg, off, k << 4 | n): linear address after the segment limit and rights checks. */
  linr: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  linw: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  /**
   * ldseg(k << 3 | seg, sel): loads DS, ES, FS or GS with `sel` by the current mode's rules (the
   * VMM's segment load: checks, faults, accessed bit); returns 1 when the mode bits changed (the
   * region must leave after the instruction), else 0.
   */
  ldseg: { params: ['i32', 'i32'], result: 'i32', effects: 'memory' },
  /**
   * io(k << 4 | out << 3 | size, port, value): IN (returns the value read) or OUT of `size`
   * bytes (1, 2, 4) with the permission check; a device that wants the run loop (an interrupt,
   * a stop, rewritten code) leaves EXIT_REQUEST set.
   */
  io: { params: ['i32', 'i32', 'i32'], result: 'i32', effects: 'memory' },
  /** verify(write, sel): VERR's (write 0) or VERW's (write 1) answer in protected mode, 1 for ZF set; never faults. */
  verify: { params: ['i32', 'i32'], result: 'i32', effects: 'memory' },
  /** rdtsc(k): RDTSC's checks and value: returns EAX; EDX is left in SCRATCH. */
  rdtsc: { params: ['i32'], result: 'i32', effects: 'memory' },
} as const satisfies Readonly<Record<string, HelperSpec>>;

export type HelperName = keyof typeof HELPERS;

/** Each helper's index `k` for WASM_HUB_NAME (the order of HELPERS). */
export const HELPER_INDEX = Object.fromEntries(Object.keys(HELPERS).map((name, k) => [name, k])) as Readonly<Record<HelperName, number>>;
/** The index `k` of WASM_JUMP_NAME for WASM_HUB_NAME, after the helpers. */
export const JUMP_INDEX = Object.keys(HELPERS).length;

type JsParams<P extends readonly unknown[]> = { [K in keyof P]: number };

/** The runtime's implementation of the helper table: one function per helper, same arity. */
export type HelperImpls = {
  readonly [K in HelperName]: (...args: JsParams<(typeof HELPERS)[K]['params']>) => number;
};

/** Import module name of the shared memory and of the helpers in every compiled module. */
export const WASM_IMPORT_MODULE = 'vm';
export const WASM_MEMORY_NAME = 'mem';
/**
 * Region modules import only the shared memory and one function, WASM_HUB_NAME:
 * `hub(k, a, b, c)` tail-calls helper k of HELPERS (HELPER_INDEX) with its own arity of a, b, c,
 * or, for k = JUMP_INDEX, WASM_JUMP_NAME(slot = a, entry = b), which tail-calls the region in
 * slot `slot` of WASM_TABLE_NAME (see JUMP_CACHE). The hub module (translator/wasm/backend.ts
 * `hubModule`), instantiated once per translator tier, alone imports the JS helpers (and the
 * memory, for the helpers it defines in Wasm) and owns the region table; the runtime enters regions from JS through its exported `jump`. Measured in
 * Node 20 (V8 11), runtime/README.md and translator/README.md "Costs": every function-import
 * signature costs a region module ~100-200 us of compile (V8 makes its import wrappers per
 * module); every instance that imports a table which is later written pays at instantiation and
 * at each table.set in proportion to the table's size and the number of such instances; and a
 * module that imports any table is never freed (RSS grew ~17 KB per module for ever; 40 000
 * force-translated modules ran out of Wasm code space). One function import of one signature
 * has none of these problems past its compile cost.
 */
export const WASM_TABLE_NAME = 'regions';
export const WASM_HUB_NAME = 'hub';
export const WASM_JUMP_NAME = 'jump';
