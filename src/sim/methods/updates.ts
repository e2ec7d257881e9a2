/**
 * Getting updates: long polling with getUpdates, or a webhook.
 */
import { badRequest, conflict } from "../errors.ts";
import { dropPendingUpdates, pollUpdates } from "../updates/queue.ts";
import { type InlineCall, startWebhookDelivery, stopWebhookDelivery } from "../updates/webhook.ts";
import type { MethodContext, MethodTable } from "./context.ts";

const MAX_TIMEOUT_SECONDS = 50;

async function getUpdates(ctx: MethodContext) {
  if (ctx.bot.webhook) {
    throw conflict(
      "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    );
  }
  const limit = Math.min(100, Math.max(1, (ctx.params.limit as number | undefined) ?? 100));
  const timeout = Math.min(
    MAX_TIMEOUT_SECONDS,
    Math.max(0, (ctx.params.timeout as number | undefined) ?? 0),
  );
  const allowed = ctx.params.allowed_updates as unknown[] | undefined;
  return pollUpdates(ctx.bot.updates, {
    ...(ctx.params.offset !== undefined ? { offset: ctx.params.offset as number } : {}),
    limit,
    timeoutSeconds: timeout,
    ...(allowed ? { allowedUpdates: allowed.map(String) } : {}),
    signal: ctx.signal,
  });
}

/** The dispatcher injects how a webhook reply's method call is executed. */
export function updateMethods(inlineCall: InlineCall): MethodTable {
  function setWebhook(ctx: MethodContext) {
    const url = (ctx.params.url as string | undefined) ?? "";
    if (ctx.params.drop_pending_updates === true) dropPendingUpdates(ctx.bot.updates);
    const allowed = ctx.params.allowed_updates as unknown[] | undefined;
    if (allowed) ctx.bot.updates.allowed = allowed.map(String);
    if (url === "") {
      ctx.bot.webhook = undefined;
      stopWebhookDelivery(ctx.bot);
      return true;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badRequest("bad webhook: invalid webhook URL specified");
    }
    // Telegram demands HTTPS on ports 80, 88, 443 or 8443; the simulator
    // also takes plain HTTP on any port so tests can listen on loopback.
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
    }
    const secret = ctx.params.secret_token as string | undefined;
    if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
      throw badRequest("bad webhook: secret token contains unallowed characters");
    }
    const maxConnections = (ctx.params.max_connections as number | undefined) ?? 40;
    if (maxConnections < 1 || maxConnections > 100)
      throw badRequest("bad webhook: invalid max_connections");
    ctx.bot.updates.poll?.finish([]);
    ctx.bot.webhook = {
      url,
      maxConnections,
      ...(secret ? { secretToken: secret } : {}),
      ...(ctx.params.ip_address ? { ipAddress: ctx.params.ip_address as string } : {}),
    };
    startWebhookDelivery(ctx.sim, ctx.bot, inlineCall);
    return true;
  }

  function deleteWebhook(ctx: MethodContext) {
    ctx.bot.webhook = undefined;
    stopWebhookDelivery(ctx.bot);
    if (ctx.params.drop_pending_updates === true) dropPendingUpdates(ctx.bot.updates);
    return true;
  }

  function getWebhookInfo(ctx: MethodContext) {
    const webhook = ctx.bot.webhook;
    const allowed = ctx.bot.updates.allowed;
    return {
      url: webhook?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: ctx.bot.updates.items.length,
      ...(webhook?.ipAddress ? { ip_address: webhook.ipAddress } : {}),
      ...(webhook?.lastErrorDate ? { last_error_date: webhook.lastErrorDate } : {}),
      ...(webhook?.lastErrorMessage ? { last_error_message: webhook.lastErrorMessage } : {}),
      ...(webhook ? { max_connections: webhook.maxConnections } : {}),
      ...(webhook && allowed && allowed.length > 0 ? { allowed_updates: allowed } : {}),
    };
  }

  return { getUpdates, setWebhook, deleteWebhook, getWebhookInfo };
}
