/**
 * The simulated clock. It starts at the real time and then stands still:
 * only the control API moves it. Every date the simulator hands out (message
 * dates, until_date checks, the 48-hour delete window, invite link expiry)
 * reads this clock, so tests can cross those boundaries without waiting.
 *
 * Wall-clock concerns (long-poll timeouts, rate limits, webhook retries) do
 * not use it: they concern the real process talking to the simulator.
 */
/**
 * The last instant a JavaScript Date can hold (13 September 275760). The
 * clock never goes past it, in either direction, so every date it gives
 * stays a date that can be printed and compared.
 */
export const LATEST_MS = 8.64e15;

/** Whether the clock can stand at `ms`: a finite time within a Date's range. */
export function isClockTime(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= LATEST_MS;
}

export interface SimClock {
  /** Current simulated Unix time in whole seconds. */
  now(): number;
  /** Current simulated time in milliseconds. */
  nowMs(): number;
  advance(seconds: number): void;
  set(ms: number): void;
}

export function createClock(startMs: number = Date.now()): SimClock {
  let current = startMs;
  return {
    now: () => Math.floor(current / 1000),
    nowMs: () => current,
    advance(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) {
        throw new RangeError("the simulated clock only moves forward");
      }
      const target = current + seconds * 1000;
      if (!isClockTime(target))
        throw new RangeError(`the simulated clock can't move to ${target} ms`);
      current = target;
    },
    set(ms) {
      if (!isClockTime(ms)) throw new RangeError(`the simulated clock can't stand at ${ms} ms`);
      current = ms;
    },
  };
}
