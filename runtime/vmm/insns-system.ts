/**
 * VMM handlers: control and debug registers, MSRs, CPUID, RDTSC/RDPMC, cache and TLB control,
 * HLT, and port I/O (IN/OUT/INS/OUTS with IOPL and the TSS I/O permission bitmap).
 */
import type { HandlerMap } from '../interp/types.ts';

export const SYSTEM_MISC_HANDLERS: HandlerMap = {};
