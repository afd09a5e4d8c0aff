/**
 * Execution traces, after QEMU's `-d` items (the CLI takes `-d in_asm,out_asm,exec,int,exits` and
 * `-D FILE`; the library takes the same items and a line sink):
 *
 *   in_asm   the guest disassembly of each block the translator compiles (per region)
 *   out_asm  the WebAssembly (text form) the translator emits for each region
 *   exec     each block run: by the interpreter, or entered in translated code (blocks chained
 *            inside a region are not seen; `--accel interp` shows every block)
 *   int      each interrupt and exception delivered (vector, kind, error code, CS:EIP), nested
 *            ones included
 *   exits    each VMM exit, with the reason its table row declares and CS:EIP
 *   post     each POST code written to port 0x80 (a BIOS's progress; Linux's I/O delays too)
 *
 * Off by default, and then free: every point that traces tests one field that is null (the Vm
 * installs its plain hooks), and the translator asks for the text form only when out_asm is on.
 */
export const TRACE_ITEMS = ['in_asm', 'out_asm', 'exec', 'int', 'exits', 'post'] as const;
export type TraceItem = (typeof TRACE_ITEMS)[number];

/** What to trace, and where each line goes. */
export interface TraceOptions {
  readonly items: readonly TraceItem[];
  /** Receives each line (without a newline). */
  readonly write: (line: string) => void;
}

/** Parses a `-d` list such as `in_asm,exits`; throws an Error naming an unknown item. */
export function parseTraceItems(list: string): TraceItem[] {
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const it of items) {
    if (!(TRACE_ITEMS as readonly string[]).includes(it)) throw new Error(`unknown trace item '${it}' (known: ${TRACE_ITEMS.join(', ')})`);
  }
  return items as TraceItem[];
}

/** Throws a TypeError naming the problem if `t` is not valid TraceOptions (`who` prefixes the message). */
export function checkTrace(who: string, t: TraceOptions): void {
  if (typeof t !== 'object' || t === null || !Array.isArray(t.items) || typeof t.write !== 'function') {
    throw new TypeError(`${who}: \`trace\` must be { items: [...], write(line) }`);
  }
  for (const it of t.items) {
    if (!(TRACE_ITEMS as readonly string[]).includes(it)) throw new TypeError(`${who}: unknown trace item '${String(it)}' (known: ${TRACE_ITEMS.join(', ')})`);
  }
}

const hex = (v: number, w = 8): string => (v >>> 0).toString(16).padStart(w, '0');

/** The enabled items as flags, and the line formats shared by every trace point. */
export class Tracer {
  readonly inAsm: boolean;
  readonly outAsm: boolean;
  readonly exec: boolean;
  readonly int: boolean;
  readonly exits: boolean;
  readonly post: boolean;
  private readonly write: (line: string) => void;

  constructor(opts: TraceOptions) {
    const on = new Set(opts.items);
    this.inAsm = on.has('in_asm');
    this.outAsm = on.has('out_asm');
    this.exec = on.has('exec');
    this.int = on.has('int');
    this.exits = on.has('exits');
    this.post = on.has('post');
    this.write = opts.write;
  }

  line(text: string): void {
    this.write(text);
  }

  /** `post`: a POST code written to port 0x80. */
  postCode(code: number): void {
    this.write(`post 0x${hex(code, 2)}`);
  }

  /** `exec`: a block at CS:EIP (physical address), run by `how`. */
  execBlock(cs: number, eip: number, phys: number, how: 'interp' | 'dbt'): void {
    this.write(`exec ${how} ${hex(cs, 4)}:${hex(eip)} phys ${hex(phys)}`);
  }

  /** `int`: an event delivered. */
  event(kind: string, vector: number, errorCode: number, cs: number, eip: number, cr2: number): void {
    const err = errorCode >= 0 ? ` err=${hex(errorCode, 4)}` : '';
    const pf = vector === 14 && kind === 'exception' ? ` cr2=${hex(cr2)}` : '';
    this.write(`int ${kind} vector 0x${hex(vector, 2)}${err} at ${hex(cs, 4)}:${hex(eip)}${pf}`);
  }

  /** `exits`: a VMM exit. */
  exit(reason: string, cs: number, eip: number): void {
    this.write(`exit ${reason} at ${hex(cs, 4)}:${hex(eip)}`);
  }
}
