/**
 * IN/OUT/INS/OUTS: data paths to the I/O bus, REP string forms, and the protection rules
 * (IOPL, the TSS I/O permission bitmap, virtual-8086 mode).
 */
import { describe, expect, it } from 'vitest';
import { EFLAGS, F_VM, SEGF_P, TR_BASE, TR_FLAGS, TR_LIMIT } from '../../../translator/abi.ts';
import type { IoBus } from '../../../runtime/cpu.ts';
import type { Vm } from '../../../runtime/vm.ts';
import { runSnippet, toCpl3 } from '../../system/snippet.ts';

/** An I/O bus that logs every access; port p reads as (p & 0xff) * 0x01010101 masked. */
function recorder(): { bus: IoBus; log: string[] } {
  const log: string[] = [];
  const bus: IoBus = {
    portIn: (p, size) => {
      log.push(`in${size} ${p.toString(16)}`);
      const v = (p & 0xff) * 0x01010101;
      return size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff);
    },
    portOut: (p, size, v) => { log.push(`out${size} ${p.toString(16)}=${(v >>> 0).toString(16)}`); },
    mmioRead: () => 0,
    mmioWrite: () => {},
  };
  return { bus, log };
}

const TSS = 0x20000;
/**
 * A 32-bit busy TSS at 0x20000 whose bitmap (at offset 0x68) allows every port except those in
 * `deny`; the limit covers `mapBytes` bitmap bytes.
 */
function withTss(vm: Vm, deny: number[], mapBytes = 0x2000, type = 0x0b): void {
  const s = vm.cpu.s;
  s[TR_BASE >> 2] = TSS;
  s[TR_LIMIT >> 2] = 0x68 + mapBytes - 1;
  s[TR_FLAGS >> 2] = SEGF_P | type;
  vm.writePhys(TSS + 0x66, [0x68, 0]);
  const map = new Uint8Array(mapBytes);
  for (const p of deny) map[p >> 3] |= 1 << (p & 7);
  vm.writePhys(TSS + 0x68, map);
}

describe('IN/OUT data paths', () => {
  it('moves AL/AX/EAX to and from immediate and DX ports', () => {
    const { bus, log } = recorder();
    // out 0x80,al; out dx,ax; out dx,eax; in al,0x71; in ax,dx; in eax,dx
    const r = runSnippet([0xe6, 0x80, 0x66, 0xef, 0xef, 0xe4, 0x71, 0x66, 0xed], (vm) => {
      vm.cpu.s[0] = 0x11223344;
      vm.cpu.s[2] = 0x123403f8;
    }, bus);
    expect(r.outcome).toBe('done');
    expect(log).toEqual(['out1 80=44', 'out2 3f8=3344', 'out4 3f8=11223344', 'in1 71', 'in2 3f8']);
    expect(r.vm.cpu.s[0]).toBe(0x1122f8f8);
    const e = runSnippet([0xed], (vm) => { vm.cpu.s[2] = 0x42; }, recorder().bus);
    expect(r.vm.exits.io).toBe(5);
    expect(e.vm.cpu.s[0]).toBe(0x42424242);
  });

  it('REP OUTSB/OUTSD walk ESI up (or down with DF) and leave ECX 0', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0xf3, 0x6e], (vm) => {
      vm.writePhys(0x3000, [0x61, 0x62, 0x63]);
      vm.cpu.s[6] = 0x3000; vm.cpu.s[1] = 3; vm.cpu.s[2] = 0xe9;
    }, bus);
    expect(r.outcome).toBe('done');
    expect(log).toEqual(['out1 e9=61', 'out1 e9=62', 'out1 e9=63']);
    expect([r.vm.cpu.s[6], r.vm.cpu.s[1]]).toEqual([0x3003, 0]);
    const d = recorder();
    const down = runSnippet([0xf3, 0x6f], (vm) => {
      vm.writePhys(0x3000, [1, 0, 0, 0, 2, 0, 0, 0]);
      vm.cpu.s[6] = 0x3004; vm.cpu.s[1] = 2; vm.cpu.s[2] = 0x10;
      vm.cpu.s[EFLAGS >> 2] |= 0x400;
    }, d.bus);
    expect(d.log).toEqual(['out4 10=2', 'out4 10=1']);
    expect([down.vm.cpu.s[6], down.vm.cpu.s[1]]).toEqual([0x2ffc, 0]);
  });

  it('REP INSW with a 16-bit address size uses DI/CX and keeps the high halves', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0x67, 0xf3, 0x66, 0x6d], (vm) => {
      vm.cpu.s[7] = 0xabcd3000; vm.cpu.s[1] = 0x55550002; vm.cpu.s[2] = 0x1f0;
    }, bus);
    // ES base 0, DI = 0x3000: with a 16-bit address size EDI's high half is not part of the address.
    expect(r.outcome).toBe('done');
    expect(log).toEqual(['in2 1f0', 'in2 1f0']);
    expect([r.vm.cpu.s[7] >>> 0, r.vm.cpu.s[1]]).toEqual([0xabcd3004, 0x55550000]);
    expect(Array.from(r.vm.readPhys(0x3000, 4))).toEqual([0xf0, 0xf0, 0xf0, 0xf0]);
  });

  it('REP with ECX = 0 does nothing', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0xf3, 0x6c], (vm) => { vm.cpu.s[7] = 0x3000; vm.cpu.s[1] = 0; }, bus);
    expect(r.outcome).toBe('done');
    expect(log).toEqual([]);
    expect(r.vm.cpu.s[7]).toBe(0x3000);
  });

  it('INSB checks the destination before reading the port: a #GP loses no device data', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0x6c], (vm) => {
      vm.cpu.s[7] = 0x100;
      vm.cpu.setSegment(0, 0x10, 0, 0xff, vm.cpu.segFlags(0) & ~0x8000); // ES limit 0xFF
    }, bus);
    expect(r.outcome).toBe('#GP(0x0)');
    expect(log).toEqual([]);
  });
});

