/**
 * Forum topics through the Bot API: create, edit, close, reopen and delete
 * topics, the General topic's own methods, unpinning a topic's messages, and
 * the icons a topic may wear. The checks follow tdlib's ForumTopicManager,
 * whose messages the Bot API passes on with a lower-case first letter; what
 * Telegram's server refuses arrives as its raw code (TOPIC_NOT_MODIFIED,
 * TOPIC_ID_INVALID).
 */
import { badRequest } from "../errors.ts";
import { type FileStore, storeFile } from "../files.ts";
import type { ChatState, Membership, TopicState } from "../model.ts";
import type { Params } from "../spec/params.ts";
import {
  cleanTopicName,
  createTopic,
  deleteTopic,
  editTopic,
  forumTopicObject,
  GENERAL_TOPIC_ID,
  liveTopic,
  managesTopics,
  mayCreateTopics,
  setGeneralHidden,
  setTopicClosed,
} from "../world/topics.ts";
import {
  chatParam,
  hasRight,
  type MethodContext,
  type MethodTable,
  requireBotInChat,
} from "./context.ts";

const NOT_MODIFIED = "TOPIC_NOT_MODIFIED";

/** The forum a topic method names, with the calling bot's membership in it. */
function forumParam(ctx: MethodContext): { chat: ChatState; me: Membership } {
  const chat = chatParam(ctx);
  if (chat.peer) throw badRequest("the chat is not a forum");
  const me = requireBotInChat(ctx.sim, ctx.bot, chat);
  if (!chat.isForum) throw badRequest("the chat is not a forum");
  return { chat, me };
}

/** `message_thread_id` as tdlib reads it: missing, zero or negative is no topic at all. */
function topicIdParam(ctx: MethodContext): number {
  const id = ctx.params.message_thread_id;
  if (typeof id !== "number" || id <= 0) {
    throw badRequest("invalid forum topic identifier specified");
  }
  return id;
}

/**
 * The topic a method acts on: undefined for General (1), which has no
 * TopicState, and for a topic that does not exist (or no longer does), which
 * only Telegram's server refuses (see knownTopic).
 */
function topicParam(ctx: MethodContext, chat: ChatState): { id: number; topic?: TopicState } {
  const id = topicIdParam(ctx);
  const topic = id === GENERAL_TOPIC_ID ? undefined : liveTopic(chat, id);
  return { id, ...(topic ? { topic } : {}) };
}

/** Telegram's server refuses a topic it does not know as TOPIC_ID_INVALID. */
function knownTopic(chat: ChatState, id: number) {
  if (id !== GENERAL_TOPIC_ID && !liveTopic(chat, id)) throw badRequest("TOPIC_ID_INVALID");
}

/**
 * Editing, closing and reopening a topic needs can_manage_topics, unless the
 * bot created the topic. tdlib checks this only for topics it knows, the
 * General one included; of an unknown topic only the server complains.
 */
function requireTopicRight(
  ctx: MethodContext,
  me: Membership,
  chat: ChatState,
  id: number,
  reason: string,
) {
  if (managesTopics(me)) return;
  const topic = liveTopic(chat, id);
  if (id !== GENERAL_TOPIC_ID && (!topic || topic.creatorId === ctx.bot.user.id)) return;
  throw badRequest(reason);
}

function createForumTopic(ctx: MethodContext) {
  const { chat, me } = forumParam(ctx);
  if (!mayCreateTopics(chat, me, true)) throw badRequest("not enough rights to create a topic");
  const name = cleanTopicName(ctx.params.name as string);
  if (name === "") throw badRequest("name must be non-empty");
  const color = (ctx.params.icon_color as number | undefined) ?? 0;
  if (color < 0 || color > 0xffffff) throw badRequest("invalid icon color specified");
  const emoji = ctx.params.icon_custom_emoji_id as string | undefined;
  const topic = createTopic(ctx.sim, chat, ctx.bot.user.id, {
    name,
    iconColor: color,
    ...(emoji ? { iconCustomEmojiId: emoji } : {}),
  });
  return forumTopicObject(topic);
}

/** The name and icon an edit gives; nothing given is no edit at all. */
function topicPatch(params: Params) {
  const given = params.name as string | undefined;
  const name = given === undefined || given === "" ? undefined : cleanTopicName(given);
  if (name === "") throw badRequest("name must be non-empty");
  const icon = params.icon_custom_emoji_id as string | undefined;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(icon !== undefined ? { iconCustomEmojiId: icon } : {}),
  };
}

function editForumTopic(ctx: MethodContext) {
  const { chat, me } = forumParam(ctx);
  const { id } = topicParam(ctx, chat);
  requireTopicRight(ctx, me, chat, id, "not enough rights to edit the topic");
  // An icon given as "" removes it; the spec reader drops empty strings, so read it as sent.
  const params =
    ctx.raw.icon_custom_emoji_id === "" ? { ...ctx.params, icon_custom_emoji_id: "" } : ctx.params;
  const patch = topicPatch(params);
  if (Object.keys(patch).length === 0) return true;
  knownTopic(chat, id);
  if (id === GENERAL_TOPIC_ID && patch.iconCustomEmojiId !== undefined) {
    throw badRequest("GENERAL_MODIFY_ICON_FORBIDDEN");
  }
  if (!editTopic(ctx.sim, chat, id, ctx.bot.user.id, patch)) throw badRequest(NOT_MODIFIED);
  return true;
}

