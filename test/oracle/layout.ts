/**
 * The oracle's memory layout: the windows (code, data and stack pages) that exist at the same
 * linear addresses in the native runner's process and in the VM, their deterministic background
 * contents, and the host's user-visible segment selectors.
 *
 * Why these addresses:
 * - CODE (0x21A000) and CODE16 (0xA000) share their low 16 bits, so a near branch with a 16-bit
 *   operand size taken from CODE (EIP masked to 16 bits) lands in CODE16, which is mapped too.
 * - DATA16 lies below 64 KiB so that 16-bit effective addresses (flat segments) reach it.
 * - Everything sits far below a 32-bit Linux process's own mappings and above mmap_min_addr.
 * - Unmapped gaps between windows turn stray native accesses into #PF instead of silently
 *   touching runner memory.
 *
 * Background: every data window is filled with xorshift32 output seeded from the batch seed and
 * the window address; native.c has the same generator. Code windows hold a one-byte "stub"
 * everywhere: HLT natively (#GP at CPL 3 wherever control lands) and, in the VM, LOCK prefixes
 * (a run of 15 of them decodes as an over-long instruction: #GP(0) at any CPL). Either way the
 * fault address tells where control went.
 */

/** A region mapped at the same linear (and, in the VM, physical) address on both sides. */
export interface Window {
  readonly name: string;
  readonly addr: number;
  readonly size: number;
  readonly kind: 'code' | 'data';
}

export const CODE: Window = { name: 'code', addr: 0x0021a000, size: 0x2000, kind: 'code' };
export const CODE16: Window = { name: 'code16', addr: 0x0000a000, size: 0x2000, kind: 'code' };
export const DATA16: Window = { name: 'data16', addr: 0x00004000, size: 0x2000, kind: 'data' };
export const DATA32: Window = { name: 'data32', addr: 0x00300000, size: 0x2000, kind: 'data' };
export const STACK: Window = { name: 'stack', addr: 0x00400000, size: 0x2000, kind: 'data' };

export const WINDOWS: readonly Window[] = [CODE, CODE16, DATA16, DATA32, STACK];
export const CODE_WINDOWS: readonly Window[] = [CODE, CODE16];

/** Native code-window filler: HLT. */
export const NATIVE_STUB = 0xf4;
/** VM code-window filler: LOCK prefixes (15 of them are an over-long instruction, #GP(0)). */
export const VM_STUB = 0xf0;

/** VM-only structures (never touched by test instructions): the mirror GDT and page tables. */
export const GDT_ADDR = 0x00500000;
export const PAGE_DIR = 0x00501000;
export const PAGE_TABLES = 0x00502000;
/** Guest RAM for the oracle's VM. */
export const VM_RAM = 8 << 20;

/** The window containing [addr, addr + len), or undefined. */
export function windowOf(addr: number, len = 1): Window | undefined {
  const a = addr >>> 0;
  return WINDOWS.find((w) => a >= w.addr && a + len <= w.addr + w.size);
}

/** Fills `out` with the background of window `w` for batch seed `seed` (xorshift32 per dword). */
export function fillBackground(out: Uint8Array, w: Window, seed: number): void {
  if (w.kind === 'code') throw new Error('code windows have no background');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let x = ((seed ^ Math.imul(w.addr, 0x9e3779b9)) | 1) >>> 0;
  for (let i = 0; i < w.size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    dv.setUint32(i, x, true);
  }
}

// ------------------------------------------------------------------------------- selectors
/**
 * Segment selectors of a 32-bit process on an x86-64 Linux host, which the VM mirrors so that
 * instructions reading or loading segment registers agree. GDT indices follow the kernel's
 * x86-64 layout: 1 KERNEL32_CS, 2 KERNEL_CS, 3 KERNEL_DS, 4 USER32_CS, 5 USER_DS, 6 USER_CS,
 * 8-9 TSS, 10-11 LDT, 12-14 TLS, 15 CPUNODE; 16 entries (limit 0x7F).
 */
export const SEL_USER_CS = 0x23;
export const SEL_USER_DS = 0x2b;
export const SEL_USER_CS64 = 0x33;
export const GDT_LIMIT = 16 * 8 - 1;

