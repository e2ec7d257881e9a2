import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, GrammyError, HttpError } from "grammy";
import type { Logger } from "pino";

export interface CreateBotOptions {
  token: string;
  /** Telegram, or the simulator's URL in a rehearsal. */
  apiRoot: string;
  logger: Logger;
}

/**
 * The grammY bot with Warden's API hygiene installed. Features are added as
 * Composers by the caller; this only sets up what every call needs.
 */
export function createBot(opts: CreateBotOptions): Bot {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot } });
  // Honour Telegram's retry_after on 429 and retry 5xx, a bounded number of times. Network errors are
  // not retried blindly: the request may have reached Telegram, and a second send would repeat an action.
  bot.api.config.use(
    autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120, rethrowHttpErrors: true }),
  );
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
