/**
 * The IA-32 instruction decoder (SDM vol. 2, chapter 2): prefixes in any order and number,
 * the one-byte and 0F opcode maps, ModRM/SIB with 16- and 32-bit addressing, displacements and
 * immediates, all driven by TABLE.
 *
 * Invariants:
 * - The decoder never throws for bad bytes: an undefined encoding decodes to the `invalid` row
 *   (#UD when executed) and an instruction longer than 15 bytes to `tooLong` (#GP(0)). Only the
 *   byte fetcher may throw (a page fault or segment-limit fault while fetching).
 * - LOCK on an instruction that does not allow it, or with a register destination, is `invalid`.
 * - Lookup arrays are built once from TABLE at module load; conflicting rows are a build error.
 */
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from '../abi.ts';
import { ROW_INVALID, ROW_TOO_LONG, TABLE } from '../isa/table.ts';
import type { Row } from '../isa/types.ts';
import { Insn, P_ADSIZE, P_LOCK, P_OPSIZE, P_REP, P_REPNE } from './insn.ts';

/** Reads the byte at offset `eip` in the code segment; may throw a guest fault. */
export type ByteFetcher = (eip: number) => number;

/** Maximum instruction length (SDM vol. 2, 2.3.11). */
export const MAX_INSN_LEN = 15;

/**
 * Returned by the operand readers instead of a position when the instruction would exceed 15
 * bytes. Positions are EIP-based and EIP is an int32 (negative above 2 GiB), so no negative
 * number can serve as the sentinel.
 */
const OVERLONG = Number.POSITIVE_INFINITY;

// ------------------------------------------------------------------------------- lookup arrays
// Index of an opcode: map * 256 + byte.
const NO_ROW = -1;
/** Row for opcodes without ModRM, or -1. */
const DIRECT = new Int16Array(512).fill(NO_ROW);
/** MODRM_* per opcode: whether a ModRM byte follows and how its mod field is read. */
const HAS_MODRM = new Uint8Array(512);
const MODRM_YES = 1;
/** MOV to/from CRn/DRn: the mod field is ignored and the operand is always a register. */
const MODRM_FORCE_REG = 2;
/** Memory forms: [(opcode * 8) + reg]. */
const MEM_FORM = new Int16Array(512 * 8).fill(NO_ROW);
/** Register forms: [(opcode * 64) + reg * 8 + rm]. */
const REG_FORM = new Int16Array(512 * 64).fill(NO_ROW);

/** Immediate layout per row: codes for the first and second immediates (see IMM_* below). */
const IMM1 = new Uint8Array(TABLE.length);
const IMM2 = new Uint8Array(TABLE.length);
/** The row has a moffs (Ob/Ov) operand: an address-size displacement with no ModRM. */
const MOFFS = new Uint8Array(TABLE.length);
const IMM_NONE = 0;
const IMM_B = 1; // 8-bit, zero-extended
const IMM_BS = 2; // 8-bit, sign-extended
const IMM_W = 3; // 16-bit, zero-extended
const IMM_Z = 4; // 16 or 32 by operand size, zero-extended
const IMM_ZS = 5; // 16 or 32 by operand size, sign-extended (relative jumps)
const IMM_A = 6; // address-size (moffs)

function immCode(o: string): number {
  switch (o) {
    case 'Ib': return IMM_B;
    case 'Ibs': case 'Jb': return IMM_BS;
    case 'Iw': return IMM_W;
    case 'Iz': case 'Iv': return IMM_Z;
    case 'Jz': return IMM_ZS;
    case 'Ob': case 'Ov': return IMM_A;
    default: return IMM_NONE;
  }
}

function put(arr: Int16Array, idx: number, row: Row, weak: boolean): void {
  const cur = arr[idx];
  if (cur !== NO_ROW) {
    if (weak) return; // an explicit row already owns this slot (e.g. 90 = NOP over XCHG)
    const other = TABLE[cur];
    if (!other.plusReg) throw new Error(`decoder: rows ${other.name} and ${row.name} share an encoding`);
  }
  arr[idx] = row.id;
}

