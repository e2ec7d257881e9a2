/**
 * What people do with messages in groups, supergroups and channels: write
 * them (as themselves, anonymously as the group, or as a channel they run),
 * edit, delete and react to them. A person may only post what Telegram would
 * let them post; a refused message is not stored and reaches no bot.
 */
import type { TgMessage } from "../bot-api-objects.ts";
import { controlForbidden, controlInvalid, controlNotFound } from "../errors.ts";
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT } from "../ids.ts";
import type { MemberAlbumInput, MemberMessageInput } from "../member-message-input.ts";
import type { ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireUser } from "./accounts.ts";
import { chatObject } from "./chats.ts";
import { deliver, deliverMessage, isAdmin, isPresent } from "./delivery.ts";
import { detectEntities } from "./entities.ts";
import { memberContent, memberForwardOrigin, memberViaBot } from "./member-content.ts";
import { memberOf } from "./members.ts";
import {
  editMessage,
  externalReply,
  liveMessage,
  markDeleted,
  type PostOptions,
  postMessage,
} from "./messages.ts";
import { contentKind, sendRefusal } from "./permissions.ts";
import { closedTopicRefusal, openedTopic, sendThread } from "./topics.ts";

/** Who a member's message appears to come from, where it goes, and what it answers. */
type MemberPost = Omit<PostOptions, "date" | "silent">;

/**
 * Everything Telegram checks before a person's message (of the given content
 * kinds) goes into a group, supergroup or channel, and how it will be posted.
 */
function prepareMemberPost(
  sim: Simulator,
  chat: ChatState,
  input: Pick<
    MemberMessageInput,
    "from_id" | "reply_to_message_id" | "message_thread_id" | "anonymous" | "sender_chat_id"
  >,
  kinds: readonly string[],
): MemberPost {
  requireUser(sim, input.from_id);
  if (chat.migratedTo !== undefined) {
    throw controlForbidden(`group chat was upgraded to a supergroup chat (${chat.migratedTo})`);
  }
  const m = memberOf(sim, chat, input.from_id);
  if (m?.status === "kicked") throw controlForbidden("user is banned in the chat");
  if (!isPresent(m)) throw controlForbidden("user is not a member of the chat");
  if (chat.type === "channel") {
    if (!isAdmin(m)) throw controlForbidden("only administrators can post in the channel");
  } else {
    for (const kind of kinds) {
      const refusal = sendRefusal(chat, m, kind);
      if (refusal) throw controlForbidden(refusal);
    }
  }
  let replyTo: StoredMessage | undefined;
  if (input.reply_to_message_id !== undefined) {
    replyTo = liveMessage(chat, input.reply_to_message_id);
    if (!replyTo) throw controlForbidden("message to be replied not found");
  }
  const choice = sendThread(chat, input.message_thread_id, replyTo, false);
  if (!choice.ok) throw controlForbidden(choice.refusal);
  const closed = closedTopicRefusal(chat, choice.thread, m, input.from_id);
  if (closed) throw controlForbidden(closed);
  const where: MemberPost = {
    fromId: input.from_id,
    ...(choice.thread ? { thread: choice.thread } : {}),
    ...(replyTo && choice.crossTopic ? { externalReply: externalReply(sim, chat, replyTo) } : {}),
    ...(replyTo && !choice.crossTopic ? { replyTo } : {}),
  };

  if (chat.type === "channel") {
    return { ...where, fromId: 0, senderId: chat.id, senderChat: chatObject(sim, chat) };
  }
  if (input.anonymous) {
    if (!isAdmin(m))
      throw controlForbidden("only administrators can send messages on behalf of the group");
    return {
      ...where,
      fromId: GROUP_ANONYMOUS_BOT.id,
      senderId: chat.id,
      senderChat: chatObject(sim, chat),
      ...(m?.customTitle ? { authorSignature: m.customTitle } : {}),
    };
  }
  if (input.sender_chat_id !== undefined) {
    const channel = sim.world.chats.get(input.sender_chat_id);
    if (channel?.type !== "channel") throw controlNotFound(`channel ${input.sender_chat_id}`);
    if (!isAdmin(channel.members.get(input.from_id))) {
      throw controlForbidden("user can't post on behalf of this channel");
    }
    if (chat.bannedSenderChats.has(channel.id))
      throw controlForbidden("the channel is banned in the chat");
    return {
      ...where,
      fromId: CHANNEL_BOT.id,
      senderId: channel.id,
      senderChat: chatObject(sim, channel),
    };
  }
  return where;
}

