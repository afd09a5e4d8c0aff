/**
 * x87 behaviour the real-CPU comparisons cannot reach from user mode: #NM under CR0.EM/TS/MP,
 * the pending-exception rule with CR0.NE = 0, real-mode environment layouts, faults that must
 * leave the FPU untouched, exactness of the 80-bit and BCD conversions. (80-bit arithmetic is
 * compared with the reference in x87-sequences.test.ts and the oracle.)
 */
import { describe, expect, it } from 'vitest';
import { CR, FPU_FIP, FPU_FOP, FPU_SW, FPU_TAG, FPU_TOP, SEG_CS, SEG_DS, SEG_SS } from '../../../translator/abi.ts';
import { Vm } from '../../../runtime/vm.ts';
import { f80FromBits } from '../../oracle/gen-x87.ts';
import { asm, buffer, hex, image, runVm } from './x87-harness.ts';
import type { X87Outcome } from './x87-harness.ts';

const CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_NE = 0x20;

function withCr0(bits: number, clear = 0): (vm: Vm) => void {
  return (vm) => {
    vm.cpu.s[CR >> 2] = (vm.cpu.s[CR >> 2] | bits) & ~clear;
  };
}

function run(body: string, img = image(), data: number[] = [], setup?: (vm: Vm) => void): X87Outcome {
  return runVm({ code: asm(`frstor [ebx]\n${body}\nfnsave [ebx+0x200]`), buf: buffer(img, data) }, setup);
}

/** Runs `code` and also returns the VM, whose state is final, for direct inspection. */
function runKeep(code: string, buf: Uint8Array, setup?: (vm: Vm) => void): { status: number; vm: Vm } {
  let vmOut: Vm | undefined;
  const o = runVm({ code: asm(code), buf }, (vm) => {
    vmOut = vm;
    setup?.(vm);
  });
  return { status: o.status, vm: vmOut! };
}

/** Runs `body` without the FRSTOR/FNSAVE frame (the FPU as after reset). */
function runBare(body: string, setup?: (vm: Vm) => void, data: number[] = []): { status: number; vm: Vm } {
  return runKeep(body, buffer(new Uint8Array(108), data), setup);
}

const f64 = (x: number): number[] => [...new Uint8Array(new Float64Array([x]).buffer)];
const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

describe('x87: #NM and #MF gating', () => {
  it('CR0.TS makes every ESC instruction fault with #NM, also the non-waiting ones', () => {
    for (const insn of ['fld1', 'fninit', 'fnstsw ax', 'fnsave [ebx+0x200]', 'fnclex']) {
      expect(runBare(insn, withCr0(CR0_TS)).status, insn).toBe(7);
    }
  });
  it('CR0.EM makes ESC instructions fault, but not WAIT', () => {
    expect(runBare('fld1', withCr0(CR0_EM)).status).toBe(7);
    expect(runBare('fwait', withCr0(CR0_EM)).status).toBe(0);
  });
  it('WAIT faults with #NM only when CR0.TS and CR0.MP are both set', () => {
    expect(runBare('fwait', withCr0(CR0_TS, CR0_MP)).status).toBe(0);
    expect(runBare('fwait', withCr0(CR0_TS | CR0_MP)).status).toBe(7);
  });
  it('#NM takes precedence over a pending #MF', () => {
    const img = image({ cw: 0x37b, sw: 0x04 }); // ZE set and unmasked: ES pending
    expect(run('fld1', img).status).toBe(16);
    const r = runVm({ code: asm('frstor [ebx]\nmov eax, cr0\nor eax, 8\nmov cr0, eax\nfld1'), buf: buffer(img) });
    expect(r.status).toBe(7);
  });
  it('with CR0.NE = 0 a pending exception does not raise #MF (FERR#/IRQ 13 is not modelled)', () => {
    const img = image({ cw: 0x37b, sw: 0x04 });
    const o = run('fld1\nfwait', img, [], withCr0(0, CR0_NE));
    expect(o.status).toBe(0);
    expect(u16(o.buf, 0x204) & 0x8084).toBe(0x8084); // ZE, ES and B still set
  });
  it('the #MF leaves the waiting instruction unexecuted and the pointers on the culprit', () => {
    const { status, vm } = runBare('fldcw [ebx+0x100]\nfldz\nfld1\nfdiv st0, st1\nfld1', undefined, [0x7b, 0x03]);
    expect(status).toBe(16);
    const s = vm.cpu.s;
    expect(s[FPU_TOP >> 2]).toBe(6); // FLDZ and the first FLD1 pushed, the last one did not
    expect(s[FPU_FOP >> 2]).toBe(0x0f1); // D8 F1: FDIV ST0, ST1
    expect(s[FPU_FIP >> 2]).toBe(0x10000 + 6 + 2 + 2);
    expect(vm.cpu.eip).toBe(0x10000 + 6 + 2 + 2 + 2); // the faulting FLD1
  });
});

