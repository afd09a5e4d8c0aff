/**
 * An IA-32 instruction encoder driven by the table rows (SDM vol. 2, chapter 2): prefixes,
 * opcode (one-byte or 0F map, +r forms), ModRM/SIB in 16- and 32-bit addressing, displacement
 * and immediates. It encodes every row, including those an assembler refuses or spells
 * differently (82 /r, F6 /1, SALC, 0F 1F, C0 /6 ...), so the oracle needs no assembler.
 *
 * The encoder is checked against the project's decoder on every generated case (gen.ts): the
 * decoder must give back the same row and length, or the case is reported, not run.
 */
import type { Operand, Row } from '../../translator/isa/types.ts';
import type { Form } from './types.ts';

/** ModRM addressing: mod/rm, optional SIB byte, displacement value and size in bytes. */
export interface ModrmBytes {
  mod: number;
  rm: number;
  sib?: number;
  disp: number;
  dispSize: 0 | 1 | 2 | 4;
}

export interface EncodeSpec {
  readonly row: Row;
  readonly form: Form;
  /** Prefix bytes in emission order. */
  readonly prefixes: readonly number[];
  /** ModRM.reg, or the register in the opcode's low bits for +r rows. */
  readonly reg: number;
  /** ModRM mod/rm/SIB/displacement (rows with ModRM only). */
  readonly modrm?: ModrmBytes;
  /** Immediate values in operand order (see immSizes); moffs counts as an immediate. */
  readonly imms: readonly number[];
}

/** Size in bytes of each immediate-like field of `row` under `form`, in encoding order. */
export function immSizes(row: Row, form: Form): number[] {
  const os = form.osz / 8;
  const out: number[] = [];
  for (const o of row.ops) {
    switch (o) {
      case 'Ib': case 'Ibs': case 'Jb': out.push(1); break;
      case 'Iw': out.push(2); break;
      case 'Iz': case 'Iv': case 'Jz': out.push(os); break;
      case 'Ap': out.push(os, 2); break;
      case 'Ob': case 'Ov': out.push(form.asz / 8); break;
    }
  }
  return out;
}

/** Operand kinds that are immediates (or encoded like them). */
export function isImmOperand(o: Operand): boolean {
  return o === 'Ib' || o === 'Ibs' || o === 'Iw' || o === 'Iz' || o === 'Iv' || o === 'Jb' || o === 'Jz' ||
    o === 'Ap' || o === 'Ob' || o === 'Ov';
}

function pushLe(out: number[], v: number, n: number): void {
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
}

/** Encodes one instruction. */
export function encode(spec: EncodeSpec): Uint8Array {
  const { row } = spec;
  const out: number[] = [...spec.prefixes];
  if (row.map === '0f') out.push(0x0f);
  out.push(row.plusReg ? row.op | (spec.reg & 7) : row.op);
  if (row.modrm) {
    const m = spec.modrm;
    if (!m) throw new Error(`encode ${row.name}: ModRM required`);
    out.push((m.mod << 6) | ((spec.reg & 7) << 3) | (m.rm & 7));
    if (m.sib !== undefined) out.push(m.sib);
    pushLe(out, m.disp, m.dispSize);
  }
  const sizes = immSizes(row, spec.form);
  if (sizes.length !== spec.imms.length) throw new Error(`encode ${row.name}: expected ${sizes.length} immediates`);
  sizes.forEach((n, k) => pushLe(out, spec.imms[k], n));
  return Uint8Array.from(out);
}

/** Memory bytes accessed through the r/m operand of `row` (0 if it is not accessed). */
export function memOperandSize(row: Row, form: Form): number {
  const os = form.osz / 8;
  for (const o of row.ops) {
    switch (o) {
      case 'Eb': return 1;
      case 'Ew': case 'Mw': case 'Mi16': return 2;
      case 'Ed': case 'Md': case 'Mi32': case 'Mf32': return 4;
      case 'Ev': return os;
      case 'Mq': case 'Mi64': case 'Mf64': return 8;
      case 'Mf80': case 'Mbcd': return 10;
      case 'Mp': return os + 2;
      case 'Ma': return 2 * os;
      case 'Ms': return 6;
      case 'Menv': return form.osz === 32 ? 28 : 14;
      case 'Mstate': return form.osz === 32 ? 108 : 94;
      case 'M': return 0;
    }
  }
  return 0;
}
