/**
 * Forum topics. A supergroup with topics (`is_forum`) keeps every message in
 * a topic: the General topic (thread 1, whose messages carry no
 * `message_thread_id`), or a topic someone created, whose id is the id of
 * its `forum_topic_created` service message. A message in a topic carries
 * `message_thread_id` and `is_topic_message`, and shows the topic's first
 * message as its `reply_to_message` unless it answers another one.
 *
 * A closed topic takes messages only from administrators who may manage
 * topics and from the topic's creator; a deleted topic takes its messages
 * with it. Outside forums a supergroup still groups replies in threads: a
 * reply carries the `message_thread_id` of the message the thread started
 * from, and the `message_thread_id` a sender gives is ignored.
 *
 * These are the rules only; the Bot API methods and the control API check
 * who acts and word the refusals.
 */
import { controlForbidden, controlInvalid } from "../errors.ts";
import type { ChatState, Membership, StoredMessage, TopicState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireUser } from "./accounts.ts";
import { isPresent } from "./delivery.ts";
import { memberOf } from "./members.ts";
import { markDeleted, postMessage, postServiceMessage, type Thread } from "./messages.ts";

/** The General topic's thread id in Telegram's model. */
export const GENERAL_TOPIC_ID = 1;

/** The icon colours Telegram offers for a topic; the first is used when none is given. */
export const TOPIC_ICON_COLORS = [
  7322096, 16766590, 13338331, 9367192, 16749490, 16478047,
] as const;

/** Topic names are cut to this many characters (Telegram's MAX_FORUM_TOPIC_TITLE_LENGTH). */
export const MAX_TOPIC_NAME_LENGTH = 128;

/** A topic that exists and was not deleted. */
export function liveTopic(chat: ChatState, id: number | undefined): TopicState | undefined {
  if (id === undefined) return undefined;
  const topic = chat.topics.get(id);
  return topic && !topic.deleted ? topic : undefined;
}

/**
 * The owner, or an administrator explicitly granted can_manage_topics: they
 * edit, close and reopen any topic and write in closed ones.
 */
export function managesTopics(m: Membership | undefined): boolean {
  if (m?.status === "creator") return true;
  return m?.status === "administrator" && m.rights?.can_manage_topics === true;
}

/**
 * May `m` create topics? Administrators with the right may; people may also
 * when the chat's permissions (or their own restriction) allow it, but bots
 * must be granted the administrator right explicitly.
 */
export function mayCreateTopics(
  chat: ChatState,
  m: Membership | undefined,
  isBot: boolean,
): boolean {
  if (managesTopics(m)) return true;
  if (isBot || !m) return false;
  if (m.status === "administrator") return chat.permissions.can_manage_topics === true;
  if (m.status !== "member" && m.status !== "restricted") return false;
  const own = m.status === "restricted" ? m.permissions?.can_manage_topics === true : true;
  return own && chat.permissions.can_manage_topics === true;
}

/** Telegram trims a topic name and cuts it to 128 characters; empty means none was given. */
export function cleanTopicName(name: string): string {
  return [...name.trim()].slice(0, MAX_TOPIC_NAME_LENGTH).join("");
}

/** Where a new message goes, or why it can't be sent there. */
export type ThreadChoice =
  | {
      ok: true;
      thread?: Thread;
      /** It answers a message of another topic: an external reply, not a reply_to_message. */
      crossTopic?: boolean;
    }
  | { ok: false; refusal: string };

/**
 * The thread a message goes to, from the `message_thread_id` asked for
 * (0 or undefined: none) and the message it replies to. Bots may not name
 * the General topic (thread 1); people may. A deleted topic is refused to
 * people as TOPIC_DELETED, to bots (as every unknown thread) as "message
 * thread not found".
 */
