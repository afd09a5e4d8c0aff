/**
 * VMM handlers: segment-register loads and stores, far control transfers, software interrupts,
 * IRET, flag-register moves (PUSHF/POPF, CLI/STI), descriptor-table instructions and descriptor
 * probes (LAR/LSL/VERR/VERW), SYSENTER/SYSEXIT.
 */
import type { HandlerMap } from '../interp/types.ts';

export const PROTECTED_HANDLERS: HandlerMap = {};
