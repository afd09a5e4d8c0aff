/**
 * Row-specific generation (hooks for gen.ts): what the generic operand-driven generator cannot
 * know. Stack users get a stack pointer inside the stack window; string instructions get
 * pointers, counts and data that end REPE/REPNE loops at chosen elements; division gets
 * dividends whose quotients fit (and some that do not); branches through registers or memory get
 * stub addresses; segment loads get selectors from sets whose results are the same on the host
 * and in the mirror GDT; shifts refine which flags are undefined for the count they use.
 *
 * Undefined results handled here (SDM vol. 2, per instruction):
 * - shifts and rotates: OF is undefined unless the masked count is 1, AF unless it is 0; SHL/SHR
 *   leave CF undefined when the count is at least the operand width;
 * - SHLD/SHRD with a 16-bit operand and a count above 16: result and flags undefined;
 * - PUSH of a segment register with a 32-bit operand: the upper word written is
 *   implementation-specific (Intel writes 16 bits, others zero-extend);
 * - LAR with a 32-bit operand: bits 19:16 of the result;
 * - PUSHA/POPA faulting part-way: the part the host commits before the fault.
 * Implementation-specific orders avoided (no case is generated): POP Sreg with a 32-bit operand
 * whose upper word alone lies on a not-present page (Intel reads only the selector's word), and
 * BOUND whose upper bound alone does (Intel checks the lower bound before reading the upper).
 */
import {
  F_AF, F_CF, F_OF, F_PF, F_SF, F_ZF, R_EAX, R_EBP, R_EBX, R_ECX, R_EDI, R_EDX, R_ESI, R_ESP,
} from '../../translator/abi.ts';
import { ROW_INVALID, ROW_TOO_LONG, TABLE } from '../../translator/isa/table.ts';
import type { Row } from '../../translator/isa/types.ts';
import type { CaseBuilder, Hook } from './gen.ts';
import { BAD_SELECTORS, DATA_SELECTORS_ANY_CPL, GenReject, KERNEL_SELECTORS } from './gen.ts';
import { DATA16, DATA32, STACK, windowOf } from './layout.ts';

const ARITH = F_OF | F_SF | F_ZF | F_AF | F_PF | F_CF;
const F_DF = 0x400;

// ------------------------------------------------------------------------------ selectors
/** A selector for a DS/ES/FS/GS load: mostly loadable, sometimes not. */
function dataSelector(b: CaseBuilder): number {
  const rng = b.rng;
  const k = rng.below(100);
  if (k < 70) return rng.pick(DATA_SELECTORS_ANY_CPL);
  if (k < 85 || b.ctx.setup.cpl === 0) return rng.pick(BAD_SELECTORS);
  return rng.pick(KERNEL_SELECTORS);
}

/** A selector for an SS load (CPL 3 only): RPL = DPL = 3 writable data, or a reason to fault. */
function stackSelector(b: CaseBuilder): number {
  return b.rng.chance(0.6) ? 0x2b : b.rng.pick([0x28, 0x29, 0x2a, 0x23, 0x33, 0, 0x08, 0x10, 0x80, 0x04]);
}

/** A selector for LAR/LSL/VERR/VERW: every GDT slot whose host descriptor is fixed and mirrored. */
function probeSelector(b: CaseBuilder): number {
  const base = b.rng.pick([0, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x50, 0x80, 0xfff8]);
  return base === 0 ? 0 : base | b.rng.below(4) | (b.rng.chance(0.1) ? 4 : 0);
}

/** Writes a selector into the r/m operand (register low word or memory word). */
function setRmWord(b: CaseBuilder, v: number): void {
  b.fixedOperands.add('Ew');
  b.fixedOperands.add('Ev');
  if (b.form.rm === 'reg') b.setRegPart(b.rmReg!, 16, v);
  else b.poke(b.memAddr, v, 2);
}

// ------------------------------------------------------------------------------ shifts
const SHIFT_RE = /^(rol|ror|rcl|rcr|shl|shr|sal|sar)(Eb|Ev)(Ib|1|CL)$/;

