/**
 * The Bot API objects the simulator hands to bots, as plain JSON shapes
 * exactly as a bot receives them, typed only as far as the simulator relies
 * on their fields. They import nothing, so every part of the simulator (the
 * update queue as much as the world model) can use them.
 */
export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
}

export type ChatType = "private" | "group" | "supergroup" | "channel";

export interface TgChat {
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: true;
}

/** A Bot API Message object; only the always-present fields are typed. */
export interface TgMessage {
  message_id: number;
  date: number;
  chat: TgChat;
  from?: TgUser;
  sender_chat?: TgChat;
  text?: string;
  caption?: string;
  reply_to_message?: TgMessage;
  message_thread_id?: number;
  is_topic_message?: true;
  media_group_id?: string;
  [field: string]: unknown;
}

export type TgUpdate = { update_id: number } & Record<string, unknown>;
