import type { Message } from "grammy/types";
import type { Redis } from "../store/redis.ts";
import { collectKeys } from "./keys.ts";

/** Reads of what the recorder kept. Consultation of collected data is logged by the caller. */

export interface StoredMessage {
  update_id: number;
  received_at: number;
  edited: boolean;
  /** What the detector said, when it called the message a trade offer. */
  offer?: { score: number; rules: string[] };
  /** Private messages: whether the sender had been seen in the case, or was attributed by rule. */
  attribution?: "seen" | "unseen";
  /** The message as kept: without the categories the case declines, replies as links. */
  message: Message;
  /** Set when retention erased the message's content. */
  erased_at?: number;
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

/**
 * Every later version of each message (its edits, in the order seen), by id;
 * messages never edited are left out.
 */
export async function getMessageVersions(
  redis: Redis,
  caseId: string,
  chatId: number,
  messageIds: number[],
): Promise<Map<number, StoredMessage[]>> {
  const out = new Map<number, StoredMessage[]>();
  if (messageIds.length === 0) return out;
  const reads = redis.pipeline();
  for (const id of messageIds) reads.lrange(collectKeys.messageVersions(caseId, chatId, id), 0, -1);
  const replies = (await reads.exec()) ?? [];
  replies.forEach(([err, value], i) => {
    if (err) throw err;
    const versions = value as string[];
    if (versions.length > 0)
      out.set(
        messageIds[i] as number,
        versions.map((v) => JSON.parse(v) as StoredMessage),
      );
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

/** The ids of the messages Warden has seen in a chat dated at or after `sinceSeconds` (Telegram's `date`). */
export async function messageIdsSince(
  redis: Redis,
  caseId: string,
  chatId: number,
  sinceSeconds: number,
): Promise<number[]> {
  const ids = await redis.zrangebyscore(
    collectKeys.messageDates(caseId, chatId),
    sinceSeconds,
    "+inf",
  );
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

/** How many messages of one sender Warden keeps in a chat. */
export function countMessagesFrom(
  redis: Redis,
  caseId: string,
  chatId: number,
  senderId: number,
): Promise<number> {
  return redis.zcard(collectKeys.messagesFrom(caseId, chatId, senderId));
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

export interface NameRecord {
  first_name: string;
  last_name: string | null;
  username: string | null;
  /** When Warden first saw this name (ms). */
  seen: number;
}

export interface StatusRecord {
  at: number;
  date: number;
  chat_id: number;
  status: string;
  by: number;
}

export interface MemberRecord {
  id: number;
  profile?: MemberProfile;
  firstSeen?: number;
  lastSeen?: number;
  /** `text`, `photo`, `edits`, `offers`, `private`, … → count. */
  counts: Record<string, number>;
  names: NameRecord[];
  status: StatusRecord[];
  /** Set when retention erased the member's profile and names. */
  erasedAt?: number;
}

/** A stored name record: `{"name": [first, last, username], "seen": ms}` as the recorder writes it. */
export function nameRecordOf(raw: string): NameRecord {
  const stored = JSON.parse(raw) as
    | { name: [string, string | null, string | null]; seen: number }
    | NameRecord;
  if (!("name" in stored)) return stored;
  const [first_name, last_name, username] = stored.name;
  return { first_name, last_name, username, seen: stored.seen };
}

/** Everything Warden keeps about one member of a case, or undefined if never seen. */
export async function getMemberRecord(
  redis: Redis,
  caseId: string,
  userId: number,
): Promise<MemberRecord | undefined> {
  const [[, hash], [, names], [, status]] = (await redis
    .pipeline()
    .hgetall(collectKeys.member(caseId, userId))
    .lrange(collectKeys.memberNames(caseId, userId), 0, -1)
    .lrange(collectKeys.memberStatus(caseId, userId), 0, -1)
    .exec()) as [[unknown, Record<string, string>], [unknown, string[]], [unknown, string[]]];
  return memberRecordOf(userId, hash, names, status);
}

/** Builds a member record from its stored parts (shared by queries and export). */
export function memberRecordOf(
  userId: number,
  hash: Record<string, string>,
  names: string[],
  status: string[],
): MemberRecord | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  const counts: Record<string, number> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith("count:")) counts[field.slice(6)] = Number(value);
  }
  return {
    id: userId,
    ...(hash.profile ? { profile: JSON.parse(hash.profile) as MemberProfile } : {}),
    ...(hash.first_seen ? { firstSeen: Number(hash.first_seen) } : {}),
    ...(hash.last_seen ? { lastSeen: Number(hash.last_seen) } : {}),
    ...(hash.erased_at ? { erasedAt: Number(hash.erased_at) } : {}),
    counts,
    names: names.map(nameRecordOf),
    status: status.map((s) => JSON.parse(s) as StatusRecord),
  };
}

/** The last `count` messages one sender posted in a chat, newest last. */
export async function recentMessagesFrom(
  redis: Redis,
  caseId: string,
  chatId: number,
  senderId: number,
  count: number,
): Promise<StoredMessage[]> {
  const ids = (
    await redis.zrange(collectKeys.messagesFrom(caseId, chatId, senderId), -count, -1)
  ).map(Number);
  const found = await getMessages(redis, caseId, chatId, ids);
  return ids.flatMap((id) => {
    const m = found.get(id);
    return m ? [m] : [];
  });
}

export interface ChatCollection {
  messages: number;
  /** Messages the detector flagged as offers, in this chat. */
  offers: number;
  latestRoster?: { at: number; admins: number };
  latestCount?: { at: number; count: number };
}

export interface CaseCollection {
  members: number;
  events: number;
  privateChats: number;
  senderChats: number;
  files: number;
  evidence: number;
}

/** Counts for `/collect`: what the case holds, and what one chat contributed. */
export async function caseCollection(redis: Redis, caseId: string): Promise<CaseCollection> {
  const replies = (await redis
    .pipeline()
    .zcard(collectKeys.members(caseId))
    .xlen(collectKeys.events(caseId))
    .scard(collectKeys.privateChats(caseId))
    .hlen(collectKeys.senderChats(caseId))
    .hlen(collectKeys.files(caseId))
    .hlen(collectKeys.evidence(caseId))
    .exec()) as [unknown, number][];
  const [members, events, privateChats, senderChats, files, evidence] = replies.map(
    ([, n]) => n ?? 0,
  ) as [number, number, number, number, number, number];
  return { members, events, privateChats, senderChats, files, evidence };
}

export async function chatCollection(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<ChatCollection> {
  const [messages, offers, roster, count] = await Promise.all([
    redis.hlen(collectKeys.messages(caseId, chatId)),
    countOffersIn(redis, caseId, chatId),
    latestStreamEntry(redis, collectKeys.admins(caseId), "s", chatId),
    latestStreamEntry(redis, collectKeys.memberCounts(caseId), "c", chatId),
  ]);
  return {
    messages,
    offers,
    ...(roster
      ? { latestRoster: { at: roster.at as number, admins: (roster.admins as unknown[]).length } }
      : {}),
    ...(count ? { latestCount: { at: count.at as number, count: count.count as number } } : {}),
  };
}

async function countOffersIn(redis: Redis, caseId: string, chatId: number): Promise<number> {
  let n = 0;
  let cursor = "0";
  do {
    const [next, flat] = await redis.hscan(
      collectKeys.offers(caseId),
      cursor,
      "MATCH",
      `${chatId}:*`,
      "COUNT",
      500,
    );
    cursor = next;
    n += flat.length / 2;
  } while (cursor !== "0");
  return n;
}

/** The newest entry of a stream whose JSON field is about `chatId` (scanning back at most 1000). */
async function latestStreamEntry(
  redis: Redis,
  key: string,
  field: string,
  chatId: number,
): Promise<Record<string, unknown> | undefined> {
  const entries = await redis.xrevrange(key, "+", "-", "COUNT", 1000);
  for (const [, fields] of entries) {
    const i = fields.indexOf(field);
    const value = i >= 0 ? fields[i + 1] : undefined;
    if (!value) continue;
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (parsed.chat_id === chatId) return parsed;
  }
  return undefined;
}
