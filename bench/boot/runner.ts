/**
 * The boot benchmark's runner contract: one runner per engine or peer (our translator, our
 * interpreter, v86, QEMU), each booting the same kernel + initramfs + command line and timing
 * how long the guest takes to print its marker line (the shell is about to start).
 *
 * Invariants every runner keeps, so the numbers compare:
 * - the clock starts before the runner does any per-boot work (spawning QEMU, constructing the
 *   v86 instance, `Machine.create`) and stops when the marker is seen on the serial console;
 * - after the marker (or a failure) the guest is torn down completely before `run` resolves, so
 *   the next runner does not share the CPU with it;
 * - `run` never rejects: failures come back as `ok: false` with a one-line reason.
 */

/** The guest every runner boots. */
export interface BootGuest {
  kernelPath: string;
  initrdPath: string;
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: string;
  /** The console line that marks "shell prompt reached". */
  marker: string;
  /** Guest RAM in bytes (the same for every runner). */
  memory: number;
}

/** One boot by one runner. */
export interface BootResult {
  name: string;
  /** Wall-clock seconds from the start of the boot to the marker; null if it never came. */
  secondsToPrompt: number | null;
  ok: boolean;
  /** Failure reason, or notes (setup time, instruction counts). */
  detail: string;
  /** Host CPU seconds (user + system) the boot consumed, when the runner can tell. */
  cpuSeconds?: number;
  /** Seconds of that boot spent before the guest's first instruction (wasm load, machine build). */
  setupSeconds?: number;
}

/** Per-run settings from the command line. */
export interface RunContext {
  timeoutMs: number;
  /** Receives the guest console as it arrives (for --verbose). */
  onConsole?: (text: string) => void;
}

/** Whether a runner can run on this host, and if not, what to do about it. */
export type Availability = { ok: true; version: string } | { ok: false; reason: string };

/** An engine or peer that can boot the guest. */
export interface Runner {
  /** Short name for `--only` and the JSON output ("dbt", "interp", "v86", "qemu"). */
  name: string;
  /** What it is, for the table ("wasmvisor translator"). */
  label: string;
  /** Checks prerequisites once; never throws. */
  probe(): Promise<Availability>;
  /** Boots the guest once; never rejects. */
  run(guest: BootGuest, ctx: RunContext): Promise<BootResult>;
}

/** How much console output a watch keeps for failure messages. */
const TAIL_CHARS = 4096;

/**
 * Watches a console stream for the marker. Text is fed in arbitrary chunks (a marker may be
 * split across them); only a bounded tail is kept.
 */
export class MarkerWatch {
  private text = '';
  private found = false;

  constructor(private readonly marker: string) {}

  /** Adds console text; returns true the first time the marker is complete. */
  feed(chunk: string): boolean {
    if (this.found) return false;
    const from = Math.max(0, this.text.length - this.marker.length + 1);
    this.text += chunk;
    if (this.text.indexOf(this.marker, from) >= 0) this.found = true;
    if (this.text.length > 2 * TAIL_CHARS) this.text = this.text.slice(-TAIL_CHARS);
    return this.found;
  }

  /** The last non-empty console line, cleaned of escape sequences, for a failure message. */
  lastLine(): string {
    return lastConsoleLine(this.text);
  }
}

/** The last non-empty line of console text, without ANSI escapes or control characters. */
export function lastConsoleLine(text: string): string {
  const ESC = String.fromCharCode(27);
  const ansi = new RegExp(`${ESC}(\\[[0-9;?]*[ -/]*[@-~]|[@-~])`, 'g');
  const lines = text
    .replace(ansi, '')
    .split(/\r?\n|\r/)
    .map((l) => Array.from(l).filter((c) => c >= ' ' && c !== '\x7f').join('').trim())
    .filter((l) => l.length > 0);
  const last = lines.length ? lines[lines.length - 1] : '';
  return last.length > 160 ? last.slice(0, 157) + '...' : last;
}

/** Seconds since `t0` (a performance.now() value). */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Host CPU seconds (user + system) of this process since `before` (a process.cpuUsage()). */
export function cpuSecondsSince(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1e6;
}

/** A failed result with a reason and, when there is one, the console's last line. */
export function failure(name: string, reason: string, lastLine = '', extra: Partial<BootResult> = {}): BootResult {
  return { name, secondsToPrompt: null, ok: false, detail: lastLine ? `${reason}; last console line: "${lastLine}"` : reason, ...extra };
}
