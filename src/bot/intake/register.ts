import { createHmac } from "node:crypto";
import type { Api } from "grammy";
import type { Logger } from "pino";
import { intakeKeys } from "../../store/keys.ts";
import type { Redis } from "../../store/redis.ts";

/**
 * Points Telegram at Warden's webhook, only when it does not point there yet:
 * every replica calls this as it starts, and one starting must not reset what
 * another set. `getWebhookInfo` says the URL and the update types; it never
 * says the secret, so the one last set is known by a fingerprint kept in Redis
 * (an HMAC of URL and secret keyed by the bot token: the secret itself is
 * never stored). Pending updates are never dropped.
 */

export interface WebhookRegistration {
  url: string;
  secret: string;
  allowedUpdates: readonly string[];
  /** The bot token: the fingerprint's key. */
  token: string;
}

export function webhookFingerprint(reg: Pick<WebhookRegistration, "url" | "secret" | "token">) {
  return createHmac("sha256", reg.token).update(`${reg.url}\n${reg.secret}`).digest("hex");
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/** Sets the webhook if Telegram's differs from `reg`; says whether it did. */
export async function ensureWebhook(
  api: Api,
  redis: Redis,
  reg: WebhookRegistration,
  logger: Logger,
): Promise<"set" | "unchanged"> {
  const key = intakeKeys.webhook();
  const fingerprint = webhookFingerprint(reg);
  const [info, stored] = await Promise.all([api.getWebhookInfo(), redis.hget(key, "fingerprint")]);
  const differs: string[] = [];
  if (info.url !== reg.url) differs.push("url");
  if (!sameSet(info.allowed_updates ?? [], reg.allowedUpdates)) differs.push("allowed_updates");
  if (stored !== fingerprint) differs.push("secret");
  if (differs.length === 0) {
    logger.info({ pending: info.pending_update_count }, "the webhook is already set");
    return "unchanged";
  }
  await api.setWebhook(reg.url, {
    secret_token: reg.secret,
    allowed_updates: [...reg.allowedUpdates] as never,
    drop_pending_updates: false,
  });
  await redis.hset(key, { url: reg.url, fingerprint, at: Date.now() });
  logger.info({ changed: differs, pending: info.pending_update_count }, "set the webhook");
  return "set";
}
