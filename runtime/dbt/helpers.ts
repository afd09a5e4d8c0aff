/**
 * The runtime side of the helper table (translator/abi.ts HELPERS): what compiled code calls
 * when it leaves the inline fast paths. `HelperImpls` is derived from the table, so a helper
 * missing here is a type error.
 *
 * No JS exception may unwind through a compiled region: its registers live in Wasm locals and
 * would be lost. So every helper catches whatever the guest access or handler throws (a
 * GuestFault, a MachineHalt, an internal error), parks it in `DbtPending`, and reports it by its
 * result or DBT_FAULT; the region then stores its state and returns EXIT_PENDING, and the
 * runtime rethrows the parked value from a JS frame.
 */
import {
  DBT_FAULT, EFLAGS, EIP, EXIT_REQUEST, F_TF, INHIBIT_IRQ, MODE, STUB_EXIT, STUB_FAULT, STUB_NEXT,
  WR_CODE, WR_FAULT, WR_OK,
} from '../../translator/abi.ts';
import type { HelperImpls } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { CLASS_OF_ROW } from '../code-cache.ts';
import type { Cpu } from '../cpu.ts';
import { HANDLERS } from '../interp/dispatch.ts';
import { testCC } from '../lazy-flags.ts';

const I_EIP = EIP >> 2;
const I_MODE = MODE >> 2;
const I_FAULT = DBT_FAULT >> 2;
const I_INHIBIT = INHIBIT_IRQ >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_EXIT = EXIT_REQUEST >> 2;

/** Where helpers park a throwable, and what they need to know about the running region. */
export interface DbtPending {
  /** The value a helper caught; rethrown by the runtime after the region returned. */
  pending: unknown;
  /** True once the running region's code was invalidated (a write hit its page). */
  currentDead(): boolean;
  /** Per-class instruction counters (the Vm's classCounts). */
  readonly classCounts: Float64Array;
}

/** The helpers shared by every region (all but `interp`, which needs the region's instructions). */
export type SharedHelpers = Omit<HelperImpls, 'interp'>;

export function makeSharedHelpers(cpu: Cpu, p: DbtPending): SharedHelpers {
  const s = cpu.s;
  const readFault = (e: unknown): number => {
    p.pending = e;
    s[I_FAULT] = 1;
    return 0;
  };
  /**
   * Flat segments skip the limit check inline; the only accesses it can refuse are those that
   * wrap past offset 0xFFFFFFFF, which always arrive here (they cross a page).
   */
  const wrap = (seg: number, lin: number, n: number, write: boolean): void => {
    if (seg >= 0 && lin >>> 0 > 0x100000000 - n) {
      if (write) cpu.linWrite(seg, lin, n);
      else cpu.linRead(seg, lin, n);
    }
  };
  const read = (lin: number, seg: number, n: 1 | 2 | 4): number => {
    try {
      wrap(seg, lin, n, false);
      return n === 1 ? cpu.read8(lin) : n === 2 ? cpu.read16(lin) : cpu.read32(lin);
    } catch (e) {
      return readFault(e);
    }
  };
  const write = (lin: number, v: number, seg: number, n: 1 | 2 | 4): number => {
    const epoch = cpu.codeEpoch;
    try {
      wrap(seg, lin, n, true);
      if (n === 1) cpu.write8(lin, v & 0xff);
      else if (n === 2) cpu.write16(lin, v & 0xffff);
      else cpu.write32(lin, v);
    } catch (e) {
      p.pending = e;
      return WR_FAULT;
    }
    return cpu.codeEpoch !== epoch && p.currentDead() ? WR_CODE : WR_OK;
  };
  return {
    testcc: (cc) => (testCC(s, cc) ? 1 : 0),
    rd8: (lin, seg) => read(lin, seg, 1),
    rd16: (lin, seg) => read(lin, seg, 2),
    rd32: (lin, seg) => read(lin, seg, 4),
    wr8: (lin, v, seg) => write(lin, v, seg, 1),
    wr16: (lin, v, seg) => write(lin, v, seg, 2),
    wr32: (lin, v, seg) => write(lin, v, seg, 4),
    chkw: (lin, n, seg) => {
      try {
        wrap(seg, lin, n, true);
        cpu.checkWrite(lin, n);
        return WR_OK;
      } catch (e) {
        p.pending = e;
        return WR_FAULT;
      }
    },
    linr: (seg, off, n) => { try { return cpu.linRead(seg, off, n); } catch (e) { return readFault(e); } },
    linw: (seg, off, n) => { try { return cpu.linWrite(seg, off, n); } catch (e) { return readFault(e); } },
  };
}

/**
 * The VMM-trap stub and interpreter fallback: runs `insn` with its interpreter handler, exactly
 * as the interpreter tier would (EIP protocol of runtime/interp/exec.ts, statistics, onExit
 * hooks inside the handlers). The region has stored its state and EIP before the call.
 */
export function runInsn(cpu: Cpu, p: DbtPending, insn: Insn): number {
  const s = cpu.s;
  const code32 = (s[I_MODE] & 1) !== 0;
  const next = code32 ? (insn.eip + insn.len) | 0 : (insn.eip + insn.len) & 0xffff;
  const mode = s[I_MODE];
  const epoch = cpu.codeEpoch;
  cpu.next = next;
  try {
    HANDLERS[insn.row](cpu, insn);
  } catch (e) {
    p.pending = e;
    return STUB_FAULT;
  }
  s[I_EIP] = cpu.next;
  p.classCounts[CLASS_OF_ROW[insn.row]]++;
  cpu.icount++;
  if (cpu.next !== next || s[I_MODE] !== mode || cpu.codeEpoch !== epoch || cpu.halted ||
    s[I_INHIBIT] !== 0 || (s[I_EFLAGS] & F_TF) !== 0 || s[I_EXIT] !== 0) {
    return STUB_EXIT;
  }
  return STUB_NEXT;
}
