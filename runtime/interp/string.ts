/**
 * Interpreter handlers: string family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const STRING_HANDLERS: HandlerMap = {};
