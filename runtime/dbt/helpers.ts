/**
 * The runtime side of the helper table (translator/abi.ts HELPERS): what compiled code calls
 * when it leaves the inline fast paths. `HelperImpls` is derived from the table, so a helper
 * missing here is a type error.
 *
 * Faults: a helper lets the guest fault (or any other throwable) propagate into the region, whose
 * catch_all stores the registers and lazy flags held in Wasm locals. Since catch_all cannot see
 * the thrown value, the helper first records it and the index of the instruction it was called
 * for in `DbtPending`; the runtime then sets EIP to that instruction and rethrows the value from
 * a JS frame.
 */
import {
  EFLAGS, EIP, EXIT_REQUEST, F_RF, F_TF, INHIBIT_IRQ, MODE, SCRATCH, STUB_EXIT, STUB_JUMP, STUB_NEXT, WR_CODE, WR_OK,
} from '../../translator/abi.ts';
import type { HelperImpls } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import { CLASS_OF_ROW } from '../../translator/isa/table.ts';
import type { Cpu } from '../cpu.ts';
import { HANDLERS } from '../dispatch.ts';
import { materializeFlags, testCC } from '../lazy-flags.ts';
import { portIn, portOut, rdtscValue } from '../vmm/insns-system.ts';
import { verifySegment } from '../vmm/descriptor-insns.ts';
import { loadSegment } from '../vmm/segments.ts';

const I_EIP = EIP >> 2;
const I_MODE = MODE >> 2;
const I_INHIBIT = INHIBIT_IRQ >> 2;
const I_EFLAGS = EFLAGS >> 2;
const I_EXIT = EXIT_REQUEST >> 2;
const I_SCRATCH = SCRATCH >> 2;
const TWO32 = 2 ** 32;

/** Where helpers record a throwable, and what they need to know about the running region. */
export interface DbtPending {
  /** The value a helper threw into the region; rethrown by the runtime after the region returned. */
  pending: unknown;
  /** Region index of the instruction the throwing helper was called for. */
  faultK: number;
  /** True once the running region's code was invalidated (a write hit its page). */
  currentDead(): boolean;
  /** Per-class instruction counters (the Vm's classCounts). */
  readonly classCounts: Float64Array;
  /** Instructions completed by the interp helper (compiled code subtracts them from its inline count). */
  stubRuns: number;
  /** The pending throwable came from the interp helper (the VMM's handler ran and counted its exit). */
  stubFault: boolean;
}

/** The helpers shared by every region (all but `interp`, which needs the region's instructions). */
export type SharedHelpers = Omit<HelperImpls, 'interp'>;

