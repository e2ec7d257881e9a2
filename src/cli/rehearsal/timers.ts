import type { ThrottleClock } from "../../bot/throttle.ts";

/**
 * Timers on the simulated clock, for the bot's send windows in a rehearsal:
 * a send held back for Telegram's flood limits goes out when the simulated
 * window has passed, not when a real minute has. Nothing fires by itself:
 * the rehearsal fires the timers that fell due whenever it moves the clock,
 * and when the bot waits for nothing but a window, it moves the clock to the
 * next one (`next()`), as it moves it to the next member's message.
 */
export interface SimulatedTimers extends ThrottleClock {
  /** When the earliest timer falls due (simulated ms), or undefined when none is set. */
  next(): number | undefined;
  /** Fires every timer due at the clock's current time, earliest first; returns how many fired. */
  fireDue(): number;
}

interface Timer {
  at: number;
  /** Order of setting, so timers due at the same moment fire in the order they were set. */
  n: number;
  fn: () => void;
}

export function simulatedTimers(nowMs: () => number): SimulatedTimers {
  const timers: Timer[] = [];
  let set = 0;
  const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.n < b.n);
  return {
    after(ms, fn) {
      const timer = { at: nowMs() + Math.max(0, ms), n: set++, fn };
      // Binary search for the place that keeps the list in firing order.
      let lo = 0;
      let hi = timers.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(timers[mid] as Timer, timer)) lo = mid + 1;
        else hi = mid;
      }
      timers.splice(lo, 0, timer);
    },
    next: () => timers[0]?.at,
    fireDue() {
      const now = nowMs();
      let fired = 0;
      while (timers.length > 0 && (timers[0] as Timer).at <= now) {
        (timers.shift() as Timer).fn();
        fired++;
      }
      return fired;
    },
  };
}
