/**
 * Two-level 32-bit paging (SDM vol. 3, 4.3): page-fault error codes and CR2, accessed and dirty
 * bits, CR0.WP, 4 MiB pages with their reserved bits, global entries, implicit supervisor
 * accesses at CPL 3, and INVLPG's reach. Accesses go straight through the Cpu's memory methods.
 */
import { describe, expect, it } from 'vitest';
import { CPL, CR, TLB_GLOBAL, TLB_VALID } from '../../../translator/abi.ts';
import { GuestFault } from '../../../runtime/fault.ts';
import { Vm } from '../../../runtime/vm.ts';
import { writeCr0, writeCr4 } from '../../../runtime/vmm/control-regs.ts';
import { invalidatePage, readSys } from '../../../runtime/vmm/paging.ts';

const PD = 0x10000;
const PT = 0x11000;
const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;

/** A VM with paging on: PD at 0x10000; PDE 0 → PT at 0x11000 with `pdeFlags`; no PTEs yet. */
function paged(pdeFlags = P | RW | US, cr4 = 0): Vm {
  const vm = new Vm({ memorySize: 8 << 20 });
  vm.resetFlat32(0x1000, 0x8000);
  const c = vm.cpu;
  c.s[(CR >> 2) + 3] = PD;
  writeCr4(c, cr4);
  pokeD(vm, PD, PT | pdeFlags);
  writeCr0(c, 0x80000011 | 0);
  return vm;
}
function pokeD(vm: Vm, phys: number, v: number): void {
  vm.writePhys(phys, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
}
function peekD(vm: Vm, phys: number): number {
  const b = vm.readPhys(phys, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
function pte(vm: Vm, page: number, v: number): void {
  pokeD(vm, PT + page * 4, v);
}
function setCpl(vm: Vm, cpl: number): void {
  vm.cpu.s[CPL >> 2] = cpl;
  vm.cpu.refreshMode();
}
/** Runs an access and returns 'ok' or the fault as '#PF(0x..) cr2=...'. */
function attempt(vm: Vm, f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    return `${e.toString()} cr2=${(vm.cpu.s[(CR >> 2) + 2] >>> 0).toString(16)}`;
  }
}

describe('page faults: error code and CR2', () => {
  it('not-present PDE and PTE: P=0, W/R and U/S from the access', () => {
    const vm = paged();
    pokeD(vm, PD + 4, 0); // 4..8 MiB unmapped
    expect(attempt(vm, () => vm.cpu.read32(0x400123))).toBe('#PF(0x0) cr2=400123');
    expect(attempt(vm, () => vm.cpu.write8(0x5000, 1))).toBe('#PF(0x2) cr2=5000');
    setCpl(vm, 3);
    expect(attempt(vm, () => vm.cpu.write16(0x6ffe, 1))).toBe('#PF(0x6) cr2=6ffe');
    expect(attempt(vm, () => vm.cpu.read8(0x7001))).toBe('#PF(0x4) cr2=7001');
  });

  it('protection: user access to a supervisor page, user write to a read-only page', () => {
    const vm = paged();
    pte(vm, 5, 0x5000 | P | RW); // supervisor
    pte(vm, 6, 0x6000 | P | US); // user read-only
    setCpl(vm, 3);
    expect(attempt(vm, () => vm.cpu.read32(0x5010))).toBe('#PF(0x5) cr2=5010');
    expect(attempt(vm, () => vm.cpu.read32(0x6010))).toBe('ok');
    expect(attempt(vm, () => vm.cpu.write32(0x6010, 1))).toBe('#PF(0x7) cr2=6010');
    setCpl(vm, 1); // CPL 1 and 2 are supervisor
    expect(attempt(vm, () => vm.cpu.read32(0x5010))).toBe('ok');
  });

  it('the PDE and PTE rights combine: a read-only PDE makes its user pages read-only', () => {
    const vm = paged(P | US);
    pte(vm, 5, 0x5000 | P | RW | US);
    setCpl(vm, 3);
    expect(attempt(vm, () => vm.cpu.write32(0x5000, 1))).toBe('#PF(0x7) cr2=5000');
  });

  it('a page-crossing access faults on the second page with CR2 = its first byte, writing nothing', () => {
    const vm = paged();
    pte(vm, 5, 0x5000 | P | RW);
    expect(attempt(vm, () => vm.cpu.write32(0x5ffe, -1))).toBe('#PF(0x2) cr2=6000');
    expect(peekD(vm, 0x5ffc)).toBe(0);
  });

  it('a set reserved bit (21:12) in a 4 MiB PDE faults with P and RSVD', () => {
    const vm = paged(P | RW | US, 0x10);
    pokeD(vm, PD + 4, 0x400000 | (1 << 21) | PS | P | RW | US);
    expect(attempt(vm, () => vm.cpu.read32(0x400000))).toBe('#PF(0x9) cr2=400000');
    setCpl(vm, 3);
    expect(attempt(vm, () => vm.cpu.write8(0x400001, 0))).toBe('#PF(0xf) cr2=400001');
    // Without CR4.PSE the PS bit is ignored and the entry points to a page table.
    const flat = paged();
    pokeD(flat, PD + 4, 0x12000 | (1 << 21) | PS | P | RW);
    expect(attempt(flat, () => flat.cpu.read32(0x400000))).toBe('#PF(0x0) cr2=400000');
  });
});

describe('CR0.WP', () => {
  it('supervisor writes to read-only pages succeed with WP=0 and fault with WP=1', () => {
    const vm = paged();
    pte(vm, 5, 0x5000 | P | US);
    expect(attempt(vm, () => vm.cpu.write32(0x5000, 0x11))).toBe('ok');
    expect(peekD(vm, 0x5000)).toBe(0x11);
    writeCr0(vm.cpu, 0x80010011 | 0);
    expect(attempt(vm, () => vm.cpu.write32(0x5000, 0x22))).toBe('#PF(0x3) cr2=5000');
    expect(peekD(vm, 0x5000)).toBe(0x11);
  });
});

describe('accessed and dirty bits', () => {
  it('a read sets PDE.A and PTE.A; the first write (even after a cached read) sets PTE.D', () => {
    const vm = paged();
    pte(vm, 5, 0x5000 | P | RW);
    vm.cpu.read32(0x5000);
    expect(peekD(vm, PD) & (A | D)).toBe(A);
    expect(peekD(vm, PT + 20) & (A | D)).toBe(A);
    vm.cpu.write32(0x5004, 7);
    expect(peekD(vm, PT + 20) & (A | D)).toBe(A | D);
    expect(peekD(vm, PD) & D).toBe(0); // D exists only in the final entry
  });

  it('PDE.A is set even when the PTE is not present; a faulting PTE gets neither A nor D', () => {
    const vm = paged();
    pte(vm, 6, 0x6000 | P | US);
    expect(attempt(vm, () => vm.cpu.read32(0x7000))).toBe('#PF(0x0) cr2=7000');
    expect(peekD(vm, PD) & A).toBe(A);
    setCpl(vm, 3);
    expect(attempt(vm, () => vm.cpu.write32(0x6000, 1))).toMatch(/^#PF\(0x7\)/);
    expect(peekD(vm, PT + 24) & (A | D)).toBe(0);
  });

  it('4 MiB pages keep A and D in the PDE', () => {
    const vm = paged(P | RW | US, 0x10);
    pokeD(vm, PD + 4, 0x400000 | PS | P | RW);
    vm.cpu.read8(0x401234);
    expect(peekD(vm, PD + 4) & (A | D)).toBe(A);
    vm.cpu.write8(0x7ff000, 1);
    expect(peekD(vm, PD + 4) & (A | D)).toBe(A | D);
    expect(vm.readPhys(0x7ff000, 1)[0]).toBe(1);
  });
});

describe('TLB entries', () => {
  it('marks global pages only with CR4.PGE', () => {
    for (const cr4 of [0, 0x80]) {
      const vm = paged(P | RW | US, cr4);
      pte(vm, 5, 0x5000 | P | RW | G | A | D);
      vm.cpu.read32(0x5000);
      expect(vm.cpu.tlb[5] & (TLB_VALID | TLB_GLOBAL)).toBe(cr4 ? TLB_VALID | TLB_GLOBAL : TLB_VALID);
    }
  });

  it('INVLPG drops the page, and with CR4.PSE its whole 4 MiB region', () => {
    const vm = paged(P | RW | US, 0x10);
    pokeD(vm, PD + 4, 0x400000 | PS | P | RW | A | D);
    vm.cpu.read8(0x400000);
    vm.cpu.read8(0x7ff000);
    invalidatePage(vm.cpu, 0x500000);
    expect([vm.cpu.tlb[0x400], vm.cpu.tlb[0x7ff]]).toEqual([0, 0]);
  });

  it('INVLPG with CR4.PSE drops only the page where no 4 MiB page made entries', () => {
    const vm = paged(P | RW | US, 0x10);
    pokeD(vm, PT, 0x200000 | P | RW | US);
    pokeD(vm, PT + 4, 0x201000 | P | RW | US);
    vm.cpu.read8(0x0000);
    vm.cpu.read8(0x1000);
    invalidatePage(vm.cpu, 0x1000);
    expect(vm.cpu.tlb[0] & TLB_VALID).toBe(TLB_VALID);
    expect(vm.cpu.tlb[1]).toBe(0);
    // A 4 MiB page whose PDE was then replaced by a page table: the region still goes whole.
    pokeD(vm, PD + 4, 0x400000 | PS | P | RW | A | D);
    vm.cpu.read8(0x400000);
    vm.cpu.read8(0x7ff000);
    pokeD(vm, PD + 4, PT | P | RW | US);
    invalidatePage(vm.cpu, 0x600000);
    expect([vm.cpu.tlb[0x400], vm.cpu.tlb[0x7ff]]).toEqual([0, 0]);
  });
});

describe('TLB flushes', () => {
  const global = (vm: Vm, vpn: number): boolean => (vm.cpu.tlb[vpn] & (TLB_VALID | TLB_GLOBAL)) === (TLB_VALID | TLB_GLOBAL);

  it('a flush keeping global entries keeps exactly those, through re-marking and list compaction', () => {
    const vm = new Vm({ memorySize: 8 << 20 });
    const c = vm.cpu;
    // 3000 global pages (the global list compacts as it grows; every 3rd is dropped by
    // INVLPG first), 500 non-global ones, one global page made non-global, one the reverse.
    for (let k = 0; k < 3000; k++) {
      c.setTlb((0x10000 + k) << 12, k << 12, TLB_GLOBAL);
      if (k % 3 === 0) c.flushTlbPage((0x10000 + k) << 12);
    }
    for (let k = 0; k < 500; k++) c.setTlb((0x20000 + k) << 12, k << 12, 0);
    c.setTlb(0x10001 << 12, 0x1000, 0);
    c.setTlb(0x20001 << 12, 0x1000, TLB_GLOBAL);
    c.flushTlb(true);
    for (let k = 0; k < 3000; k++) expect(global(vm, 0x10000 + k), `page ${k}`).toBe(k % 3 !== 0 && k !== 1);
    for (let k = 0; k < 500; k++) expect(c.tlb[0x20000 + k] !== 0, `page ${k}`).toBe(k === 1);
    expect(global(vm, 0x20001)).toBe(true);
    // Only the non-global list was walked and emptied; the survivors stay listed once.
    expect(c.tlbValidCount).toBe(0);
    c.flushTlb(true);
    expect(global(vm, 0x10002)).toBe(true);
    c.flushTlb(false);
    expect(c.tlb.some((e) => e !== 0)).toBe(false);
    expect(c.tlbGlobalCount).toBe(0);
  });
});

describe('implicit supervisor accesses', () => {
  it('read a supervisor page at CPL 3 without leaving a user-usable TLB entry', () => {
    const vm = paged();
    pte(vm, 5, 0x5000 | P | RW);
    pokeD(vm, 0x5008, 0xcafe);
    setCpl(vm, 3);
    expect(readSys(vm.cpu, 0x5008, 4)).toBe(0xcafe);
    expect(attempt(vm, () => vm.cpu.read32(0x5008))).toBe('#PF(0x5) cr2=5008');
  });

  it('fault with U/S = 0 when the page is not present', () => {
    const vm = paged();
    setCpl(vm, 3);
    expect(attempt(vm, () => readSys(vm.cpu, 0x9000, 2))).toBe('#PF(0x0) cr2=9000');
  });
});
