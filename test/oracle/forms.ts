/**
 * Which rows the oracle covers, under which setup, and in which operand forms.
 *
 * Coverage policy: every user-level row whose result on the reference is deterministic is
 * covered. Rows whose result on the real CPU depends on the host kernel or machine (UMIP
 * emulation of SGDT & co., the TSC, system calls through INT n or SYSENTER) are excluded there,
 * each with its reason; the bare-metal harness (the `qemu` reference) is its own kernel, so it
 * covers the descriptor-table stores, RDPMC and SYSENTER too. Rows whose result depends on the
 * privilege level (POPF's IF/IOPL handling, SS loads, descriptor probes, and every privileged or
 * I/O instruction, which must raise #GP at CPL 3) run only under the CPL-3 setup
 * (`--setup user3`), since every reference runs cases at CPL 3.
 */
import type { Row } from '../../translator/isa/types.ts';
import type { ReferenceKind } from './reference.ts';
import type { Form } from './types.ts';

/** Rows never run against the real CPU, with the reason. */
export const EXCLUDED: Readonly<Record<string, string>> = {
  sgdtMs: 'host kernel emulates it under UMIP (dummy table address)',
  sidtMs: 'host kernel emulates it under UMIP (dummy table address)',
  sldtEw: 'host kernel emulates it under UMIP',
  strEw: 'host kernel emulates it under UMIP',
  smswEw: 'host kernel emulates it under UMIP (dummy CR0 value)',
  cpuid: 'reports the host processor, not the guest model',
  rdtsc: 'host time stamp counter (nondeterministic)',
  rdpmc: 'depends on the host CR4.PCE and performance counters',
  sysenter: 'enters the host kernel (a system call)',
  intIb: 'enters the host kernel (INT 0x80 is a system call; other vectors depend on the host IDT)',
  int1: 'ICEBP: the host kernel treats the #DB as a debug event',
  int3: 'software interrupt: the VMM delivers it through the guest IDT; the host turns it into SIGTRAP',
  into: 'software interrupt: the VMM delivers it through the guest IDT; the host turns it into SIGSEGV',
};

/**
 * Rows the bare-metal harness compares although the real CPU cannot: it has no UMIP (SGDT, SIDT,
 * SLDT, STR and SMSW report its own tables, which the VM mirrors: layout.ts), and its MSRs and
 * CR4 are its own (RDPMC and SYSENTER raise #GP(0) at CPL 3 with CR4.PCE and SYSENTER_CS zero).
 */
export const HARNESS_COVERS: ReadonlySet<string> = new Set(['sgdtMs', 'sidtMs', 'sldtEw', 'strEw', 'smswEw', 'rdpmc', 'sysenter']);

/** Rows that need the CPL-3 setup, with the reason (listed as excluded under CPL 0). */
export const USER3_ONLY: Readonly<Record<string, string>> = {
  popf: 'IF and IOPL handling depends on CPL',
  popSS: 'SS loads require RPL = DPL = CPL',
  lssGvMp: 'SS loads require RPL = DPL = CPL',
  larGvEw: 'descriptor probes depend on CPL',
  lslGvEw: 'descriptor probes depend on CPL',
  verrEw: 'descriptor probes depend on CPL',
  verwEw: 'descriptor probes depend on CPL',
  jmpAp: 'far transfers check the code segment against CPL',
  jmpMp: 'far transfers check the code segment against CPL',
  callAp: 'far transfers check the code segment against CPL',
  callMp: 'far transfers check the code segment against CPL',
  retf: 'far transfers check the code segment against CPL',
  retfIw: 'far transfers check the code segment against CPL',
  iret: 'IRET checks the code segment against CPL and loads IF/IOPL by CPL',
  smswEw: 'stores CR0, which only the CPL-3 setup mirrors (PG, WP and AM set as on the reference)',
};

/** Why `row` is not run under a setup at `cpl` against a reference of `kind`, or undefined if it is run. */
export function exclusionReason(row: Row, cpl: number, kind: ReferenceKind = 'native'): string | undefined {
  const ex = EXCLUDED[row.name];
  if (ex && !(kind === 'qemu' && HARNESS_COVERS.has(row.name))) return ex;
  if (row.op < 0 && row.name !== 'invalid' && row.name !== 'tooLong') return 'synthetic row';
  if (cpl === 0) {
    const u = USER3_ONLY[row.name];
    if (u) return `${u}: run with --setup user3`;
    if (row.cls === 'privileged' || row.cls === 'io') return `${row.cls}: #GP at the host's CPL 3; run with --setup user3`;
  }
  return undefined;
}

function has(row: Row, pred: (o: string) => boolean): boolean {
  return row.ops.some(pred);
}

/** True if the row has an r/m operand that can be a memory operand. */
export function hasMemForm(row: Row): boolean {
  return row.modrm && row.mod !== 'reg' && row.rm === undefined && !row.ops.includes('Rd');
}

/** True if the row has a register form of its r/m operand. */
export function hasRegForm(row: Row): boolean {
  return row.modrm && row.mod !== 'mem';
}

/** The operand forms of a row: operand size x ModRM kind x address size (where each matters). */
export function formsOf(row: Row): Form[] {
  const oszs: (16 | 32)[] = row.osz ? [32, 16] : [32];
  const out: Form[] = [];
  const addrMatters = row.asz === true || has(row, (o) => o === 'Ob' || o === 'Ov' || o.startsWith('X') || o.startsWith('Y'));
  for (const osz of oszs) {
    const o = row.osz ? `o${osz} ` : '';
    if (row.modrm && row.op >= 0) {
      if (hasRegForm(row)) out.push({ osz, asz: 32, rm: 'reg', label: `${o}reg` });
      if (hasMemForm(row)) {
        out.push({ osz, asz: 32, rm: 'mem', label: `${o}m32` });
        out.push({ osz, asz: 16, rm: 'mem', label: `${o}m16` });
      }
    } else if (addrMatters) {
      out.push({ osz, asz: 32, rm: 'none', label: `${o}a32` });
      out.push({ osz, asz: 16, rm: 'none', label: `${o}a16` });
    } else {
      out.push({ osz, asz: 32, rm: 'none', label: o.trim() || '-' });
    }
  }
  return out;
}
