/**
 * VM setups for the oracle: the machine state a test instruction runs in. Both mirror the host's
 * view of segmentation (a GDT with the kernel's flat descriptors at the same indices, the runner's
 * LDT with its 16-bit code segment, CS = 0x23 or 0x07, SS = 0x2B), so selector values agree with
 * the native run; they differ in privilege and paging:
 *
 * - `flat0`: CPL 0, paging off. The default: it needs nothing from the VMM beyond the core.
 * - `user3`: CPL 3, paging on, the windows identity-mapped as user pages and the GDT as a
 *   supervisor page. This is the faithful setup (the native side runs at CPL 3 with paging): it
 *   adds the privilege-dependent rows (POPF, SS loads, descriptor probes, privileged and I/O
 *   instructions, which must raise #GP).
 *
 * The CPL-3 entry is done by writing the architectural state directly (CPL, CR0/CR3, segment
 * caches), which is exactly the state an IRET to CPL 3 would leave. If the VMM later wants the
 * entry exercised through its own IRET path, a setup whose `enter` runs a small CPL-0 stub that
 * IRETs to the case can be added to SETUPS without touching the rest of the oracle.
 */
import {
  CR, EFLAGS, EIP, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, LDTR_BASE, LDTR_FLAGS, LDTR_LIMIT, LDTR_SEL, LF_OP, SEG_CS, SEG_DS, SEG_ES,
  SEG_FS, SEG_GS, SEG_SS, SEGF_G, SEGF_P, SEGF_USABLE, TR_SEL,
} from '../../translator/abi.ts';
import type { Cpu } from '../../runtime/cpu.ts';
import type { Vm } from '../../runtime/vm.ts';
import {
  GDT_ADDR, GDT_LIMIT, IDT_ADDR, IDT_LIMIT, LDT_ADDR, LDT_LIMIT, MIRROR_GDT, MIRROR_LDT, MIRROR_TABLES, PAGE_DIR, PAGE_TABLES, SEL_CODE16, SEL_LDT, SEL_TSS,
  SEL_USER_CS, SEL_USER_DS, WINDOWS,
} from './layout.ts';
import type { OracleCase, VmSetup } from './types.ts';

const CR0_PE = 0x1, CR0_MP = 0x2, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_AM = 0x40000;
const CR0_PG = 0x80000000 | 0;

/** Writes the mirror GDT and LDT into guest RAM. */
function writeMirrorTables(vm: Vm): void {
  for (const t of MIRROR_TABLES) vm.writePhys(t.addr, t.bytes);
}

/**
 * Loads a segment register's selector and descriptor cache as a successful load of `sel`
 * from the mirror GDT would (null selectors leave the segment unusable).
 */
export function loadMirrorSegment(cpu: Cpu, seg: number, sel: number): void {
  const index = sel >> 3;
  const ldt = (sel & 4) !== 0;
  const d = (ldt ? MIRROR_LDT : MIRROR_GDT).find((m) => m.index === index);
  if ((sel & ~3) === 0) {
    cpu.setSegment(seg, sel, 0, 0, 0);
    return;
  }
  if (!d) throw new Error(`oracle: selector 0x${sel.toString(16)} has no mirror descriptor`);
  const flags = (d.attr & 0xf0ff) | SEGF_USABLE;
  const limit = ldt ? 0xffff : 0xfffff;
  cpu.setSegment(seg, sel, 0, flags & SEGF_G ? ((limit << 12) | 0xfff) : limit, flags);
}

/** Identity page tables: the windows as user read/write pages, the GDT as a supervisor page. */
function buildPageTables(vm: Vm): void {
  const P = 1, RW = 2, US = 4;
  const pd = new Int32Array(1024);
  const tables = new Map<number, Int32Array>();
  const map = (page: number, flags: number): void => {
    const dir = page >>> 10;
    let t = tables.get(dir);
    if (!t) {
      t = new Int32Array(1024);
      tables.set(dir, t);
      pd[dir] = (PAGE_TABLES + tables.size * 0x1000 - 0x1000) | P | RW | US;
    }
    t[page & 0x3ff] = (page << 12) | flags;
  };
  for (const w of WINDOWS) for (let a = w.addr; a < w.addr + w.size; a += 0x1000) map(a >>> 12, P | RW | US);
  map(GDT_ADDR >>> 12, P | RW);
  vm.writePhys(PAGE_DIR, new Uint8Array(pd.buffer));
  for (const [dir, t] of tables) {
    const addr = pd[dir] & ~0xfff;
    vm.writePhys(addr, new Uint8Array(t.buffer));
  }
}

/** Common entry: protected mode, mirror segments, CPL, paging; then the case's registers. */
function enterCommon(vm: Vm, c: OracleCase, cpl: 0 | 3): void {
  const cpu = vm.cpu;
  const s = cpu.s;
  vm.resetFlat32(c.eip, c.regs[4]);
  s[GDTR_BASE >> 2] = GDT_ADDR;
  s[GDTR_LIMIT >> 2] = GDT_LIMIT;
  s[IDTR_BASE >> 2] = IDT_ADDR;
  s[IDTR_LIMIT >> 2] = IDT_LIMIT;
  s[TR_SEL >> 2] = SEL_TSS;
  s[LDTR_SEL >> 2] = SEL_LDT;
  s[LDTR_BASE >> 2] = LDT_ADDR;
  s[LDTR_LIMIT >> 2] = LDT_LIMIT;
  s[LDTR_FLAGS >> 2] = SEGF_USABLE | SEGF_P | 0x02; // present LDT descriptor, DPL 0
  let cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
  if (cpl === 3) {
    cr0 |= CR0_WP | CR0_AM | CR0_PG;
    s[(CR >> 2) + 3] = PAGE_DIR;
  }
  s[CR >> 2] = cr0;
  s[EFLAGS >> 2] = c.eflags;
  s[LF_OP >> 2] = 0;
  cpu.setCpl(cpl);
  loadMirrorSegment(cpu, SEG_CS, c.code16 ? SEL_CODE16 : SEL_USER_CS);
  loadMirrorSegment(cpu, SEG_SS, SEL_USER_DS);
  loadMirrorSegment(cpu, SEG_DS, c.sel[0]);
  loadMirrorSegment(cpu, SEG_ES, c.sel[1]);
  loadMirrorSegment(cpu, SEG_FS, c.sel[2]);
  loadMirrorSegment(cpu, SEG_GS, c.sel[3]);
  for (let r = 0; r < 8; r++) s[r] = c.regs[r];
  s[EIP >> 2] = c.eip;
  cpu.flushTlb(false);
  cpu.refreshMode();
}

export const FLAT0: VmSetup = {
  name: 'flat0',
  description: 'CPL 0, paging off, host selectors mirrored',
  cpl: 0,
  init: writeMirrorTables,
  enter: (vm, c) => enterCommon(vm, c, 0),
};

export const USER3: VmSetup = {
  name: 'user3',
  description: 'CPL 3, paging on (windows identity-mapped as user pages), host selectors mirrored',
  cpl: 3,
  init(vm) {
    writeMirrorTables(vm);
    buildPageTables(vm);
  },
  enter: (vm, c) => enterCommon(vm, c, 3),
};

/** Setups by name (`--setup`). */
export const SETUPS: Readonly<Record<string, VmSetup>> = { flat0: FLAT0, user3: USER3 };