function shiftHook(row: Row): Hook {
  const [, op, dst, src] = SHIFT_RE.exec(row.name)!;
  const rotate = op === 'rol' || op === 'ror' || op === 'rcl' || op === 'rcr';
  return {
    prepare(b) {
      if (src === 'Ib') b.imms[0] = b.rng.shiftCount();
    },
    finish(b) {
      const count = src === 'Ib' ? b.imms[0]! : src === 'CL' ? b.regs[R_ECX] & 0xff : 1;
      const masked = count & 0x1f;
      const width = dst === 'Eb' ? 8 : b.osz;
      let ignore = 0;
      if (rotate) ignore = masked > 1 ? F_OF : 0;
      else {
        if (masked === 1) ignore = F_AF;
        else if (masked > 1) ignore = F_AF | F_OF;
        if ((op === 'shl' || op === 'sal' || op === 'shr') && masked >= width) ignore |= F_CF;
      }
      b.flagsIgnore = ignore;
    },
  };
}

function doubleShiftHook(row: Row): Hook {
  const imm = row.name.endsWith('Ib');
  return {
    prepare(b) {
      if (imm) b.imms[0] = b.rng.shiftCount();
    },
    finish(b) {
      const count = (imm ? b.imms[0]! : b.regs[R_ECX]) & 0x1f;
      if (count === 0) b.flagsIgnore = 0;
      else if (b.osz === 16 && count > 16) {
        b.flagsIgnore = ARITH;
        if (b.form.rm === 'reg') b.ignoreReg(b.rmReg!, 0xffff);
        else b.memIgnore.push({ addr: b.memAddr, len: 2 });
        b.note(`count ${count} > 16: result undefined`);
      } else b.flagsIgnore = count === 1 ? F_AF : F_AF | F_OF;
    },
  };
}

// ------------------------------------------------------------------------------ arithmetic
/** Value of the r/m operand (register part or poked memory) of width `bits`. */
function rmValue(b: CaseBuilder, bits: number): number {
  if (b.form.rm === 'reg') return b.regPart(b.rmReg!, bits);
  return b.peek(b.memAddr, bits / 8) ?? 0;
}

function divHook(row: Row): Hook {
  const signed = row.name.startsWith('idiv');
  const byte = row.name.endsWith('Eb');
  return {
    finish(b) {
      const bits = byte ? 8 : b.osz;
      if (b.pinned[R_EAX] || (!byte && b.pinned[R_EDX])) return; // the address uses them
      if (b.form.rm === 'reg' && (b.rmReg === R_EAX || (!byte && b.rmReg === R_EDX) || (byte && b.rmReg === 4))) return;
      if (!b.rng.chance(0.75)) return; // keep random dividends: mostly #DE
      const rng = b.rng;
      const mod = 1n << BigInt(bits);
      let d = BigInt(rmValue(b, bits));
      if (d === 0n) return;
      let q = BigInt(rng.u32()) % mod;
      if (signed) {
        if (d >= mod / 2n) d -= mod;
        q -= mod / 2n;
      }
      const ad = d < 0n ? -d : d;
      let r = BigInt(rng.u32()) % ad;
      if (signed && q * d < 0n) r = -r;
      let dividend = q * d + r;
      const full = 1n << BigInt(2 * bits);
      if (dividend < 0n) dividend += full;
      if (byte) b.setRegPart(R_EAX, 16, Number(dividend & 0xffffn));
      else {
        b.setRegPart(R_EAX, bits, Number(dividend & (mod - 1n)));
        b.setRegPart(R_EDX, bits, Number(dividend >> BigInt(bits)));
      }
    },
  };
}

function cmpxchgHook(row: Row): Hook {
  const byte = row.name.endsWith('EbGb');
  return {
    finish(b) {
      if (!b.rng.chance(0.5)) return;
      const bits = byte ? 8 : b.osz;
      const dest = rmValue(b, bits);
      if (!b.pinned[R_EAX] || b.form.rm === 'reg') b.setRegPart(R_EAX, bits, dest);
      else b.poke(b.memAddr, b.regPart(R_EAX, bits), bits / 8);
    },
  };
}

