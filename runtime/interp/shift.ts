/**
 * Interpreter handlers: shift family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const SHIFT_HANDLERS: HandlerMap = {};
