/**
 * Fault exactness in translated code: a page fault (or #DE, #GP, #SS) raised by an instruction in
 * the middle of a translated block must leave the guest state exactly as the interpreter leaves
 * it: EIP of the faulting instruction, every earlier instruction's effects, none of its own,
 * CR2 and the error code; REP string instructions keep their partial progress.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CR, F_ARITH } from '../../translator/abi.ts';
import type { Vm } from '../../runtime/vm.ts';
import { CODE, DATA_SIZE, STACK_TOP } from './gen.ts';
import type { Case } from './gen.ts';
import { diff, makeVm, runCase } from './harness.ts';
import { rowByName } from '../../translator/isa/table.ts';

const PD = 0x20000;
const PT = 0x21000;
const ABSENT = 0x9000; // not present
const READONLY = 0xc000; // present, read-only (CR0.WP makes it read-only for CPL 0 too)

/** Identity-maps the first 4 MiB except ABSENT (not present) and READONLY; enables paging + WP. */
function enablePaging(vm: Vm): void {
  const pd = new Uint8Array(4096);
  const pt = new Uint8Array(4096);
  const dv = new DataView(pd.buffer);
  dv.setUint32(0, PT | 0x7, true);
  const pv = new DataView(pt.buffer);
  for (let p = 0; p < 1024; p++) {
    const addr = p << 12;
    let e = addr | 0x7;
    if (addr === ABSENT) e = 0;
    if (addr === READONLY) e = addr | 0x5;
    pv.setUint32(p * 4, e, true);
  }
  vm.writePhys(PD, pd);
  vm.writePhys(PT, pt);
  const s = vm.cpu.s;
  s[(CR >> 2) + 3] = PD;
  s[CR >> 2] |= 0x80010000 | 0; // PG, WP
  vm.cpu.flushTlb(false);
  vm.cpu.refreshMode();
}

let interp: Vm;
let dbt: Vm;
beforeAll(async () => {
  interp = await makeVm('interp');
  dbt = await makeVm('dbt');
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

interface Scenario { name: string; code: number[]; regs?: Partial<Record<number, number>>; vector: number; error?: number; cr2?: number }

const SCENARIOS: Scenario[] = [
  {
    name: 'write to a non-present page after register and flag updates',
    // mov eax, 1; add ebx, eax; mov [ABSENT+4], ecx; inc eax
    code: [0xb8, ...le32(1), 0x01, 0xc3, 0x89, 0x0d, ...le32(ABSENT + 4), 0x40],
    vector: 14, error: 2, cr2: ABSENT + 4,
  },
  {
    name: 'read from a non-present page',
    // sub ecx, edx; mov edx, [ABSENT]; inc ecx
    code: [0x29, 0xd1, 0x8b, 0x15, ...le32(ABSENT), 0x41],
    vector: 14, error: 0, cr2: ABSENT,
  },
  {
    name: 'read-modify-write of a read-only page faults as a write',
    // inc esi; add [READONLY+8], eax
    code: [0x46, 0x01, 0x05, ...le32(READONLY + 8)],
    vector: 14, error: 3, cr2: READONLY + 8,
  },
  {
    name: 'push onto a non-present stack page leaves ESP alone',
    // mov esp, ABSENT+0x10; dec edi; push edi
    code: [0xbc, ...le32(ABSENT + 0x10), 0x4f, 0x57],
    vector: 14, error: 2, cr2: ABSENT + 0xc,
  },
  {
    name: 'dword read crossing into a non-present page',
    // mov eax, [ABSENT-2]
    code: [0xa1, ...le32(ABSENT - 2)],
    vector: 14, error: 0, cr2: ABSENT,
  },
  {
    name: 'REP MOVSD stops at the fault with partial progress',
    // mov esi, 0x8000; mov edi, ABSENT-0x20; mov ecx, 100; cld; rep movsd
    code: [0xbe, ...le32(0x8000), 0xbf, ...le32(ABSENT - 0x20), 0xb9, ...le32(100), 0xfc, 0xf3, 0xa5],
    vector: 14, error: 2, cr2: ABSENT,
  },
  {
    name: 'REP STOSB from a read-only page boundary',
    // mov edi, READONLY-5; mov ecx, 9; mov al, 0x5a; rep stosb
    code: [0xbf, ...le32(READONLY - 5), 0xb9, ...le32(9), 0xb0, 0x5a, 0xf3, 0xaa],
    vector: 14, error: 3, cr2: READONLY,
  },
  {
    name: 'DIV by zero raises #DE before any register changes',
    // mov eax, 7; xor edx, edx; xor ecx, ecx; div ecx
    code: [0xb8, ...le32(7), 0x31, 0xd2, 0x31, 0xc9, 0xf7, 0xf1],
    vector: 0,
  },
  {
    name: 'IDIV quotient overflow raises #DE',
    // mov eax, 0x80000000; cdq; mov ecx, -1; idiv ecx
    code: [0xb8, ...le32(0x80000000), 0x99, 0xb9, ...le32(-1), 0xf7, 0xf9],
    vector: 0,
  },
  {
    name: 'a dword access wrapping past 4 GiB is a segment-limit fault',
    // mov ebx, -2; mov eax, [ebx]
    code: [0xbb, ...le32(-2), 0x8b, 0x03],
    vector: 13, error: 0,
  },
  {
    name: 'a stack access wrapping past 4 GiB is #SS',
    // mov esp, 2; push eax
    code: [0xbc, ...le32(2), 0x50],
    vector: 12, error: 0,
  },
];

describe('faults inside translated blocks', () => {
  it.each(SCENARIOS)('$name', (sc) => {
    const regs = [0x11, 0x22, 0x33, 0x44, STACK_TOP - 0x40, 0x66, 0x77, 0x88];
    for (const [r, v] of Object.entries(sc.regs ?? {})) regs[Number(r)] = v ?? 0;
    const c: Case = { code: [...sc.code, 0x0f, 0x0b], regs, eflags: 0x2, data: new Uint8Array(DATA_SIZE).fill(0xab), row: rowByName('nop'), text: '' };
    const snaps = [interp, dbt].map((vm) => {
      // runCase resets the VM; paging is switched on before running through a custom prelude.
      const orig = vm.run.bind(vm);
      vm.run = (budget: number) => { enablePaging(vm); vm.run = orig; return orig(budget); };
      const snap = runCase(vm, c);
      const cr2 = vm.cpu.s[(CR >> 2) + 2];
      return { snap, cr2 };
    });
    const [a, b] = snaps;
    expect(diff(a.snap, b.snap, F_ARITH | 0x400)).toEqual([]);
    const faultEnd = `fault ${['#DE', '', '', '', '', '', '', '', '', '', '', '', '#SS', '#GP', '#PF'][sc.vector]}`;
    expect(a.snap.end.startsWith(faultEnd)).toBe(true);
    if (sc.error !== undefined) expect(a.snap.end).toContain(`(0x${sc.error.toString(16)})`);
    if (sc.cr2 !== undefined) {
      expect(a.cr2 >>> 0).toBe(sc.cr2 >>> 0);
      expect(b.cr2 >>> 0).toBe(sc.cr2 >>> 0);
    }
    // The fault is at an instruction before the trailing UD2.
    expect(b.snap.eip).toBeLessThan(CODE + sc.code.length);
    expect(dbt.stats().dbt?.regions).toBeGreaterThan(0);
  });
});