const cmpxchg8bHook: Hook = {
  finish(b) {
    if (!b.rng.chance(0.5)) return;
    if (b.pinned[R_EAX] || b.pinned[R_EDX]) {
      b.poke(b.memAddr, b.regs[R_EAX], 4);
      b.poke(b.memAddr + 4, b.regs[R_EDX], 4);
    } else {
      b.setReg(R_EAX, b.peek(b.memAddr, 4)!);
      b.setReg(R_EDX, b.peek(b.memAddr + 4, 4)!);
    }
  },
};

const asciiAdjustHook: Hook = {
  prepare(b) {
    const k = b.rng.below(10);
    b.imms[0] = k < 5 ? 10 : k < 6 ? 0 : b.rng.edge(8);
  },
};

function btHook(row: Row): Hook {
  const regOffset = row.name.endsWith('EvGv');
  return {
    prepare(b) {
      if (!regOffset || b.form.rm !== 'mem') return;
      // A register bit offset reaches beyond the operand: keep it within +-256 bits.
      b.reg = b.rng.below(8);
      const off = b.rng.chance(0.3) ? b.rng.pick([0, 1, 15, 16, 31, 32, 33, -1, -16, -17, -32, -33, 255, -256]) : b.rng.range(-256, 255);
      b.setRegPart(b.reg, b.osz, off);
      b.fixedOperands.add('Gv');
      b.memBefore = 40;
      b.memAfter = 40;
    },
  };
}

const boundHook: Hook = {
  finish(b) {
    const bits = b.osz;
    const n = bits / 8;
    const mod = 2 ** bits;
    const sx = (v: number): number => (v >= mod / 2 ? v - mod : v);
    const rng = b.rng;
    let lo = sx(rng.edge(bits));
    let hi = sx(rng.edge(bits));
    if (lo > hi && rng.chance(0.8)) [lo, hi] = [hi, lo];
    if (b.isPinned(b.reg!, bits)) {
      // The index register is part of the address: place the bounds around it instead.
      const idx = sx(b.regPart(b.reg!, bits));
      if (rng.chance(0.6)) {
        lo = Math.max(-mod / 2, idx - rng.below(100));
        hi = Math.min(mod / 2 - 1, idx + rng.below(100));
      }
    } else {
      const idx = rng.chance(0.6) && lo <= hi ? lo + Math.floor(rng.u32() / 0x1_0000_0000 * (hi - lo + 1)) : sx(rng.edge(bits));
      b.setRegPart(b.reg!, bits, idx);
    }
    if (b.pageFaultCase && windowOf(b.memAddr, n) && !windowOf(b.memAddr + n, n)) throw new GenReject('bound read order');
    b.poke(b.memAddr, lo, n);
    b.poke(b.memAddr + n, hi, n);
  },
};

// ------------------------------------------------------------------------------ moves
const xlatHook: Hook = {
  prepare(b) {
    const w = b.asz === 16 ? DATA16 : DATA32;
    const t = b.addrIn(w, 1, 256, 8);
    const al = b.rng.below(256);
    b.setRegPart(R_EAX, 8, al);
    if (b.asz === 16) b.setRegPart(R_EBX, 16, (t - al) & 0xffff);
    else b.setReg(R_EBX, t - al);
    b.memAddr = t;
    b.memSize = 1;
  },
};

const noAccessHook: Hook = {
  prepare(b) {
    b.memNoAccess = true;
  },
};

const movEwSwHook: Hook = {
  prepare(b) {
    b.reg = b.rng.chance(0.92) ? b.rng.below(6) : b.rng.range(6, 7);
  },
};

const movSwEwHook: Hook = {
  prepare(b) {
    const rng = b.rng;
    const k = rng.below(100);
    if (k < 5) b.reg = 1; // CS: #UD
    else if (k < 10) b.reg = rng.range(6, 7); // no such register: #UD
    else if (k < 25 && b.ctx.setup.cpl === 3) b.reg = 2;
    else b.reg = rng.pick([0, 3, 4, 5]);
  },
  finish(b) {
    setRmWord(b, b.reg === 2 ? stackSelector(b) : dataSelector(b));
  },
};

