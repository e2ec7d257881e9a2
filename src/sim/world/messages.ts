/**
 * Posting, editing and deleting messages. Message ids count up per chat;
 * posting stores the Message object exactly as bots will receive it and
 * hands it to delivery.
 */
import type { TgChat, TgMessage, TgUser } from "../bot-api-objects.ts";
import type { ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { deliverMessage } from "./delivery.ts";

/**
 * Where a message goes besides its chat: a forum topic (`isTopic`), or in a
 * plain supergroup the thread of replies it joins.
 */
export interface Thread {
  id: number;
  isTopic: boolean;
}

export interface PostOptions {
  /** The `from` user: a member, a bot, or a service account. */
  fromId: number;
  /** Who counts as the author for rights and deletion: the user, or the sender chat. */
  senderId?: number;
  senderChat?: TgChat;
  authorSignature?: string;
  replyTo?: StoredMessage;
  /** The forum topic or thread the message belongs to. */
  thread?: Thread;
  /** The message opens a forum topic: its own id is the topic's (forum_topic_created). */
  opensTopic?: boolean;
  /** A reply to a message of another topic, which Telegram shows as an external reply. */
  externalReply?: Record<string, unknown>;
  mediaGroupId?: string;
  /** The inline bot the message was sent through. */
  viaBot?: TgUser;
  forwardOrigin?: Record<string, unknown>;
  replyMarkup?: unknown;
  isService?: boolean;
  /** Store without sending updates: history that predates the bots' polling. */
  silent?: boolean;
  date?: number;
}

/** A replied-to message as Telegram nests it: one level deep only. */
export function nestedCopy(message: TgMessage): TgMessage {
  const { reply_to_message: _nested, pinned_message: _pinned, ...rest } = message;
  return rest;
}

export function postMessage(
  sim: Simulator,
  chat: ChatState,
  content: Record<string, unknown>,
  options: PostOptions,
): StoredMessage {
  const from = userObject(sim, options.fromId);
  const id = chat.nextMessageId++;
  const thread: Thread | undefined = options.opensTopic ? { id, isTopic: true } : options.thread;
  const replied = options.replyTo ?? implicitReply(chat, id, thread);
  const message: TgMessage = {
    message_id: id,
    ...(thread ? { message_thread_id: thread.id } : {}),
    ...(from ? { from } : {}),
    ...(options.senderChat ? { sender_chat: options.senderChat } : {}),
    date: options.date ?? sim.clock.now(),
    chat: chatObject(sim, chat),
    ...(options.forwardOrigin ? { forward_origin: options.forwardOrigin } : {}),
    ...(thread?.isTopic ? { is_topic_message: true } : {}),
    ...(replied ? { reply_to_message: nestedCopy(replied.message) } : {}),
    ...(options.externalReply ? { external_reply: options.externalReply } : {}),
    ...(options.viaBot ? { via_bot: options.viaBot } : {}),
    ...(options.mediaGroupId ? { media_group_id: options.mediaGroupId } : {}),
    ...(options.authorSignature ? { author_signature: options.authorSignature } : {}),
    ...content,
    ...(options.replyMarkup ? { reply_markup: options.replyMarkup } : {}),
  };
  const stored: StoredMessage = {
    message,
    senderId: options.senderId ?? options.fromId,
    isService: options.isService ?? false,
    ...(thread ? { threadId: thread.id } : {}),
    ...(options.replyTo ? { replyToId: options.replyTo.message.message_id } : {}),
    edits: [],
  };
  chat.messages.set(message.message_id, stored);
  if (!options.silent) deliverMessage(sim, chat, stored, false);
  return stored;
}

/**
 * A message in a forum topic answers the topic's first message unless it
 * answers another: the Bot API shows that as its `reply_to_message`.
 */
function implicitReply(
  chat: ChatState,
  id: number,
  thread: Thread | undefined,
): StoredMessage | undefined {
  if (!thread?.isTopic || thread.id >= id) return undefined;
  return liveMessage(chat, thread.id);
}

export function postServiceMessage(
  sim: Simulator,
  chat: ChatState,
  actorId: number,
  content: Record<string, unknown>,
  options: Pick<PostOptions, "thread" | "opensTopic" | "silent" | "date"> = {},
): StoredMessage | undefined {
  if (chat.type === "channel" || chat.type === "private") return undefined;
  return postMessage(sim, chat, content, { ...options, fromId: actorId, isService: true });
}

/** The thread a stored message belongs to, as a new message in it would carry it. */
export function threadOf(stored: StoredMessage): Thread | undefined {
  if (stored.threadId === undefined) return undefined;
  return { id: stored.threadId, isTopic: stored.message.is_topic_message === true };
}

/**
 * Where a message came from, as a forward of it shows (`forward_origin`) or
 * a reply to it from elsewhere (`external_reply.origin`).
 */
export function messageOrigin(
  sim: Simulator,
  chat: ChatState,
  stored: StoredMessage,
): Record<string, unknown> {
  const original = stored.message;
  if (original.forward_origin) return original.forward_origin as Record<string, unknown>;
  const signature = original.author_signature
    ? { author_signature: original.author_signature }
    : {};
  if (chat.type === "channel") {
    return {
      type: "channel",
      chat: chatObject(sim, chat),
      message_id: original.message_id,
      date: original.date,
      ...signature,
    };
  }
  if (original.sender_chat) {
    return { type: "chat", sender_chat: original.sender_chat, date: original.date, ...signature };
  }
  return { type: "user", sender_user: original.from, date: original.date };
}

/** The media fields a reply from elsewhere repeats in `external_reply`. */
const EXTERNAL_REPLY_MEDIA = [
  "animation",
  "audio",
  "document",
  "photo",
  "sticker",
  "video",
  "video_note",
  "voice",
  "has_media_spoiler",
  "link_preview_options",
];

/** A reply to `stored` from another topic, as Telegram describes it (ExternalReplyInfo). */
export function externalReply(
  sim: Simulator,
  chat: ChatState,
  stored: StoredMessage,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    origin: messageOrigin(sim, chat, stored),
    chat: chatObject(sim, chat),
    message_id: stored.message.message_id,
  };
  for (const key of EXTERNAL_REPLY_MEDIA) {
    if (stored.message[key] !== undefined) out[key] = stored.message[key];
  }
  return out;
}

/** A message that exists and was not deleted. */
export function liveMessage(chat: ChatState, id: unknown): StoredMessage | undefined {
  if (typeof id !== "number") return undefined;
  const stored = chat.messages.get(id);
  return stored && !stored.deleted ? stored : undefined;
}

export function editMessage(
  sim: Simulator,
  chat: ChatState,
  stored: StoredMessage,
  patch: Record<string, unknown>,
) {
  const now = sim.clock.now();
  stored.edits.push({
    at: now,
    ...(stored.message.text === undefined ? {} : { text: stored.message.text }),
    ...(stored.message.caption === undefined ? {} : { caption: stored.message.caption }),
  });
  const next: TgMessage = { ...stored.message, ...patch, edit_date: now };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
  }
  stored.message = next;
  deliverMessage(sim, chat, stored, true);
}

export function markDeleted(sim: Simulator, chat: ChatState, stored: StoredMessage, byId: number) {
  stored.deleted = { by: byId, at: sim.clock.now() };
  chat.pinned = chat.pinned.filter((id) => id !== stored.message.message_id);
}