export function makeSharedHelpers(cpu: Cpu, p: DbtPending): SharedHelpers {
  const s = cpu.s;
  const fail = (e: unknown, k: number): never => {
    p.pending = e;
    p.faultK = k;
    p.stubFault = false;
    throw e;
  };
  /**
   * Flat segments skip the limit check inline; the only accesses it can refuse are those that
   * wrap past offset 0xFFFFFFFF, which always take a slow path (they cross a page).
   */
  const wrap = (seg: number, lin: number, n: number, write: boolean): void => {
    if (seg >= 0 && lin >>> 0 > 0x100000000 - n) {
      if (write) cpu.linWrite(seg, lin, n);
      else cpu.linRead(seg, lin, n);
    }
  };
  const read = (lin: number, segk: number, n: 1 | 2 | 4): number => {
    try {
      wrap((segk & 7) - 1, lin, n, false);
      return n === 1 ? cpu.read8(lin) : n === 2 ? cpu.read16(lin) : cpu.read32(lin);
    } catch (e) {
      return fail(e, segk >>> 3);
    }
  };
  const write = (lin: number, v: number, segk: number, n: 1 | 2 | 4): number => {
    const epoch = cpu.codeEpoch;
    try {
      wrap((segk & 7) - 1, lin, n, true);
      if (n === 1) cpu.write8(lin, v & 0xff);
      else if (n === 2) cpu.write16(lin, v & 0xffff);
      else cpu.write32(lin, v);
    } catch (e) {
      return fail(e, segk >>> 3);
    }
    return cpu.codeEpoch !== epoch && p.currentDead() ? WR_CODE : WR_OK;
  };
  return {
    testcc: (cc) => (testCC(s, cc) ? 1 : 0),
    flags: () => {
      materializeFlags(s);
      return s[I_EFLAGS];
    },
    rd8: (lin, segk) => read(lin, segk, 1),
    rd16: (lin, segk) => read(lin, segk, 2),
    rd32: (lin, segk) => read(lin, segk, 4),
    wr8: (lin, v, segk) => write(lin, v, segk, 1),
    wr16: (lin, v, segk) => write(lin, v, segk, 2),
    wr32: (lin, v, segk) => write(lin, v, segk, 4),
    chkw: (lin, n, segk) => {
      try {
        wrap((segk & 7) - 1, lin, n, true);
        cpu.checkWrite(lin, n);
        return WR_OK;
      } catch (e) {
        return fail(e, segk >>> 3);
      }
    },
    linr: (seg, off, kn) => {
      try {
        return cpu.linRead(seg, off, kn & 15);
      } catch (e) {
        return fail(e, kn >>> 4);
      }
    },
    linw: (seg, off, kn) => {
      try {
        return cpu.linWrite(seg, off, kn & 15);
      } catch (e) {
        return fail(e, kn >>> 4);
      }
    },
    ldseg: (segk, sel) => {
      const mode = s[I_MODE];
      try {
        loadSegment(cpu, segk & 7, sel);
      } catch (e) {
        return fail(e, segk >>> 3);
      }
      return s[I_MODE] !== mode ? 1 : 0;
    },
    io: (info, port, value) => {
      const size = (info & 7) as 1 | 2 | 4;
      const epoch = cpu.codeEpoch;
      let v = 0;
      try {
        if (info & 8) portOut(cpu, port & 0xffff, size, value);
        else v = portIn(cpu, port & 0xffff, size);
      } catch (e) {
        return fail(e, info >>> 4);
      }
      if (cpu.codeEpoch !== epoch && p.currentDead()) s[I_EXIT] = 1;
      return v;
    },
    verify: (write, sel) => (verifySegment(cpu, sel & 0xffff, write !== 0) ? 1 : 0),
    rdtsc: (k) => {
      let t: number;
      try {
        t = rdtscValue(cpu);
      } catch (e) {
        return fail(e, k);
      }
      s[I_SCRATCH] = Math.floor(t / TWO32) | 0;
      return (t % TWO32) | 0;
    },
  };
}

/**
 * The VMM-trap stub and interpreter fallback: runs instruction `k` (`insn`) with its interpreter
 * handler, exactly as the interpreter tier would (EIP protocol of runtime/interp/exec.ts,
 * statistics, onExit hooks inside the handlers). The region has stored its state and EIP before
 * the call.
 */
export function runInsn(cpu: Cpu, p: DbtPending, insn: Insn, k: number): number {
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
    p.faultK = k;
    p.stubFault = true;
    throw e;
  }
  s[I_EIP] = cpu.next;
  p.classCounts[CLASS_OF_ROW[insn.row]]++;
  p.stubRuns++;
  cpu.icount++;
  // Back to the run loop on invalidated code, HLT, an interrupt shadow, single-stepping or RF,
  // or a request (an IF change that makes an interrupt deliverable requests one:
  // translator/abi.ts IRQ_WAITING). A transfer or a mode change ends the region's own path,
  // but compiled code may go on into the next region (STUB_JUMP).
  if (cpu.codeEpoch !== epoch || cpu.halted || s[I_INHIBIT] !== 0 || (s[I_EFLAGS] & (F_TF | F_RF)) !== 0 || s[I_EXIT] !== 0) {
    return STUB_EXIT;
  }
  return cpu.next !== next || s[I_MODE] !== mode ? STUB_JUMP : STUB_NEXT;
}