function buildLookups(): void {
  for (const row of TABLE) {
    if (row.op < 0) continue;
    let i1 = IMM_NONE;
    let i2 = IMM_NONE;
    for (const o of row.ops) {
      const c = immCode(o);
      if (c === IMM_A) MOFFS[row.id] = 1;
      else if (c !== IMM_NONE) {
        if (i1 === IMM_NONE) i1 = c;
        else i2 = c;
      }
    }
    if (row.ops.includes('Ap')) {
      i1 = IMM_Z; // offset first, then the 16-bit selector
      i2 = IMM_W;
    }
    IMM1[row.id] = i1;
    IMM2[row.id] = i2;

    const base = (row.map === '0f' ? 256 : 0) + row.op;
    const opcodes = row.plusReg ? [0, 1, 2, 3, 4, 5, 6, 7].map((r) => base + r) : [base];
    for (const opc of opcodes) {
      if (!row.modrm) {
        if (HAS_MODRM[opc]) throw new Error(`decoder: ${row.name} mixes ModRM and non-ModRM forms`);
        put(DIRECT, opc, row, !!row.plusReg);
        continue;
      }
      if (DIRECT[opc] !== NO_ROW) throw new Error(`decoder: ${row.name} mixes ModRM and non-ModRM forms`);
      HAS_MODRM[opc] = row.ops.includes('Rd') ? MODRM_FORCE_REG : MODRM_YES;
      const regs = row.reg === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [row.reg];
      const mem = row.mod !== 'reg' && row.rm === undefined;
      const reg = row.mod !== 'mem';
      for (const r of regs) {
        if (mem) put(MEM_FORM, opc * 8 + r, row, false);
        if (reg) {
          const rms = row.rm === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [row.rm];
          for (const m of rms) put(REG_FORM, opc * 64 + r * 8 + m, row, false);
        }
      }
    }
  }
}
buildLookups();

// ------------------------------------------------------------------------------------- decode
/**
 * Decodes the instruction at CS offset `eip`. `code32` is the code segment's D bit.
 * Returns a fresh Insn (decoded instructions are cached by the runtime, so they are not reused).
 */
export function decode(fetch: ByteFetcher, eip: number, code32: boolean): Insn {
  const insn = new Insn();
  insn.eip = eip;
  let p = eip;
  let prefixes = 0;
  let seg = -1;
  let b: number;

  // Prefixes: any order, any repetition; the last segment override wins.
  for (;;) {
    if (p - eip >= MAX_INSN_LEN) return tooLong(insn);
    b = fetch(p++);
    switch (b) {
      case 0x26: seg = SEG_ES; continue;
      case 0x2e: seg = SEG_CS; continue;
      case 0x36: seg = SEG_SS; continue;
      case 0x3e: seg = SEG_DS; continue;
      case 0x64: seg = SEG_FS; continue;
      case 0x65: seg = SEG_GS; continue;
      case 0x66: prefixes |= P_OPSIZE; continue;
      case 0x67: prefixes |= P_ADSIZE; continue;
      case 0xf0: prefixes |= P_LOCK; continue;
      // F2 and F3 are mutually exclusive; the last one seen applies.
      case 0xf2: prefixes = (prefixes & ~P_REP) | P_REPNE; continue;
      case 0xf3: prefixes = (prefixes & ~P_REPNE) | P_REP; continue;
    }
    break;
  }
  const o32 = code32 !== ((prefixes & P_OPSIZE) !== 0);
  const a32 = code32 !== ((prefixes & P_ADSIZE) !== 0);
  insn.prefixes = prefixes;
  insn.segOverride = seg;
  insn.o32 = o32;
  insn.a32 = a32;

  let opc = b;
  if (b === 0x0f) {
    if (p - eip >= MAX_INSN_LEN) return tooLong(insn);
    b = fetch(p++);
    opc = 256 + b;
  }
  insn.opcode = b;

  let row: number;
  const modrmKind = HAS_MODRM[opc];
  if (modrmKind) {
    if (p - eip >= MAX_INSN_LEN) return tooLong(insn);
    const modrm = fetch(p++);
    const mod = modrmKind === MODRM_FORCE_REG ? 3 : modrm >> 6;
    const reg = (modrm >> 3) & 7;
    const rm = modrm & 7;
    insn.mod = mod;
    insn.reg = reg;
    insn.rm = rm;
    if (mod === 3) {
      row = REG_FORM[opc * 64 + reg * 8 + rm];
    } else {
      row = MEM_FORM[opc * 8 + reg];
      insn.isMem = true;
      p = a32 ? decodeEa32(insn, fetch, p, eip) : decodeEa16(insn, fetch, p, eip);
      if (p === OVERLONG) return tooLong(insn);
      if (seg >= 0) insn.seg = seg;
    }
  } else {
    row = DIRECT[opc];
    insn.reg = b & 7; // for plusReg rows
    if (row !== NO_ROW && MOFFS[row]) {
      insn.isMem = true;
      insn.seg = seg >= 0 ? seg : SEG_DS;
      const n = a32 ? 4 : 2;
      if (p + n - eip > MAX_INSN_LEN) return tooLong(insn);
      insn.disp = readLe(fetch, p, n, false);
      p += n;
    } else if (seg >= 0) {
      insn.seg = seg; // string-source override (X operands)
    }
  }

  if (row === NO_ROW) {
    insn.row = ROW_INVALID;
    insn.len = p - eip;
    return insn;
  }
  const r = TABLE[row];
  if (prefixes & P_LOCK && (!r.lock || !insn.isMem)) {
    insn.row = ROW_INVALID;
    insn.len = p - eip;
    return insn;
  }

  const i1 = IMM1[row];
  if (i1 !== IMM_NONE) {
    p = readImm(insn, fetch, p, eip, i1, o32, false);
    if (p === OVERLONG) return tooLong(insn);
    const i2 = IMM2[row];
    if (i2 !== IMM_NONE) {
      p = readImm(insn, fetch, p, eip, i2, o32, true);
      if (p === OVERLONG) return tooLong(insn);
    }
  }
  insn.row = row;
  insn.len = p - eip;
  return insn;
}

