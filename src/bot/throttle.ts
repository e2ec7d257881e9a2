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

export interface SendThrottleOptions {
  /** Overrides of Telegram's limits (tests use short windows). */
  limits?: Partial<SendLimits>;
}

/** Methods that post a message: the ones Telegram's flood limits count. */
const SENDING = /^(send|copy|forward)/;

/** Groups and channels: negative ids, or a public @username. */
function isGroupChat(chatId: unknown): boolean {
  if (typeof chatId === "number") return chatId < 0;
  return typeof chatId === "string" && (chatId.startsWith("-") || chatId.startsWith("@"));
}

/** A slot taken now comes back `windowMs` later (timers do not keep the process alive). */
function giveBackLater(limiter: Bottleneck, windowMs: number): void {
  setTimeout(() => void limiter.incrementReservoir(1), windowMs).unref();
}

/**
 * The transformer for `bot.api.config.use`. Exported as a function of its own
 * so conversations, whose API client does not inherit `bot.api`'s
 * transformers, can install the same instance (one set of windows per bot).
 */
export function sendThrottler(opts: SendThrottleOptions = {}): Transformer {
  const limits = { ...TELEGRAM_SEND_LIMITS, ...opts.limits };
  const overall = new Bottleneck({ reservoir: limits.overall.limit });
  // One limiter per chat, made on first use and dropped after a while unused (Bottleneck.Group).
  const perChat = (w: Window) => new Bottleneck.Group({ maxConcurrent: 1, reservoir: w.limit });
  const groups = perChat(limits.group);
  const privates = perChat(limits.privateChat);

  return (prev, method, payload, signal) => {
    if (!SENDING.test(method)) return prev(method, payload, signal);
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const group = isGroupChat(chatId);
    const chat = (group ? groups : privates).key(String(chatId));
    const chatWindow = group ? limits.group.windowMs : limits.privateChat.windowMs;
    // The chat's slot first (keeping its order), then an overall one; both windows count from
    // the moment the request actually goes out.
    return chat.schedule(() =>
      overall.schedule(() => {
        giveBackLater(chat, chatWindow);
        giveBackLater(overall, limits.overall.windowMs);
        return prev(method, payload, signal);
      }),
    );
  };
}
