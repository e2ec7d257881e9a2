/**
 * What members do in chats, on behalf of the control API: write messages
 * (as themselves, anonymously as the group, or as a channel), edit them,
 * talk to a bot privately, block it, and press inline buttons. A member may
 * only post what Telegram would let them post; refused messages are not
 * stored and reach no bot.
 */
import { createHash } from "node:crypto";
import type { TgMessage } from "../bot-api-objects.ts";
import { ControlError, controlInvalid, controlNotFound } from "../errors.ts";
import { documentOf, photoSize, storeFile } from "../files.ts";
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT, randomString } from "../ids.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import type { BotState, ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireBot, requireUser, userObject } from "../world/accounts.ts";
import { chatObject, privateChat } from "../world/chats.ts";
import { deliver, isAdmin, isPresent } from "../world/delivery.ts";
import { detectEntities } from "../world/entities.ts";
import { memberOf } from "../world/members.ts";
import {
  editMessage,
  liveMessage,
  markDeleted,
  nestedCopy,
  postMessage,
} from "../world/messages.ts";
import { contentKind, sendRefusal } from "../world/permissions.ts";

/** A 1×1 PNG, for photos a scenario does not bother to provide. */
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

function refuse(reason: string): ControlError {
  return new ControlError(403, reason);
}

function content(sim: Simulator, input: MemberMessageInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.photo) {
    const data = typeof input.photo === "string" ? Buffer.from(input.photo, "base64") : PIXEL;
    out.photo = [photoSize(storeFile(sim.files, "photo", data))];
  }
  if (input.document) {
    const spec = typeof input.document === "object" ? input.document : {};
    const name =
      typeof input.document === "string" ? input.document : (spec.file_name ?? "document.txt");
    const record = storeFile(sim.files, "document", Buffer.from(spec.content ?? name), {
      file_name: name,
      mime_type: spec.mime_type ?? "application/octet-stream",
    });
    out.document = documentOf(record);
  }
  const hasMedia = out.photo !== undefined || out.document !== undefined;
  const text = hasMedia ? input.caption : (input.text ?? input.caption);
  if (text !== undefined && text !== "") {
    const entities = input.entities ?? detectEntities(text);
    out[hasMedia ? "caption" : "text"] = text;
    if (entities.length > 0) out[hasMedia ? "caption_entities" : "entities"] = entities;
  }
  if (Object.keys(out).length === 0)
    throw controlInvalid("a message needs text, a photo or a document");
  return out;
}

function forwardOrigin(sim: Simulator, input: MemberMessageInput, date: number) {
  if (input.forward_sender_name) {
    return { type: "hidden_user", sender_user_name: input.forward_sender_name, date: date - 60 };
  }
  if (input.forward_from_chat_id !== undefined) {
    const source = sim.world.chats.get(input.forward_from_chat_id);
    if (!source) throw controlNotFound(`chat ${input.forward_from_chat_id}`);
    return source.type === "channel"
      ? { type: "channel", chat: chatObject(sim, source), message_id: 1, date: date - 60 }
      : { type: "chat", sender_chat: chatObject(sim, source), date: date - 60 };
  }
  if (input.forward_from_id !== undefined) {
    const user = userObject(sim, input.forward_from_id);
    if (!user) throw controlNotFound(`user ${input.forward_from_id}`);
    return { type: "user", sender_user: user, date: date - 60 };
  }
  return undefined;
}

