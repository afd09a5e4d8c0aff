/**
 * The in-guest benchmark's console protocol, host side: splitting a serial console stream into
 * lines stamped with the host time at which each line's end arrived, and parsing the lines the
 * bench init and the workload program print (bench/guest/workloads.c, initScript in guest.ts):
 *
 *   @wvb init scale=S only=LIST         the bench init's first line (ends the "boot" interval)
 *   @wvb start NAME n=N                  a workload begins
 *   @wvb end NAME OK|FAIL n=N mono_ns=T real_ns=T result=X [why=TEXT]
 *   @wvb summary ran=K failed=F          the program is done
 *   @wvb exit CODE                       its exit status, right before `poweroff -f`
 *
 * Pure code: no I/O, no clock (times are passed in), so it is unit-tested.
 */

/** The prefix of every line the bench prints in the guest. */
export const LINE_PREFIX = '@wvb ';

/** One console line and the host time (ms, performance.now()) its line feed arrived. */
export interface TimedLine {
  text: string;
  atMs: number;
}

/**
 * Splits console text, fed in arbitrary chunks, into lines. Carriage returns and other control
 * characters are dropped (the guest tty turns "\n" into "\r\n"); a line is complete at "\n".
 */
export class LineSplitter {
  private partial = '';

  /** Adds a chunk that arrived at `atMs`; returns the lines it completed, stamped `atMs`. */
  feed(chunk: string, atMs: number): TimedLine[] {
    const out: TimedLine[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      out.push({ text: clean(this.partial + chunk.slice(from, nl)), atMs });
      this.partial = '';
      from = nl + 1;
    }
    this.partial += chunk.slice(from);
    // A guest that never ends its line must not grow this without bound.
    if (this.partial.length > 65536) this.partial = this.partial.slice(-4096);
    return out;
  }

  /** What has arrived after the last line feed. */
  pending(): string {
    return clean(this.partial);
  }
}

function clean(line: string): string {
  let s = '';
  for (const c of line) if (c >= ' ' && c !== '\x7f') s += c;
  return s;
}

/** A parsed `@wvb` line. */
export type BenchLine =
  | { kind: 'init'; fields: Record<string, string> }
  | { kind: 'start'; workload: string; n: number }
  | {
      kind: 'end';
      workload: string;
      ok: boolean;
      n: number;
      monoNs: number;
      realNs: number;
      result: string;
      why?: string;
    }
  | { kind: 'summary'; ran: number; failed: number }
  | { kind: 'exit'; code: number }
  | { kind: 'error'; text: string };

/** `key=value` words; a `why=` field takes the rest of the line (it contains spaces). */
function fieldsOf(words: string): Record<string, string> {
  const out: Record<string, string> = {};
  const why = words.indexOf(' why=');
  const head = why >= 0 ? words.slice(0, why) : words;
  for (const w of head.split(' ')) {
    const eq = w.indexOf('=');
    if (eq > 0) out[w.slice(0, eq)] = w.slice(eq + 1);
  }
  if (why >= 0) out.why = words.slice(why + 5);
  else if (words.startsWith('why=')) out.why = words.slice(4);
  return out;
}

/**
 * Parses a console line; null for lines that are not the bench's (kernel messages). The prefix
 * may come after other text on the same line (a kernel message interleaved without a newline).
 */
export function parseBenchLine(line: string): BenchLine | null {
  const at = line.indexOf(LINE_PREFIX);
  if (at < 0) return null;
  const rest = line.slice(at + LINE_PREFIX.length).trim();
  const sp = rest.indexOf(' ');
  const kind = sp < 0 ? rest : rest.slice(0, sp);
  const args = sp < 0 ? '' : rest.slice(sp + 1).trim();
  const int = (v: string | undefined): number => (v !== undefined && /^-?\d+$/.test(v) ? Number(v) : NaN);
  switch (kind) {
    case 'init':
      return { kind: 'init', fields: fieldsOf(args) };
    case 'start': {
      const [name, ...more] = args.split(' ');
      if (!name) return null;
      return { kind: 'start', workload: name, n: int(fieldsOf(more.join(' ')).n) };
    }
    case 'end': {
      const [name, status, ...more] = args.split(' ');
      if (!name || (status !== 'OK' && status !== 'FAIL')) return null;
      const f = fieldsOf(more.join(' '));
      return {
        kind: 'end',
        workload: name,
        ok: status === 'OK',
        n: int(f.n),
        monoNs: int(f.mono_ns),
        realNs: int(f.real_ns),
        result: f.result ?? '',
        ...(f.why !== undefined ? { why: f.why } : {}),
      };
    }
    case 'summary': {
      const f = fieldsOf(args);
      return { kind: 'summary', ran: int(f.ran), failed: int(f.failed) };
    }
    case 'exit':
      return { kind: 'exit', code: int(args.split(' ')[0]) };
    case 'error':
      return { kind: 'error', text: args };
    default:
      return null;
  }
}

/** One workload as measured in one run. */
export interface WorkloadRun {
  workload: string;
  /** Iterations (or rounds, for pagefault) the guest ran. */
  n: number;
  ok: boolean;
  why?: string;
  /** Host seconds between the arrival of the start line and of the end line. */
  hostSeconds: number;
  /** The guest's own elapsed CLOCK_MONOTONIC and CLOCK_REALTIME seconds. */
  guestMonoSeconds: number;
  guestRealSeconds: number;
  result: string;
}

/**
 * Turns the timed console lines of one run into measurements. `t0Ms` is when the runner started
 * (so "boot" is t0 to the init line).
 */
export class RunRecorder {
  bootSeconds: number | null = null;
  readonly workloads: WorkloadRun[] = [];
  summary: { ran: number; failed: number } | null = null;
  exitCode: number | null = null;
  errors: string[] = [];
  /** The workload that has started and not ended, with its start time. */
  private open: { workload: string; n: number; atMs: number } | null = null;

  constructor(private readonly t0Ms: number) {}

  /** The workload running now, if any. */
  current(): string | null {
    return this.open?.workload ?? null;
  }

  /** Consumes one line; returns its parse (null for other console lines). */
  line(l: TimedLine): BenchLine | null {
    const b = parseBenchLine(l.text);
    if (!b) return null;
    switch (b.kind) {
      case 'init':
        if (this.bootSeconds === null) this.bootSeconds = (l.atMs - this.t0Ms) / 1000;
        break;
      case 'start':
        this.open = { workload: b.workload, n: b.n, atMs: l.atMs };
        break;
      case 'end':
        if (this.open?.workload === b.workload) {
          this.workloads.push({
            workload: b.workload,
            n: b.n,
            ok: b.ok,
            ...(b.why !== undefined ? { why: b.why } : {}),
            hostSeconds: (l.atMs - this.open.atMs) / 1000,
            guestMonoSeconds: b.monoNs / 1e9,
            guestRealSeconds: b.realNs / 1e9,
            result: b.result,
          });
        } else {
          this.errors.push(`end line for ${b.workload} without its start line`);
        }
        this.open = null;
        break;
      case 'summary':
        this.summary = { ran: b.ran, failed: b.failed };
        break;
      case 'exit':
        this.exitCode = b.code;
        break;
      case 'error':
        this.errors.push(b.text);
        break;
    }
    return b;
  }
}
