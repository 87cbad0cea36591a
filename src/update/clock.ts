/**
 * Time for the update cycle, behind a seam so that tests run it with a fake clock:
 * the wall clock, timers, and a timer for a wall-clock time that notices when the
 * clock jumps (an NTP step, a suspend and resume). Platform timers count elapsed
 * time, not the wall clock, so a timer armed for 14:00 fires late when the machine
 * slept or the clock was stepped forward; a WallTimer wakes at least once a minute,
 * reads the wall clock, and fires when its time has come.
 *
 * @module
 */

/** The time and timers. */
export interface Clock {
  /** Milliseconds since the epoch (the wall clock). */
  now(): number;
  /** Calls fn once after ms (elapsed time). */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of setTimeout; undefined is fine. */
  clearTimeout(handle: unknown): void;
}

/** The system's clock and timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number | undefined),
};

/** Longest a WallTimer sleeps before it reads the wall clock again. */
export const WALL_CHECK_MS = 60_000;

/** A timer for a wall-clock time. */
export class WallTimer {
  #clock: Clock;
  #handle: unknown;
  #at: number | undefined;

  /** @param clock the clock it reads and sleeps on */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The wall-clock time it fires at (ms), or undefined when not armed. */
  get at(): number | undefined {
    return this.#at;
  }

  /** Calls fn once, at the first wake at or after the wall-clock time at (ms); replaces an armed time. */
  arm(at: number, fn: () => void): void {
    this.clear();
    this.#at = at;
    const wake = () => {
      this.#handle = undefined;
      const left = at - this.#clock.now();
      if (left <= 0) {
        this.#at = undefined;
        fn();
        return;
      }
      this.#handle = this.#clock.setTimeout(wake, Math.min(left, WALL_CHECK_MS));
    };
    wake();
  }

  /** Disarms it. */
  clear(): void {
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#at = undefined;
  }
}
