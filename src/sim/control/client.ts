/**
 * A typed client for the control API. Construct it with the simulator's base
 * URL; each method is one route. Failures throw `SimControlError` carrying
 * the HTTP status and Telegram-style description, except
 * `trySendMessage`, which returns the refusal so tests can assert on it.
 */
import type { TgChat, TgMessage, TgUpdate, TgUser } from "../bot-api-objects.ts";
import type { CallRecord } from "../calls.ts";
import type { Permissions } from "../chat-permissions.ts";
import type { FaultSpec } from "../limits/faults.ts";
import type {
  MemberAlbumInput,
  MemberAlbumItem,
  MemberMessageInput,
} from "../member-message-input.ts";
import type { AdminRights } from "../model.ts";
import type { LoadedWorld, World } from "../world/load.ts";
import type { PlayedMessage } from "./clock.ts";
import type { botSnapshot, chatSnapshot, topicsSnapshot } from "./snapshot.ts";

export type ChatSnapshot = ReturnType<typeof chatSnapshot>;
export type BotSnapshot = ReturnType<typeof botSnapshot>;
export type TopicsSnapshot = ReturnType<typeof topicsSnapshot>;
export type { CallRecord, MemberAlbumInput, MemberAlbumItem, MemberMessageInput, PlayedMessage };

/** A forum topic as the Bot API describes it. */
export interface ForumTopic {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
}

export class SimControlError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(`${status}: ${description}`);
    this.name = "SimControlError";
  }
}

type Envelope<T> = { ok: true; result: T } | { ok: false; error_code: number; description: string };

export interface NewUserInput {
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
  id?: number;
  bio?: string;
  /** A bot account that is not under test (an inline bot a member writes through). */
  is_bot?: boolean;
}

export interface NewChatInput {
  type: "group" | "supergroup" | "channel";
  title: string;
  owner_id: number;
  username?: string;
  description?: string;
  permissions?: Partial<Permissions>;
  id?: number;
  /** A supergroup with topics. */
  is_forum?: boolean;
}

