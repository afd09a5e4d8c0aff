/**
 * Which rows are emitted inline: the emitter families gathered by table row name, like the
 * interpreter's dispatch. A row without an emitter (or a form an emitter declines) runs through
 * the interp helper. Sensitive, privileged and I/O rows may have emitters only in the VMM family
 * (emit/vmm.ts), whose fast paths fall back to the VMM through the stub (checked when this
 * module loads); region.ts gives such a row a segment of its own and counts it as VMM work.
 */
import type { Insn } from '../decoder/insn.ts';
import { TABLE } from '../isa/table.ts';
import { ALU_EMITTERS } from './alu.ts';
import { BIT_EMITTERS } from './bit.ts';
import { CONTROL_EMITTERS } from './control.ts';
import { emitCld, emitCmovcc, emitSetcc, emitStd } from './flags.ts';
import { MOVE_EMITTERS } from './move.ts';
import { MULDIV_EMITTERS } from './muldiv.ts';
import { SHIFT_EMITTERS } from './shift.ts';
import { STACK_EMITTERS } from './stack.ts';
import { STRING_EMITTERS } from './string.ts';
import { VMM_EMITTERS } from './vmm.ts';
import type { Emitter, EmitterMap } from './types.ts';

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

const FLAGS_EMITTERS: EmitterMap = {
  ...Object.fromEntries(CC.map((cc) => [`set${cc}Eb`, emitSetcc])),
  ...Object.fromEntries(CC.map((cc) => [`cmov${cc}GvEv`, emitCmovcc])),
  cld: emitCld,
  std: emitStd,
};

const FAMILIES: readonly EmitterMap[] = [
  ALU_EMITTERS, MOVE_EMITTERS, STACK_EMITTERS, CONTROL_EMITTERS, SHIFT_EMITTERS, MULDIV_EMITTERS,
  STRING_EMITTERS, FLAGS_EMITTERS, BIT_EMITTERS,
];


function build(): readonly (Emitter | null)[] {
  const all = new Map<string, Emitter>();
  for (const fam of [...FAMILIES, VMM_EMITTERS]) {
    for (const [name, e] of Object.entries(fam)) {
      if (all.has(name)) throw new Error(`emitters: ${name} defined twice`);
      all.set(name, e);
    }
  }
  const names = new Set(TABLE.map((r) => r.name));
  for (const name of all.keys()) if (!names.has(name)) throw new Error(`emitters: no table row ${name}`);
  return TABLE.map((r) => {
    const e = all.get(r.name) ?? null;
    const vmm = r.cls !== 'innocuous' && r.cls !== 'control';
    if (e && vmm !== (r.name in VMM_EMITTERS)) {
      throw new Error(`emitters: ${r.name} is ${r.cls}: ${vmm ? 'only the VMM family (emit/vmm.ts) may emit it' : 'not a VMM row'}`);
    }
    if (e && vmm && !r.exit) throw new Error(`emitters: ${r.name} has no exit reason to count it under`);
    return e;
  });
}

const BY_ROW = build();

/** The inline emitter for this instruction, or null to run it through the interp helper. */
export function inlineEmitter(i: Insn): Emitter | null {
  const e = BY_ROW[i.row];
  if (e === null) return null;
  // Forms the table leaves to the interpreter (`noInline`).
  const no = TABLE[i.row].noInline;
  if (no && (no.forms === 'mem' ? i.mod !== 3 : !i.o32)) return null;
  return e;
}

/**
 * True for a sensitive, privileged or I/O row emitted inline (emit/vmm.ts): it ends its
 * segment (its slow path resumes at the next one) and is counted as VMM work.
 */
export function isVmmInline(i: Insn): boolean {
  return inlineEmitter(i) !== null && VMM_ROW[i.row] === 1;
}

/** True if the instruction ends its segment: it runs through the interp stub, or may. */
export function endsSegment(i: Insn): boolean {
  return inlineEmitter(i) === null || VMM_ROW[i.row] === 1;
}

const VMM_ROW = Uint8Array.from(TABLE, (r) => (r.cls !== 'innocuous' && r.cls !== 'control' ? 1 : 0));

/** Names of the rows with an inline emitter (documentation, tests). */
export function inlineRowNames(): string[] {
  return TABLE.filter((r) => BY_ROW[r.id] !== null).map((r) => r.name);
}
