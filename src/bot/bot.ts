import { autoRetry } from "@grammyjs/auto-retry";
import { type APIThrottlerOptions, apiThrottler } from "@grammyjs/transformer-throttler";
import Bottleneck from "bottleneck";
import { Bot, GrammyError, HttpError, type Transformer } from "grammy";
import type { Logger } from "pino";

export interface CreateBotOptions {
  token: string;
  /** Telegram, or the simulator's URL in a rehearsal. */
  apiRoot: string;
  logger: Logger;
  /**
   * Throttling of sends (Telegram allows about 20 messages a minute per group,
   * 1 a second per private chat, 30 a second overall). `false` turns it off,
   * e.g. against the simulator with its rate limits off.
   */
  throttle?: false | SendThrottleOptions;
}

export interface SendThrottleOptions {
  /** Sends to one group in any window of `groupWindowMs` (Telegram: 20 a minute). */
  groupLimit?: number;
  /** Default 61 s: Telegram's minute and a second for requests that arrive late. */
  groupWindowMs?: number;
  /** The throttler plugin's own settings, for the overall and private-chat limits. */
  plugin?: APIThrottlerOptions;
}

/** Methods that post a message: the ones Telegram's flood limits count. */
const SENDING = /^(send|copy|forward)/;

/** Groups and channels: negative ids, or a public @username. */
function isGroupChat(chatId: unknown): boolean {
  if (typeof chatId === "number") return chatId < 0;
  return typeof chatId === "string" && (chatId.startsWith("-") || chatId.startsWith("@"));
}

/**
 * A throttler for sends only. The plugin throttles every call that names a
 * chat; admin calls (restrict, delete, getChat…) are not limited that way,
 * and queueing them behind messages would slow a takeover for nothing.
 *
 * Groups get a sliding window in front of the plugin: the plugin refills a
 * group's 20 sends at fixed minute marks, so 20 at the end of one minute and
 * 20 at the start of the next reach Telegram within seconds, and Telegram
 * answers 429. Here each send takes a slot that comes back a window later:
 * a burst of 20 goes at once (an operator's answers are not held back), the
 * 21st waits until the first is a minute old. The plugin still keeps each
 * chat's sends in order and under the overall limit.
 *
 * Exported so conversations, which do not inherit `bot.api` transformers, can
 * install the same one.
 */
export function sendThrottler(opts: SendThrottleOptions = {}): Transformer {
  const limit = opts.groupLimit ?? 20;
  const windowMs = opts.groupWindowMs ?? 61_000;
  const throttled = apiThrottler({
    ...opts.plugin,
    group: opts.plugin?.group ?? { maxConcurrent: 1 },
  });
  const groups = new Bottleneck.Group({ maxConcurrent: 1, reservoir: limit });
  groups.on("created", (limiter) => {
    limiter.on("executing", () => {
      setTimeout(() => void limiter.incrementReservoir(1), windowMs).unref();
    });
  });
  return (prev, method, payload, signal) => {
    if (!SENDING.test(method)) return prev(method, payload, signal);
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    if (!isGroupChat(chatId)) return throttled(prev, method, payload, signal);
    return groups.key(String(chatId)).schedule(() => throttled(prev, method, payload, signal));
  };
}

/**
 * Honours Telegram's retry_after on 429 and retries 5xx, a bounded number of
 * times. Exported so conversations, whose API client does not inherit
 * `bot.api`'s transformers, retry the same way.
 */
export function apiRetry(): Transformer {
  return autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120, rethrowHttpErrors: true });
}

/**
 * The grammY bot with Warden's API hygiene installed. Features are added as
 * Composers by the caller; this only sets up what every call needs.
 */
export function createBot(opts: CreateBotOptions): Bot {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot } });
  // Honour Telegram's retry_after on 429 and retry 5xx, a bounded number of times. Network errors are
  // not retried blindly: the request may have reached Telegram, and a second send would repeat an action.
  bot.api.config.use(apiRetry());
  if (opts.throttle !== false) bot.api.config.use(sendThrottler(opts.throttle));
  bot.catch((err) => {
    const cause = err.error;
    if (cause instanceof GrammyError) {
      opts.logger.error(
        {
          update_id: err.ctx.update.update_id,
          method: cause.method,
          error_code: cause.error_code,
          description: cause.description,
        },
        "a Bot API call failed while handling an update",
      );
    } else if (cause instanceof HttpError) {
      opts.logger.error(
        { update_id: err.ctx.update.update_id, err: cause },
        "could not reach the Bot API",
      );
    } else {
      opts.logger.error({ update_id: err.ctx.update.update_id, err: cause }, "a handler failed");
    }
  });
  return bot;
}
