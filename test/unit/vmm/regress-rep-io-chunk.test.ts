/**
 * Regression (fuzzer, seed 1): REP INS/OUTS ran every iteration in one handler call, so
 * `rep insd` with ECX near 2^31 never returned to the run loop. They now run at most REP_CHUNK
 * iterations per call and restart at their own EIP, like the string instructions: each run(1)
 * is one chunk, the state between chunks is exactly "k iterations done", and the chunks add
 * up to the whole instruction.
 */
import { describe, expect, it } from 'vitest';
import { EFLAGS, R_ECX, R_EDI, R_ESI } from '../../../translator/abi.ts';
import type { IoBus } from '../../../runtime/cpu.ts';
import { REP_CHUNK } from '../../../runtime/insn/rep.ts';
import { Vm } from '../../../runtime/vm.ts';

const CODE = 0x1000;

/** A bus counting port accesses; reads return the access number (low byte). */
function counter(): { bus: IoBus; ins: number[]; outs: number[] } {
  const ins: number[] = [];
  const outs: number[] = [];
  const bus: IoBus = {
    portIn: () => {
      ins.push(ins.length);
      return ins.length & 0xff;
    },
    portOut: (_p, _size, v) => {
      outs.push(v);
    },
    mmioRead: () => 0,
    mmioWrite: () => {},
  };
  return { bus, ins, outs };
}

function vmWith(code: number[], bus: IoBus): Vm {
  const vm = new Vm({ memorySize: 4 << 20, io: bus });
  vm.resetFlat32(CODE, 0x80000);
  vm.writePhys(CODE, [...code, 0xf4]); // ...; hlt
  vm.stopOnFault = true;
  return vm;
}

describe('REP INS/OUTS run in bounded chunks', () => {
  it('rep insb with ECX = 2^31 returns after one chunk per instruction of budget', () => {
    const { bus, ins } = counter();
    const vm = vmWith([0xf3, 0x6c], bus); // rep insb
    const s = vm.cpu.s;
    s[R_ECX] = 0x80000000 | 0;
    s[R_EDI] = 0x100000;
    const r = vm.run(1);
    expect(r).toEqual({ reason: 'budget', executed: 1 });
    expect(ins.length).toBe(REP_CHUNK);
    expect(vm.cpu.eip).toBe(CODE); // restarts itself
    expect(s[R_ECX] >>> 0).toBe(0x80000000 - REP_CHUNK);
    expect(s[R_EDI]).toBe(0x100000 + REP_CHUNK);
    expect(vm.readPhys(0x100000 + REP_CHUNK - 1, 2)).toEqual(new Uint8Array([REP_CHUNK & 0xff, 0]));
    vm.run(2);
    expect(ins.length).toBe(3 * REP_CHUNK);
    expect(s[R_ECX] >>> 0).toBe(0x80000000 - 3 * REP_CHUNK);
  });

  it('chunks of rep insd (DF = 1) add up to the whole instruction', () => {
    const { bus, ins } = counter();
    const vm = vmWith([0xf3, 0x6d], bus); // rep insd
    const s = vm.cpu.s;
    const n = 2 * REP_CHUNK + 5;
    s[R_ECX] = n;
    s[R_EDI] = 0x200000;
    s[EFLAGS >> 2] |= 0x400;
    const r = vm.run(100);
    expect(r.reason).toBe('halted');
    expect(r.executed).toBe(3 + 1); // three chunks, then HLT
    expect(ins.length).toBe(n);
    expect([s[R_ECX], s[R_EDI]]).toEqual([0, 0x200000 - 4 * n]);
    expect(vm.cpu.eip).toBe(CODE + 3);
  });

  it('rep outsw with a 16-bit address size wraps SI and stops at CX = 0 across chunks', () => {
    const { bus, outs } = counter();
    const vm = vmWith([0x67, 0xf3, 0x66, 0x6f], bus); // a16 rep outsw
    const s = vm.cpu.s;
    // Words 0..REP_CHUNK+1 at 0 (below the code at 0x1000), word 0x7fff at 0xfffe.
    const words = new Uint8Array(2 * (REP_CHUNK + 2));
    for (let k = 0; k < REP_CHUNK + 2; k++) words.set([k & 0xff, k >> 8], 2 * k);
    vm.writePhys(0, words);
    vm.writePhys(0xfffe, [0xff, 0x7f]);
    s[R_ECX] = 0x12340000 | (REP_CHUNK + 3);
    s[R_ESI] = 0x5678fffe;
    const r = vm.run(100);
    expect(r.reason).toBe('halted');
    expect(outs.length).toBe(REP_CHUNK + 3);
    // SI wraps from 0xFFFE to 0 after the first word; the upper halves of ECX/ESI are kept.
    expect(outs.slice(0, 3)).toEqual([0x7fff, 0, 1]);
    expect(outs[REP_CHUNK + 2]).toBe(REP_CHUNK + 1);
    expect([s[R_ECX] >>> 0, s[R_ESI] >>> 0]).toEqual([0x12340000, (0x5678fffe + 2 * (REP_CHUNK + 3)) & 0xffff | 0x56780000]);
  });
});
