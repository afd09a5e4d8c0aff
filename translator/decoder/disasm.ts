/**
 * Intel-syntax disassembler driven by the same TABLE as the decoder; for traces, test messages
 * and golden files. Output resembles objdump -M intel / nasm: `add dword [ebx+esi*4+0x10], eax`.
 */
import { TABLE } from '../isa/table.ts';
import type { Operand } from '../isa/types.ts';
import { decode } from './decode.ts';
import type { ByteFetcher } from './decode.ts';
import { Insn, P_LOCK, P_REP, P_REPNE } from './insn.ts';

export const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
export const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
export const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

function sizeOf(o: Operand, insn: Insn): number {
  switch (o) {
    case 'Eb': case 'Gb': case 'Ib': case 'Ibs': case 'Zb': case 'Ob': case 'Xb': case 'Yb': case 'AL': case 'CL': return 8;
    case 'Ew': case 'Gw': case 'Iw': case 'Mw': case 'AX': case 'DX': case 'Sw': case 'Mi16': return 16;
    case 'Ed': case 'Gd': case 'Rd': case 'Cd': case 'Dd': case 'Md': case 'Mi32': case 'Mf32': return 32;
    case 'Mq': case 'Mi64': case 'Mf64': return 64;
    case 'Mf80': case 'Mbcd': return 80;
    case 'Mp': return insn.o32 ? 48 : 32;
    default: return insn.o32 ? 32 : 16;
  }
}

const PTR: Readonly<Record<number, string>> = { 8: 'byte ', 16: 'word ', 32: 'dword ', 48: 'fword ', 64: 'qword ', 80: 'tword ' };

function regName(r: number, bits: number): string {
  return bits === 8 ? REG8[r] : bits === 16 ? REG16[r] : REG32[r];
}

function memOperand(insn: Insn, bits: number, showSize: boolean): string {
  const regs = insn.a32 ? REG32 : REG16;
  const parts: string[] = [];
  if (insn.base >= 0) parts.push(regs[insn.base]);
  if (insn.index >= 0) parts.push(regs[insn.index] + (insn.scale ? `*${1 << insn.scale}` : ''));
  let s = parts.join('+');
  const disp = insn.a32 ? insn.disp | 0 : (insn.disp << 16) >> 16;
  if (parts.length === 0) s = hex(insn.a32 ? insn.disp : insn.disp & 0xffff);
  else if (disp > 0) s += '+' + hex(disp);
  else if (disp < 0) s += '-' + hex(-disp);
  const seg = insn.segOverride >= 0 ? SEGS[insn.segOverride] + ':' : '';
  return (showSize ? PTR[bits] ?? '' : '') + seg + '[' + s + ']';
}

function operand(o: Operand, insn: Insn, next: number): string | null {
  const bits = sizeOf(o, insn);
  switch (o) {
    case 'Eb': case 'Ew': case 'Ed': case 'Ev':
      return insn.mod === 3 ? regName(insn.rm, bits) : memOperand(insn, bits, true);
    case 'Rd': return REG32[insn.rm];
    case 'Gb': case 'Gw': case 'Gd': case 'Gv': return regName(insn.reg, bits);
    case 'Zb': case 'Zv': return regName(insn.reg, bits);
    case 'Sw': return SEGS[insn.reg] ?? `seg${insn.reg}`;
    case 'Cd': return `cr${insn.reg}`;
    case 'Dd': return `dr${insn.reg}`;
    case 'Ib': return hex(insn.imm & 0xff);
    case 'Iw': return hex(insn.imm & 0xffff);
    case 'Ibs': case 'Iz': case 'Iv': return hex(insn.o32 ? insn.imm : insn.imm & 0xffff);
    case 'Jb': case 'Jz': return hex(insn.o32 ? next + insn.imm : (next + insn.imm) & 0xffff);
    case 'Ap': return `${hex(insn.imm2)}:${hex(insn.imm)}`;
    case 'Ob': case 'Ov': return memOperand(insn, bits, true);
    case 'M': case 'Ms': case 'Ma': case 'Menv': case 'Mstate': return memOperand(insn, bits, false);
    case 'AL': case 'AX': case 'CL': case 'DX': return o.toLowerCase();
    case 'eAX': return insn.o32 ? 'eax' : 'ax';
    case '1': return '1';
    case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS': return o.toLowerCase();
    case 'ST0': return 'st0';
    case 'STi': return `st${insn.rm}`;
    case 'Xb': case 'Xv': case 'Yb': case 'Yv': return null; // implicit in the mnemonic
    default: return memOperand(insn, bits, true); // remaining memory kinds (Mp, Mq, Mw, x87)
  }
}

/** Formats a decoded instruction in Intel syntax. */
export function formatInsn(insn: Insn): string {
  const row = TABLE[insn.row];
  let mnem = !insn.o32 && row.mnem16 ? row.mnem16 : row.mnem;
  if (row.name === 'jcxzJb' && !insn.a32) mnem = 'jcxz'; // follows the address size
  const pre: string[] = [];
  if (insn.prefixes & P_LOCK) pre.push('lock');
  if (row.rep && insn.prefixes & (P_REP | P_REPNE)) {
    pre.push(row.rep === 'repe' ? (insn.prefixes & P_REP ? 'repe' : 'repne') : 'rep');
  }
  const next = insn.eip + insn.len;
  const ops = row.ops.map((o) => operand(o, insn, next)).filter((s): s is string => s !== null);
  const text = [...pre, mnem].join(' ');
  return ops.length ? `${text} ${ops.join(', ')}` : text;
}

/** Decodes and formats one instruction from a byte array (code at offset 0 = `eip`). */
export function disassemble(bytes: ArrayLike<number>, code32 = true, eip = 0): { text: string; len: number } {
  const fetch: ByteFetcher = (a) => (a - eip < bytes.length ? bytes[a - eip] : 0);
  const insn = decode(fetch, eip, code32);
  return { text: formatInsn(insn), len: insn.len };
}
