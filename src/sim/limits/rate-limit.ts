/**
 * Telegram's flood limits for sending, measured on the wall clock by default
 * because they throttle the real process talking to the simulator (or on the
 * simulated clock when the simulator is started with
 * `rateLimitClock: "simulated"`, for a client whose own send windows run on
 * that clock): about 30 messages
 * per second overall, 20 per minute in one group, and about one per second in
 * one private chat with a small burst. A call over a limit is refused with
 * 429 and the whole seconds until a slot frees up.
 */

export interface RateLimiter {
  enabled: boolean;
  /** Records a send and returns 0, or returns the retry_after seconds without recording. */
  take(botId: number, chatId: number, isGroup: boolean, nowMs: number): number;
  reset(): void;
}

interface Window {
  limit: number;
  spanMs: number;
}

const OVERALL: Window = { limit: 30, spanMs: 1000 };
const PER_GROUP: Window = { limit: 20, spanMs: 60000 };
/** One a second on average, but three in a row are let through. */
const PER_PRIVATE: Window = { limit: 3, spanMs: 3000 };

export function createRateLimiter(enabled = true): RateLimiter {
  const history = new Map<string, number[]>();

  function wait(key: string, window: Window, nowMs: number): number {
    const stamps = history.get(key);
    if (!stamps) return 0;
    while (stamps.length > 0 && (stamps[0] as number) <= nowMs - window.spanMs) stamps.shift();
    if (stamps.length < window.limit) return 0;
    const freeAt = (stamps[stamps.length - window.limit] as number) + window.spanMs;
    return Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
  }

  function record(key: string, nowMs: number) {
    const stamps = history.get(key);
    if (stamps) stamps.push(nowMs);
    else history.set(key, [nowMs]);
  }

  return {
    enabled,
    take(botId, chatId, isGroup, nowMs) {
      if (!this.enabled) return 0;
      const overallKey = `${botId}`;
      const chatKey = `${botId}:${chatId}`;
      const retry = Math.max(
        wait(overallKey, OVERALL, nowMs),
        wait(chatKey, isGroup ? PER_GROUP : PER_PRIVATE, nowMs),
      );
      if (retry > 0) return retry;
      record(overallKey, nowMs);
      record(chatKey, nowMs);
      return 0;
    },
    reset() {
      history.clear();
    },
  };
}