describe('I/O protection', () => {
  it('allows every port at CPL 3 when IOPL = 3, without looking at the TSS', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0xe4, 0x60], (vm) => toCpl3(vm, 3), bus);
    expect(r.outcome).toBe('done');
    expect(log).toEqual(['in1 60']);
  });

  it('consults the bitmap at CPL 3 with IOPL 0: allowed and denied ports, each bit of wider accesses', () => {
    const cases: [number[], number, number[], string][] = [
      // [code, port in DX, denied ports, expected outcome]
      [[0xec], 0x61, [0x60, 0x62], 'done'],
      [[0xec], 0x61, [0x61], '#GP(0x0)'],
      [[0x66, 0xed], 0x61, [0x62], '#GP(0x0)'], // the second port of a word access
      [[0xed], 0x3fd, [0x400], '#GP(0x0)'], // a dword access crossing a bitmap byte
      [[0xed], 0x3fc, [0x400], 'done'],
      // Port 0xFFFF's bit is in the last bitmap byte; the second byte read lies past the limit.
      [[0xee], 0xffff, [], '#GP(0x0)'],
    ];
    for (const [code, port, deny, want] of cases) {
      const { bus, log } = recorder();
      const r = runSnippet(code, (vm) => { withTss(vm, deny); vm.cpu.s[2] = port; toCpl3(vm, 0); }, bus);
      expect(r.outcome, `${code} ${port.toString(16)}`).toBe(want);
      if (want !== 'done') expect(log).toEqual([]);
    }
  });

  it('faults when the two bitmap bytes are not both within the TSS limit', () => {
    expect(runSnippet([0xee], (vm) => { withTss(vm, [], 0x2001); vm.cpu.s[2] = 0xffff; toCpl3(vm); }).outcome).toBe('done');
    // Map of 0x10 bytes covers ports 0..0x7f; port 0x78 needs bytes 0x0f and 0x10.
    expect(runSnippet([0xec], (vm) => { withTss(vm, [], 0x10); vm.cpu.s[2] = 0x70; toCpl3(vm); }).outcome).toBe('done');
    expect(runSnippet([0xec], (vm) => { withTss(vm, [], 0x10); vm.cpu.s[2] = 0x78; toCpl3(vm); }).outcome).toBe('#GP(0x0)');
    // A TSS too short to hold the bitmap offset.
    expect(runSnippet([0xec], (vm) => { withTss(vm, []); vm.cpu.s[TR_LIMIT >> 2] = 0x65; toCpl3(vm); }).outcome).toBe('#GP(0x0)');
  });

  it('a 16-bit TSS has no bitmap: #GP(0)', () => {
    expect(runSnippet([0xec], (vm) => { withTss(vm, [], 0x2000, 0x03); toCpl3(vm); }).outcome).toBe('#GP(0x0)');
  });

  it('string I/O is checked too, before any iteration', () => {
    const { bus, log } = recorder();
    const r = runSnippet([0xf3, 0x6e], (vm) => {
      withTss(vm, [0xe9]); vm.cpu.s[2] = 0xe9; vm.cpu.s[1] = 4; vm.cpu.s[6] = 0x3000; toCpl3(vm);
    }, bus);
    expect(r.outcome).toBe('#GP(0x0)');
    expect(log).toEqual([]);
    expect(r.vm.cpu.s[1]).toBe(4);
  });

  it('virtual-8086 mode always consults the bitmap, even with IOPL 3', () => {
    const r = runSnippet([0xec], (vm) => {
      withTss(vm, [0x61]); vm.cpu.s[2] = 0x61; toCpl3(vm, 3);
      vm.cpu.s[EFLAGS >> 2] |= F_VM;
    });
    expect(r.outcome).toBe('#GP(0x0)');
  });

  it('real mode ignores IOPL and the bitmap', () => {
    const { bus, log } = recorder();
    const r = runSnippet([], (vm) => {
      vm.resetReal();
      vm.cpu.setSegment(1, 0, 0, 0xffff, vm.cpu.segFlags(1));
      vm.cpu.eip = 0x2000;
      vm.writePhys(0x2000, [0xe4, 0x60, 0x0f, 0x0b]);
    }, bus);
    expect(r.result.fault?.toString()).toBe('#UD');
    expect(r.vm.cpu.eip).toBe(0x2002);
    expect(log).toEqual(['in1 60']);
  });
});
