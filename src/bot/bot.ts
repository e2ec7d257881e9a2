import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, GrammyError, HttpError, type Transformer } from "grammy";
import type { Logger } from "pino";
import { type SendThrottleOptions, sendThrottler } from "./throttle.ts";

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
