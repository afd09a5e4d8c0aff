/**
 * Interpreter handlers: move family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const MOVE_HANDLERS: HandlerMap = {};
