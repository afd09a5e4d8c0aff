/**
 * VMM handlers for the protected-mode architecture: segment-register loads and stores, far
 * control transfers, software interrupts, IRET, flag-register moves (PUSHF/POPF, CLI/STI),
 * descriptor-table instructions and descriptor probes (LAR/LSL/VERR/VERW), SYSENTER/SYSEXIT.
 * Each family lives in its own file; this one only gathers them for dispatch (handlers.ts).
 */
import type { HandlerMap } from '../insn/handler.ts';
import { DESCRIPTOR_HANDLERS } from './descriptor-insns.ts';
import { FAR_TRANSFER_HANDLERS } from './far-transfer.ts';
import { FLAGS_HANDLERS } from './flags-insns.ts';
import { INTERRUPT_HANDLERS } from './interrupts.ts';
import { IRET_HANDLERS } from './iret.ts';
import { SEGMENT_HANDLERS } from './segments.ts';
import { SYSENTER_HANDLERS } from './sysenter.ts';

/** Every protected-mode VMM handler, by row name (merged into dispatch by handlers.ts). */
export const PROTECTED_HANDLERS: HandlerMap = {
  ...SEGMENT_HANDLERS,
  ...FAR_TRANSFER_HANDLERS,
  ...INTERRUPT_HANDLERS,
  ...IRET_HANDLERS,
  ...FLAGS_HANDLERS,
  ...DESCRIPTOR_HANDLERS,
  ...SYSENTER_HANDLERS,
};
