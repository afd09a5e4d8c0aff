/**
 * The IOPL-sensitive flag instructions (SDM vol. 2, PUSHF, POPF, CLI, STI; vol. 3, 20.2.7 for
 * virtual-8086 mode without VME): PUSHF and POPF are sensitive but never trap in protected mode,
 * so POPF must silently keep IF when CPL > IOPL and IOPL when CPL > 0; CLI and STI fault with
 * #GP(0) when CPL > IOPL. In virtual-8086 mode all four are #GP(0) unless IOPL = 3.
 *
 * STI opens a one-instruction interrupt shadow when it changes IF from 0 to 1, and asks the run
 * loop to look for a pending interrupt after that instruction (EXIT_REQUEST). The shadow only
 * matters when an interrupt is pending (translator/abi.ts IRQ_WAITING): otherwise none can
 * arrive before the next instruction ends (a device access by that instruction sets
 * EXIT_REQUEST itself), so STI then only sets IF.
 */
import { EFLAGS, EX_GP, EXIT_REQUEST, F_IF, F_IOPL, F_POPF, F_RF, F_VM, INHIBIT_IRQ, IRQ_WAITING, R_ESP, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { fault } from '../fault.ts';
import { peek, push } from '../insn/operands.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { iopl, isProtected, isV86, readEflags, writeEflags } from './eflags.ts';
import { INHIBIT_STI } from './segments.ts';

const I_EFLAGS = EFLAGS >> 2;


/** #GP(0) in virtual-8086 mode unless IOPL = 3 (no VME). */
function checkV86Iopl(cpu: Cpu): void {
  if (isV86(cpu) && iopl(cpu) < 3) fault(EX_GP, 0);
}

/** PUSHF/PUSHFD: the image has VM and RF clear. */
const pushf: Handler = (cpu, i) => {
  checkV86Iopl(cpu);
  const f = readEflags(cpu) & ~(F_VM | F_RF);
  push(cpu, i.o32 ? SZ32 : SZ16, i.o32 ? f : f & 0xffff);
};

/**
 * POPF/POPFD: which flags the popped value may change depends on the mode, CPL and IOPL (SDM
 * POPF operation table); RF is cleared, VM/VIF/VIP are kept.
 */
const popf: Handler = (cpu, i) => {
  checkV86Iopl(cpu);
  const sz = i.o32 ? SZ32 : SZ16;
  const v = peek(cpu, sz, 0);
  let mask = F_POPF;
  if (isProtected(cpu)) {
    // (Virtual-8086 mode only gets here with IOPL 3, where CPL 3 <= IOPL.)
    if (cpu.cpl > 0 || isV86(cpu)) mask &= ~F_IOPL;
    if (cpu.cpl > iopl(cpu)) mask &= ~F_IF;
  }
  if (!i.o32) mask &= 0xffff;
  const old = readEflags(cpu);
  const s = cpu.s;
  if (cpu.stack32) s[R_ESP] = (s[R_ESP] + (i.o32 ? 4 : 2)) | 0;
  else cpu.u16[R_ESP << 1] = (cpu.u16[R_ESP << 1] + (i.o32 ? 4 : 2)) & 0xffff;
  writeEflags(cpu, ((old & ~mask) | (v & mask)) & ~F_RF);
};

/** CLI: #GP(0) when CPL > IOPL in protected mode (or IOPL < 3 in virtual-8086 mode). */
const cli: Handler = (cpu) => {
  if (isProtected(cpu) && cpu.cpl > iopl(cpu)) fault(EX_GP, 0);
  cpu.s[I_EFLAGS] &= ~F_IF;
};

/** STI: as CLI; setting IF from 0 opens the interrupt shadow for the next instruction. */
const sti: Handler = (cpu) => {
  if (isProtected(cpu) && cpu.cpl > iopl(cpu)) fault(EX_GP, 0);
  const s = cpu.s;
  if (!(s[I_EFLAGS] & F_IF)) {
    s[I_EFLAGS] |= F_IF;
    if (s[IRQ_WAITING >> 2] !== 0 || s[EXIT_REQUEST >> 2] !== 0) {
      s[INHIBIT_IRQ >> 2] = INHIBIT_STI;
      s[EXIT_REQUEST >> 2] = 1;
    }
  }
};

/** Handlers of PUSHF, POPF, CLI, STI, by row name. */
export const FLAGS_HANDLERS: HandlerMap = { pushf, popf, cli, sti };
