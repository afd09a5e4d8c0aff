/**
 * The block scanner and region former (translator/scan): where blocks end, per-class counts, and
 * which blocks a region takes.
 */
import { describe, expect, it } from 'vitest';
import { TABLE } from '../../translator/isa/table.ts';
import { formRegion } from '../../translator/scan/region.ts';
import { CLASS_INDEX } from '../../translator/isa/table.ts';
import { scanBlock } from '../../translator/scan/scan-block.ts';
import type { CodePage } from '../../translator/scan/scan-block.ts';

function page(bytes: number[], at = 0, code32 = true): CodePage {
  const u8 = new Uint8Array(0x3000);
  u8.set(bytes, 0x1000 + at);
  return { u8, hostPage: 0x1000, physPage: 0x5000, eipBase: 0x400000, csLimit: code32 ? 0xffffffff : 0xffff, code32 };
}

describe('block scanner', () => {
  it('ends a block after a control transfer and counts instructions per class', () => {
    // pushf; cli; in al, 0x80; add eax, ebx; jnz $; nop
    const b = scanBlock(page([0x9c, 0xfa, 0xe4, 0x80, 0x01, 0xd8, 0x75, 0xfe, 0x90]), 0x400000);
    expect(b?.insns.map((i) => TABLE[i.row].name)).toEqual(['pushf', 'cli', 'inALIb', 'addEvGv', 'jneJb']);
    expect(b?.end).toBe('control');
    expect(b?.phys).toBe(0x5000);
    expect(b?.endEip).toBe(0x400008);
    const counts = b?.classCounts ?? [];
    expect(counts[CLASS_INDEX.innocuous]).toBe(1);
    expect(counts[CLASS_INDEX.control]).toBe(1);
    expect(counts[CLASS_INDEX['sensitive-non-trapping']]).toBe(1);
    expect(counts[CLASS_INDEX.privileged]).toBe(1);
    expect(counts[CLASS_INDEX.io]).toBe(1);
  });

  it('ends a block after a row that must end one (a segment load)', () => {
    const b = scanBlock(page([0x8e, 0xd8, 0x40]), 0x400000); // mov ds, ax; inc eax
    expect(b?.insns.length).toBe(1);
    expect(b?.end).toBe('ends');
  });

  it('stops at the page end and never takes an instruction that crosses it', () => {
    // nop at 0xffd, then mov eax, imm32 starting at 0xffe (crosses into the next page).
    const p = page([0x90, 0x90, 0xb8, 1, 2, 3, 4], 0xffc);
    const b = scanBlock(p, 0x400ffc);
    expect(b?.insns.length).toBe(2);
    expect(b?.end).toBe('page');
    expect(scanBlock(p, 0x400ffe)).toBeNull();
  });

  it('stops at the CS limit in 16-bit code', () => {
    const p: CodePage = { ...page([0x40, 0x40, 0x40, 0x40]), eipBase: 0xfffe, code32: false, csLimit: 0xffff };
    const b = scanBlock(p, 0xfffe);
    expect(b?.insns.length).toBe(2);
  });
});

describe('region former', () => {
  // 0: xor eax, eax; 2: jmp 6; 4: ud2 (never reached); 6: inc eax; 7: cmp eax, 9; 10: jb 6; 12: hlt; 13: data
  const code = [0x31, 0xc0, 0xeb, 0x02, 0x0f, 0x0b, 0x40, 0x83, 0xf8, 0x09, 0x72, 0xfa, 0xf4, 0xff, 0xff];

  it('takes the blocks reachable by jumps and fall-throughs, in address order, not what follows HLT', () => {
    const blocks = formRegion(page(code), [0x400000]);
    expect(blocks.map((b) => b.eip - 0x400000)).toEqual([0, 6, 12]);
  });

  it('asks `accept` before taking a successor', () => {
    const blocks = formRegion(page(code), [0x400000], undefined, (eip) => eip !== 0x400006);
    expect(blocks.map((b) => b.eip - 0x400000)).toEqual([0]);
  });

  it('respects the size limits but always takes the entries', () => {
    const blocks = formRegion(page(code), [0x400006, 0x400000], { maxBlocks: 1, maxInsns: 1 });
    expect(blocks.map((b) => b.eip - 0x400000)).toEqual([0, 6]);
  });
});
