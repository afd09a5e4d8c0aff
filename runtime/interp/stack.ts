/**
 * Interpreter handlers: stack family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const STACK_HANDLERS: HandlerMap = {};
