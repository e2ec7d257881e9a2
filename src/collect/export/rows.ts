import { collectShapes } from "../../store/layout/collect.ts";
import type { Redis } from "../../store/redis.ts";
import { caseKeysOf } from "../../store/scan.ts";
import { messageKind } from "../facts.ts";
import { collectKeys } from "../keys.ts";
import type { StoredMessage } from "../queries.ts";
import { memberRecordOf } from "../queries.ts";

/**
 * The rows of each export, read from Redis in pages (ZRANGE by index, SCAN,
 * XRANGE with COUNT), so an export of millions of rows holds one page in
 * memory at a time. Each row carries the time span it is about, from which
 * the manifest's time range is taken.
 */

export const EXPORT_KINDS = ["members", "messages", "events", "admins"] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface ExportRow {
  /** The time span the row is about (ms), for the manifest's time range. */
  from?: number;
  to?: number;
  values: Record<string, unknown>;
}

/** Column order for CSV; JSON lines carry the same fields. */
export const COLUMNS: Record<ExportKind, readonly string[]> = {
  members: [
    "user_id",
    "is_bot",
    "first_name",
    "last_name",
    "username",
    "language_code",
    "is_premium",
    "first_seen",
    "last_seen",
    "messages",
    "offers",
    "counts",
    "names",
    "status",
    "erased_at",
  ],
  messages: [
    "chat_id",
    "message_id",
    "version",
    "update_id",
    "received_at",
    "date",
    "edit_date",
    "sender_id",
    "sender_chat_id",
    "sender_name",
    "author_signature",
    "kind",
    "text",
    "caption",
    "offer",
    "offer_rules",
    "forward_origin",
    "reply_to_message_id",
    "via_bot",
    "attribution",
    "erased_at",
    "message",
  ],
  events: ["event_id", "kind", "chat_id", "date", "user_id", "by", "update_id", "details"],
  admins: [
    "snapshot_id",
    "chat_id",
    "taken_at",
    "reason",
    "user_id",
    "first_name",
    "last_name",
    "username",
    "is_bot",
    "status",
    "custom_title",
    "is_anonymous",
    "rights",
  ],
};

const PAGE = 500;

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** How many rows an export will have, roughly (for the progress bar). */
export async function expectedRows(
  redis: Redis,
  caseId: string,
  kind: ExportKind,
): Promise<number> {
  switch (kind) {
    case "members":
      return redis.zcard(collectKeys.members(caseId));
    case "events":
      return redis.xlen(collectKeys.events(caseId));
    case "admins":
      return redis.xlen(collectKeys.admins(caseId));
    case "messages": {
      let n = 0;
      for (const chatId of await messageChats(redis, caseId))
        n += await redis.zcard(collectKeys.messageDates(caseId, chatId));
      return n;
    }
  }
}

export async function* memberRows(redis: Redis, caseId: string): AsyncGenerator<ExportRow> {
  const key = collectKeys.members(caseId);
  for (let start = 0; ; start += PAGE) {
    const ids = await redis.zrange(key, start, start + PAGE - 1);
    if (ids.length === 0) return;
    const pipeline = redis.pipeline();
    for (const id of ids) {
      pipeline.hgetall(collectKeys.member(caseId, Number(id)));
      pipeline.lrange(collectKeys.memberNames(caseId, Number(id)), 0, -1);
      pipeline.lrange(collectKeys.memberStatus(caseId, Number(id)), 0, -1);
    }
    const replies = (await pipeline.exec()) ?? [];
    for (const [i, id] of ids.entries()) {
      const record = memberRecordOf(
        Number(id),
        replies[3 * i]?.[1] as Record<string, string>,
        replies[3 * i + 1]?.[1] as string[],
        replies[3 * i + 2]?.[1] as string[],
      );
      if (!record) continue;
      const p = record.profile;
      const messages = Object.entries(record.counts)
        .filter(([k]) => k !== "offers" && k !== "edits" && k !== "reactions")
        .reduce((sum, [, v]) => sum + v, 0);
      yield {
        ...(record.firstSeen !== undefined ? { from: record.firstSeen } : {}),
        ...(record.lastSeen !== undefined ? { to: record.lastSeen } : {}),
        values: {
          user_id: record.id,
          is_bot: p?.is_bot,
          first_name: p?.first_name,
          last_name: p?.last_name,
          username: p?.username,
          language_code: p?.language_code,
          is_premium: p?.is_premium,
          first_seen: iso(record.firstSeen),
          last_seen: iso(record.lastSeen),
          messages,
          offers: record.counts.offers ?? 0,
          counts: record.counts,
          names: record.names.map((n) => ({ ...n, seen: iso(n.seen) })),
          status: record.status,
          erased_at: iso(record.erasedAt),
        },
      };
    }
  }
}

/** Every chat of the case with messages kept: seized chats, earlier ids of migrated ones, private chats. */
export async function messageChats(redis: Redis, caseId: string): Promise<number[]> {
  const found = await caseKeysOf(redis, collectShapes.messageDates, caseId);
  return [...new Set(found.map(({ holes }) => holes.chat))].sort((a, b) => a - b);
}

