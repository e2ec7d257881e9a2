import type { Message } from "grammy/types";
import type { Redis } from "ioredis";
import { collectKeys } from "./keys.ts";

/** Reads of what the recorder kept. Consultation of collected data is logged by the caller. */

export interface StoredMessage {
  update_id: number;
  received_at: number;
  edited: boolean;
  message: Message;
}

export async function getMessages(
  redis: Redis,
  caseId: string,
  chatId: number,
  messageIds: number[],
): Promise<Map<number, StoredMessage>> {
  const out = new Map<number, StoredMessage>();
  if (messageIds.length === 0) return out;
  const raw = await redis.hmget(collectKeys.messages(caseId, chatId), ...messageIds.map(String));
  raw.forEach((value, i) => {
    if (value) out.set(messageIds[i] as number, JSON.parse(value) as StoredMessage);
  });
  return out;
}

/** The ids of the last `count` messages Warden has seen in a chat, oldest first. */
export async function recentMessageIds(
  redis: Redis,
  caseId: string,
  chatId: number,
  count: number,
): Promise<number[]> {
  const ids = await redis.zrange(collectKeys.messageDates(caseId, chatId), -count, -1);
  return ids.map(Number).sort((a, b) => a - b);
}

/** The ids of every message Warden has seen from one sender (user or sender chat) in a chat. */
export async function messageIdsFrom(
  redis: Redis,
  caseId: string,
  chatId: number,
  senderId: number,
): Promise<number[]> {
  const ids = await redis.zrange(collectKeys.messagesFrom(caseId, chatId, senderId), 0, -1);
  return ids.map(Number).sort((a, b) => a - b);
}

/** Resolves @username to a user id from what Warden has seen; Telegram offers no lookup. */
export async function userIdByUsername(
  redis: Redis,
  caseId: string,
  username: string,
): Promise<number | undefined> {
  const id = await redis.hget(
    collectKeys.usernames(caseId),
    username.replace(/^@/, "").toLowerCase(),
  );
  return id === null ? undefined : Number(id);
}

export interface MemberProfile {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
}

export async function getMemberProfile(
  redis: Redis,
  caseId: string,
  userId: number,
): Promise<MemberProfile | undefined> {
  const raw = await redis.hget(collectKeys.member(caseId, userId), "profile");
  return raw ? (JSON.parse(raw) as MemberProfile) : undefined;
}
