/**
 * The console escape layer between the user's terminal and the guest's serial port, with QEMU's
 * keys: Ctrl-A x quits, Ctrl-A h prints help, Ctrl-A a sends a literal Ctrl-A, Ctrl-A s saves a
 * snapshot of the machine (QEMU's "save"), and ours: Ctrl-A i prints statistics. Everything
 * else (Ctrl-C included) goes to the guest unchanged.
 */

export const CTRL_A = 0x01;

export type EscapeAction = 'quit' | 'help' | 'stats' | 'snapshot';

export const ESCAPE_HELP = [
  'C-a h    print this help',
  'C-a x    exit the emulator',
  'C-a s    save a snapshot of the machine (continue it with --restore FILE)',
  'C-a i    print execution statistics',
  'C-a a    send C-a to the guest',
].join('\r\n');

/** A tiny state machine: feed it terminal bytes, get guest bytes and actions. */
export class EscapeFilter {
  private pending = false;

  /** Splits `input` into bytes for the guest and escape actions, in order. */
  feed(input: Uint8Array, toGuest: (bytes: Uint8Array) => void, onAction: (a: EscapeAction) => void): void {
    let start = 0;
    for (let k = 0; k < input.length; k++) {
      const b = input[k];
      if (this.pending) {
        this.pending = false;
        start = k + 1;
        switch (b) {
          case 0x78: case 0x58: onAction('quit'); break; // x
          case 0x68: case 0x48: case 0x3f: onAction('help'); break; // h, ?
          case 0x73: case 0x53: onAction('snapshot'); break; // s
          case 0x69: case 0x49: onAction('stats'); break; // i
          case 0x61: case CTRL_A: toGuest(Uint8Array.of(CTRL_A)); break; // a
          default: break; // unknown escapes are swallowed, as in QEMU
        }
      } else if (b === CTRL_A) {
        if (k > start) toGuest(input.subarray(start, k));
        this.pending = true;
        start = k + 1;
      }
    }
    if (!this.pending && start < input.length) toGuest(input.subarray(start));
  }
}
