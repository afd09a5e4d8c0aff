/**
 * The interpreter's handler type. Every table row maps to exactly one handler (dispatch.ts).
 * A handler executes one decoded instruction against the CPU: it sets `cpu.next` if it
 * transfers control, and throws GuestFault (leaving state untouched) if it faults.
 */
import type { Insn } from '../../translator/decoder/insn.ts';
import type { Cpu } from '../cpu.ts';

export type Handler = (cpu: Cpu, i: Insn) => void;

/** A family's handlers, keyed by table row name. */
export type HandlerMap = Readonly<Record<string, Handler>>;
