/**
 * Interpreter handlers: bit family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const BIT_HANDLERS: HandlerMap = {};
