/**
 * A decoded instruction: the row it matched plus everything the prefixes, ModRM/SIB, displacement
 * and immediates said. Decoded once per block and then executed many times by the interpreter
 * or read once by the translator, so every field is a plain number (one hidden class).
 */
import { SEG_DS, SZ16, SZ32 } from '../abi.ts';

/** Prefix bits in `Insn.prefixes`. */
export const P_LOCK = 1;
export const P_REP = 2; // F3 (REP / REPE)
export const P_REPNE = 4; // F2
export const P_OPSIZE = 8; // 66 seen
export const P_ADSIZE = 16; // 67 seen

export class Insn {
  /** Row id in TABLE. */
  row = 0;
  /** Offset (in CS) of the first byte, prefixes included. */
  eip = 0;
  /** Length in bytes, 1..15. */
  len = 0;
  /** Operand size is 32 bits (else 16). */
  o32 = true;
  /** Address size is 32 bits (else 16). */
  a32 = true;
  /** P_* bits. */
  prefixes = 0;
  /** Segment-override prefix (SEG_* number), or -1. */
  segOverride = -1;
  /** The opcode byte (second byte for 0F-map rows). */
  opcode = 0;
  /** ModRM fields; for plusReg rows, `reg` holds the register from the opcode's low bits. */
  mod = 0;
  reg = 0;
  rm = 0;
  /** The instruction has a memory operand (ModRM with mod != 3, or a moffs operand). */
  isMem = false;
  /** Effective-address parts: base and index registers (-1 for none), scale (0..3), displacement. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  /** Segment of the memory operand (default from the base register, or the override). */
  seg = SEG_DS;
  /** First immediate (relative offsets and Ibs sign-extended; others zero-extended). */
  imm = 0;
  /** Second immediate: ENTER's nesting level, or the selector of a direct far pointer. */
  imm2 = 0;
}

/** The size code (abi.ts SZ16 or SZ32) of a `v` operand: the instruction's operand size. */
export function vsize(i: Insn): number {
  return i.o32 ? SZ32 : SZ16;
}
