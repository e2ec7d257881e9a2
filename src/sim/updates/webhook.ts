/**
 * Webhook delivery: while a bot has a webhook, its queued updates are POSTed
 * to the URL one at a time, in order, with the `X-Telegram-Bot-Api-Secret-Token`
 * header. An update is dropped from the queue only after a 2xx answer;
 * failures are recorded for getWebhookInfo and retried with a growing pause.
 * A webhook reply may carry a method call in its body, as Telegram allows.
 */
import type { BotState } from "../model.ts";
import type { Simulator } from "../simulator.ts";

export type InlineCall = (
  bot: BotState,
  method: string,
  params: Record<string, unknown>,
) => Promise<unknown>;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
const REQUEST_TIMEOUT_MS = 10000;

export function startWebhookDelivery(sim: Simulator, bot: BotState, inlineCall: InlineCall) {
  let running = false;
  let retryMs = FIRST_RETRY_MS;
  const webhook = bot.webhook;

  async function pump() {
    if (running) return;
    running = true;
    try {
      while (bot.webhook === webhook && webhook && bot.updates.items.length > 0) {
        const update = bot.updates.items[0];
        if (!update) break;
        const failure = await post(update);
        if (bot.webhook !== webhook) break;
        if (failure === undefined) {
          if (bot.updates.items[0] === update) bot.updates.items.shift();
          retryMs = FIRST_RETRY_MS;
        } else {
          webhook.lastErrorDate = sim.clock.now();
          webhook.lastErrorMessage = failure;
          await new Promise((resolve) => setTimeout(resolve, retryMs));
          retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
        }
      }
    } finally {
      running = false;
    }
  }

  async function post(update: unknown): Promise<string | undefined> {
    if (!webhook) return "webhook removed";
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(webhook.secretToken
            ? { "x-telegram-bot-api-secret-token": webhook.secretToken }
            : {}),
        },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = await response.text();
      if (!response.ok)
        return `Wrong response from the webhook: ${response.status} ${response.statusText}`;
      await answerInline(body);
      return undefined;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return cause === "ECONNREFUSED"
        ? "Connection refused"
        : `Connection failed: ${(error as Error).message}`;
    }
  }

  async function answerInline(body: string) {
    if (!body.trim().startsWith("{")) return;
    try {
      const { method, ...params } = JSON.parse(body) as { method?: unknown };
      if (typeof method === "string") await inlineCall(bot, method, params);
    } catch {
      // Telegram ignores a reply it cannot use.
    }
  }

  bot.updates.onEnqueue = () => void pump();
  void pump();
}

export function stopWebhookDelivery(bot: BotState) {
  bot.updates.onEnqueue = undefined;
}
