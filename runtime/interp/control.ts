/**
 * Interpreter handlers: control family (see translator/isa/rows-*.ts for the rows).
 */
import type { HandlerMap } from './types.ts';

export const CONTROL_HANDLERS: HandlerMap = {};
