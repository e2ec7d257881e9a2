import { Composer, type Context } from "grammy";
import type { ActionScope } from "../../actions/context.ts";
import { actionEnv } from "../../actions/context.ts";
import { deletionAsked, purge } from "../../actions/purge.ts";
import { albumMembership } from "../../collect/albums.ts";
import { recordedOf } from "../../collect/recorder.ts";
import { getCase, type SeizedChat } from "../../store/cases.ts";
import { keys } from "../../store/keys.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * Removes the items of an album that arrive after the album was removed (by
 * the trade guard, a trigger or `/purge`): Telegram delivers an album as one
 * update per item, in any order, and a restart can split it, so the captioned
 * item that made it an offer may be judged before the others are seen. The
 * album's membership and its `removed` mark are in Redis (src/collect/albums.ts),
 * so this holds across a restart. Each late item is captured first (purge,
 * which also adds it to the album's evidence unit) under the key
 * `album:<chat>:<message_id>`, so a redelivered update removes nothing twice.
 */
export function albumGuardFeature(deps: FeatureDeps): Feature {
  const composer = new Composer<Context>();
  composer.on("message", async (ctx, next) => {
    const seen = recordedOf(ctx.update);
    const group = ctx.message.media_group_id;
    if (!seen || group === undefined) return next();
    const album = await albumMembership(deps.redis, seen.caseId, seen.chatId, group);
    if (!album.removed) return next();
    // Removed already, with the album or by itself: this is a redelivery, for what follows to judge.
    if (await deletionAsked(deps.redis, seen.caseId, seen.chatId, ctx.message.message_id))
      return next();
    const [record, rawChat] = await Promise.all([
      getCase(deps.redis, seen.caseId),
      deps.redis.hget(keys.caseChats(seen.caseId), String(seen.chatId)),
    ]);
    if (!record || !rawChat) return next();
    const scope: ActionScope = {
      case: record,
      chat: JSON.parse(rawChat) as SeizedChat,
      actor: { kind: "system", name: "album-guard" },
      idempotencyKey: `album:${seen.chatId}:${ctx.message.message_id}`,
      updateIds: [ctx.update.update_id],
    };
    const removed = await purge(actionEnv(deps), scope, {
      messageIds: [ctx.message.message_id],
    });
    deps.logger.info(
      {
        case: seen.caseId,
        chat: seen.chatId,
        message_id: ctx.message.message_id,
        media_group_id: group,
        deleted: removed.deleted.length,
      },
      "removed an item of an album removed before",
    );
    // Removed: nothing after this (a trigger, the trade guard) should answer it again.
    return;
  });
  // Only an album's items, and only in a case's chats (the recorder kept them).
  const wants = (ctx: Context) =>
    ctx.update.message?.media_group_id !== undefined && recordedOf(ctx.update) !== undefined;
  return { wants, composer };
}