function messageValues(chatId: number, version: number, s: StoredMessage): ExportRow {
  const m = s.message;
  const sender = m.sender_chat
    ? "title" in m.sender_chat
      ? m.sender_chat.title
      : undefined
    : m.from
      ? [m.from.first_name, m.from.last_name].filter(Boolean).join(" ")
      : undefined;
  return {
    from: m.date * 1000,
    to: m.date * 1000,
    values: {
      chat_id: chatId,
      message_id: m.message_id,
      version,
      update_id: s.update_id,
      received_at: iso(s.received_at),
      date: iso(m.date * 1000),
      edit_date: m.edit_date === undefined ? undefined : iso(m.edit_date * 1000),
      sender_id: m.from?.id,
      sender_chat_id: m.sender_chat?.id,
      sender_name: sender,
      author_signature: m.author_signature,
      kind: s.erased_at ? undefined : messageKind(m),
      text: m.text,
      caption: m.caption,
      offer: s.offer !== undefined,
      offer_rules: s.offer?.rules.join(" "),
      forward_origin: m.forward_origin,
      reply_to_message_id: m.reply_to_message?.message_id,
      via_bot: m.via_bot?.id,
      attribution: s.attribution,
      erased_at: iso(s.erased_at),
      message: m,
    },
  };
}

export async function* messageRows(redis: Redis, caseId: string): AsyncGenerator<ExportRow> {
  for (const chatId of await messageChats(redis, caseId)) {
    const dates = collectKeys.messageDates(caseId, chatId);
    for (let start = 0; ; start += PAGE) {
      const ids = await redis.zrange(dates, start, start + PAGE - 1);
      if (ids.length === 0) break;
      const pipeline = redis.pipeline();
      pipeline.hmget(collectKeys.messages(caseId, chatId), ...ids);
      for (const id of ids)
        pipeline.lrange(collectKeys.messageVersions(caseId, chatId, Number(id)), 0, -1);
      const replies = (await pipeline.exec()) ?? [];
      const stored = (replies[0]?.[1] ?? []) as (string | null)[];
      for (const [i, raw] of stored.entries()) {
        if (!raw) continue;
        yield messageValues(chatId, 0, JSON.parse(raw) as StoredMessage);
        const versions = (replies[i + 1]?.[1] ?? []) as string[];
        for (const [v, later] of versions.entries())
          yield messageValues(chatId, v + 1, JSON.parse(later) as StoredMessage);
      }
    }
  }
}

async function* streamEntries(
  redis: Redis,
  key: string,
): AsyncGenerator<[id: string, fields: string[]]> {
  let start = "-";
  for (;;) {
    const page = await redis.xrange(key, start, "+", "COUNT", PAGE);
    for (const entry of page) yield entry;
    if (page.length < PAGE) return;
    start = `(${page[page.length - 1]?.[0]}`;
  }
}

export async function* eventRows(redis: Redis, caseId: string): AsyncGenerator<ExportRow> {
  for await (const [id, fields] of streamEntries(redis, collectKeys.events(caseId))) {
    const e = JSON.parse(fields[1] ?? "{}") as Record<string, unknown>;
    const { kind, chat_id, date, user_id, by, update_id, ...details } = e;
    const at = typeof date === "number" ? date * 1000 : Number(id.split("-")[0]);
    yield {
      from: at,
      to: at,
      values: {
        event_id: id,
        kind,
        chat_id,
        date: typeof date === "number" ? iso(date * 1000) : undefined,
        user_id,
        by,
        update_id,
        details,
      },
    };
  }
}

export async function* adminRows(redis: Redis, caseId: string): AsyncGenerator<ExportRow> {
  for await (const [id, fields] of streamEntries(redis, collectKeys.admins(caseId))) {
    const s = JSON.parse(fields[1] ?? "{}") as {
      chat_id: number;
      at: number;
      reason: string;
      admins: Record<string, unknown>[];
    };
    for (const a of s.admins) {
      const {
        user_id,
        first_name,
        last_name,
        username,
        is_bot,
        status,
        custom_title,
        is_anonymous,
        ...rights
      } = a;
      yield {
        from: s.at,
        to: s.at,
        values: {
          snapshot_id: id,
          chat_id: s.chat_id,
          taken_at: iso(s.at),
          reason: s.reason,
          user_id,
          first_name,
          last_name,
          username,
          is_bot,
          status,
          custom_title,
          is_anonymous,
          rights,
        },
      };
    }
  }
}

export function rowsOf(redis: Redis, caseId: string, kind: ExportKind): AsyncGenerator<ExportRow> {
  switch (kind) {
    case "members":
      return memberRows(redis, caseId);
    case "messages":
      return messageRows(redis, caseId);
    case "events":
      return eventRows(redis, caseId);
    case "admins":
      return adminRows(redis, caseId);
  }
}
