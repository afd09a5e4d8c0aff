/**
 * The machine's time base: nanoseconds since the machine was created, read by every timed
 * device (PIT, RTC, port 0x61's refresh toggle) so they all agree on "now".
 *
 * HostClock follows the host's monotonic clock (performance.now()), so the guest sees real time
 * pass whether the CPU runs fast or slow — the same clock the TSC uses (vmm/msr.ts), which keeps
 * Linux's TSC-against-PIT calibration consistent. ManualClock only moves when told to; tests use
 * it to step devices deterministically.
 */

/** A monotonic time source. */
export interface Clock {
  /** Nanoseconds since the clock's origin (a non-negative double; integral for ManualClock). */
  now(): number;
}

/**
 * Real time from the host's monotonic clock, reading `startNs` at construction (0 for a new
 * machine; a restored snapshot's time, so the machine's clock goes on from there).
 */
export class HostClock implements Clock {
  private readonly originMs: number;

  constructor(startNs = 0) {
    this.originMs = performance.now() - startNs / 1e6;
  }

  now(): number {
    return (performance.now() - this.originMs) * 1e6;
  }
}

/** A clock that advances only through `advance` / `set` (tests, deterministic replays). */
export class ManualClock implements Clock {
  private t: number;

  constructor(startNs = 0) {
    this.t = startNs;
  }

  now(): number {
    return this.t;
  }

  /** Moves time forward by `ns` nanoseconds. */
  advance(ns: number): void {
    if (!(ns >= 0)) throw new RangeError(`ManualClock.advance: time cannot go backwards (${ns})`);
    this.t += ns;
  }

  /** Sets the absolute time (not earlier than the current time). */
  set(ns: number): void {
    if (!(ns >= this.t)) throw new RangeError(`ManualClock.set: time cannot go backwards (${ns} < ${this.t})`);
    this.t = ns;
  }
}
