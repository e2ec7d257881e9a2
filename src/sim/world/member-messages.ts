/**
 * What people do with messages in groups, supergroups and channels: write
 * them (as themselves, anonymously as the group, or as a channel they run),
 * edit, delete and react to them. A person may only post what Telegram would
 * let them post; a refused message is not stored and reaches no bot.
 */
import type { TgMessage } from "../bot-api-objects.ts";
import { controlForbidden, controlInvalid, controlNotFound } from "../errors.ts";
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT } from "../ids.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import type { ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireUser } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { deliver, isAdmin, isPresent } from "./delivery.ts";
import { detectEntities } from "./entities.ts";
import { memberContent, memberForwardOrigin } from "./member-content.ts";
import { memberOf } from "./members.ts";
import { editMessage, liveMessage, markDeleted, postMessage } from "./messages.ts";
import { contentKind, sendRefusal } from "./permissions.ts";

/** Posts a member's message into a group, supergroup or channel, as Telegram would allow it. */
export function postMemberMessage(
  sim: Simulator,
  chat: ChatState,
  input: MemberMessageInput,
  options: { silent?: boolean } = {},
): StoredMessage {
  requireUser(sim, input.from_id);
  if (chat.migratedTo !== undefined) {
    throw controlForbidden(`group chat was upgraded to a supergroup chat (${chat.migratedTo})`);
  }
  const m = memberOf(sim, chat, input.from_id);
  if (m?.status === "kicked") throw controlForbidden("user is banned in the chat");
  if (!isPresent(m)) throw controlForbidden("user is not a member of the chat");
  const body = memberContent(sim, input);
  if (chat.type === "channel") {
    if (!isAdmin(m)) throw controlForbidden("only administrators can post in the channel");
  } else {
    const refusal = sendRefusal(chat, m, contentKind(body));
    if (refusal) throw controlForbidden(refusal);
  }
  let replyTo: StoredMessage | undefined;
  if (input.reply_to_message_id !== undefined) {
    replyTo = liveMessage(chat, input.reply_to_message_id);
    if (!replyTo) throw controlForbidden("message to be replied not found");
  }
  const date = input.date ?? sim.clock.now();
  const origin = memberForwardOrigin(sim, input, date);
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
    if (!isAdmin(m))
      throw controlForbidden("only administrators can send messages on behalf of the group");
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
      throw controlForbidden("user can't post on behalf of this channel");
    }
    if (chat.bannedSenderChats.has(channel.id))
      throw controlForbidden("the channel is banned in the chat");
    return postMessage(sim, chat, body, {
      fromId: CHANNEL_BOT.id,
      senderId: channel.id,
      senderChat: chatObject(sim, channel),
      ...common,
    });
  }
  return postMessage(sim, chat, body, { fromId: input.from_id, ...common });
}

/** A person edits the text or caption of their message; bots that saw it get edited_message. */
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

/**
 * Someone (`byId`: the author, or an admin) deletes a message. Telegram tells
 * no bot; the control API keeps who deleted it and when.
 */
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
  if (!isPresent(memberOf(sim, chat, userId)))
    throw controlForbidden("user is not a member of the chat");
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
