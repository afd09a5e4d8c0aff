/**
 * Table rows: the x87 FPU (escape opcodes D8..DF, and WAIT). Filled in by the x87 work.
 */
import type { RowSpec } from './types.ts';

export const X87_ROWS: readonly RowSpec[] = [];
