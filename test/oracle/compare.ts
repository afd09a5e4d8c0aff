/**
 * Full-state comparison of the reference's outcome with the VM's: where control went (stub address, or
 * fault vector, error code and CR2), the eight GPRs, EFLAGS (minus the case's undefined bits and
 * RF, which the processor sets in fault frames), the six selectors, every changed memory byte,
 * and the x87 state through the plug-in.
 */
import { EX_BP, EX_DB, EX_OF } from '../../translator/abi.ts';
import { REG32, SEGS } from '../../translator/decoder/disasm.ts';
import type { Excuse, OracleCase, Outcome, X87Plugin } from './types.ts';

/** EFLAGS bits compared: everything architectural except RF. */
export const COMPARED_FLAGS = 0x3e7fd7;

const FLAG_NAMES: readonly [number, string][] = [
  [0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x100, 'TF'], [0x200, 'IF'], [0x400, 'DF'],
  [0x800, 'OF'], [0x3000, 'IOPL'], [0x4000, 'NT'], [0x20000, 'VM'], [0x40000, 'AC'], [0x80000, 'VIF'],
  [0x100000, 'VIP'], [0x200000, 'ID'], [0x2, 'bit1'],
];

const hex = (v: number, w = 8): string => '0x' + (v >>> 0).toString(16).padStart(w, '0');

/** Names of the flags in `mask`. */
export function flagNames(mask: number): string {
  return FLAG_NAMES.filter(([b]) => mask & b).map(([, n]) => n).join(' ');
}

/** Vectors delivered as traps: the reference's EIP is after the instruction. */
function isTrap(vector: number): boolean {
  return vector === EX_BP || vector === EX_OF || vector === EX_DB;
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'stub': return `reached ${hex(o.eip)}`;
    case 'fault': {
      const names = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#9', '#TS', '#NP', '#SS', '#GP', '#PF', '#15', '#MF', '#AC'];
      const n = names[o.vector] ?? `vector ${o.vector}`;
      const code = o.errorCode >= 0 ? `(${hex(o.errorCode, 4)})` : '';
      return `${n}${code} at ${hex(o.eip)}${o.vector === 14 ? ` cr2=${hex(o.cr2)}` : ''}`;
    }
    default: return `${o.kind}${o.message ? `: ${o.message.split('\n')[0]}` : ''}`;
  }
}

/**
 * Differences between the reference's (`n`) and the VM's (`v`) outcomes of case `c`; empty =
 * match. `ex` leaves out what a known deviation of the reference excuses.
 */
export function compareOutcomes(c: OracleCase, n: Outcome, v: Outcome, x87?: X87Plugin, ex?: Excuse): string[] {
  if (ex?.all) return [];
  const d: string[] = [];
  if (n.kind !== 'stub' && n.kind !== 'fault') return [`ref: ${describeOutcome(n)}`];
  if (v.kind !== 'stub' && v.kind !== 'fault') return [`vm: ${describeOutcome(v)}`];
  if (n.kind !== v.kind || n.vector !== v.vector || ((n.errorCode ^ v.errorCode) & ~(ex?.errorCode ?? 0)) !== 0) {
    return [`control: ref ${describeOutcome(n)}, vm ${describeOutcome(v)}`];
  }
  const eipOk = n.eip === v.eip || (n.kind === 'fault' && isTrap(n.vector) && v.eip === c.eip);
  if (!eipOk) d.push(`control: ref ${describeOutcome(n)}, vm ${describeOutcome(v)}`);
  if (n.kind === 'fault' && n.vector === 14 && ((n.cr2 ^ v.cr2) & (c.cr2Mask ?? -1) & ~(ex?.cr2 ?? 0)) !== 0) {
    d.push(`cr2: ref ${hex(n.cr2)}, vm ${hex(v.cr2)}`);
  }
  for (let r = 0; r < 8; r++) {
    if (ex?.regs === 'all' || ex?.regs?.includes(r)) continue;
    const mask = ~(c.regIgnore?.[r] ?? 0);
    if (((n.regs[r] ^ v.regs[r]) & mask) !== 0) d.push(`${REG32[r]}: ref ${hex(n.regs[r])}, vm ${hex(v.regs[r])}`);
  }
  const fx = (n.eflags ^ v.eflags) & COMPARED_FLAGS & ~c.flagsIgnore & ~(ex?.flags ?? 0);
  if (fx) d.push(`eflags: ref ${hex(n.eflags)}, vm ${hex(v.eflags)} (differ in ${flagNames(fx)})`);
  for (let s = 0; s < 6; s++) {
    if (n.sel[s] !== v.sel[s]) d.push(`${SEGS[s]}: ref ${hex(n.sel[s], 4)}, vm ${hex(v.sel[s], 4)}`);
  }
  const skip = [...(c.memIgnore ?? []), ...(ex?.mem ?? [])];
  const ignored = (a: number): boolean => skip.some((m) => a >= m.addr && a < m.addr + m.len);
  const addrs = new Set([...n.mem.keys(), ...v.mem.keys()]);
  const bad: string[] = [];
  for (const a of [...addrs].sort((x, y) => x - y)) {
    if (ignored(a)) continue;
    const nb = n.mem.get(a);
    const vb = v.mem.get(a);
    if (nb !== vb) bad.push(`${hex(a)}: ref ${nb === undefined ? 'unchanged' : hex(nb, 2)}, vm ${vb === undefined ? 'unchanged' : hex(vb, 2)}`);
  }
  if (bad.length) d.push(`memory (${bad.length} bytes): ${bad.slice(0, 8).join('; ')}${bad.length > 8 ? '; ...' : ''}`);
  if (n.fpu && x87) {
    if (!v.fpu) d.push('x87: the VM produced no FSAVE image');
    else d.push(...x87.compare(n.fpu, v.fpu, c, ex?.x87).map((s) => `x87: ${s}`));
  }
  return d;
}
