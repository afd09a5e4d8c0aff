/**
 * Interpreter handlers for system, sensitive, privileged and I/O rows: the VMM's emulation of
 * every instruction that must not run as plain code (design.md §2), plus the synthetic rows for
 * undefined encodings.
 */
import { EX_GP, EX_UD } from '../../translator/abi.ts';
import { fault } from '../fault.ts';
import type { HandlerMap } from '../insn/handler.ts';
import { PROTECTED_HANDLERS } from './insns-protected.ts';
import { SYSTEM_MISC_HANDLERS } from './insns-system.ts';

export const SYSTEM_HANDLERS: HandlerMap = {
  ...PROTECTED_HANDLERS,
  ...SYSTEM_MISC_HANDLERS,
  invalid: () => fault(EX_UD),
  ud2: () => fault(EX_UD),
  tooLong: () => fault(EX_GP, 0),
};