describe('x87: faults leave the FPU untouched', () => {
  const limitDs = (vm: Vm): void => {
    const c = vm.cpu;
    c.setSegment(SEG_DS, 0x2b, 0, 0x30205, c.segFlags(SEG_DS) & ~0x8000);
  };
  it('FSTP m80 beyond the DS limit: #GP, no pop, status word and C1 unchanged', () => {
    const img = image({ cw: 0x27f, sw: 0x0200, top: 3, st: [1.5, 2] });
    const { status, vm } = runKeep('frstor [ebx]\nfstp tword [ebx+0x200]', buffer(img), limitDs);
    expect(status).toBe(13);
    const s = vm.cpu.s;
    expect([s[FPU_TOP >> 2], s[FPU_TAG >> 2], s[FPU_SW >> 2]]).toEqual([3, 0xfc3f, 0x0200]); // R3 R4 valid
  });
  it('FNSAVE beyond the DS limit: #GP and no FNINIT', () => {
    const img = image({ cw: 0x27f, top: 2, st: [1, 2, 3] });
    const { status, vm } = runKeep('frstor [ebx]\nfnsave [ebx+0x1c0]', buffer(img), limitDs);
    expect(status).toBe(13);
    expect([vm.cpu.s[FPU_TOP >> 2], vm.cpu.s[FPU_TAG >> 2]]).toEqual([2, 0xfc0f]); // R2 R3 R4 valid
  });
});

