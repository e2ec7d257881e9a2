import { GrammyError } from "grammy";
import { UsageError } from "../base/usage-error.ts";
import {
  type KnownTopic,
  knownTopics,
  topicByName,
  topicClosedWrites,
  topicDeletedWrites,
} from "../collect/topics.ts";
import type { RedisWrite } from "../store/cases.ts";
import { chatKeys } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { runStep, type StepReport } from "./run.ts";

/**
 * A seized forum's topics at lockdown and release. Lockdown closes every
 * topic Warden has seen open (src/collect/topics.ts: the Bot API cannot list
 * them) and the General topic, hiding General when asked, and remembers
 * exactly what it closed (`chat.topicsClosed`, and `generalClosed` /
 * `generalHidden` in the chat's state) so release reopens those and nothing
 * else: a topic a member or admin had closed before the takeover stays closed.
 *
 * Telegram's answers that mean "nothing to do" are not failures: closing a
 * topic that is already closed (or reopening one already open) answers
 * `TOPIC_NOT_MODIFIED`, handled as already done; a topic deleted meanwhile
 * answers `TOPIC_ID_INVALID`, after which the topic is marked deleted and the
 * action goes on. Either answer is kept, word for word, in the step's outcome.
 */

/** Telegram's raw answers that these steps take as "already so" and "gone". */
const NOT_MODIFIED = /TOPIC_NOT_MODIFIED/;
const GONE = /TOPIC_ID_INVALID/;

export interface TopicCallResult {
  /** What happened, for the outcome entry. */
  result: "done" | "already" | "gone";
  /** Telegram's answer when it was not a plain success. */
  telegram?: string;
}

/** Performs a topic call, turning the two harmless refusals into results. */
async function tolerant(call: () => Promise<unknown>): Promise<TopicCallResult> {
  try {
    await call();
    return { result: "done" };
  } catch (err) {
    if (err instanceof GrammyError && NOT_MODIFIED.test(err.description))
      return { result: "already", telegram: err.description };
    if (err instanceof GrammyError && GONE.test(err.description))
      return { result: "gone", telegram: err.description };
    throw err;
  }
}

const detail = (r: TopicCallResult) => ({ ...r });

export interface TopicLockdownOptions {
  /** Hide the General topic too (a scenario's `hide_general`). */
  hideGeneral?: boolean;
}

/**
 * The topic an operator or a scenario names by title (or number; "General"
 * is General), among those Warden has seen in the chat. An unknown name is
 * an error the operator can act on, listing the topics there are.
 */