function farPointerHook(row: Row): Hook {
  const ss = row.name === 'lssGvMp';
  return {
    finish(b) {
      const n = b.osz / 8;
      b.poke(b.memAddr, b.rng.edge(b.osz), n);
      b.poke(b.memAddr + n, ss ? stackSelector(b) : dataSelector(b), 2);
    },
  };
}

const xchgZveAXHook: Hook = {
  prepare(b) {
    b.reg = b.rng.range(1, 7); // 90 is NOP
  },
};

// ------------------------------------------------------------------------------ stack
const stackHook: Hook = {
  prepare(b) {
    b.useStack();
  },
};

/**
 * ENTER: a frame pointer in the stack window, any size and nesting level. The host write-probes
 * the bottom of the new frame (ESP - size) before it finishes, an implementation-specific access:
 * the stack and the whole frame stay inside the mapped window.
 */
const enterHook: Hook = {
  prepare(b) {
    const rng = b.rng;
    b.useStack(true);
    let bp = STACK.addr + 0x1000 + rng.range(0, 0x400);
    if (rng.chance(0.8)) bp &= ~3;
    b.setReg(R_EBP, bp);
    b.imms[0] = rng.chance(0.7) ? rng.pick([0, 2, 4, 8, 0x10, 0x100]) : rng.range(0, 0x800);
    b.imms[1] = rng.chance(0.7) ? rng.pick([0, 1, 2, 3, 4, 7, 31, 32, 33]) : rng.below(256);
  },
};

const leaveHook: Hook = {
  prepare(b) {
    b.useStack();
    let bp = STACK.addr + 0x1000 + b.rng.range(-0x100, 0x100);
    if (b.rng.chance(0.8)) bp &= ~3;
    b.setReg(R_EBP, bp);
  },
};

/**
 * PUSHA/POPA that fault part-way (stack across the end of a mapped page): the host commits the
 * accesses before the faulting one (PUSHA's stores, POPA's register loads), an implementation
 * choice; the architectural fault model leaves everything unchanged. Those parts are ignored.
 */
function pushaPopaHook(pop: boolean): Hook {
  return {
    prepare(b) {
      b.useStack();
    },
    finish(b) {
      if (!b.pageFaultCase) return;
      const n = b.osz / 8;
      if (pop) {
        for (let r = 0; r < 8; r++) if (r !== R_ESP) b.ignoreReg(r, b.osz === 32 ? -1 : 0xffff);
      } else {
        b.memIgnore.push({ addr: b.regs[R_ESP] - 8 * n, len: 8 * n });
      }
      b.note(`a ${pop ? 'POPA' : 'PUSHA'} that faults part-way commits part of its work on some processors`);
    },
  };
}

const popfHook: Hook = {
  prepare(b) {
    b.useStack();
  },
  finish(b) {
    // TF would trap after the next instruction and AC would make the stub's accesses check
    // alignment: keep both clear.
    b.poke(b.regs[R_ESP], b.rng.u32() & ~0x40100, b.osz / 8);
  },
};

const pushSegHook: Hook = {
  prepare(b) {
    b.useStack();
  },
  finish(b) {
    if (b.osz === 32) {
      b.memIgnore.push({ addr: b.regs[R_ESP] - 2, len: 2 });
      b.note('upper word of a 32-bit segment push is implementation-specific');
    }
  },
};

function popSegHook(row: Row): Hook {
  const ss = row.name === 'popSS';
  return {
    prepare(b) {
      b.useStack();
      const left = STACK.addr + STACK.size - b.regs[R_ESP]; // bytes mapped from ESP up
      if (b.osz === 32 && (left === 2 || left === 3)) throw new GenReject('pop Sreg read width');
    },
    finish(b) {
      const sel = ss ? stackSelector(b) : dataSelector(b);
      b.poke(b.regs[R_ESP], b.osz === 32 ? ((b.rng.u32() & 0xffff0000) | sel) >>> 0 : sel, b.osz / 8);
    },
  };
}

// ------------------------------------------------------------------------------ control
function indirectHook(call: boolean): Hook {
  return {
    prepare(b) {
      if (call) b.useStack();
      if (b.form.rm === 'reg' && call) {
        let r = b.rng.below(8);
        while (r === R_ESP) r = b.rng.below(8);
        b.rmReg = r;
      }
    },
    finish(b) {
      const target = b.randomTarget(b.osz);
      b.fixedOperands.add('Ev');
      if (b.form.rm === 'reg') b.setRegPart(b.rmReg!, b.osz, target);
      else b.poke(b.memAddr, target, b.osz / 8);
    },
  };
}