export class SimClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
  }

  private async envelope<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : typeof body === "string"
          ? { headers: { "content-type": "text/yaml" }, body }
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    return (await response.json()) as Envelope<T>;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const envelope = await this.envelope<T>(method, path, body);
    if (!envelope.ok) throw new SimControlError(envelope.error_code, envelope.description);
    return envelope.result;
  }

  // Accounts
  createUser(input: NewUserInput): Promise<TgUser> {
    return this.call("POST", "/sim/users", input);
  }
  updateUser(id: number, patch: Partial<Record<keyof NewUserInput, unknown>>): Promise<TgUser> {
    return this.call("PATCH", `/sim/users/${id}`, patch);
  }
  users(): Promise<TgUser[]> {
    return this.call("GET", "/sim/users");
  }
  createBot(input: {
    username: string;
    first_name?: string;
    privacy?: boolean;
  }): Promise<{ token: string; user: TgUser }> {
    return this.call("POST", "/sim/bots", input);
  }
  bots(): Promise<BotSnapshot[]> {
    return this.call("GET", "/sim/bots");
  }
  bot(ref: string | number): Promise<BotSnapshot> {
    return this.call("GET", `/sim/bots/${encodeURIComponent(String(ref))}`);
  }
  /** Updates queued for a bot and not yet confirmed, without consuming them. */
  pendingUpdates(ref: string | number): Promise<TgUpdate[]> {
    return this.call("GET", `/sim/bots/${encodeURIComponent(String(ref))}/updates`);
  }
  setPrivacy(bot: string | number, enabled: boolean): Promise<BotSnapshot> {
    return this.call("POST", "/sim/privacy", { bot: String(bot), enabled });
  }
  blockBot(userId: number, bot?: string): Promise<true> {
    return this.call("POST", `/sim/users/${userId}/block`, bot ? { bot } : {});
  }
  unblockBot(userId: number, bot?: string): Promise<true> {
    return this.call("POST", `/sim/users/${userId}/unblock`, bot ? { bot } : {});
  }
  addProfilePhoto(userId: number, base64?: string): Promise<{ total_count: number }> {
    return this.call("POST", `/sim/users/${userId}/photos`, base64 ? { photo: base64 } : {});
  }

  // Chats
  createChat(input: NewChatInput): Promise<ChatSnapshot> {
    return this.call("POST", "/sim/chats", input);
  }
  /** A group's full state, or (for a user id) that user's dialog with `bot`. */
  chat(id: number, bot?: string): Promise<ChatSnapshot> {
    return this.call("GET", `/sim/chats/${id}${bot ? `?bot=${encodeURIComponent(bot)}` : ""}`);
  }
  chats(): Promise<Pick<TgChat, "id" | "type" | "title" | "username">[]> {
    return this.call("GET", "/sim/chats");
  }
  updateChat(
    id: number,
    patch: {
      title?: string;
      description?: string;
      permissions?: Partial<Permissions>;
      /** Turn topics on or off (supergroups only). */
      is_forum?: boolean;
      by?: number;
    },
  ): Promise<ChatSnapshot> {
    return this.call("PATCH", `/sim/chats/${id}`, patch);
  }
  upgradeChat(id: number, by?: number): Promise<ChatSnapshot> {
    return this.call("POST", `/sim/chats/${id}/upgrade`, by === undefined ? {} : { by });
  }
  join(
    chatId: number,
    userId: number,
    options: { invite_link?: string; added_by?: number } = {},
  ): Promise<{ status: string; pending_join_request: boolean }> {
    return this.call("POST", `/sim/chats/${chatId}/members`, { user_id: userId, ...options });
  }
  leave(chatId: number, userId: number): Promise<true> {
    return this.call("DELETE", `/sim/chats/${chatId}/members/${userId}`);
  }
  /** The owner (or `by`) promotes, edits or, with `rights: {}`, demotes someone. */
  promote(
    chatId: number,
    userId: number,
    rights: Partial<AdminRights & { is_anonymous: boolean }> | "all",
    options: { by?: number; custom_title?: string } = {},
  ): Promise<unknown> {
    return this.call("POST", `/sim/chats/${chatId}/admins`, {
      user_id: userId,
      rights,
      ...options,
    });
  }
  ban(
    chatId: number,
    userId: number,
    options: { until_date?: number; by?: number } = {},
  ): Promise<true> {
    return this.call("POST", `/sim/chats/${chatId}/ban`, { user_id: userId, ...options });
  }
  unban(chatId: number, userId: number, options: { by?: number } = {}): Promise<true> {
    return this.call("POST", `/sim/chats/${chatId}/unban`, { user_id: userId, ...options });
  }
  restrict(
    chatId: number,
    userId: number,
    permissions: Partial<Permissions>,
    options: { until_date?: number; by?: number } = {},
  ): Promise<true> {
    return this.call("POST", `/sim/chats/${chatId}/restrict`, {
      user_id: userId,
      permissions,
      ...options,
    });
  }
  requestToJoin(
    chatId: number,
    userId: number,
    options: { bio?: string; invite_link?: string } = {},
  ): Promise<true> {
    return this.call("POST", "/sim/join-requests", {
      chat_id: chatId,
      user_id: userId,
      ...options,
    });
  }

  // Messages
  /** A member writes in a group (or, with a user id as chat, to a bot in private). Throws when Telegram would refuse. */
  sendMessage(chatId: number, input: MemberMessageInput): Promise<TgMessage> {
    return this.call("POST", `/sim/chats/${chatId}/messages`, input);
  }
  /** Like sendMessage, but returns the refusal instead of throwing. */
  trySendMessage(chatId: number, input: MemberMessageInput): Promise<Envelope<TgMessage>> {
    return this.envelope("POST", `/sim/chats/${chatId}/messages`, input);
  }
  /**
   * A member posts an album (2–10 items sent together; one item is an ordinary
   * message). Bots receive one update per item, in `delivery_order` if given.
   * Returns the messages in item order. Throws when Telegram would refuse.
   */
  sendAlbum(chatId: number, input: MemberAlbumInput): Promise<TgMessage[]> {
    return this.call("POST", `/sim/chats/${chatId}/albums`, input);
  }
  /** Like sendAlbum, but returns the refusal instead of throwing. */
  trySendAlbum(chatId: number, input: MemberAlbumInput): Promise<Envelope<TgMessage[]>> {
    return this.envelope("POST", `/sim/chats/${chatId}/albums`, input);
  }
  editMessage(
    chatId: number,
    messageId: number,
    patch: { text?: string; caption?: string; entities?: unknown[]; bot?: string },
  ): Promise<TgMessage> {
    return this.call("POST", `/sim/chats/${chatId}/messages/${messageId}/edit`, patch);
  }
  deleteMessage(chatId: number, messageId: number, by?: number): Promise<true> {
    return this.call(
      "DELETE",
      `/sim/chats/${chatId}/messages/${messageId}`,
      by === undefined ? {} : { by },
    );
  }
  /** A member sets their reaction (emoji list; empty removes it). */
  react(
    chatId: number,
    messageId: number,
    userId: number,
    emoji: string[],
  ): Promise<{ old_reaction: unknown[]; new_reaction: unknown[] }> {
    return this.call("POST", `/sim/chats/${chatId}/messages/${messageId}/react`, {
      user_id: userId,
      emoji,
    });
  }
  // Forum topics
  /** A forum's General topic and every topic created in it, deleted ones included. */
  topics(chatId: number): Promise<TopicsSnapshot> {
    return this.call("GET", `/sim/chats/${chatId}/topics`);
  }
  /** A member creates a topic; refused unless they may (403 with Telegram's reason). */
  createTopic(
    chatId: number,
    input: { from_id: number; name: string; icon_color?: number; icon_custom_emoji_id?: string },
  ): Promise<ForumTopic> {
    return this.call("POST", `/sim/chats/${chatId}/topics`, input);
  }
  /** Like createTopic, but returns the refusal instead of throwing. */
  tryCreateTopic(
    chatId: number,
    input: { from_id: number; name: string; icon_color?: number; icon_custom_emoji_id?: string },
  ): Promise<Envelope<ForumTopic>> {
    return this.envelope("POST", `/sim/chats/${chatId}/topics`, input);
  }
  /** The owner (or `by`: an admin who manages topics, or the topic's creator) renames a topic; 1 is General. */
  editTopic(
    chatId: number,
    threadId: number,
    patch: { name?: string; icon_custom_emoji_id?: string; by?: number },
  ): Promise<TopicsSnapshot> {
    return this.call("PATCH", `/sim/chats/${chatId}/topics/${threadId}`, patch);
  }
  closeTopic(chatId: number, threadId: number, by?: number): Promise<TopicsSnapshot> {
    return this.topicAction(chatId, threadId, "close", by);
  }
  reopenTopic(chatId: number, threadId: number, by?: number): Promise<TopicsSnapshot> {
    return this.topicAction(chatId, threadId, "reopen", by);
  }
  /** Hides the General topic (which closes it too). */
  hideGeneralTopic(chatId: number, by?: number): Promise<TopicsSnapshot> {
    return this.topicAction(chatId, 1, "hide", by);
  }
  unhideGeneralTopic(chatId: number, by?: number): Promise<TopicsSnapshot> {
    return this.topicAction(chatId, 1, "unhide", by);
  }
  /** Deletes a topic with all its messages (the owner, `by` with can_delete_messages, or its creator). */
  deleteTopic(chatId: number, threadId: number, by?: number): Promise<TopicsSnapshot> {
    return this.call(
      "DELETE",
      `/sim/chats/${chatId}/topics/${threadId}`,
      by === undefined ? {} : { by },
    );
  }
  private topicAction(
    chatId: number,
    threadId: number,
    action: "close" | "reopen" | "hide" | "unhide",
    by: number | undefined,
  ): Promise<TopicsSnapshot> {
    return this.call(
      "POST",
      `/sim/chats/${chatId}/topics/${threadId}/${action}`,
      by === undefined ? {} : { by },
    );
  }

  pressButton(input: {
    from_id: number;
    chat_id: number;
    message_id: number;
    data?: string;
    bot?: string;
  }): Promise<{ callback_query_id: string }> {
    return this.call("POST", "/sim/callback", input);
  }
  callbackAnswer(id: string): Promise<{
    callback_query_id: string;
    answered: boolean;
    answer?: { text?: string; show_alert?: boolean; url?: string };
  }> {
    return this.call("GET", `/sim/callback/${encodeURIComponent(id)}`);
  }

  // Clock, calls, faults, limits, world
  clock(): Promise<{ now: number; iso: string }> {
    return this.call("GET", "/sim/clock");
  }
  advanceClock(seconds: number): Promise<{ now: number; iso: string; played: PlayedMessage[] }> {
    return this.call("POST", "/sim/clock", { advance_seconds: seconds });
  }
  calls(since = 0, options: { method?: string; limit?: number } = {}): Promise<CallRecord[]> {
    const query = new URLSearchParams({ since: String(since) });
    if (options.method) query.set("method", options.method);
    if (options.limit) query.set("limit", String(options.limit));
    return this.call("GET", `/sim/calls?${query}`);
  }
  injectFault(fault: FaultSpec): Promise<unknown> {
    return this.call("POST", "/sim/faults", fault);
  }
  clearFaults(): Promise<true> {
    return this.call("DELETE", "/sim/faults");
  }
  setRateLimits(enabled: boolean, reset = false): Promise<{ enabled: boolean }> {
    return this.call("POST", "/sim/rate-limits", { enabled, reset });
  }
  violations(): Promise<{ method: string; violations: { path: string; message: string }[] }[]> {
    return this.call("GET", "/sim/violations");
  }
  reset(): Promise<true> {
    return this.call("POST", "/sim/reset", {});
  }
  /** Replaces the world with one given as YAML text or an object. */
  loadWorld(world: string | World): Promise<LoadedWorld> {
    return this.call("POST", "/sim/world", world as unknown);
  }
}