/** Posts a member's message into a group, supergroup or channel, as Telegram would allow it. */
export function postMemberMessage(
  sim: Simulator,
  chat: ChatState,
  input: MemberMessageInput,
  options: { silent?: boolean } = {},
): StoredMessage {
  requireUser(sim, input.from_id);
  if (chat.migratedTo !== undefined) {
    throw refuse(`group chat was upgraded to a supergroup chat (${chat.migratedTo})`);
  }
  const m = memberOf(sim, chat, input.from_id);
  if (m?.status === "kicked") throw refuse("user is banned in the chat");
  if (!isPresent(m)) throw refuse("user is not a member of the chat");
  const body = content(sim, input);
  if (chat.type === "channel") {
    if (!isAdmin(m)) throw refuse("only administrators can post in the channel");
  } else {
    const refusal = sendRefusal(chat, m, contentKind(body));
    if (refusal) throw refuse(refusal);
  }
  let replyTo: StoredMessage | undefined;
  if (input.reply_to_message_id !== undefined) {
    replyTo = liveMessage(chat, input.reply_to_message_id);
    if (!replyTo) throw refuse("message to be replied not found");
  }
  const date = input.date ?? sim.clock.now();
  const origin = forwardOrigin(sim, input, date);
  const common = {
    ...(replyTo ? { replyTo } : {}),
    ...(origin ? { forwardOrigin: origin } : {}),
    ...(options.silent ? { silent: true } : {}),
    date,
  };

  if (chat.type === "channel") {
    return postMessage(sim, chat, body, {
      fromId: 0,
      senderId: chat.id,
      senderChat: chatObject(sim, chat),
      ...common,
    });
  }
  if (input.anonymous) {
    if (!isAdmin(m)) throw refuse("only administrators can send messages on behalf of the group");
    return postMessage(sim, chat, body, {
      fromId: GROUP_ANONYMOUS_BOT.id,
      senderId: chat.id,
      senderChat: chatObject(sim, chat),
      ...(m?.customTitle ? { authorSignature: m.customTitle } : {}),
      ...common,
    });
  }
  if (input.sender_chat_id !== undefined) {
    const channel = sim.world.chats.get(input.sender_chat_id);
    if (channel?.type !== "channel") throw controlNotFound(`channel ${input.sender_chat_id}`);
    if (!isAdmin(channel.members.get(input.from_id))) {
      throw refuse("user can't post on behalf of this channel");
    }
    if (chat.bannedSenderChats.has(channel.id)) throw refuse("the channel is banned in the chat");
    return postMessage(sim, chat, body, {
      fromId: CHANNEL_BOT.id,
      senderId: channel.id,
      senderChat: chatObject(sim, channel),
      ...common,
    });
  }
  return postMessage(sim, chat, body, { fromId: input.from_id, ...common });
}

/** A user writes to a bot in private; this also lifts a block, as pressing "Restart" does. */
export function postPrivateMessage(
  sim: Simulator,
  userId: number,
  input: MemberMessageInput,
): StoredMessage {
  const user = requireUser(sim, userId);
  if (user.user.is_bot) throw controlInvalid("bots can't write to bots");
  if (input.from_id !== userId) throw controlInvalid("in a private chat only the user can write");
  const bot = requireBot(sim, input.bot);
  const chat = privateChat(bot, userId);
  if (bot.blockedBy.has(userId)) setBlocked(sim, bot, userId, false);
  bot.talkedTo.add(userId);
  let replyTo: StoredMessage | undefined;
  if (input.reply_to_message_id !== undefined) {
    replyTo = liveMessage(chat, input.reply_to_message_id);
    if (!replyTo) throw refuse("message to be replied not found");
  }
  return postMessage(sim, chat, content(sim, input), {
    fromId: userId,
    ...(replyTo ? { replyTo } : {}),
    ...(input.date !== undefined ? { date: input.date } : {}),
  });
}

/** A user stops (blocks) or restarts a bot; the bot hears of it through my_chat_member. */
export function setBlocked(sim: Simulator, bot: BotState, userId: number, blocked: boolean) {
  const user = requireUser(sim, userId);
  if (bot.blockedBy.has(userId) === blocked) return;
  if (blocked) bot.blockedBy.add(userId);
  else bot.blockedBy.delete(userId);
  const member = { status: "member", user: bot.user };
  const kicked = { status: "kicked", user: bot.user, until_date: 0 };
  deliver(sim, bot, "my_chat_member", {
    chat: chatObject(sim, privateChat(bot, userId)),
    from: user.user,
    date: sim.clock.now(),
    old_chat_member: blocked ? member : kicked,
    new_chat_member: blocked ? kicked : member,
  });
}

/** Finds the chat a control route names: a group id, or a user id for that user's dialog with a bot. */
export function controlChat(sim: Simulator, id: number, botRef?: string): ChatState {
  if (id > 0) {
    requireUser(sim, id);
    return privateChat(requireBot(sim, botRef), id);
  }
  const chat = sim.world.chats.get(id);
  if (!chat) throw controlNotFound(`chat ${id}`);
  return chat;
}

