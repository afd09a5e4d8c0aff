/**
 * Flags read at a segment start, where the translator does not know statically which kind of
 * operation wrote the lazy-flags record (emit/flags.ts `dynamicCarry` tests the kind at run
 * time): every producer kind and size, then a short jump (a new block), then a consumer of CF
 * (INC/DEC keep it; ADC, SBB, SETC, RCL read it) or of any condition (SETcc, Jcc, CMOVcc), from
 * random states, or of all of EFLAGS (PUSHFD, ROL/ROR). The full final state under
 * the translator must equal the interpreter's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { F_ARITH, F_DF } from '../../translator/abi.ts';
import { TABLE } from '../../translator/isa/table.ts';
import type { Vm } from '../../runtime/vm.ts';
import { DATA_SIZE, Rng } from './gen.ts';
import type { Case } from './gen.ts';
import { diff, makeVm, runCase } from './harness.ts';

const PRODUCERS: Record<string, number[]> = {
  'add eax,ebx': [0x01, 0xd8], 'add al,bl': [0x00, 0xd8], 'add ax,bx': [0x66, 0x01, 0xd8],
  'sub eax,ebx': [0x29, 0xd8], 'sub al,bl': [0x28, 0xd8], 'sub ax,bx': [0x66, 0x29, 0xd8],
  'cmp eax,ebx': [0x39, 0xd8], 'cmp al,bl': [0x38, 0xd8], 'neg eax': [0xf7, 0xd8],
  'and eax,ebx': [0x21, 0xd8], 'or al,bl': [0x08, 0xd8], 'xor ax,bx': [0x66, 0x31, 0xd8], 'test eax,ebx': [0x85, 0xd8],
  'inc eax': [0x40], 'dec al': [0xfe, 0xc8], 'inc ax': [0x66, 0x40],
  'shl eax,5': [0xc1, 0xe0, 5], 'shr al,1': [0xd0, 0xe8], 'sar ax,3': [0x66, 0xc1, 0xf8, 3],
  'adc eax,ebx': [0x11, 0xd8], 'sbb al,bl': [0x18, 0xd8],
  'stc': [0xf9], 'clc': [0xf8],
};
const CONSUMERS: Record<string, number[]> = {
  'inc edx': [0x42], 'dec dl': [0xfe, 0xca], 'inc dx': [0x66, 0x42],
  'adc ecx,esi': [0x11, 0xf1], 'sbb ecx,esi': [0x19, 0xf1], 'setc cl': [0x0f, 0x92, 0xc1], 'rcl edi,1': [0xd1, 0xd7],
  // Every condition (emit/flags.ts `dynamicCondition`): SETcc, and one Jcc and one CMOVcc.
  ...Object.fromEntries(Array.from({ length: 16 }, (_, cc) => [`set${cc.toString(16)} cl`, [0x0f, 0x90 + cc, 0xc1]])),
  'jle +1; inc ecx': [0x7e, 0x01, 0x41], 'cmovb ecx,esi': [0x0f, 0x42, 0xce],
  // Materialized EFLAGS (emit/flags.ts materializeFlags, through the `flags` helper here): PUSHFD,
  // and rotates that keep SF ZF AF PF.
  'pushfd': [0x9c], 'rol esi,3': [0xc1, 0xc6, 0x03], 'ror di,1': [0x66, 0xd1, 0xcf],
};
/** Consumers that write every arithmetic flag (then the producer's undefined flags cannot show). */
const WRITES_ALL = new Set(['adc ecx,esi', 'sbb ecx,esi']);

let interp: Vm;
let dbt: Vm;
beforeAll(async () => {
  interp = await makeVm('interp');
  dbt = await makeVm('dbt');
});

describe('CF and conditions at a segment start after each kind of producer', () => {
  const pairs = Object.keys(PRODUCERS).flatMap((p) => Object.keys(CONSUMERS).map((q) => [p, q] as const));
  it.each(pairs)('%s; jmp $+2; %s', (p, q) => {
    const rng = new Rng(0x5eed ^ (p.length * 7919 + q.length * 104729));
    const code = [...PRODUCERS[p], 0xeb, 0x00, ...CONSUMERS[q], 0x0f, 0x0b];
    for (let n = 0; n < 16; n++) {
      const regs = Array.from({ length: 8 }, () => rng.u32() | 0);
      regs[4] = 0x7f000; // ESP
      // Edge operands now and then: equal, zero, sign boundaries.
      if (n % 4 === 1) regs[3] = regs[0];
      if (n % 4 === 2) { regs[0] = 0x7fffffff; regs[3] = -1; }
      const c: Case = { code, regs, eflags: 0x2 | (rng.u32() & 0x8d5), data: new Uint8Array(DATA_SIZE), row: TABLE[0], text: `${p}; ${q}` };
      const a = runCase(interp, c);
      const b = runCase(dbt, c);
      // The producer's undefined flags (AF after logic and shifts, OF after multi-bit shifts)
      // survive INC/DEC/SETC/RCL: the engines may differ there, as the CPU's models do.
      const mask = WRITES_ALL.has(q) ? F_ARITH | F_DF : (F_ARITH | F_DF) & ~(/^(and|or|xor|test|sh|sa)/.test(p) ? 0x810 : 0);
      expect(diff(a, b, mask), `${p}; ${q} regs ${regs.map((v) => (v >>> 0).toString(16)).join(' ')}`).toEqual([]);
    }
  });
});
