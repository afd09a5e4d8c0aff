/**
 * The emitter contract: an emitter appends the Wasm statements of one guest instruction to the
 * current segment (`c.emit`). It performs every access that may fault before it changes a
 * register or flag local (see context.ts), and a control-transfer emitter ends the segment with
 * `c.retire(true)` followed by gotos on every path. Emitters exist only for innocuous and
 * control rows; every other row runs through the interp helper (region.ts).
 */
import type { Insn } from '../decoder/insn.ts';
import type { EmitCtx } from './context.ts';

export type Emitter = (c: EmitCtx, i: Insn) => void;

/** A family's emitters, keyed by table row name (the interpreter's handler names). */
export type EmitterMap = Readonly<Record<string, Emitter>>;