export function sendThread(
  chat: ChatState,
  requested: number | undefined,
  replyTo: StoredMessage | undefined,
  forBot: boolean,
): ThreadChoice {
  if (chat.type !== "supergroup") return { ok: true };
  if (!chat.isForum) {
    if (!replyTo) return { ok: true };
    return {
      ok: true,
      thread: { id: replyTo.threadId ?? replyTo.message.message_id, isTopic: false },
    };
  }
  const replyTopic = replyTo?.message.is_topic_message === true ? replyTo.threadId : undefined;
  if (!requested) {
    return {
      ok: true,
      ...(replyTopic !== undefined ? { thread: { id: replyTopic, isTopic: true } } : {}),
    };
  }
  if (requested === GENERAL_TOPIC_ID) {
    if (forBot) return { ok: false, refusal: "message thread not found" };
    return { ok: true, crossTopic: replyTo !== undefined && replyTopic !== undefined };
  }
  if (!liveTopic(chat, requested)) {
    const deleted = chat.topics.get(requested)?.deleted !== undefined;
    return {
      ok: false,
      refusal: deleted && !forBot ? "TOPIC_DELETED" : "message thread not found",
    };
  }
  return {
    ok: true,
    thread: { id: requested, isTopic: true },
    crossTopic: replyTo !== undefined && replyTopic !== requested,
  };
}

/**
 * TOPIC_CLOSED when the topic (or the General topic, for `thread`
 * undefined) is closed and `userId` is neither its creator nor someone who
 * manages topics; undefined when they may write there.
 */
export function closedTopicRefusal(
  chat: ChatState,
  thread: Thread | undefined,
  m: Membership | undefined,
  userId: number,
): string | undefined {
  if (!chat.isForum || managesTopics(m)) return undefined;
  if (thread?.isTopic) {
    const topic = chat.topics.get(thread.id);
    return topic?.isClosed && topic.creatorId !== userId ? "TOPIC_CLOSED" : undefined;
  }
  return chat.general.isClosed ? "TOPIC_CLOSED" : undefined;
}

/** The ForumTopic object the Bot API returns for a topic. */
export function forumTopicObject(topic: TopicState) {
  return {
    message_thread_id: topic.id,
    name: topic.name,
    icon_color: topic.iconColor,
    ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
  };
}

export interface NewTopic {
  name: string;
  iconColor?: number;
  iconCustomEmojiId?: string;
}

/**
 * Opens a topic: posts its `forum_topic_created` message as `creatorId`,
 * whose id becomes the topic's. `name` must already be clean and non-empty.
 */
export function createTopic(
  sim: Simulator,
  chat: ChatState,
  creatorId: number,
  spec: NewTopic,
  options: { silent?: boolean; date?: number } = {},
): TopicState {
  const iconColor = spec.iconColor || TOPIC_ICON_COLORS[0];
  // Message 1 of a supergroup is its creation notice on Telegram, so no topic
  // ever gets id 1, which means General; a simulated chat may not have used it yet.
  if (chat.nextMessageId <= GENERAL_TOPIC_ID) chat.nextMessageId = GENERAL_TOPIC_ID + 1;
  const stored = postMessage(
    sim,
    chat,
    {
      forum_topic_created: {
        name: spec.name,
        icon_color: iconColor,
        ...(spec.iconCustomEmojiId ? { icon_custom_emoji_id: spec.iconCustomEmojiId } : {}),
      },
    },
    { fromId: creatorId, isService: true, opensTopic: true, ...options },
  );
  const topic: TopicState = {
    id: stored.message.message_id,
    name: spec.name,
    iconColor,
    ...(spec.iconCustomEmojiId ? { iconCustomEmojiId: spec.iconCustomEmojiId } : {}),
    creatorId,
    isClosed: false,
    createdAt: stored.message.date,
  };
  chat.topics.set(topic.id, topic);
  return topic;
}

/** The thread a topic's service messages go to: the topic, or General (undefined). */
function topicThread(topicId: number): Thread | undefined {
  return topicId === GENERAL_TOPIC_ID ? undefined : { id: topicId, isTopic: true };
}

/**
 * Renames a topic (or General, id 1) or changes its icon; returns false,
 * changing nothing, when the result equals what it was (TOPIC_NOT_MODIFIED).
 * An empty `iconCustomEmojiId` removes the icon.
 */