const retHook: Hook = {
  prepare(b) {
    b.useStack();
    if (b.row.name === 'retIw') b.imms[0] = b.rng.chance(0.6) ? b.rng.pick([0, 2, 4, 8, 12]) : b.rng.edge(16);
  },
  finish(b) {
    b.poke(b.regs[R_ESP], b.randomTarget(b.osz), b.osz / 8);
  },
};

const countHook: Hook = {
  prepare(b) {
    const v = b.rng.chance(0.8) ? b.rng.pick([0, 1, 2, 3, 0x10000, 0x10001, 0xffff, 0xffffffff, 0x80000000]) : b.rng.u32();
    b.setReg(R_ECX, v);
  },
};

/**
 * A code selector for a far transfer at CPL 3: mostly the host's 32-bit user code segment (RPL 3
 * or 0), sometimes one that must fault (null, data, kernel code, beyond the GDT, LDT). Never
 * 0x33, the host's 64-bit code segment.
 */
function codeSelector(b: CaseBuilder): number {
  return b.rng.chance(0.75) ? b.rng.pick([0x23, 0x23, 0x20]) : b.rng.pick([0, 0x2b, 0x08, 0x0b, 0x10, 0x80, 0x24, 0x38]);
}

/** Far JMP/CALL: a direct pointer (Ap) or one in memory (Mp) to a stub in a code window. */
function farHook(row: Row): Hook {
  const call = row.name.startsWith('call');
  const direct = row.name.endsWith('Ap');
  return {
    prepare(b) {
      if (call) b.useStack();
      if (direct) {
        b.imms[0] = b.randomTarget(b.osz);
        b.imms[1] = codeSelector(b);
      }
    },
    finish(b) {
      if (!direct) {
        const n = b.osz / 8;
        b.poke(b.memAddr, b.randomTarget(b.osz), n);
        b.poke(b.memAddr + n, codeSelector(b), 2);
      }
      if (call && b.osz === 32) {
        b.memIgnore.push({ addr: b.regs[R_ESP] - 2, len: 2 });
        b.note('upper word of the CS pushed by a 32-bit far call is implementation-specific');
      }
    },
  };
}

/**
 * RETF (and RETF Iw): the return pointer on the stack. The host probes beyond the popped slots
 * (the outer-level SS:ESP at ESP + 8 + Iw, and CS before EIP), an implementation-specific access
 * order: the stack and the Iw-adjusted stack stay well inside the mapped window.
 */
const retfHook: Hook = {
  prepare(b) {
    b.useStack(true);
    if (b.row.name === 'retfIw') b.imms[0] = b.rng.chance(0.6) ? b.rng.pick([0, 2, 4, 8]) : b.rng.range(0, 0x800);
  },
  finish(b) {
    const n = b.osz / 8;
    const sp = b.regs[R_ESP];
    b.poke(sp, b.randomTarget(b.osz), n);
    b.poke(sp + n, n === 4 ? ((b.rng.u32() & 0xffff0000) | codeSelector(b)) >>> 0 : codeSelector(b), n);
  },
};

/**
 * IRET at CPL 3: EIP, CS and EFLAGS on the stack; NT clear (no task return). The stack stays
 * inside the window, as for RETF (the host pops EFLAGS first).
 */
const iretHook: Hook = {
  prepare(b) {
    b.useStack(true);
    b.eflags &= ~0x4000;
  },
  finish(b) {
    const n = b.osz / 8;
    const sp = b.regs[R_ESP];
    b.poke(sp, b.randomTarget(b.osz), n);
    b.poke(sp + n, n === 4 ? ((b.rng.u32() & 0xffff0000) | codeSelector(b)) >>> 0 : codeSelector(b), n);
    // TF would trap after the stub and AC would check alignment: keep both clear.
    b.poke(sp + 2 * n, b.rng.u32() & ~0x40100, n);
  },
};

