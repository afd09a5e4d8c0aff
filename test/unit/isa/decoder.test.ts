import { describe, expect, it } from 'vitest';
import { decode } from '../../../translator/decoder/decode.ts';
import { disassemble } from '../../../translator/decoder/disasm.ts';
import { TABLE } from '../../../translator/isa/table.ts';

function dec(bytes: number[], eip = 0, code32 = true) {
  return decode((a) => (a - eip < bytes.length ? bytes[a - eip] : 0x90), eip, code32);
}

describe('decoder', () => {
  it('decodes the same instruction identically at any EIP, including above 2 GiB (negative int32)', () => {
    const bytes = [0x81, 0xc4, 0, 0, 0, 0xc0];
    for (const eip of [0, 0x7ffffff8, 0xc4000138 | 0, -16]) {
      const i = dec(bytes, eip);
      expect(TABLE[i.row].name, `eip ${eip}`).toBe('addEvIz');
      expect(i.len).toBe(6);
      expect(i.imm | 0).toBe(0xc0000000 | 0);
    }
  });
  it('gives #GP (tooLong) beyond 15 bytes and #UD for undefined encodings', () => {
    expect(TABLE[dec([...Array(14).fill(0x66), 0x90]).row].name).toBe('nop');
    expect(TABLE[dec([...Array(15).fill(0x66), 0x90]).row].name).toBe('tooLong');
    expect(TABLE[dec([...Array(12).fill(0x66), 0x81, 0xc0, 0x34, 0x12]).row].name).toBe('tooLong');
    expect(TABLE[dec([0x0f, 0x0a]).row].name).toBe('invalid');
    expect(TABLE[dec([0xf0, 0x01, 0xc0]).row].name).toBe('invalid'); // LOCK with a register destination
    expect(TABLE[dec([0xf0, 0x01, 0x00]).row].name).toBe('addEvGv');
  });
  it('decodes 16-bit addressing and operand-size prefixes', () => {
    expect(disassemble([0x8b, 0x42, 0x02], false).text).toBe('mov ax, word [bp+si+0x2]');
    expect(disassemble([0x66, 0x67, 0x8b, 0x04], true).text).toBe('mov ax, word [si]');
    expect(disassemble([0x8d, 0x44, 0x98, 0xf0]).text).toBe('lea eax, [eax+ebx*4-0x10]');
    expect(disassemble([0x0f, 0x22, 0x18]).text).toBe('mov cr3, eax'); // mod ignored
  });
});
