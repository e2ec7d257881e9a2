/**
 * Posting, editing and deleting messages. Message ids count up per chat;
 * posting stores the Message object exactly as bots will receive it and
 * hands it to delivery.
 */
import type { TgChat, TgMessage } from "../bot-api-objects.ts";
import type { ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { userObject } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { deliverMessage } from "./delivery.ts";

export interface PostOptions {
  /** The `from` user: a member, a bot, or a service account. */
  fromId: number;
  /** Who counts as the author for rights and deletion: the user, or the sender chat. */
  senderId?: number;
  senderChat?: TgChat;
  authorSignature?: string;
  replyTo?: StoredMessage;
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
  const message: TgMessage = {
    message_id: chat.nextMessageId++,
    ...(from ? { from } : {}),
    ...(options.senderChat ? { sender_chat: options.senderChat } : {}),
    date: options.date ?? sim.clock.now(),
    chat: chatObject(sim, chat),
    ...(options.forwardOrigin ? { forward_origin: options.forwardOrigin } : {}),
    ...(options.replyTo ? { reply_to_message: nestedCopy(options.replyTo.message) } : {}),
    ...(options.authorSignature ? { author_signature: options.authorSignature } : {}),
    ...content,
    ...(options.replyMarkup ? { reply_markup: options.replyMarkup } : {}),
  };
  const stored: StoredMessage = {
    message,
    senderId: options.senderId ?? options.fromId,
    isService: options.isService ?? false,
    edits: [],
  };
  chat.messages.set(message.message_id, stored);
  if (!options.silent) deliverMessage(sim, chat, stored, false);
  return stored;
}

export function postServiceMessage(
  sim: Simulator,
  chat: ChatState,
  actorId: number,
  content: Record<string, unknown>,
): StoredMessage | undefined {
  if (chat.type === "channel" || chat.type === "private") return undefined;
  return postMessage(sim, chat, content, { fromId: actorId, isService: true });
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