/** Closes or reopens a topic (General for `id` 1); already so is TOPIC_NOT_MODIFIED. */
function toggleClosed(ctx: MethodContext, id: number | undefined, closed: boolean): ChatState {
  const { chat, me } = forumParam(ctx);
  const topicId = id ?? topicParam(ctx, chat).id;
  requireTopicRight(ctx, me, chat, topicId, "not enough rights to close or open the topic");
  knownTopic(chat, topicId);
  if (!setTopicClosed(ctx.sim, chat, topicId, closed, ctx.bot.user.id)) {
    throw badRequest(NOT_MODIFIED);
  }
  return chat;
}

/**
 * Deleting a topic needs can_delete_messages, unless the bot created it; it
 * takes every message of the topic with it. General can't be deleted.
 */
function deleteForumTopic(ctx: MethodContext) {
  const { chat, me } = forumParam(ctx);
  const { topic } = topicParam(ctx, chat);
  const own = topic?.creatorId === ctx.bot.user.id;
  if (!hasRight(me, "can_delete_messages") && topic && !own) {
    throw badRequest("not enough rights to delete the topic");
  }
  if (!topic) throw badRequest("TOPIC_ID_INVALID");
  deleteTopic(ctx.sim, chat, topic, ctx.bot.user.id);
  return true;
}

/**
 * Unpins every message of a topic (General for 1). Like unpinAllChatMessages
 * it needs the right to pin; a chat without topics is refused after that.
 */
function unpinTopic(ctx: MethodContext, topicId: number) {
  const chat = chatParam(ctx);
  if (!chat.peer) {
    const me = requireBotInChat(ctx.sim, ctx.bot, chat);
    if (!hasRight(me, chat.type === "channel" ? "can_edit_messages" : "can_pin_messages")) {
      throw badRequest("not enough rights to manage pinned messages in the chat");
    }
  }
  if (!chat.isForum) throw badRequest("chat doesn't have topics");
  knownTopic(chat, topicId);
  chat.pinned = chat.pinned.filter((id) => {
    const stored = chat.messages.get(id);
    const inTopic = stored?.message.is_topic_message === true ? stored.threadId : GENERAL_TOPIC_ID;
    return inTopic !== topicId;
  });
  return true;
}

/** Hides or shows General; needs can_manage_topics; already so is TOPIC_NOT_MODIFIED. */
function setHidden(ctx: MethodContext, hidden: boolean) {
  const { chat, me } = forumParam(ctx);
  if (!managesTopics(me)) throw badRequest("not enough rights to close or open the topic");
  if (!setGeneralHidden(ctx.sim, chat, hidden, ctx.bot.user.id)) throw badRequest(NOT_MODIFIED);
  return true;
}

/** Emoji of the custom emoji stickers Telegram offers as topic icons. */
const ICON_EMOJI = ["📰", "💡", "⚡️", "🎉", "🔥", "💬", "❓", "📝", "🛒", "🎮", "📈", "❗️"];

const iconSets = new WeakMap<FileStore, Record<string, unknown>[]>();

/**
 * The topic icons: custom emoji stickers of a "Topics" set, made up by the
 * simulator (their ids are stable within one run, and accepted as
 * icon_custom_emoji_id like any other).
 */
function getForumTopicIconStickers(ctx: MethodContext) {
  const files = ctx.sim.files;
  let icons = iconSets.get(files);
  if (!icons) {
    icons = ICON_EMOJI.map((emoji, i) => {
      const record = storeFile(files, "sticker", Buffer.from(`topic icon ${emoji}`));
      return {
        file_id: record.file_id,
        file_unique_id: record.file_unique_id,
        type: "custom_emoji",
        width: 100,
        height: 100,
        is_animated: true,
        is_video: false,
        emoji,
        set_name: "Topics",
        custom_emoji_id: String(5377000000000000001n + BigInt(i)),
        file_size: record.data.length,
      };
    });
    iconSets.set(files, icons);
  }
  return icons;
}

export const forumMethods: MethodTable = {
  getForumTopicIconStickers,
  createForumTopic,
  editForumTopic,
  closeForumTopic: (ctx) => {
    toggleClosed(ctx, undefined, true);
    return true;
  },
  reopenForumTopic: (ctx) => {
    toggleClosed(ctx, undefined, false);
    return true;
  },
  deleteForumTopic,
  unpinAllForumTopicMessages: (ctx) => unpinTopic(ctx, topicIdParam(ctx)),
  editGeneralForumTopic: (ctx) => {
    const { chat, me } = forumParam(ctx);
    requireTopicRight(ctx, me, chat, GENERAL_TOPIC_ID, "not enough rights to edit the topic");
    const patch = topicPatch({ name: ctx.params.name });
    if (patch.name === undefined) return true;
    if (!editTopic(ctx.sim, chat, GENERAL_TOPIC_ID, ctx.bot.user.id, patch)) {
      throw badRequest(NOT_MODIFIED);
    }
    return true;
  },
  closeGeneralForumTopic: (ctx) => {
    toggleClosed(ctx, GENERAL_TOPIC_ID, true);
    return true;
  },
  reopenGeneralForumTopic: (ctx) => {
    const chat = toggleClosed(ctx, GENERAL_TOPIC_ID, false);
    // Reopening General also shows it again.
    setGeneralHidden(ctx.sim, chat, false, ctx.bot.user.id);
    return true;
  },
  hideGeneralForumTopic: (ctx) => setHidden(ctx, true),
  unhideGeneralForumTopic: (ctx) => setHidden(ctx, false),
  unpinAllGeneralForumTopicMessages: (ctx) => unpinTopic(ctx, GENERAL_TOPIC_ID),
};
