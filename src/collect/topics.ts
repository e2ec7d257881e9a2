import type { Message } from "grammy/types";
import type { RedisWrite } from "../store/cases.ts";
import type { Redis } from "../store/redis.ts";
import { collectKeys, collectParts } from "./keys.ts";

/**
 * The topics of a seized forum, as Warden has seen them. The Bot API cannot
 * list a forum's topics, so they are learnt from what passes by: the topic
 * service messages (`forum_topic_created`, `…_edited`, `…_closed`,
 * `…_reopened`) and the `message_thread_id` of every topic message — whose
 * `reply_to_message` is the topic's own `forum_topic_created` message unless
 * it answers another one, which gives the name of a topic created before the
 * seizure. They are kept per chat (`collect.topics`), written in the same
 * atomic step as the message that taught them, so a redelivered update
 * changes nothing and a restart loses nothing. General (thread 1) is never
 * listed: its messages carry no thread id, and it always exists.
 */

export const GENERAL_TOPIC_ID = 1;

export interface KnownTopic {
  /** The topic's `message_thread_id` (its `forum_topic_created` message's id). */
  id: number;
  /** Its title as last seen, or "" while only its id is known. */
  name: string;
  /** Whether it was last seen closed. */
  closed: boolean;
  /** Set when Telegram said it no longer exists (TOPIC_ID_INVALID). */
  deleted: boolean;
  /** The update it was first seen in. */
  firstUpdate?: number;
}

/** The topic a message belongs to, if it is in one other than General. */
export function topicOf(message: Message): number | undefined {
  if (!message.is_topic_message) return undefined;
  const id = message.message_thread_id;
  return id !== undefined && id > GENERAL_TOPIC_ID ? id : undefined;
}

/**
 * What one message teaches about its chat's topics, as writes for the
 * recorder's atomic step (keys are parts after the case prefix).
 */
export function topicWrites(message: Message, updateId: number): RedisWrite[] {
  const thread = topicOf(message);
  if (thread === undefined) return [];
  const key = collectParts.topics(message.chat.id);
  const writes: RedisWrite[] = [["HSETNX", key, `${thread}:update`, updateId]];
  const created = message.forum_topic_created ?? message.reply_to_message?.forum_topic_created;
  const replyIsTopicStart =
    message.forum_topic_created !== undefined || message.reply_to_message?.message_id === thread;
  if (created && replyIsTopicStart) {
    // The creation message names the topic as it was then: an edit seen since wins.
    writes.push(["HSETNX", key, `${thread}:name`, created.name]);
  } else {
    writes.push(["HSETNX", key, `${thread}:name`, ""]);
  }
  if (message.forum_topic_created) writes.push(["HSETNX", key, `${thread}:closed`, 0]);
  const renamed = message.forum_topic_edited?.name;
  if (renamed) writes.push(["HSET", key, `${thread}:name`, renamed]);
  if (message.forum_topic_closed) writes.push(["HSET", key, `${thread}:closed`, 1]);
  if (message.forum_topic_reopened) writes.push(["HSET", key, `${thread}:closed`, 0]);
  // A message from a member in a topic shows the topic is there, whatever was said of it before.
  writes.push(["HDEL", key, `${thread}:deleted`]);
  return writes;
}

/** Every topic Warden has seen in the chat, by id. */
export async function knownTopics(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<KnownTopic[]> {
  const raw = await redis.hgetall(collectKeys.topics(caseId, chatId));
  const byId = new Map<number, KnownTopic>();
  for (const [field, value] of Object.entries(raw)) {
    const colon = field.indexOf(":");
    const id = Number(field.slice(0, colon));
    const what = field.slice(colon + 1);
    let topic = byId.get(id);
    if (!topic) {
      topic = { id, name: "", closed: false, deleted: false };
      byId.set(id, topic);
    }
    if (what === "name") topic.name = value;
    else if (what === "closed") topic.closed = value === "1";
    else if (what === "deleted") topic.deleted = value === "1";
    else if (what === "update") topic.firstUpdate = Number(value);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Writes that say Telegram no longer knows the topic (it was deleted while Warden held it). */
export function topicDeletedWrites(caseId: string, chatId: number, id: number): RedisWrite[] {
  return [["HSET", collectKeys.topics(caseId, chatId), `${id}:deleted`, 1]];
}

/** Writes that record a topic's open or closed state as Warden left it. */
export function topicClosedWrites(
  caseId: string,
  chatId: number,
  id: number,
  closed: boolean,
): RedisWrite[] {
  return [["HSET", collectKeys.topics(caseId, chatId), `${id}:closed`, closed ? 1 : 0]];
}

/**
 * The topic an operator names by its title (case-insensitive, surrounding
 * spaces ignored), or by its number; "General" is thread 1. Undefined when
 * no seen topic has that name.
 */
export function topicByName(
  topics: readonly KnownTopic[],
  name: string,
): { id: number; name: string } | undefined {
  const wanted = name.trim().toLocaleLowerCase();
  if (wanted === "general") return { id: GENERAL_TOPIC_ID, name: "General" };
  const live = topics.filter((t) => !t.deleted);
  const byName = live.find((t) => t.name.trim().toLocaleLowerCase() === wanted);
  if (byName) return { id: byName.id, name: byName.name };
  if (/^\d+$/.test(wanted)) {
    const byId = live.find((t) => t.id === Number(wanted));
    if (byId) return { id: byId.id, name: byId.name };
  }
  return undefined;
}
