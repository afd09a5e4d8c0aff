/**
 * Recognises a Linux kernel panic on the serial console: the fallback for kernels that do not
 * drive the pvpanic device (no ACPI, the driver not loaded yet — a panic before /init, such as
 * "VFS: Unable to mount root fs" — or not built). panic() prints
 *
 *   Kernel panic - not syncing: <reason>
 *   ... (stack trace, notifiers, kmsg dump)
 *   ---[ end Kernel panic - not syncing: <reason> ]---
 *
 * at KERN_EMERG, so the lines reach a serial console even with `quiet`. The watch reports the
 * first line (the panic has begun) and the last (its report is complete). A guest program that
 * prints such a line at the start of a line is taken for a panic too; the pvpanic device is the
 * exact signal, this is the documented heuristic.
 */

const BEGIN = /(?:^|\n)(?:\[[ \d.]+\] )?Kernel panic - not syncing: ?([^\r\n]*)\r?\n/;
const END = /---\[ end Kernel panic - not syncing/;
/** Console text kept to match lines split across output chunks. */
const TAIL = 4096;

/** What a PanicWatch remembers (a snapshot saves it). */
export interface PanicWatchState {
  text: string;
  reason: string | null;
  ended: boolean;
}

export class PanicWatch {
  private text = '';
  /** The panic's reason once its first line was seen, else null. */
  reason: string | null = null;
  /** The end line was seen. */
  ended = false;

  get state(): PanicWatchState {
    return { text: this.text, reason: this.reason, ended: this.ended };
  }

  set state(st: PanicWatchState) {
    this.text = st.text;
    this.reason = st.reason;
    this.ended = st.ended;
  }

  /** Feeds console output. */
  feed(bytes: Uint8Array): void {
    if (this.ended) return;
    this.text += Buffer.from(bytes).toString('latin1');
    if (this.reason === null) {
      const m = BEGIN.exec(this.text);
      if (m) {
        this.reason = m[1].trim();
        this.text = this.text.slice(m.index + m[0].length);
      }
    }
    if (this.reason !== null && END.test(this.text)) this.ended = true;
    if (this.text.length > 2 * TAIL) this.text = this.text.slice(-TAIL);
  }
}
