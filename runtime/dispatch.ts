/**
 * Interpreter dispatch: one handler per table row, gathered from the family files and the VMM,
 * indexed by row id. Building the array checks that every row has exactly one handler, so a row
 * added to the table without semantics fails at start-up (and in test/unit/isa/table.test.ts).
 */
import { TABLE } from '../translator/isa/table.ts';
import { ALU_HANDLERS } from './interp/alu.ts';
import { BIT_HANDLERS } from './interp/bit.ts';
import { CONTROL_HANDLERS } from './interp/control.ts';
import { MOVE_HANDLERS } from './interp/move.ts';
import { MULDIV_HANDLERS } from './interp/muldiv.ts';
import { SHIFT_HANDLERS } from './interp/shift.ts';
import { STACK_HANDLERS } from './interp/stack.ts';
import { STRING_HANDLERS } from './interp/string.ts';
import { X87_HANDLERS } from './x87/handlers.ts';
import { SYSTEM_HANDLERS } from './vmm/handlers.ts';
import type { Handler, HandlerMap } from './insn/handler.ts';
import { EXIT_REASONS } from '../translator/isa/types.ts';
import type { ExitReason } from '../translator/isa/types.ts';

const FAMILIES: readonly (readonly [string, HandlerMap])[] = [
  ['alu', ALU_HANDLERS], ['muldiv', MULDIV_HANDLERS], ['shift', SHIFT_HANDLERS], ['bit', BIT_HANDLERS],
  ['move', MOVE_HANDLERS], ['stack', STACK_HANDLERS], ['control', CONTROL_HANDLERS],
  ['string', STRING_HANDLERS], ['x87', X87_HANDLERS], ['system', SYSTEM_HANDLERS],
];

/** Rows without a handler, and handler names that match no row (both should be empty). */
export function dispatchProblems(): { missing: string[]; unknown: string[]; duplicate: string[] } {
  const names = new Set(TABLE.map((r) => r.name));
  const seen = new Map<string, string>();
  const duplicate: string[] = [];
  const unknown: string[] = [];
  for (const [fam, map] of FAMILIES) {
    for (const name of Object.keys(map)) {
      if (seen.has(name)) duplicate.push(`${name} (${seen.get(name)} and ${fam})`);
      seen.set(name, fam);
      if (!names.has(name)) unknown.push(`${name} (${fam})`);
    }
  }
  const missing = TABLE.filter((r) => !seen.has(r.name)).map((r) => r.name);
  return { missing, unknown, duplicate };
}

/** EXIT_ID[reason] = its index in EXIT_REASONS (the exit counters' index). */
export const EXIT_ID: Readonly<Record<ExitReason, number>> = Object.freeze(Object.fromEntries(EXIT_REASONS.map((r, k) => [r, k])) as Record<ExitReason, number>);

/**
 * The handlers by row id. A row that declares a VMM exit (`exit`) gets its handler wrapped so
 * that the exit is counted here, once, before the handler runs (so also when it faults), for
 * both engines: the translator's stubs call these same handlers.
 */
function build(): Handler[] {
  const all: Record<string, Handler> = {};
  for (const [, map] of FAMILIES) Object.assign(all, map);
  return TABLE.map((r) => {
    const h = all[r.name];
    if (h && r.exit) {
      const id = EXIT_ID[r.exit];
      return (cpu, i) => {
        cpu.onExit(id);
        h(cpu, i);
      };
    }
    if (h) return h;
    // A row with no semantics yet: surface it loudly rather than mis-executing.
    return () => {
      throw new Error(`interpreter: no handler for table row '${r.name}'`);
    };
  });
}

/** HANDLERS[row.id] executes that row. */
export const HANDLERS: readonly Handler[] = build();
