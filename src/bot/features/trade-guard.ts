import { Composer, type Context } from "grammy";
import { getChatState } from "../../actions/chat-state.ts";
import type { ActionScope } from "../../actions/context.ts";
import { actionEnv } from "../../actions/context.ts";
import { deletionAsked, purge } from "../../actions/purge.ts";
import { warn } from "../../actions/warn.ts";
import { recordedOf } from "../../collect/recorder.ts";
import { getCase, getRole, type SeizedChat } from "../../store/cases.ts";
import { botKeys, keys } from "../../store/keys.ts";
import type { Redis } from "../../store/redis.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * The `trade` freeze mode, enforced. Its permission set lets members post
 * plain text only, which stops pictures of stock but not offers written out,
 * and no permission can block forwards. So in a chat frozen in `trade` mode
 * every message the detector (run by the recorder with the case's lexicon)
 * calls an offer, and every forward, is removed — captured as evidence first
 * (the purge action) — and the group is told why with the `warning-trade`
 * template. People holding a role in the case are never affected.
 *
 * What is judged is what a member sees of the message (src/collect/offer-text.ts):
 * its text or caption, the links behind its words and its preview, the
 * channel a forward comes from and the inline bot it was sent through. An
 * edit is judged again, as a new message would be: a harmless message edited
 * into an offer is removed then, with every version kept as evidence.
 *
 * The warning cannot reply to the offer, which is gone, so it is posted to
 * the group, and not for every removal, which would flood the group: a
 * warning goes out for the first removal, then again once 10 more have been
 * removed and 5 minutes have passed, or after an hour whatever the count.
 * Every removal and warning runs under the idempotency key
 * `offer:<chat>:<message_id>`, so a redelivered update, or a second edit of
 * an offer, does neither twice; and a message already captured for removal
 * (by this guard, a trigger or `/purge`) is left alone, so an edit that
 * arrives after its message was removed asks Telegram for nothing.
 */

export const TRADE_WARNING_RULE = { everyRemovals: 10, minSeconds: 5 * 60, maxSeconds: 3600 };

// KEYS[1]: the case's trade-warning gate hash. ARGV: chat id, now (s), every, min s, max s.
// Returns 1 when this removal should be followed by a warning.
const GATE_SCRIPT = `
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':last') or '-1')
local since = redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':since', 1)
local now = tonumber(ARGV[2])
local warn = last < 0 or (since > tonumber(ARGV[3]) and now - last >= tonumber(ARGV[4]))
  or now - last >= tonumber(ARGV[5])
if warn then
  redis.call('HSET', KEYS[1], ARGV[1] .. ':last', ARGV[2], ARGV[1] .. ':since', 0)
  return 1
end
return 0
`;

/** Counts a removal in the chat's warning gate; true when a warning is due. */
export async function tradeWarningDue(
  redis: Redis,
  caseId: string,
  chatId: number,
  nowSeconds: number,
): Promise<boolean> {
  const due = await redis.eval(
    GATE_SCRIPT,
    1,
    botKeys.tradeWarnings(caseId),
    String(chatId),
    nowSeconds,
    TRADE_WARNING_RULE.everyRemovals,
    TRADE_WARNING_RULE.minSeconds,
    TRADE_WARNING_RULE.maxSeconds,
  );
  return due === 1;
}

export function tradeGuardFeature(deps: FeatureDeps): Feature {
  const composer = new Composer<Context>();
  composer.on(["message", "edited_message"], async (ctx, next) => {
    const seen = recordedOf(ctx.update);
    const message = ctx.update.message ?? ctx.update.edited_message;
    if (!seen || !message || (!seen.offer && !seen.forwarded)) return next();
    // The recorder read the freeze mode in the step that persisted the message.
    const frozen = seen.frozen ?? (await getChatState(deps.redis, seen.caseId, seen.chatId)).frozen;
    if (frozen !== "trade") return next();
    const from = message.sender_chat ? undefined : message.from;
    if (from && (from.id === deps.botId || (await getRole(deps.redis, seen.caseId, from.id))))
      return next();
    const [record, rawChat] = await Promise.all([
      getCase(deps.redis, seen.caseId),
      deps.redis.hget(keys.caseChats(seen.caseId), String(seen.chatId)),
    ]);
    if (!record || !rawChat) return next();
    if (await deletionAsked(deps.redis, seen.caseId, seen.chatId, message.message_id))
      return next();
    const scope: ActionScope = {
      case: record,
      chat: JSON.parse(rawChat) as SeizedChat,
      actor: { kind: "system", name: "trade-guard" },
      idempotencyKey: `offer:${seen.chatId}:${message.message_id}`,
      updateIds: [ctx.update.update_id],
    };
    const env = actionEnv(deps);
    const removed = await purge(env, scope, { messageIds: [message.message_id] });
    if (removed.steps.some((s) => s.repeated)) return next(); // handled before: a redelivery.
    deps.logger.info(
      {
        case: seen.caseId,
        chat: seen.chatId,
        message_id: message.message_id,
        why: seen.offer ? "offer" : "forward",
        edited: seen.edited,
        rules: seen.offer?.rules,
        deleted: removed.deleted.length,
      },
      "trade freeze: removed a message",
    );
    if (
      removed.deleted.length > 0 &&
      (await tradeWarningDue(deps.redis, seen.caseId, seen.chatId, Math.floor(deps.now() / 1000)))
    ) {
      await warn(env, scope, { template: "trade" });
    }
    return next();
  });
  // Only what the recorder judged an offer or found forwarded, in a case's chats.
  const wants = (ctx: Context) => {
    const seen = recordedOf(ctx.update);
    return seen !== undefined && (seen.offer !== undefined || seen.forwarded);
  };
  return { wants, composer };
}
