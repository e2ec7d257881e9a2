/**
 * Chats: basic groups, supergroups, channels, and the one-to-one dialogs
 * between a bot and a user (whose chat id is the user's id, as the bot sees
 * it).
 */
import type { ChatType, TgChat } from "../bot-api-objects.ts";
import {
  changedPermissions,
  defaultChatPermissions,
  type Permissions,
} from "../chat-permissions.ts";
import { badRequest, controlInvalid, controlNotFound } from "../errors.ts";
import type { BotState, ChatState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { requireBot, requireUser } from "./accounts.ts";

export interface NewChat {
  id?: number;
  type: Exclude<ChatType, "private">;
  title: string;
  owner_id: number;
  username?: string;
  description?: string;
  permissions?: Partial<Permissions>;
  /** A supergroup with topics (a forum). */
  is_forum?: boolean;
}

/** Telegram's name for a forum's General topic. */
export const GENERAL_TOPIC_NAME = "General";

/** The forum part of a chat that has never had topics. */
export function noForum(): Pick<ChatState, "isForum" | "topics" | "general"> {
  return {
    isForum: false,
    topics: new Map(),
    general: { name: GENERAL_TOPIC_NAME, isClosed: false, isHidden: false },
  };
}

function emptyChat(id: number, type: ChatType): ChatState {
  return {
    id,
    type,
    permissions: defaultChatPermissions(),
    members: new Map(),
    messages: new Map(),
    nextMessageId: 1,
    pinned: [],
    inviteLinks: new Map(),
    joinRequests: new Map(),
    bannedSenderChats: new Set(),
    ...noForum(),
  };
}

/** Creates a chat owned by `owner_id`; no updates are sent, as nobody else is in it yet. */
export function createChat(sim: Simulator, input: NewChat): ChatState {
  if (!["group", "supergroup", "channel"].includes(input.type)) {
    throw controlInvalid('type must be "group", "supergroup" or "channel"');
  }
  if (!input.title) throw controlInvalid("title is required");
  if (!sim.world.users.has(input.owner_id)) throw controlNotFound(`user ${input.owner_id}`);
  if (input.username && input.type === "group") {
    throw controlInvalid("basic groups can't have a username");
  }
  if (input.is_forum && input.type !== "supergroup") {
    throw controlInvalid("only supergroups can have topics (is_forum)");
  }
  if (input.username && chatByUsername(sim, input.username)) {
    throw controlInvalid(`username @${input.username} is taken`);
  }
  const id = input.id ?? (input.type === "group" ? sim.ids.group() : sim.ids.supergroup());
  if (sim.world.chats.has(id)) throw controlInvalid(`chat ${id} already exists`);
  sim.ids.claim(id);
  const chat = emptyChat(id, input.type);
  chat.title = input.title;
  if (input.username) chat.username = input.username;
  if (input.description) chat.description = input.description;
  chat.permissions = changedPermissions(chat.permissions, input.permissions);
  chat.isForum = input.is_forum === true;
  chat.members.set(input.owner_id, {
    userId: input.owner_id,
    status: "creator",
    isAnonymous: false,
    isMember: true,
    untilDate: 0,
  });
  sim.world.chats.set(id, chat);
  return chat;
}

export function chatByUsername(sim: Simulator, username: string): ChatState | undefined {
  const wanted = username.replace(/^@/, "").toLowerCase();
  for (const chat of sim.world.chats.values()) {
    if (chat.username?.toLowerCase() === wanted) return chat;
  }
  return undefined;
}

export function requireChat(sim: Simulator, id: number): ChatState {
  const chat = sim.world.chats.get(id);
  if (!chat) throw controlNotFound(`chat ${id}`);
  return chat;
}

/** The dialog between `bot` and a user, created on first use. */
export function privateChat(bot: BotState, userId: number): ChatState {
  let chat = bot.privateChats.get(userId);
  if (!chat) {
    chat = emptyChat(userId, "private");
    chat.peer = { botId: bot.user.id, userId };
    bot.privateChats.set(userId, chat);
  }
  return chat;
}

/** The Chat object of a chat as bots see it inside messages and updates. */
export function chatObject(sim: Simulator, chat: ChatState): TgChat {
  if (chat.type === "private") {
    const user = sim.world.users.get(chat.id)?.user;
    return {
      id: chat.id,
      type: "private",
      first_name: user?.first_name ?? "Deleted Account",
      ...(user?.last_name ? { last_name: user.last_name } : {}),
      ...(user?.username ? { username: user.username } : {}),
    };
  }
  return {
    id: chat.id,
    type: chat.type,
    title: chat.title ?? "",
    ...(chat.username ? { username: chat.username } : {}),
    ...(chat.isForum ? { is_forum: true } : {}),
  };
}

/**
 * The chat a control route names: a group, supergroup or channel by its id,
 * or, for a user id, that user's dialog with the bot `botRef` (which may be
 * left out when there is only one bot).
 */
export function requireChatOrDialog(sim: Simulator, id: number, botRef?: string): ChatState {
  if (id > 0) {
    requireUser(sim, id);
    return privateChat(requireBot(sim, botRef), id);
  }
  return requireChat(sim, id);
}

/**
 * Resolves a `chat_id` parameter as the calling bot may use it: a group id,
 * an `@username` of a public chat, or a user id for the bot's dialog with
 * that user. A basic group that became a supergroup answers with Telegram's
 * migration error.
 */
export function resolveChatForBot(
  sim: Simulator,
  bot: BotState,
  chatId: number | string,
): ChatState {
  if (typeof chatId === "string") {
    if (!chatId.startsWith("@")) throw badRequest("chat not found");
    const byName = chatByUsername(sim, chatId);
    if (byName) return byName;
    throw badRequest("chat not found");
  }
  if (chatId > 0) {
    const user = sim.world.users.get(chatId);
    if (!user) throw badRequest("chat not found");
    return privateChat(bot, chatId);
  }
  const chat = sim.world.chats.get(chatId);
  if (!chat) throw badRequest("chat not found");
  if (chat.migratedTo !== undefined) {
    throw badRequest("group chat was upgraded to a supergroup chat", {
      migrate_to_chat_id: chat.migratedTo,
    });
  }
  return chat;
}

/** "supergroup chat", "group chat" or "channel chat", as Telegram words its 403s. */
export function chatKindWords(chat: ChatState): string {
  return `${chat.type === "group" ? "group" : chat.type} chat`;
}
