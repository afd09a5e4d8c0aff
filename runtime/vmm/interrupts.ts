/**
 * Exception and interrupt delivery (SDM vol. 3, chapter 6). Real-mode delivery through the IVT
 * is implemented here; protected-mode delivery through the IDT is being built in the VMM work.
 */
import { EIP, SEG_CS, R_ESP, F_IF, F_TF, F_AC, F_RF, EFLAGS } from '../../translator/abi.ts';
import type { Cpu } from '../cpu.ts';
import { MachineHalt, NO_ERROR_CODE } from '../fault.ts';
import type { GuestFault } from '../fault.ts';
import { getEflags, materializeFlags } from '../lazy-flags.ts';

/** Delivers a fault raised by the instruction at EIP (state is as before the instruction). */
export function deliverException(cpu: Cpu, f: GuestFault): void {
  deliver(cpu, f.vector, f.errorCode, cpu.eip);
}

/** Delivers an external (hardware) interrupt between instructions. */
export function deliverInterrupt(cpu: Cpu, vector: number): void {
  deliver(cpu, vector, NO_ERROR_CODE, cpu.eip);
}

function deliver(cpu: Cpu, vector: number, _errorCode: number, returnEip: number): void {
  if (cpu.cr0 & 1) throw new MachineHalt('triple-fault', `protected-mode delivery of vector ${vector} is not implemented yet`);
  const s = cpu.s;
  materializeFlags(s);
  const flags = getEflags(s);
  const push16 = (v: number): void => {
    const sp = (cpu.u16[R_ESP << 1] - 2) & 0xffff;
    cpu.write16((cpu.segBase(2) + sp) | 0, v);
    cpu.u16[R_ESP << 1] = sp;
  };
  const ip = cpu.read16(vector * 4);
  const cs = cpu.read16(vector * 4 + 2);
  push16(flags & 0xffff);
  push16(cpu.segSel(SEG_CS));
  push16(returnEip & 0xffff);
  s[EFLAGS >> 2] = flags & ~(F_IF | F_TF | F_AC | F_RF);
  cpu.setSegment(SEG_CS, cs, cs << 4, cpu.segLimit(SEG_CS), cpu.segFlags(SEG_CS));
  s[EIP >> 2] = ip;
}