/** Descriptor attribute words (high dword bits 8..23 shifted down: access byte, then flags). */
export interface MirrorDescriptor {
  readonly index: number;
  /** Access byte plus the G/DB/L/AVL nibble in bits 12..15, as in the kernel's GDT_ENTRY_INIT. */
  readonly attr: number;
}

/** The kernel's flat descriptors (base 0, limit 0xFFFFF pages). Other entries stay zero. */
export const MIRROR_GDT: readonly MirrorDescriptor[] = [
  { index: 1, attr: 0xc09b },
  { index: 2, attr: 0xa09b },
  { index: 3, attr: 0xc093 },
  { index: 4, attr: 0xc0fb },
  { index: 5, attr: 0xc0f3 },
  { index: 6, attr: 0xa0fb },
];

/**
 * The process's LDT, which the native runner creates with modify_ldt: entry 0 is a 16-bit
 * execute/read code segment (base 0, byte-granular limit 0xFFFF), selector 0x07 at RPL 3.
 */
export const SEL_CODE16 = 0x07;
export const MIRROR_LDT: readonly MirrorDescriptor[] = [{ index: 0, attr: 0x00fb }];
export const LDT_LIMIT = 1 * 8 - 1;
/** VM address of the mirror LDT (on the GDT's page) and its GDT slot, as on the host (10). */
export const LDT_ADDR = GDT_ADDR + 0x100;
export const SEL_LDT = 0x50;

/**
 * The harness's IDT (256 gates, built by the harness itself) and its TSS selector, as the host
 * kernel's are on the real CPU: the VM setups load IDTR and TR with the same values, so SIDT and
 * STR agree with the bare-metal reference (the real CPU's are excluded: UMIP).
 */
export const IDT_ADDR = GDT_ADDR + 0x800;
export const IDT_LIMIT = 256 * 8 - 1;
export const SEL_TSS = 0x40;

/** Builds the 8-byte descriptor for a segment (base 0) with attribute word `attr`. */
export function flatDescriptor(attr: number, limit = 0xfffff): [number, number] {
  const lo = limit & 0xffff; // limit 15..0, base 15..0 = 0
  const hi = ((attr & 0xf0ff) << 8) | (limit & 0xf0000); // limit 19..16, base 31..16 = 0
  return [lo, hi | 0];
}

/**
 * A descriptor table at its address: the VM setups write these, the bare-metal harness loads them
 * (the IDT's contents are the harness's own gates: only its place and size are shared).
 */
export interface MirrorTable {
  readonly kind: 'gdt' | 'ldt' | 'idt';
  readonly addr: number;
  readonly bytes: Uint8Array;
}

function tableBytes(limit: number, entries: readonly MirrorDescriptor[], segLimit: number): Uint8Array {
  const bytes = new Uint8Array(limit + 1);
  const dv = new DataView(bytes.buffer);
  for (const d of entries) {
    const [lo, hi] = flatDescriptor(d.attr, segLimit);
    dv.setInt32(d.index * 8, lo, true);
    dv.setInt32(d.index * 8 + 4, hi, true);
  }
  return bytes;
}

/**
 * The mirror GDT and LDT as bytes. GDT slots 8 (the TSS) and 10 (the LDT descriptor) stay zero
 * here: the bare harness fills them with its own, DPL 0 system descriptors, as the host kernel's
 * GDT has them. At CPL 3 (where every reference runs cases) a DPL-0 system descriptor and an
 * empty slot give the same results to every instruction that can name them (segment loads and
 * far transfers #GP(selector), LAR/LSL/VERR/VERW clear ZF).
 */
export const MIRROR_TABLES: readonly MirrorTable[] = [
  { kind: 'gdt', addr: GDT_ADDR, bytes: tableBytes(GDT_LIMIT, MIRROR_GDT, 0xfffff) },
  { kind: 'ldt', addr: LDT_ADDR, bytes: tableBytes(LDT_LIMIT, MIRROR_LDT, 0xffff) },
  { kind: 'idt', addr: IDT_ADDR, bytes: new Uint8Array(IDT_LIMIT + 1) },
];