export function editMemberMessage(
  sim: Simulator,
  chat: ChatState,
  messageId: number,
  patch: { text?: string; caption?: string; entities?: unknown[] },
): TgMessage {
  const stored = liveMessage(chat, messageId);
  if (!stored) throw controlNotFound(`message ${messageId}`);
  if (stored.isService) throw controlInvalid("service messages can't be edited");
  if (sim.world.bots.has(stored.senderId))
    throw controlInvalid("bots edit their own messages through the Bot API");
  const next: Record<string, unknown> = {};
  if (patch.text !== undefined) {
    if (stored.message.text === undefined) throw controlInvalid("the message has no text");
    next.text = patch.text;
    next.entities =
      patch.entities ??
      (detectEntities(patch.text).length ? detectEntities(patch.text) : undefined);
  }
  if (patch.caption !== undefined) {
    next.caption = patch.caption;
    next.caption_entities =
      patch.entities ??
      (detectEntities(patch.caption).length ? detectEntities(patch.caption) : undefined);
  }
  editMessage(sim, chat, stored, next);
  return stored.message;
}

export function deleteMemberMessage(
  sim: Simulator,
  chat: ChatState,
  messageId: number,
  byId: number,
) {
  const stored = liveMessage(chat, messageId);
  if (!stored) throw controlNotFound(`message ${messageId}`);
  markDeleted(sim, chat, stored, byId);
}

export interface CallbackInput {
  from_id: number;
  chat_id: number;
  message_id: number;
  data?: string;
  bot?: string;
}

/** A user presses an inline button under a bot's message. */
export function pressButton(sim: Simulator, input: CallbackInput): { callback_query_id: string } {
  const user = requireUser(sim, input.from_id);
  const chat = controlChat(sim, input.chat_id, input.bot);
  const stored = chat.messages.get(input.message_id);
  if (!stored) throw controlNotFound(`message ${input.message_id}`);
  const bot = sim.world.bots.get(stored.senderId);
  if (!bot) throw controlInvalid("only a bot's messages carry inline buttons");
  const id = `${BigInt(input.from_id) * 4096n + BigInt(Math.floor(Math.random() * 4096))}${randomString(4, "0123456789")}`;
  const message =
    stored.deleted || sim.clock.now() - stored.message.date >= 48 * 3600
      ? { chat: stored.message.chat, message_id: stored.message.message_id, date: 0 }
      : nestedCopy(stored.message);
  sim.world.callbacks.set(id, {
    id,
    botId: bot.user.id,
    fromId: input.from_id,
    chatId: chat.id,
    messageId: input.message_id,
    ...(input.data !== undefined ? { data: input.data } : {}),
    createdAtMs: Date.now(),
  });
  deliver(sim, bot, "callback_query", {
    id,
    from: user.user,
    message,
    chat_instance: createHash("sha256")
      .update(`${bot.user.id}:${chat.id}`)
      .digest()
      .readBigInt64BE()
      .toString(),
    ...(input.data !== undefined ? { data: input.data } : {}),
  });
  return { callback_query_id: id };
}

/**
 * A member changes their reaction to a message. Admin bots that listed
 * `message_reaction` in allowed_updates hear of it; Telegram tells no one else.
 */
export function react(
  sim: Simulator,
  chat: ChatState,
  messageId: number,
  userId: number,
  emoji: string[],
): { old_reaction: unknown[]; new_reaction: unknown[] } {
  const user = requireUser(sim, userId);
  if (!isPresent(memberOf(sim, chat, userId))) throw refuse("user is not a member of the chat");
  const stored = liveMessage(chat, messageId);
  if (!stored) throw controlNotFound(`message ${messageId}`);
  stored.reactions ??= new Map();
  const reactions = stored.reactions;
  const toType = (list: string[]) => list.map((e) => ({ type: "emoji", emoji: e }));
  const change = { old_reaction: toType(reactions.get(userId) ?? []), new_reaction: toType(emoji) };
  reactions.set(userId, emoji);
  for (const bot of sim.world.bots.values()) {
    if (!isAdmin(chat.members.get(bot.user.id))) continue;
    deliver(sim, bot, "message_reaction", {
      chat: chatObject(sim, chat),
      message_id: messageId,
      user: user.user,
      date: sim.clock.now(),
      ...change,
    });
  }
  return change;
}
