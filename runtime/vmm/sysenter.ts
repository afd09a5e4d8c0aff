/**
 * SYSENTER and SYSEXIT (SDM vol. 2, SYSENTER/SYSEXIT; vol. 3, 5.8.7): fast system calls to and
 * from CPL 0 with flat segments derived from IA32_SYSENTER_CS (kept in state MSR_SYSENTER_CS,
 * _ESP, _EIP; written by WRMSR in insns-system.ts). The segment caches are loaded with fixed
 * values, not from the GDT, exactly as the processor does: CS = SYSENTER_CS (DPL 0),
 * SS = CS + 8 on entry; CS = SYSENTER_CS + 16, SS = + 24 (RPL 3) on exit. Translated code
 * runs the common cases itself (translator/emit/vmm.ts).
 */
import {
  CR, EX_GP, F_IF, F_RF, F_VM, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, R_ECX,
  R_EDX, R_ESP, SEG_CS, SEG_SS, SEGF_DPL_SHIFT, SEGF_FLAT_CODE, SEGF_FLAT_DATA,
} from '../../translator/abi.ts';
import type { Handler, HandlerMap } from '../insn/handler.ts';
import { fault } from '../fault.ts';
import { readEflags, writeEflags } from './eflags.ts';

const FLAT_CODE = SEGF_FLAT_CODE;
const FLAT_DATA = SEGF_FLAT_DATA;
const DPL3 = 3 << SEGF_DPL_SHIFT;

const sysenter: Handler = (cpu) => {
  const s = cpu.s;
  const cs = s[MSR_SYSENTER_CS >> 2] & 0xffff;
  if (!(s[CR >> 2] & 1) || (cs & 0xfffc) === 0) fault(EX_GP, 0);
  writeEflags(cpu, readEflags(cpu) & ~(F_VM | F_IF | F_RF));
  cpu.setSegment(SEG_CS, cs & 0xfffc, 0, -1, FLAT_CODE, false);
  cpu.setSegment(SEG_SS, (cs + 8) & 0xfffc, 0, -1, FLAT_DATA, false);
  cpu.setCpl(0);
  s[R_ESP] = s[MSR_SYSENTER_ESP >> 2];
  cpu.next = s[MSR_SYSENTER_EIP >> 2];
};

const sysexit: Handler = (cpu) => {
  const s = cpu.s;
  const cs = s[MSR_SYSENTER_CS >> 2] & 0xffff;
  if (!(s[CR >> 2] & 1) || (cs & 0xfffc) === 0 || cpu.cpl !== 0 || readEflags(cpu) & F_VM) fault(EX_GP, 0);
  cpu.setSegment(SEG_CS, ((cs + 16) & 0xfffc) | 3, 0, -1, FLAT_CODE | DPL3, false);
  cpu.setSegment(SEG_SS, ((cs + 24) & 0xfffc) | 3, 0, -1, FLAT_DATA | DPL3, false);
  cpu.setCpl(3);
  s[R_ESP] = s[R_ECX];
  cpu.next = s[R_EDX];
};

/** Handlers of SYSENTER and SYSEXIT. */
export const SYSENTER_HANDLERS: HandlerMap = { sysenter, sysexit };
