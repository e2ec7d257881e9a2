/**
 * The simulated Telegram world: accounts, chats, memberships, messages,
 * invite links and join requests. Plain data, mutated only through the
 * operations in `world/` and the Bot API methods in `methods/`, so that
 * every change also emits the updates Telegram would send.
 *
 * The Bot API objects a bot receives (`Tg…`) live in `bot-api-objects.ts`;
 * these are the simulator's own bookkeeping.
 */
import type { ChatType, TgMessage, TgUser } from "./bot-api-objects.ts";
import type { Permissions } from "./chat-permissions.ts";
import type { FileRecord } from "./files.ts";
import type { UpdateQueue } from "./updates/queue.ts";

export const ADMIN_RIGHTS = [
  "can_manage_chat",
  "can_delete_messages",
  "can_manage_video_chats",
  "can_restrict_members",
  "can_promote_members",
  "can_change_info",
  "can_invite_users",
  "can_post_stories",
  "can_edit_stories",
  "can_delete_stories",
  "can_post_messages",
  "can_edit_messages",
  "can_pin_messages",
  "can_manage_topics",
  "can_manage_direct_messages",
  "can_manage_tags",
] as const;
export type AdminRight = (typeof ADMIN_RIGHTS)[number];
export type AdminRights = Record<AdminRight, boolean>;

/** Rights that only exist in channels, and those that only exist in groups. */
export const CHANNEL_ONLY_RIGHTS: readonly AdminRight[] = [
  "can_post_messages",
  "can_edit_messages",
  "can_manage_direct_messages",
];
export const GROUP_ONLY_RIGHTS: readonly AdminRight[] = [
  "can_pin_messages",
  "can_manage_topics",
  "can_manage_tags",
];

export type MemberStatus =
  | "creator"
  | "administrator"
  | "member"
  | "restricted"
  | "left"
  | "kicked";

export interface Membership {
  userId: number;
  status: MemberStatus;
  isAnonymous: boolean;
  customTitle?: string;
  /** Administrator rights (status administrator). */
  rights?: AdminRights;
  /** Who promoted this administrator: only they (and the owner) may edit them. */
  promotedBy?: number;
  /** Own permissions (status restricted). */
  permissions?: Permissions;
  /** Whether a restricted user is still in the chat. */
  isMember: boolean;
  /** Unix time the restriction or ban ends; 0 means forever. */
  untilDate: number;
}

export interface StoredMessage {
  message: TgMessage;
  /** The user (or sender chat) that posted it. */
  senderId: number;
  isService: boolean;
  /**
   * The forum topic it belongs to (its `message_thread_id`), or in a plain
   * supergroup the thread a reply belongs to; undefined for the General topic
   * and for messages outside any thread.
   */
  threadId?: number;
  /** The message it explicitly replies to (a topic message's implicit reply to the topic is not one). */
  replyToId?: number;
  deleted?: { by: number; at: number };
  edits: { at: number; text?: string; caption?: string }[];
  /** Current emoji reactions by user id. */
  reactions?: Map<number, string[]>;
}

export interface InviteLinkState {
  link: string;
  creatorId: number;
  name?: string;
  expireDate?: number;
  memberLimit?: number;
  createsJoinRequest: boolean;
  isPrimary: boolean;
  isRevoked: boolean;
  /** Joins through this link; Telegram keeps this count but the Bot API does not show it. */
  usage: number;
  createdAt: number;
}

export interface JoinRequestState {
  userId: number;
  date: number;
  bio?: string;
  inviteLink?: string;
}

/** A forum topic. Its id is the id of the `forum_topic_created` service message that opened it. */
export interface TopicState {
  id: number;
  name: string;
  iconColor: number;
  iconCustomEmojiId?: string;
  /** Who created it: they may edit, close and delete it without the right to manage topics. */
  creatorId: number;
  isClosed: boolean;
  createdAt: number;
  /** Deleted with all its messages: who did it, and when. */
  deleted?: { by: number; at: number };
}

/** The General topic of a forum: thread 1, whose messages carry no `message_thread_id`. */
export interface GeneralTopicState {
  name: string;
  isClosed: boolean;
  isHidden: boolean;
}

export interface ChatState {
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
  description?: string;
  photo?: { small: FileRecord; big: FileRecord };
  permissions: Permissions;
  members: Map<number, Membership>;
  messages: Map<number, StoredMessage>;
  nextMessageId: number;
  /** Pinned message ids, most recently pinned last. */
  pinned: number[];
  inviteLinks: Map<string, InviteLinkState>;
  joinRequests: Map<number, JoinRequestState>;
  bannedSenderChats: Set<number>;
  /** A supergroup with topics enabled (`is_forum`). */
  isForum: boolean;
  /** Forum topics by thread id, deleted ones included; General is kept apart. */
  topics: Map<number, TopicState>;
  general: GeneralTopicState;
  migratedTo?: number;
  migratedFrom?: number;
  /** For private chats: the bot and the user of this one-to-one dialog. */
  peer?: { botId: number; userId: number };
}

export interface UserState {
  user: TgUser;
  bio?: string;
  profilePhotos: FileRecord[];
}

export interface WebhookState {
  url: string;
  secretToken?: string;
  maxConnections: number;
  ipAddress?: string;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

export interface BotCommand {
  command: string;
  description: string;
}

export interface BotState {
  user: TgUser;
  token: string;
  /** Privacy mode: on means the bot sees only what is addressed to it in groups where it is no admin. */
  privacy: boolean;
  canJoinGroups: boolean;
  updates: UpdateQueue;
  webhook?: WebhookState;
  commands: Map<string, BotCommand[]>;
  /** One-to-one dialogs keyed by user id (a private chat's id is the user's id). */
  privateChats: Map<number, ChatState>;
  /** Users who pressed "Stop bot". */
  blockedBy: Set<number>;
  /** Users who have written to the bot; only they can be messaged first. */
  talkedTo: Set<number>;
}

export interface CallbackState {
  id: string;
  botId: number;
  fromId: number;
  chatId: number;
  messageId: number;
  data?: string;
  createdAtMs: number;
  answer?: { text?: string; show_alert?: boolean; url?: string; cache_time?: number };
}

export interface WorldState {
  users: Map<number, UserState>;
  bots: Map<number, BotState>;
  botsByToken: Map<string, BotState>;
  chats: Map<number, ChatState>;
  callbacks: Map<string, CallbackState>;
}

export function createWorldState(): WorldState {
  return {
    users: new Map(),
    bots: new Map(),
    botsByToken: new Map(),
    chats: new Map(),
    callbacks: new Map(),
  };
}

export function allRights(value: boolean): AdminRights {
  return Object.fromEntries(ADMIN_RIGHTS.map((r) => [r, value])) as AdminRights;
}
