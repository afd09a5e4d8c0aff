/**
 * Interpreter handlers: the general-register stack instructions (SDM vol. 2: PUSH, POP,
 * PUSHA/PUSHAD, POPA/POPAD, ENTER, LEAVE). PUSHF/POPF and segment-register pushes and pops are
 * the VMM's.
 *
 * Invariants:
 * - The stack-pointer width follows SS.B (`cpu.stack32`: ESP, else SP with the upper half of ESP
 *   untouched); the width of the values pushed follows the operand size.
 * - Every memory access that may fault happens before ESP or any other register changes, so a
 *   fault leaves the registers as they were (memory below ESP may already be written, which is
 *   invisible to the program).
 * - PUSH ESP pushes the value before the push; POP ESP loads the popped value; POP Ev with an
 *   ESP-based address computes the address after the increment (SDM "POP").
 */
import { R_EBP, R_ESP, SEG_SS, SZ16, SZ32 } from '../../translator/abi.ts';
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';
import { adjustSp, getReg, getSp, immOf, peek, pop, push, readE, readMem, setReg, setSp, writeE, writeMem } from '../insn/operands.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { vsize } from '../../translator/decoder/insn.ts';

/** `sp - delta` wrapped to the stack width. */
function spMinus(cpu: Cpu, sp: number, delta: number): number {
  return cpu.stack32 ? (sp - delta) | 0 : (sp - delta) & 0xffff;
}

function popEv(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const v = peek(cpu, sz, 0);
  if (i.mod === 3) {
    adjustSp(cpu, n);
    setReg(cpu, sz, i.rm, v);
    return;
  }
  const old = cpu.s[R_ESP];
  adjustSp(cpu, n);
  try {
    writeE(cpu, i, sz, v);
  } catch (e) {
    cpu.s[R_ESP] = old; // the store faulted: the pop did not happen
    throw e;
  }
}

/** PUSHA: EAX ECX EDX EBX (original) ESP EBP ESI EDI, all slots checked before any write. */
function pusha(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const sp = getSp(cpu);
  for (let k = 1; k <= 8; k++) {
    const lin = cpu.linWrite(SEG_SS, spMinus(cpu, sp, k * n), n);
    cpu.checkWrite(lin, n);
  }
  for (let r = 0; r < 8; r++) {
    const lin = cpu.linWrite(SEG_SS, spMinus(cpu, sp, (r + 1) * n), n);
    writeMem(cpu, sz, lin, getReg(cpu, sz, r)); // r = ESP reads the original value
  }
  setSp(cpu, spMinus(cpu, sp, 8 * n));
}

/**
 * POPA: the reverse of PUSHA. All reads happen first, in stack order; the stored ESP slot is
 * read too (the processor does, so a fault there is reported with its address) but discarded.
 */
function popa(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const edi = peek(cpu, sz, 0);
  const esi = peek(cpu, sz, n);
  const ebp = peek(cpu, sz, 2 * n);
  peek(cpu, sz, 3 * n);
  const ebx = peek(cpu, sz, 4 * n);
  const edx = peek(cpu, sz, 5 * n);
  const ecx = peek(cpu, sz, 6 * n);
  const eax = peek(cpu, sz, 7 * n);
  setReg(cpu, sz, 7, edi);
  setReg(cpu, sz, 6, esi);
  setReg(cpu, sz, 5, ebp);
  setReg(cpu, sz, 3, ebx);
  setReg(cpu, sz, 2, edx);
  setReg(cpu, sz, 1, ecx);
  setReg(cpu, sz, 0, eax);
  adjustSp(cpu, 8 * n);
}

/**
 * ENTER imm16, imm8 (SDM "ENTER"): push (E)BP, copy level-1 frame pointers from the enclosing
 * frame, push the new frame pointer, then allocate. The frame-pointer register is written at
 * the operand size (as hardware does for a 16-bit ENTER on a 32-bit stack); the nesting reads
 * address SS:(E)BP at the stack width. Registers are committed only after every access.
 */
function enter(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const alloc = i.imm & 0xffff;
  const level = i.imm2 & 0x1f;
  const s = cpu.s;
  let sp = spMinus(cpu, getSp(cpu), n);
  writeMem(cpu, sz, cpu.linWrite(SEG_SS, sp, n), getReg(cpu, sz, R_EBP));
  const frame = sp;
  if (level > 0) {
    let bp = cpu.stack32 ? s[R_EBP] : cpu.u16[R_EBP << 1];
    for (let k = 1; k < level; k++) {
      bp = spMinus(cpu, bp, n);
      const v = readMem(cpu, sz, cpu.linRead(SEG_SS, bp, n));
      sp = spMinus(cpu, sp, n);
      writeMem(cpu, sz, cpu.linWrite(SEG_SS, sp, n), v);
    }
    sp = spMinus(cpu, sp, n);
    writeMem(cpu, sz, cpu.linWrite(SEG_SS, sp, n), frame);
  }
  setReg(cpu, sz, R_EBP, sz === SZ16 ? frame & 0xffff : frame);
  setSp(cpu, spMinus(cpu, sp, alloc));
}

/** LEAVE: (E)SP = (E)BP at the stack width, then pop (E)BP at the operand size. */
function leave(cpu: Cpu, i: Insn): void {
  const sz = vsize(i);
  const n = sz === SZ32 ? 4 : 2;
  const sp = cpu.stack32 ? cpu.s[R_EBP] : cpu.u16[R_EBP << 1];
  const v = readMem(cpu, sz, cpu.linRead(SEG_SS, sp, n));
  setSp(cpu, cpu.stack32 ? (sp + n) | 0 : (sp + n) & 0xffff);
  setReg(cpu, sz, R_EBP, v);
}

export const STACK_HANDLERS: HandlerMap = {
  pushZv: (cpu, i) => { const sz = vsize(i); push(cpu, sz, getReg(cpu, sz, i.reg)); },
  popZv: (cpu, i) => { const sz = vsize(i); setReg(cpu, sz, i.reg, pop(cpu, sz)); },
  pushIz: (cpu, i) => { const sz = vsize(i); push(cpu, sz, immOf(i, sz)); },
  pushIbs: (cpu, i) => { const sz = vsize(i); push(cpu, sz, immOf(i, sz)); },
  pushEv: (cpu, i) => { const sz = vsize(i); push(cpu, sz, readE(cpu, i, sz)); },
  popEv,
  pusha,
  popa,
  enterIwIb: enter,
  leave,
};
