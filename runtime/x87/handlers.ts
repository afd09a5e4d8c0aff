/**
 * Interpreter handlers: the x87 FPU.
 */
import type { HandlerMap } from '../interp/types.ts';

export const X87_HANDLERS: HandlerMap = {};