export function editTopic(
  sim: Simulator,
  chat: ChatState,
  topicId: number,
  actorId: number,
  patch: { name?: string; iconCustomEmojiId?: string },
): boolean {
  const general = topicId === GENERAL_TOPIC_ID;
  const topic = general ? undefined : liveTopic(chat, topicId);
  const currentName = general ? chat.general.name : (topic?.name ?? "");
  const nameChanges = patch.name !== undefined && patch.name !== currentName;
  const iconChanges =
    !general &&
    patch.iconCustomEmojiId !== undefined &&
    patch.iconCustomEmojiId !== (topic?.iconCustomEmojiId ?? "");
  if (!nameChanges && !iconChanges) return false;
  if (patch.name !== undefined) {
    if (general) chat.general.name = patch.name;
    else if (topic) topic.name = patch.name;
  }
  if (topic && patch.iconCustomEmojiId !== undefined) {
    if (patch.iconCustomEmojiId) topic.iconCustomEmojiId = patch.iconCustomEmojiId;
    else delete topic.iconCustomEmojiId;
  }
  const thread = topicThread(topicId);
  postServiceMessage(
    sim,
    chat,
    actorId,
    {
      forum_topic_edited: {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.iconCustomEmojiId !== undefined && !general
          ? { icon_custom_emoji_id: patch.iconCustomEmojiId }
          : {}),
      },
    },
    thread ? { thread } : {},
  );
  return true;
}

/** Closes or reopens a topic (or General, id 1); false when it already was (TOPIC_NOT_MODIFIED). */
export function setTopicClosed(
  sim: Simulator,
  chat: ChatState,
  topicId: number,
  closed: boolean,
  actorId: number,
): boolean {
  const state = topicId === GENERAL_TOPIC_ID ? chat.general : liveTopic(chat, topicId);
  if (!state || state.isClosed === closed) return false;
  state.isClosed = closed;
  const thread = topicThread(topicId);
  postServiceMessage(
    sim,
    chat,
    actorId,
    closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} },
    thread ? { thread } : {},
  );
  return true;
}

/**
 * Hides or shows the General topic; hiding also closes it. False when it
 * already was (TOPIC_NOT_MODIFIED).
 */
export function setGeneralHidden(
  sim: Simulator,
  chat: ChatState,
  hidden: boolean,
  actorId: number,
): boolean {
  if (chat.general.isHidden === hidden) return false;
  chat.general.isHidden = hidden;
  if (hidden) chat.general.isClosed = true;
  postServiceMessage(
    sim,
    chat,
    actorId,
    hidden ? { general_forum_topic_hidden: {} } : { general_forum_topic_unhidden: {} },
  );
  return true;
}

/** Deletes a topic with all its messages (bots hear of none of it, as on Telegram). */
export function deleteTopic(sim: Simulator, chat: ChatState, topic: TopicState, byId: number) {
  topic.deleted = { by: byId, at: sim.clock.now() };
  for (const stored of chat.messages.values()) {
    if (stored.threadId === topic.id && stored.message.is_topic_message && !stored.deleted) {
      markDeleted(sim, chat, stored, byId);
    }
  }
}

/** The topic a stored message opened, when it is a live topic's `forum_topic_created` message. */
export function openedTopic(chat: ChatState, stored: StoredMessage): TopicState | undefined {
  const topic = liveTopic(chat, stored.message.message_id);
  return topic && stored.message.forum_topic_created !== undefined ? topic : undefined;
}

/**
 * A person opens a topic, as Telegram would let them: a present member of a
 * forum who may create topics, with a non-empty name and a valid colour.
 */
export function memberCreatesTopic(
  sim: Simulator,
  chat: ChatState,
  userId: number,
  spec: { name: string; iconColor?: number; iconCustomEmojiId?: string },
  options: { silent?: boolean; date?: number } = {},
): TopicState {
  requireUser(sim, userId);
  if (!chat.isForum) throw controlInvalid("the chat is not a forum");
  const m = memberOf(sim, chat, userId);
  if (m?.status === "kicked") throw controlForbidden("user is banned in the chat");
  if (!isPresent(m)) throw controlForbidden("user is not a member of the chat");
  if (!mayCreateTopics(chat, m, false))
    throw controlForbidden("not enough rights to create a topic");
  const name = cleanTopicName(spec.name);
  if (name === "") throw controlInvalid("name must be non-empty");
  const color = spec.iconColor ?? 0;
  if (!Number.isInteger(color) || color < 0 || color > 0xffffff) {
    throw controlInvalid("invalid icon color specified");
  }
  return createTopic(
    sim,
    chat,
    userId,
    {
      name,
      iconColor: color,
      ...(spec.iconCustomEmojiId ? { iconCustomEmojiId: spec.iconCustomEmojiId } : {}),
    },
    options,
  );
}
