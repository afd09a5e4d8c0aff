/**
 * Interpreter handlers: the x87 FPU, gathered from the family files and wrapped with the checks
 * every escape instruction makes before it executes (SDM vol. 3, 2.5 CR0 and vol. 1, 8.6/8.7):
 *
 * 1. #NM if CR0.EM or CR0.TS (WAIT: only if CR0.TS and CR0.MP);
 * 2. #MF if a pending unmasked exception exists (ES) and CR0.NE — skipped by the non-waiting
 *    FN* forms (FNINIT FNCLEX FNSTCW FNSTSW FNSTENV FNSAVE, and FNENI/FNDISI/FNSETPM);
 * 3. C1 cleared first, except by FCMOVcc and FNOP (see KEEPS_C1);
 * 4. after it completes, FIP/FCS/FOP (and FDP/FDS for memory forms) record it — except for the
 *    control instructions (the FN* forms, FLDCW, FLDENV, FRSTOR, WAIT).
 */
import { FPU_SW } from '../../translator/abi.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { ARITH_HANDLERS } from './arith.ts';
import { COMPARE_HANDLERS } from './compare.ts';
import { CONTROL_HANDLERS } from './control.ts';
import { SW_C1, checkDeviceAvailable, checkPending, checkWaitDeviceAvailable, notePointers } from './fpu.ts';
import { LOAD_STORE_HANDLERS } from './load-store.ts';
import { SCALE_REM_HANDLERS } from './scale-rem.ts';
import { TRANSCENDENTAL_HANDLERS } from './transcendental.ts';

const I_SW = FPU_SW >> 2;

/** Control instructions that do not check for pending exceptions. */
const NON_WAITING: ReadonlySet<string> = new Set([
  'fninit', 'fnclex', 'fnstcwMw', 'fnstswMw', 'fnstswAX', 'fnstenvMenv', 'fnsaveMstate', 'fneni', 'fndisi', 'fnsetpm',
]);
/**
 * Instructions that leave C1 alone. Every other non-control instruction clears C1 unless it sets
 * it (rounded up, stack overflow, a quotient bit, a sign), also when an unmasked exception stops
 * it (measured).
 */
const KEEPS_C1 = /^(fcmov|fnop$)/;
/** Control instructions that wait (check pending exceptions) but do not update FIP/FOP/FDP. */
const WAITING_CONTROL: ReadonlySet<string> = new Set(['fldcwMw', 'fldenvMenv', 'frstorMstate']);

function wrap(name: string, h: Handler): Handler {
  if (name === 'wait') {
    return (cpu) => {
      checkWaitDeviceAvailable(cpu);
      checkPending(cpu);
    };
  }
  if (NON_WAITING.has(name)) {
    return (cpu, i) => {
      checkDeviceAvailable(cpu);
      h(cpu, i);
    };
  }
  if (WAITING_CONTROL.has(name)) {
    return (cpu, i) => {
      checkDeviceAvailable(cpu);
      checkPending(cpu);
      h(cpu, i);
    };
  }
  if (KEEPS_C1.test(name)) {
    return (cpu, i) => {
      checkDeviceAvailable(cpu);
      checkPending(cpu);
      h(cpu, i);
      notePointers(cpu, i);
    };
  }
  return (cpu, i) => {
    checkDeviceAvailable(cpu);
    checkPending(cpu);
    const s = cpu.s;
    const sw = s[I_SW];
    s[I_SW] = sw & ~SW_C1;
    try {
      h(cpu, i);
    } catch (e) {
      s[I_SW] = sw; // a memory fault: the instruction never happened
      throw e;
    }
    notePointers(cpu, i);
  };
}

function build(): HandlerMap {
  const out: Record<string, Handler> = {};
  for (const family of [ARITH_HANDLERS, COMPARE_HANDLERS, LOAD_STORE_HANDLERS, SCALE_REM_HANDLERS, TRANSCENDENTAL_HANDLERS, CONTROL_HANDLERS]) {
    for (const [name, h] of Object.entries(family)) {
      if (out[name]) throw new Error(`x87: two handlers for ${name}`);
      out[name] = wrap(name, h);
    }
  }
  return out;
}

/** Every x87 row's handler (and WAIT's), keyed by row name. */
export const X87_HANDLERS: HandlerMap = build();