export async function namedTopic(
  env: ActionEnv,
  scope: ActionScope,
  name: string,
): Promise<{ id: number; name: string; known: KnownTopic[] }> {
  const known = await knownTopics(env.redis, scope.case.id, scope.chat.chatId);
  const found = topicByName(known, name);
  if (!found)
    throw new UsageError(
      `${scope.chat.alias} has no topic "${name}" that Warden has seen: topics: ${
        known
          .filter((t) => !t.deleted)
          .map((t) => t.name || `#${t.id}`)
          .join(", ") || "none yet"
      }`,
    );
  return { ...found, known };
}

/** Whether the chat is a forum (topics on), as Telegram says now. */
export async function isForum(env: ActionEnv, chatId: number): Promise<boolean> {
  const chat = await env.api.getChat(chatId);
  return "is_forum" in chat && chat.is_forum === true;
}

/** Closes every known open topic and General (and hides it if asked); each a step of `op`. */
export async function closeTopics(
  env: ActionEnv,
  scope: ActionScope,
  op: string,
  opts: TopicLockdownOptions = {},
): Promise<StepReport[]> {
  const { chatId } = scope.chat;
  const caseId = scope.case.id;
  const closedSet = chatKeys.topicsClosed(caseId, chatId);
  const stateKey = chatKeys.state(caseId, chatId);
  const steps: StepReport[] = [];
  const step = (
    name: string,
    params: Record<string, unknown>,
    perform: () => Promise<unknown>,
    onResult: (r: TopicCallResult) => RedisWrite[],
  ) =>
    runStep(env, scope, {
      op,
      step: name,
      params,
      perform: () => tolerant(perform),
      detail,
      onSuccess: onResult,
    }).then((s) => {
      steps.push(s);
      return s;
    });

  for (const topic of await knownTopics(env.redis, caseId, chatId)) {
    if (topic.deleted || topic.closed) continue;
    await step(
      `close-topic ${topic.id}`,
      { message_thread_id: topic.id, name: topic.name },
      () => env.api.closeForumTopic(chatId, topic.id),
      (r) =>
        r.result === "done"
          ? [["SADD", closedSet, topic.id], ...topicClosedWrites(caseId, chatId, topic.id, true)]
          : r.result === "already"
            ? topicClosedWrites(caseId, chatId, topic.id, true)
            : topicDeletedWrites(caseId, chatId, topic.id),
    );
  }
  await step(
    "close-general",
    {},
    () => env.api.closeGeneralForumTopic(chatId),
    (r) => (r.result === "done" ? [["HSET", stateKey, "generalClosed", "1"]] : []),
  );
  if (opts.hideGeneral) {
    await step(
      "hide-general",
      {},
      () => env.api.hideGeneralForumTopic(chatId),
      (r) => (r.result === "done" ? [["HSET", stateKey, "generalHidden", "1"]] : []),
    );
  }
  return steps;
}

/**
 * Reopens what `closeTopics` closed, and shows General again if it hid it.
 * A topic deleted meanwhile does not stop the rest.
 */
export async function reopenTopics(
  env: ActionEnv,
  scope: ActionScope,
  op: string,
): Promise<StepReport[]> {
  const { chatId } = scope.chat;
  const caseId = scope.case.id;
  const closedSet = chatKeys.topicsClosed(caseId, chatId);
  const stateKey = chatKeys.state(caseId, chatId);
  const [ids, state] = await Promise.all([
    env.redis.smembers(closedSet),
    env.redis.hmget(stateKey, "generalClosed", "generalHidden"),
  ]);
  const steps: StepReport[] = [];
  if (state[1] === "1") {
    steps.push(
      await runStep(env, scope, {
        op,
        step: "unhide-general",
        perform: () => tolerant(() => env.api.unhideGeneralForumTopic(chatId)),
        detail,
        onSuccess: () => [["HDEL", stateKey, "generalHidden"]],
      }),
    );
  }
  if (state[0] === "1") {
    steps.push(
      await runStep(env, scope, {
        op,
        step: "reopen-general",
        perform: () => tolerant(() => env.api.reopenGeneralForumTopic(chatId)),
        detail,
        onSuccess: () => [["HDEL", stateKey, "generalClosed"]],
      }),
    );
  }
  for (const id of ids.map(Number).sort((a, b) => a - b)) {
    steps.push(
      await runStep(env, scope, {
        op,
        step: `reopen-topic ${id}`,
        params: { message_thread_id: id },
        perform: () => tolerant(() => env.api.reopenForumTopic(chatId, id)),
        detail,
        onSuccess: (r) => [
          ["SREM", closedSet, id],
          ...(r.result === "gone"
            ? topicDeletedWrites(caseId, chatId, id)
            : topicClosedWrites(caseId, chatId, id, false)),
        ],
      }),
    );
  }
  return steps;
}

/** What the steps did to topics, in words for the operator's summary. */
export function topicSummary(steps: readonly StepReport[]): string {
  const of = (prefix: string, result: string) =>
    steps.filter(
      (s) =>
        s.step.startsWith(prefix) &&
        s.status === "done" &&
        (s.detail as TopicCallResult | undefined)?.result === result,
    ).length;
  const parts: string[] = [];
  const closed = of("close-topic", "done") + of("reopen-topic", "done");
  if (closed) parts.push(`${closed} topic${closed === 1 ? "" : "s"}`);
  const gone = of("close-topic", "gone") + of("reopen-topic", "gone");
  if (gone) parts.push(`${gone} deleted meanwhile (Telegram: TOPIC_ID_INVALID)`);
  return parts.join(", ");
}

/**
 * Closes one topic seen open during a lockdown: one a member created then, or
 * one Warden had never seen before (a message in it is the first sign of it).
 * The first kind stays closed at release, since it never was open before the
 * takeover; the second was, so release reopens it with the others.
 */
export async function closeTopicSeen(
  env: ActionEnv,
  scope: ActionScope,
  topic: { id: number; name: string; createdDuringLockdown: boolean },
): Promise<StepReport> {
  const { chatId } = scope.chat;
  const caseId = scope.case.id;
  return runStep(env, scope, {
    op: "lockdown",
    step: `close-topic ${topic.id}`,
    params: {
      message_thread_id: topic.id,
      name: topic.name,
      why: topic.createdDuringLockdown ? "created during lockdown" : "first seen during lockdown",
    },
    perform: () => tolerant(() => env.api.closeForumTopic(chatId, topic.id)),
    detail,
    onSuccess: (r) =>
      r.result === "gone"
        ? topicDeletedWrites(caseId, chatId, topic.id)
        : [
            ...(r.result === "done" && !topic.createdDuringLockdown
              ? ([["SADD", chatKeys.topicsClosed(caseId, chatId), topic.id]] as RedisWrite[])
              : []),
            ...topicClosedWrites(caseId, chatId, topic.id, true),
          ],
  });
}
