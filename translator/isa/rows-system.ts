/**
 * Table rows: system instructions (SDM vol. 3 and vol. 2). Their semantics live in runtime/vmm.
 *
 * Classes follow design.md §2: descriptor-table stores (SGDT/SIDT/SLDT/STR/SMSW) and the
 * descriptor probes (LAR/LSL/VERR/VERW) are sensitive-non-trapping; everything that faults
 * outside CPL 0 (or, for CLI/STI, outside IOPL) is privileged; port I/O is `io`. CPUID and RDTSC
 * do not trap on real hardware (RDTSC only with CR4.TSD) but reveal the host machine, so the VMM
 * answers them: we class them sensitive-non-trapping too.
 */
import type { RowSpec } from './types.ts';

export const SYSTEM_ROWS: readonly RowSpec[] = [
  // Group 6 (0F 00).
  { name: 'sldtEw', mnem: 'sldt', map: '0f', op: 0x00, reg: 0, ops: ['Ew'], osz: true, cls: 'sensitive-non-trapping', exit: 'sldt' },
  { name: 'strEw', mnem: 'str', map: '0f', op: 0x00, reg: 1, ops: ['Ew'], osz: true, cls: 'sensitive-non-trapping', exit: 'str' },
  { name: 'lldtEw', mnem: 'lldt', map: '0f', op: 0x00, reg: 2, ops: ['Ew'], cls: 'privileged', exit: 'lldt', ends: true },
  { name: 'ltrEw', mnem: 'ltr', map: '0f', op: 0x00, reg: 3, ops: ['Ew'], cls: 'privileged', exit: 'ltr', ends: true },
  { name: 'verrEw', mnem: 'verr', map: '0f', op: 0x00, reg: 4, ops: ['Ew'], fw: 'Z', cls: 'sensitive-non-trapping', exit: 'verr' },
  { name: 'verwEw', mnem: 'verw', map: '0f', op: 0x00, reg: 5, ops: ['Ew'], fw: 'Z', cls: 'sensitive-non-trapping', exit: 'verw' },
  // Group 7 (0F 01), memory forms. The register forms (VMX, MONITOR, SWAPGS...) are #UD on i686.
  { name: 'sgdtMs', mnem: 'sgdt', map: '0f', op: 0x01, reg: 0, mod: 'mem', ops: ['Ms'], osz: true, cls: 'sensitive-non-trapping', exit: 'sgdt' },
  { name: 'sidtMs', mnem: 'sidt', map: '0f', op: 0x01, reg: 1, mod: 'mem', ops: ['Ms'], osz: true, cls: 'sensitive-non-trapping', exit: 'sidt' },
  { name: 'lgdtMs', mnem: 'lgdt', map: '0f', op: 0x01, reg: 2, mod: 'mem', ops: ['Ms'], osz: true, cls: 'privileged', exit: 'lgdt', ends: true },
  { name: 'lidtMs', mnem: 'lidt', map: '0f', op: 0x01, reg: 3, mod: 'mem', ops: ['Ms'], osz: true, cls: 'privileged', exit: 'lidt', ends: true },
  { name: 'smswEw', mnem: 'smsw', map: '0f', op: 0x01, reg: 4, ops: ['Ew'], osz: true, cls: 'sensitive-non-trapping', exit: 'smsw' },
  { name: 'lmswEw', mnem: 'lmsw', map: '0f', op: 0x01, reg: 6, ops: ['Ew'], cls: 'privileged', exit: 'lmsw', leaves: true, ends: true },
  { name: 'invlpgM', mnem: 'invlpg', map: '0f', op: 0x01, reg: 7, mod: 'mem', ops: ['M'], cls: 'privileged', exit: 'invlpg', leaves: true, ends: true },

  { name: 'larGvEw', mnem: 'lar', map: '0f', op: 0x02, ops: ['Gv', 'Ew'], osz: true, fw: 'Z', cls: 'sensitive-non-trapping', exit: 'lar' },
  { name: 'lslGvEw', mnem: 'lsl', map: '0f', op: 0x03, ops: ['Gv', 'Ew'], osz: true, fw: 'Z', cls: 'sensitive-non-trapping', exit: 'lsl' },
  { name: 'clts', mnem: 'clts', map: '0f', op: 0x06, ops: [], cls: 'privileged', exit: 'clts', leaves: true, ends: true },
  { name: 'invd', mnem: 'invd', map: '0f', op: 0x08, ops: [], cls: 'privileged', exit: 'cache' },
  { name: 'wbinvd', mnem: 'wbinvd', map: '0f', op: 0x09, ops: [], cls: 'privileged', exit: 'cache' },
  { name: 'ud2', mnem: 'ud2', map: '0f', op: 0x0b, ops: [], cls: 'innocuous', note: 'raises #UD by definition' },
  // MOV to/from control and debug registers: mod is ignored (always a register operand).
  { name: 'movRdCd', mnem: 'mov', map: '0f', op: 0x20, ops: ['Rd', 'Cd'], cls: 'privileged', exit: 'mov-cr' },
  { name: 'movRdDd', mnem: 'mov', map: '0f', op: 0x21, ops: ['Rd', 'Dd'], cls: 'privileged', exit: 'mov-dr' },
  { name: 'movCdRd', mnem: 'mov', map: '0f', op: 0x22, ops: ['Cd', 'Rd'], cls: 'privileged', exit: 'mov-cr', leaves: true, ends: true },
  { name: 'movDdRd', mnem: 'mov', map: '0f', op: 0x23, ops: ['Dd', 'Rd'], cls: 'privileged', exit: 'mov-dr', leaves: true, ends: true },
  { name: 'wrmsr', mnem: 'wrmsr', map: '0f', op: 0x30, ops: [], cls: 'privileged', exit: 'msr', leaves: true, ends: true },
  { name: 'rdtsc', mnem: 'rdtsc', map: '0f', op: 0x31, ops: [], cls: 'sensitive-non-trapping', exit: 'rdtsc', note: '#GP at CPL > 0 when CR4.TSD is set' },
  { name: 'rdmsr', mnem: 'rdmsr', map: '0f', op: 0x32, ops: [], cls: 'privileged', exit: 'msr' },
  { name: 'rdpmc', mnem: 'rdpmc', map: '0f', op: 0x33, ops: [], cls: 'privileged', exit: 'rdpmc', note: 'allowed at CPL > 0 when CR4.PCE is set' },
  { name: 'sysenter', mnem: 'sysenter', map: '0f', op: 0x34, ops: [], cls: 'sensitive-non-trapping', exit: 'sysenter', ends: true },
  { name: 'sysexit', mnem: 'sysexit', map: '0f', op: 0x35, ops: [], cls: 'privileged', exit: 'sysexit', ends: true },
  { name: 'cpuid', mnem: 'cpuid', map: '0f', op: 0xa2, ops: [], cls: 'sensitive-non-trapping', exit: 'cpuid' },
  { name: 'rsm', mnem: 'rsm', map: '0f', op: 0xaa, ops: [], cls: 'privileged', exit: 'rsm', leaves: true, note: '#UD outside system-management mode, which we do not model' },
  { name: 'arplEwGw', mnem: 'arpl', map: 'one', op: 0x63, ops: ['Ew', 'Gw'], fw: 'Z', cls: 'innocuous', note: '#UD in real and virtual-8086 mode' },

  { name: 'hlt', mnem: 'hlt', map: 'one', op: 0xf4, ops: [], cls: 'privileged', exit: 'hlt', leaves: true, ends: true },
  { name: 'cli', mnem: 'cli', map: 'one', op: 0xfa, ops: [], fw: 'I', cls: 'privileged', exit: 'cli', note: 'IOPL-sensitive: #GP when CPL > IOPL' },
  { name: 'sti', mnem: 'sti', map: 'one', op: 0xfb, ops: [], fw: 'I', cls: 'privileged', exit: 'sti', ends: true, note: 'IOPL-sensitive; inhibits interrupts for one instruction' },

  { name: 'inALIb', mnem: 'in', map: 'one', op: 0xe4, ops: ['AL', 'Ib'], cls: 'io', exit: 'io' },
  { name: 'ineAXIb', mnem: 'in', map: 'one', op: 0xe5, ops: ['eAX', 'Ib'], osz: true, cls: 'io', exit: 'io' },
  { name: 'outIbAL', mnem: 'out', map: 'one', op: 0xe6, ops: ['Ib', 'AL'], cls: 'io', exit: 'io' },
  { name: 'outIbeAX', mnem: 'out', map: 'one', op: 0xe7, ops: ['Ib', 'eAX'], osz: true, cls: 'io', exit: 'io' },
  { name: 'inALDX', mnem: 'in', map: 'one', op: 0xec, ops: ['AL', 'DX'], cls: 'io', exit: 'io' },
  { name: 'ineAXDX', mnem: 'in', map: 'one', op: 0xed, ops: ['eAX', 'DX'], osz: true, cls: 'io', exit: 'io' },
  { name: 'outDXAL', mnem: 'out', map: 'one', op: 0xee, ops: ['DX', 'AL'], cls: 'io', exit: 'io' },
  { name: 'outDXeAX', mnem: 'out', map: 'one', op: 0xef, ops: ['DX', 'eAX'], osz: true, cls: 'io', exit: 'io' },
];
