import type { Redis } from "ioredis";
import { keys } from "./keys.ts";

/**
 * The case registry: cases, the roles people hold in them, their control room
 * and the chats seized for them. This module only reads and describes writes as
 * data; the writes themselves go through the audit log's `record`, which applies
 * them atomically with the entry that explains them.
 */

export const ROLES = ["operator", "supervisor", "auditor"] as const;
export type Role = (typeof ROLES)[number];

export type CaseStatus = "open" | "closed";

export interface CaseRecord {
  id: string;
  title: string;
  /** The legal basis, such as the public prosecutor's order number. */
  authority: string;
  purpose: string;
  retentionDays: number;
  createdAt: string;
  createdBy: string;
  status: CaseStatus;
  closedAt?: string;
  closedBy?: string;
  /** Telegram chat id of the case's control room, where operators give commands. */
  controlRoom?: number;
  /**
   * What the recorder keeps of each message (data minimisation), set with
   * `warden case collection`; absent means the default (see src/collect/minimise.ts).
   */
  collection?: { keep: string[] };
  /**
   * Acting on more members or messages than this at once needs a supervisor's
   * approval in this case; absent means the bot's default (20).
   */
  approvalThreshold?: number;
}

export interface RoleGrant {
  userId: number;
  role: Role;
  name: string;
  grantedAt: string;
  grantedBy: string;
}

export interface SeizedChat {
  chatId: number;
  alias: string;
  addedAt: string;
  addedBy: string;
}

/** One Redis command as data, applied by the audit log in the same atomic step as its entry. */
export type RedisWrite = readonly [command: string, key: string, ...args: (string | number)[]];

/** A condition checked atomically before a mutation; if it does not hold, nothing is written. */
export interface Precondition {
  key: string;
  /** Hash field to test; without it the key itself is tested. */
  field?: string;
  /** True: must exist. False: must not exist. */
  exists: boolean;
  /**
   * With `exists: true`: the value must be this one — the string key's, the
   * hash field's, or with `listHead` the first element of the list.
   */
  equals?: string;
  /** `equals` compares the list's first element (LINDEX 0). */
  listHead?: boolean;
  /** Shown to the person who asked, so it says what to do next. */
  message: string;
}

export async function getCase(redis: Redis, caseId: string): Promise<CaseRecord | undefined> {
  const raw = await redis.hget(keys.caseMeta(caseId), "record");
  return raw ? (JSON.parse(raw) as CaseRecord) : undefined;
}

export async function listCases(redis: Redis): Promise<CaseRecord[]> {
  const ids = (await redis.smembers(keys.caseIndex())).sort();
  const records = await Promise.all(ids.map((id) => getCase(redis, id)));
  return records.filter((r): r is CaseRecord => r !== undefined);
}

export async function listRoles(redis: Redis, caseId: string): Promise<RoleGrant[]> {
  const all = await redis.hgetall(keys.caseRoles(caseId));
  return Object.values(all)
    .map((v) => JSON.parse(v) as RoleGrant)
    .sort((a, b) => a.userId - b.userId);
}

export async function getRole(
  redis: Redis,
  caseId: string,
  userId: number,
): Promise<RoleGrant | undefined> {
  const raw = await redis.hget(keys.caseRoles(caseId), String(userId));
  return raw ? (JSON.parse(raw) as RoleGrant) : undefined;
}

export async function listChats(redis: Redis, caseId: string): Promise<SeizedChat[]> {
  const all = await redis.hgetall(keys.caseChats(caseId));
  return Object.values(all)
    .map((v) => JSON.parse(v) as SeizedChat)
    .sort((a, b) => a.alias.localeCompare(b.alias));
}

/** Which case a chat is seized for, if any. */
export async function caseOfChat(redis: Redis, chatId: number): Promise<string | undefined> {
  return (await redis.hget(keys.chatIndex(), String(chatId))) ?? undefined;
}

export async function chatByAlias(
  redis: Redis,
  caseId: string,
  alias: string,
): Promise<SeizedChat | undefined> {
  const chatId = await redis.hget(keys.caseAliases(caseId), alias);
  if (chatId === null) return undefined;
  const raw = await redis.hget(keys.caseChats(caseId), chatId);
  return raw ? (JSON.parse(raw) as SeizedChat) : undefined;
}

/** Which case a control room belongs to. */
export async function caseOfControlRoom(redis: Redis, chatId: number): Promise<string | undefined> {
  return (await redis.hget(keys.controlRoomIndex(), String(chatId))) ?? undefined;
}

// --- writes, as data -------------------------------------------------------

/**
 * A closed case keeps its record and also a `closed` field beside it, which
 * an atomic step can test without reading JSON: every action's intent is
 * written only while that field is absent (`caseIsOpen`), so nothing can act
 * in a case once its close is recorded, whatever was loaded before.
 */
export function writeCase(record: CaseRecord): RedisWrite[] {
  return [
    ["HSET", keys.caseMeta(record.id), "record", JSON.stringify(record)],
    ...(record.status === "closed"
      ? [["HSET", keys.caseMeta(record.id), "closed", record.closedAt ?? "1"] as const]
      : []),
    ["SADD", keys.caseIndex(), record.id],
  ];
}

/** What an action's step needs to hold as it is recorded: its case is not closed. */
export function caseIsOpen(caseId: string): Precondition {
  return {
    key: keys.caseMeta(caseId),
    field: "closed",
    exists: false,
    message: caseClosedMessage(caseId),
  };
}

export function caseClosedMessage(caseId: string): string {
  return `case ${caseId} is closed: nothing acts in it any more`;
}

export function writeRole(caseId: string, grant: RoleGrant): RedisWrite[] {
  return [["HSET", keys.caseRoles(caseId), String(grant.userId), JSON.stringify(grant)]];
}

export function deleteRole(caseId: string, userId: number): RedisWrite[] {
  return [["HDEL", keys.caseRoles(caseId), String(userId)]];
}

export function writeChat(caseId: string, chat: SeizedChat): RedisWrite[] {
  return [
    ["HSET", keys.caseChats(caseId), String(chat.chatId), JSON.stringify(chat)],
    ["HSET", keys.caseAliases(caseId), chat.alias, String(chat.chatId)],
    ["HSET", keys.chatIndex(), String(chat.chatId), caseId],
  ];
}

export function writeControlRoom(record: CaseRecord, chatId: number): RedisWrite[] {
  const writes: RedisWrite[] = [...writeCase({ ...record, controlRoom: chatId })];
  if (record.controlRoom !== undefined) {
    writes.push(["HDEL", keys.controlRoomIndex(), String(record.controlRoom)]);
  }
  writes.push(["HSET", keys.controlRoomIndex(), String(chatId), record.id]);
  return writes;
}