describe('x87: real-address mode environment layouts', () => {
  /** Runs 16-bit code at 1000:0000 with DS = SS = 3000h; returns the VM after it stops. */
  function real(src: string, data: number[] = []): { vm: Vm; status: number } {
    const vm = new Vm({ memorySize: 1 << 20 });
    const cpu = vm.cpu;
    const code = (() => {
      const b = asm(`bits 16\n${src}\nud2`);
      return b;
    })();
    vm.writePhys(0x10000, code);
    vm.writePhys(0x30100, data);
    const flags = cpu.segFlags(SEG_DS);
    cpu.setSegment(SEG_CS, 0x1000, 0x10000, 0xffff, cpu.segFlags(SEG_CS));
    cpu.setSegment(SEG_DS, 0x3000, 0x30000, 0xffff, flags);
    cpu.setSegment(SEG_SS, 0x3000, 0x30000, 0xffff, flags);
    cpu.eip = 0;
    cpu.s[CR >> 2] |= CR0_NE;
    vm.stopOnFault = true;
    const r = vm.run(1000);
    return { vm, status: r.fault?.vector === 6 && cpu.eip === code.length - 2 ? 0 : (r.fault?.vector ?? -1) };
  }
  it('FNSTENV (16- and 32-bit) stores linear instruction and operand addresses', () => {
    const { vm, status } = real('fninit\nfld qword [0x100]\nfnstenv [0x200]\no32 fnstenv [0x220]', f64(1));
    expect(status).toBe(0);
    const m = vm.readPhys(0x30000, 0x300);
    const fip = 0x10000 + 2; // linear address of the FLD (after the 2-byte FNINIT)
    const fdp = 0x30100;
    // 16-bit: CW SW TW IP[15:0] (IP[19:16]<<12 | FOP) DP[15:0] (DP[19:16]<<12)
    expect(hex(m, 0x200, 0x20e)).toBe(hex([0x7f, 0x03, 0x00, 0x38, 0xff, 0x3f, fip & 0xff, (fip >> 8) & 0xff, 0x06, 0x10 | 0x05, fdp & 0xff, (fdp >> 8) & 0xff, 0x00, 0x30]));
    // 32-bit: reserved halves FFFFh; FIP[31:16] and FDP[31:16] in bits 12..27.
    expect(u32(m, 0x220 + 12)).toBe(((fip & 0xffff) | 0xffff0000) >>> 0);
    expect(u32(m, 0x220 + 16)).toBe(((fip >>> 16) << 12) | 0x506);
    expect(u32(m, 0x220 + 20)).toBe(((fdp & 0xffff) | 0xffff0000) >>> 0);
    expect(u32(m, 0x220 + 24)).toBe((fdp >>> 16) << 12);
  });
  it('FLDENV of a real-mode image round-trips through FNSTENV', () => {
    const env = [0x7f, 0x0e, 0x21, 0x41, 0xfc, 0xff, 0x34, 0x12, 0xa5, 0x75, 0x78, 0x56, 0x00, 0x90];
    const { vm, status } = real('fldenv [0x100]\nfnstenv [0x200]', [...env]);
    expect(status).toBe(0);
    const m = vm.readPhys(0x30000, 0x300);
    // The tag word comes back recomputed: R0 was marked valid but holds +0 (zero, 01).
    expect(hex(m, 0x200, 0x20e)).toBe(hex([...env.slice(0, 4), 0xfd, 0xff, ...env.slice(6)]));
  });
});

describe('x87: conversions', () => {
  const values: [number, number][] = [
    [0, 0], [0x80000000 | 0, 0], [0x3ff00000, 0], [0x7fefffff, -1], [0x00000000, 1], [0x000fffff, -1], [0x00100000, 0],
    [0x7ff00000, 0], [0xfff00000 | 0, 0], [0x7ff80000, 0x1234], [0xfff80000 | 0, 0], [0x7ff00000, 1], [0x400921fb, 0x54442d18],
  ];
  it('FSTP m80 / FLD m80 round-trip every binary64 class bit for bit (NaN payloads too)', () => {
    for (const [hi, lo] of values) {
      const img = image({ cw: 0x37f, st: [[hi, lo]] });
      const o = run('fstp tword [ebx+0x100]\nfld tword [ebx+0x100]\nfstp tword [ebx+0x110]', img);
      const name = `${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`;
      expect(hex(o.buf, 0x100, 0x10a), name).toBe(hex(f80FromBits([hi, lo])));
      expect(hex(o.buf, 0x110, 0x11a), name).toBe(hex(f80FromBits([hi, lo])));
      const quiet = (hi & 0x7ff00000) !== 0x7ff00000 || (hi & 0x80000) !== 0 || ((hi & 0xfffff) | lo) === 0;
      if (!quiet) continue; // FSTP m64 of an SNaN quiets it (IE): not a round trip
      const o2 = run('fstp tword [ebx+0x100]\nfld tword [ebx+0x100]\nfstp qword [ebx+0x110]', img);
      expect([u32(o2.buf, 0x114) | 0, u32(o2.buf, 0x110) | 0], name).toEqual([hi | 0, lo | 0]);
    }
  });
  it('FBSTP/FBLD are exact for an 18-digit value representable in binary64', () => {
    const o = run('fbstp [ebx+0x100]\nfbld [ebx+0x100]\nfstp qword [ebx+0x110]', image({ st: [-999999999999999872] }));
    expect(hex(o.buf, 0x100, 0x10a)).toBe('72 98 99 99 99 99 99 99 99 80');
    expect(new DataView(o.buf.buffer).getFloat64(0x110, true)).toBe(-999999999999999872);
  });
});

