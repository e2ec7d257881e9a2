import { Composer, type Context } from "grammy";
import { getChatState } from "../../actions/chat-state.ts";
import { type ActionScope, actionEnv } from "../../actions/context.ts";
import { closeTopicSeen } from "../../actions/topics.ts";
import { recordedOf } from "../../collect/recorder.ts";
import { knownTopics, topicOf } from "../../collect/topics.ts";
import { getCase, type SeizedChat } from "../../store/cases.ts";
import { keys } from "../../store/keys.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";

/**
 * Keeps a locked-down forum's topics closed: a topic a member creates during
 * the lockdown, or one Warden sees for the first time (a message in a topic
 * it never heard of), is closed as soon as its first message arrives. Each
 * closing is a lockdown step on the record, keyed by the update, so a
 * redelivered update closes nothing twice. What release reopens is decided in
 * src/actions/topics.ts (`closeTopicSeen`).
 */
export function topicGuardFeature(deps: FeatureDeps): Feature {
  const composer = new Composer<Context>();
  composer.on("message", async (ctx, next) => {
    const seen = recordedOf(ctx.update);
    const thread = topicOf(ctx.message);
    if (!seen || thread === undefined) return next();
    // Closing a topic posts a service message that reaches the bot as a message in the topic.
    if (ctx.message.forum_topic_closed || ctx.message.forum_topic_reopened) return next();
    const state = await getChatState(deps.redis, seen.caseId, seen.chatId);
    if (!state.lockedDown || state.released) return next();
    const topic = (await knownTopics(deps.redis, seen.caseId, seen.chatId)).find(
      (t) => t.id === thread,
    );
    if (topic?.closed || topic?.deleted) return next();
    const [record, rawChat] = await Promise.all([
      getCase(deps.redis, seen.caseId),
      deps.redis.hget(keys.caseChats(seen.caseId), String(seen.chatId)),
    ]);
    if (!record || !rawChat) return next();
    const scope: ActionScope = {
      case: record,
      chat: JSON.parse(rawChat) as SeizedChat,
      actor: { kind: "system", name: "topic-guard" },
      idempotencyKey: `topic-guard:${ctx.update.update_id}`,
      updateIds: [ctx.update.update_id],
    };
    const step = await closeTopicSeen(actionEnv(deps), scope, {
      id: thread,
      name: topic?.name ?? "",
      createdDuringLockdown: ctx.message.forum_topic_created !== undefined,
    });
    if (step.status !== "done")
      deps.logger.warn(
        { case: seen.caseId, chat: seen.chatId, thread, reason: step.reason },
        "lockdown: could not close a topic seen open",
      );
    return next();
  });
  // Only messages in a topic other than General, in a case's chats.
  const wants = (ctx: Context) => {
    const message = ctx.update.message;
    return (
      message !== undefined &&
      topicOf(message) !== undefined &&
      recordedOf(ctx.update) !== undefined
    );
  };
  return { wants, composer };
}
