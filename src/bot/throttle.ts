import Bottleneck from "bottleneck";
import type { Transformer } from "grammy";

/**
 * Keeps sends within Telegram's flood limits, so a takeover never meets a 429:
 * about 30 messages a second overall, 20 a minute in one group, one a second
 * in one private chat. Telegram counts these over sliding windows, so each
 * limit here is a sliding window too: a send takes a slot that comes back a
 * window (and a small margin for requests that arrive late) after the send
 * went out. A burst within a limit goes at once — an operator's answers are
 * not held back — and the next send waits only as long as it must.
 *
 * Only sends are limited: admin calls (restrict, delete, getChat…) are not
 * counted by Telegram that way, and queueing them behind messages would slow
 * a takeover for nothing. Each chat's sends go out one at a time, in order.
 *
 * Windows are measured on a clock given to the throttler: the wall clock in a
 * live run, the simulated clock in a rehearsal, where the simulator counts
 * Telegram's limits on that clock too and a minute's window passes when the
 * rehearsal moves the clock, not when a real minute has gone by.
 */

export interface Window {
  limit: number;
  windowMs: number;
}

export interface SendLimits {
  overall: Window;
  group: Window;
  privateChat: Window;
}

/** Telegram's limits, each window with a margin for network jitter. */
export const TELEGRAM_SEND_LIMITS: SendLimits = {
  overall: { limit: 30, windowMs: 1_050 },
  group: { limit: 20, windowMs: 61_000 },
  privateChat: { limit: 1, windowMs: 1_050 },
};

/** The clock the windows pass on. */
export interface ThrottleClock {
  /** Calls `fn` once `ms` milliseconds have passed on this clock. */
  after(ms: number, fn: () => void): void;
}

/** The wall clock, for live runs; its timers do not keep the process alive. */
export const WALL_CLOCK: ThrottleClock = {
  after(ms, fn) {
    setTimeout(fn, ms).unref();
  },
};

export interface SendThrottleOptions {
  /** Overrides of Telegram's limits (tests use short windows). */
  limits?: Partial<SendLimits>;
  /** Where the windows pass; the wall clock unless given (a rehearsal gives the simulated one). */
  clock?: ThrottleClock;
}

/** The transformer, and what it holds right now (a rehearsal moves its clock by these). */
export type SendThrottler = Transformer & {
  /** Sends held back, waiting for their chat's earlier send or for a window to pass. */
  waiting(): number;
  /** Bot API calls of any method but getUpdates sent and not answered yet. */
  inFlight(): number;
};

/** Methods that post a message: the ones Telegram's flood limits count. */
const SENDING = /^(send|copy|forward)/;

/** Groups and channels: negative ids, or a public @username. */
function isGroupChat(chatId: unknown): boolean {
  if (typeof chatId === "number") return chatId < 0;
  return typeof chatId === "string" && (chatId.startsWith("-") || chatId.startsWith("@"));
}

/**
 * The transformer for `bot.api.config.use`. Exported as a function of its own
 * so conversations, whose API client does not inherit `bot.api`'s
 * transformers, can install the same instance (one set of windows per bot).
 */
export function sendThrottler(opts: SendThrottleOptions = {}): SendThrottler {
  const limits = { ...TELEGRAM_SEND_LIMITS, ...opts.limits };
  const clock = opts.clock ?? WALL_CLOCK;
  const overall = new Bottleneck({ reservoir: limits.overall.limit });
  // One limiter per chat, made on first use and dropped after a while unused (Bottleneck.Group).
  const perChat = (w: Window) => new Bottleneck.Group({ maxConcurrent: 1, reservoir: w.limit });
  const groups = perChat(limits.group);
  const privates = perChat(limits.privateChat);
  let waiting = 0;
  let inFlight = 0;
  /** A slot taken now comes back `windowMs` later on the clock. */
  const giveBackLater = (limiter: Bottleneck, windowMs: number) =>
    clock.after(windowMs, () => void limiter.incrementReservoir(1));

  const call: Transformer = async (prev, method, payload, signal) => {
    if (method === "getUpdates") return prev(method, payload, signal);
    inFlight++;
    try {
      return await prev(method, payload, signal);
    } finally {
      inFlight--;
    }
  };

  const transformer: Transformer = (prev, method, payload, signal) => {
    if (!SENDING.test(method)) return call(prev, method, payload, signal);
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const group = isGroupChat(chatId);
    const chat = (group ? groups : privates).key(String(chatId));
    const chatWindow = group ? limits.group.windowMs : limits.privateChat.windowMs;
    waiting++;
    // The chat's slot first (keeping its order), then an overall one; both windows count from
    // the moment the request actually goes out.
    return chat.schedule(() =>
      overall.schedule(() => {
        waiting--;
        giveBackLater(chat, chatWindow);
        giveBackLater(overall, limits.overall.windowMs);
        return call(prev, method, payload, signal);
      }),
    );
  };
  return Object.assign(transformer, {
    waiting: () => waiting,
    inFlight: () => inFlight,
  });
}