// ------------------------------------------------------------------------------ strings
const STRING_RE = /^(movs|cmps|stos|lods|scas)(b|v)$/;

function stringHook(row: Row): Hook {
  const [, op, sz] = STRING_RE.exec(row.name)!;
  const src = op === 'movs' || op === 'cmps' || op === 'lods';
  const dst = op !== 'lods';
  return {
    prepare(b) {
      const rng = b.rng;
      const elem = sz === 'b' ? 1 : b.osz / 8;
      const rep = b.rep !== 0;
      const n = rep ? (rng.chance(0.7) ? rng.pick([0, 1, 2, 3, 4, 5, 8, 16, 31]) : rng.range(0, 64)) : 1;
      if (rep) {
        if (b.asz === 16) b.setRegPart(R_ECX, 16, n);
        else b.setReg(R_ECX, n);
      }
      const span = Math.max(n, 1) * elem;
      const down = (b.eflags & F_DF) !== 0;
      const pick = (): number => {
        const w = b.asz === 16 ? DATA16 : rng.chance(0.75) ? DATA32 : STACK;
        return b.addrIn(w, elem, span + 40, span + 40);
      };
      const setPtr = (r: number, a: number): void => {
        if (b.asz === 16) b.setRegPart(r, 16, a & 0xffff);
        else b.setReg(r, a);
      };
      const si = pick();
      let di = pick();
      if (op === 'movs' && rng.chance(0.2)) di = si + rng.range(-8, 8) * elem; // overlapping copy
      if (src) setPtr(R_ESI, si);
      if (dst) setPtr(R_EDI, di);
      if (op !== 'cmps' && op !== 'scas') return;
      // Data that ends a REPE/REPNE loop at element k (or runs to the count).
      const repne = b.rep === 0xf2;
      const k = rng.range(0, n);
      const at = (base: number, i: number): number => base + (down ? -i : i) * elem;
      const bits = elem * 8;
      const acc = rng.edge(bits);
      if (op === 'scas') {
        b.setRegPart(R_EAX, bits, acc);
        b.fixedOperands.add('AL');
        b.fixedOperands.add('eAX');
      }
      for (let i = 0; i < Math.max(n, 1); i++) {
        const equal = repne ? i === k : i < k;
        const a = rng.edge(bits);
        if (op === 'scas') {
          const v = equal || rng.chance(0.05) ? acc : a === acc ? (a ^ 1) : a;
          b.poke(at(di, i), v, elem);
        } else {
          b.poke(at(si, i), a, elem);
          b.poke(at(di, i), equal ? a : a ^ (rng.chance(0.5) ? 1 : rng.edge(bits) | 1), elem);
        }
      }
    },
  };
}

// ------------------------------------------------------------------------------ system
function controlRegHook(debug: boolean): Hook {
  return {
    prepare(b) {
      b.reg = debug ? b.rng.pick([0, 1, 2, 3, 6, 7]) : b.rng.pick([0, 2, 3, 4]);
    },
  };
}

const probeHook: Hook = {
  finish(b) {
    setRmWord(b, probeSelector(b));
    // LAR: bits 19:16 of a 32-bit result are undefined (SDM: masked with 00FxFF00H).
    if (b.row.name === 'larGvEw' && b.osz === 32) b.ignoreReg(b.reg!, 0xf0000);
  },
};

/** Encodings that are #UD on the host and decode to the `invalid` row here. */
const UD_ENCODINGS: readonly (readonly number[])[] = [
  [0xf0, 0x90], // LOCK on a non-lockable instruction
  [0xf0, 0x01, 0xc0], // LOCK with a register destination
  [0xf0, 0x8b, 0x03],
  [0xf0, 0x0f, 0xa3, 0x03], // LOCK BT (only BTS/BTR/BTC lock)
  [0xfe, 0xd0], [0xfe, 0x18], [0xfe, 0xe0], [0xfe, 0x38], // FE /2../7
  [0xff, 0xf8], [0xff, 0x38], // FF /7
  [0xff, 0xd8], [0xff, 0xe8], // far CALL/JMP with a register operand
  [0x8d, 0xc0], // LEA with a register operand
  [0x0f, 0xc7, 0xc8], // CMPXCHG8B with a register operand
  [0x0f, 0xba, 0x08], [0x0f, 0xba, 0xd8], // 0F BA /0../3
  [0x0f, 0x00, 0x30], [0x0f, 0x00, 0xf8], // 0F 00 /6, /7
  [0x0f, 0xb9, 0xc0], [0x0f, 0x04], [0x0f, 0x0a], // UD1, reserved
  [0xc6, 0x08], [0xc6, 0xd0], [0xc7, 0x10], [0xc7, 0xe8], // C6/C7 /1../6
];

