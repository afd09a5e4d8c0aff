/**
 * x87 memory operands: segment-checked linear addresses for operands of any size (2 to 108
 * bytes), little-endian multi-word reads, and writes that probe every page first so that a
 * store either completes or faults without having written anything (SDM vol. 3, 6.15 #PF
 * restartability). Also the common "load the memory source into SLOT_TMP" step of the
 * arithmetic and compare forms.
 */
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { ea } from '../insn/operands.ts';
import { SLOT_TMP } from './fpu.ts';
import { loadF32, loadF64, loadInt } from './formats.ts';

/** Memory source kinds of the D8/DC/DA/DE forms. */
export const MEM_F32 = 0;
export const MEM_F64 = 1;
export const MEM_I32 = 2;
export const MEM_I16 = 3;

/** Linear address of an `n`-byte memory operand to be read. */
export function readLin(cpu: Cpu, i: Insn, n: number): number {
  return cpu.linRead(i.seg, ea(cpu, i), n);
}

/** Linear address of an `n`-byte memory operand to be written, after probing all its pages. */
export function writeLin(cpu: Cpu, i: Insn, n: number): number {
  const lin = cpu.linWrite(i.seg, ea(cpu, i), n);
  cpu.checkWrite(lin, n);
  return lin;
}

/** Reads `n` bytes (n ≤ 108) at a linear address. */
export function readBytes(cpu: Cpu, lin: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(cpu.read8((lin + k) | 0));
  return out;
}

/** Writes bytes at a linear address already probed with writeLin. */
export function writeBytes(cpu: Cpu, lin: number, bytes: readonly number[]): void {
  for (let k = 0; k < bytes.length; k++) cpu.write8((lin + k) | 0, bytes[k]);
}

/**
 * Reads the D8/DC/DA/DE memory source into SLOT_TMP. Returns true if it is a denormal of its
 * format (reals only), which raises DE in the instruction that uses it.
 */
export function loadMemSource(cpu: Cpu, i: Insn, kind: number): boolean {
  switch (kind) {
    case MEM_F32: return loadF32(cpu, SLOT_TMP, cpu.read32(readLin(cpu, i, 4)));
    case MEM_F64: {
      const lin = readLin(cpu, i, 8);
      const lo = cpu.read32(lin);
      return loadF64(cpu, SLOT_TMP, lo, cpu.read32((lin + 4) | 0));
    }
    case MEM_I32: loadInt(cpu, SLOT_TMP, cpu.read32(readLin(cpu, i, 4))); return false;
    default: loadInt(cpu, SLOT_TMP, (cpu.read16(readLin(cpu, i, 2)) << 16) >> 16); return false;
  }
}
