/**
 * Interpreter handlers: muldiv family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const MULDIV_HANDLERS: HandlerMap = {};