const invalidHook: Hook = {
  expectRow: ROW_INVALID,
  bytes(b) {
    return Uint8Array.from(b.rng.pick(UD_ENCODINGS));
  },
};

const tooLongHook: Hook = {
  expectRow: ROW_TOO_LONG,
  bytes(b) {
    const rng = b.rng;
    const n = rng.range(15, 17);
    const pad = Array.from({ length: n }, () => rng.pick([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0xf3]));
    return Uint8Array.from([...pad, ...rng.pick([[0x90], [0x01, 0xd8], [0x8b, 0x00]])]);
  },
};

// ------------------------------------------------------------------------------ lookup
/** The hook for `row`, if it needs one. */
export function hookFor(row: Row): Hook | undefined {
  return HOOKS[row.id];
}

function makeHook(row: Row): Hook | undefined {
  const n = row.name;
  if (SHIFT_RE.test(n)) return shiftHook(row);
  if (/^sh[lr]dEvGv(Ib|CL)$/.test(n)) return doubleShiftHook(row);
  if (/^i?div(Eb|Ev)$/.test(n)) return divHook(row);
  if (/^cmpxchg(EbGb|EvGv)$/.test(n)) return cmpxchgHook(row);
  if (/^bt[src]?Ev(Gv|Ib)$/.test(n)) return btHook(row);
  if (STRING_RE.test(n)) return stringHook(row);
  if (/^(push|pop)(ES|CS|SS|DS|FS|GS)$/.test(n)) return n.startsWith('push') ? pushSegHook : popSegHook(row);
  if (/^l[defgs]sGvMp$/.test(n) || n === 'lesGvMp') return farPointerHook(row);
  if (/^hintnop/.test(n)) return noAccessHook;
  if (/^(loop|loope|loopne|jcxz)Jb$/.test(n)) return countHook;
  switch (n) {
    case 'cmpxchg8bMq': return cmpxchg8bHook;
    case 'aamIb': case 'aadIb': return asciiAdjustHook;
    case 'boundGvMa': return boundHook;
    case 'xlat': return xlatHook;
    case 'leaGvM': case 'nopEv': case 'invlpgM': return noAccessHook;
    case 'movEwSw': return movEwSwHook;
    case 'movSwEw': return movSwEwHook;
    case 'xchgZveAX': return xchgZveAXHook;
    case 'pushZv': case 'popZv': case 'pushIz': case 'pushIbs': case 'pushEv': case 'popEv':
    case 'pushf': case 'callJz':
      return stackHook;
    case 'pusha': return pushaPopaHook(false);
    case 'popa': return pushaPopaHook(true);
    case 'popf': return popfHook;
    case 'enterIwIb': return enterHook;
    case 'leave': return leaveHook;
    case 'callEv': return indirectHook(true);
    case 'jmpEv': return indirectHook(false);
    case 'ret': case 'retIw': return retHook;
    case 'jmpAp': case 'callAp': case 'jmpMp': case 'callMp': return farHook(row);
    case 'retf': case 'retfIw': return retfHook;
    case 'iret': return iretHook;
    case 'movRdCd': case 'movCdRd': return controlRegHook(false);
    case 'movRdDd': case 'movDdRd': return controlRegHook(true);
    case 'larGvEw': case 'lslGvEw': case 'verrEw': case 'verwEw': return probeHook;
    case 'invalid': return invalidHook;
    case 'tooLong': return tooLongHook;
  }
  return undefined;
}

/** Hooks by row id, built once (hooks are stateless). */
const HOOKS: readonly (Hook | undefined)[] = TABLE.map(makeHook);