/** Posts a member's message into a group, supergroup or channel, as Telegram would allow it. */
export function postMemberMessage(
  sim: Simulator,
  chat: ChatState,
  input: MemberMessageInput,
  options: { silent?: boolean } = {},
): StoredMessage {
  requireUser(sim, input.from_id);
  const body = memberContent(sim, input);
  const post = prepareMemberPost(sim, chat, input, [contentKind(body)]);
  const date = input.date ?? sim.clock.now();
  const origin = memberForwardOrigin(sim, input, date);
  const viaBot = memberViaBot(sim, input);
  return postMessage(sim, chat, body, {
    ...post,
    ...(origin ? { forwardOrigin: origin } : {}),
    ...(viaBot ? { viaBot } : {}),
    ...(options.silent ? { silent: true } : {}),
    date,
  });
}

/** Telegram's limit on the items of one album. */
export const MAX_ALBUM_ITEMS = 10;

/** The order bots receive an album's items in, as indexes; refuses anything but a permutation. */
function deliveryOrder(order: MemberAlbumInput["delivery_order"], count: number): number[] {
  const natural = [...Array(count).keys()];
  if (order === undefined) return natural;
  if (order === "reversed") return natural.reverse();
  const valid =
    Array.isArray(order) &&
    order.length === count &&
    natural.every((i) => order.filter((o) => o === i).length === 1);
  if (!valid) {
    throw controlInvalid(
      `delivery_order must be "reversed" or list each item index from 0 to ${count - 1} once`,
    );
  }
  return order;
}

/**
 * A member posts an album: the items are stored under consecutive message
 * ids with one `media_group_id` (a single item is an ordinary message, as
 * Telegram sends it), then delivered one update each, in `delivery_order`.
 * Telegram refuses the whole album if any item may not be sent.
 */
export function postMemberAlbum(
  sim: Simulator,
  chat: ChatState,
  input: MemberAlbumInput,
  options: { silent?: boolean } = {},
): StoredMessage[] {
  requireUser(sim, input.from_id);
  const items = Array.isArray(input.items) ? input.items : [];
  if (items.length === 0) throw controlInvalid("there are no messages to send");
  if (items.length > MAX_ALBUM_ITEMS) throw controlInvalid("too many messages to send as an album");
  const order = deliveryOrder(input.delivery_order, items.length);
  const bodies = items.map((item, i) => {
    const media = (["photo", "video", "document"] as const).filter((k) => item[k]);
    if (media.length !== 1) {
      throw controlInvalid(`album item ${i} needs exactly one of photo, video or document`);
    }
    return memberContent(sim, { from_id: input.from_id, ...item });
  });
  const kinds = [...new Set(bodies.map(contentKind))];
  if (kinds.length > 1 && kinds.includes("document")) {
    throw controlInvalid("document can't be mixed with other media types");
  }
  const post = prepareMemberPost(sim, chat, input, kinds);
  const date = input.date ?? sim.clock.now();
  const viaBot = memberViaBot(sim, input);
  const mediaGroupId = items.length > 1 ? sim.ids.mediaGroup() : undefined;
  const stored = bodies.map((body) =>
    postMessage(sim, chat, body, {
      ...post,
      ...(viaBot ? { viaBot } : {}),
      ...(mediaGroupId ? { mediaGroupId } : {}),
      silent: true,
      date,
    }),
  );
  if (!options.silent) {
    for (const i of order) deliverMessage(sim, chat, stored[i] as StoredMessage, false);
  }
  return stored;
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
  if (openedTopic(chat, stored)) {
    throw controlForbidden("message can't be deleted: a topic's first message goes with the topic");
  }
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