function tooLong(insn: Insn): Insn {
  insn.row = ROW_TOO_LONG;
  insn.len = MAX_INSN_LEN;
  return insn;
}

function readLe(fetch: ByteFetcher, p: number, n: number, signed: boolean): number {
  let v = 0;
  for (let i = 0; i < n; i++) v |= fetch(p + i) << (8 * i);
  if (n === 4) return signed ? v | 0 : v >>> 0;
  if (!signed) return v;
  const shift = 32 - 8 * n;
  return (v << shift) >> shift;
}

/** Reads one immediate; returns the new position, or OVERLONG if it would exceed 15 bytes. */
function readImm(insn: Insn, fetch: ByteFetcher, p: number, eip: number, code: number, o32: boolean, second: boolean): number {
  let n: number;
  let signed = false;
  switch (code) {
    case IMM_B: n = 1; break;
    case IMM_BS: n = 1; signed = true; break;
    case IMM_W: n = 2; break;
    case IMM_Z: n = o32 ? 4 : 2; break;
    default: n = o32 ? 4 : 2; signed = true; break; // IMM_ZS
  }
  if (p + n - eip > MAX_INSN_LEN) return OVERLONG;
  const v = readLe(fetch, p, n, signed);
  if (second) insn.imm2 = v;
  else insn.imm = code === IMM_Z && o32 ? v | 0 : v;
  return p + n;
}

/** 32-bit ModRM/SIB addressing (SDM vol. 2, table 2-2 and 2-3). Returns the new position or OVERLONG. */
function decodeEa32(insn: Insn, fetch: ByteFetcher, p: number, eip: number): number {
  const mod = insn.mod;
  const rm = insn.rm;
  let base = rm;
  if (rm === 4) {
    if (p - eip >= MAX_INSN_LEN) return OVERLONG;
    const sib = fetch(p++);
    insn.scale = sib >> 6;
    const idx = (sib >> 3) & 7;
    insn.index = idx === 4 ? -1 : idx;
    base = sib & 7;
    if (base === 5 && mod === 0) base = -1; // disp32, no base
  } else if (rm === 5 && mod === 0) {
    base = -1; // disp32 absolute
  }
  insn.base = base;
  insn.seg = base === 4 || base === 5 ? SEG_SS : SEG_DS;
  const n = mod === 1 ? 1 : mod === 2 || base === -1 ? 4 : 0;
  if (n) {
    if (p + n - eip > MAX_INSN_LEN) return OVERLONG;
    insn.disp = readLe(fetch, p, n, true);
  }
  return p + n;
}

// 16-bit addressing: base and index for rm 0..7 (SDM vol. 2, table 2-1). BX=3, BP=5, SI=6, DI=7.
const EA16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const EA16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1];

function decodeEa16(insn: Insn, fetch: ByteFetcher, p: number, eip: number): number {
  const mod = insn.mod;
  const rm = insn.rm;
  let base = EA16_BASE[rm];
  insn.index = EA16_INDEX[rm];
  if (mod === 0 && rm === 6) base = -1; // disp16 absolute
  insn.base = base;
  insn.seg = base === 5 ? SEG_SS : SEG_DS;
  const n = mod === 1 ? 1 : mod === 2 || base === -1 ? 2 : 0;
  if (n) {
    if (p + n - eip > MAX_INSN_LEN) return OVERLONG;
    insn.disp = readLe(fetch, p, n, true);
  }
  return p + n;
}

/** True if the row for `opcodeIndex` (map * 256 + byte) exists in some form. For tests. */
export function opcodeHasRows(opcodeIndex: number): boolean {
  if (DIRECT[opcodeIndex] !== NO_ROW) return true;
  for (let i = 0; i < 8; i++) if (MEM_FORM[opcodeIndex * 8 + i] !== NO_ROW) return true;
  for (let i = 0; i < 64; i++) if (REG_FORM[opcodeIndex * 64 + i] !== NO_ROW) return true;
  return false;
}
