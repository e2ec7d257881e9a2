import { rm } from "node:fs/promises";
import type { Actor, AuditEntry } from "../audit/entry.ts";
import { eraseEntryPayloads, toRanges } from "../audit/erase.ts";
import type { AuditLog } from "../audit/record.ts";
import type { CaseRecord, RedisWrite } from "../store/cases.ts";
import { actionKeys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";
import { messageChats } from "./export/rows.ts";
import { messageKind } from "./facts.ts";
import { collectKeys } from "./keys.ts";
import type { StoredFile } from "./media.ts";
import { nameRecordOf, type StoredMessage } from "./queries.ts";

/**
 * Erasure at the end of a case's retention (`retentionDays` from the case
 * record): what was collected before `now - retention` loses its payload and
 * keeps its counts. Retention counts from when Warden collected a thing, not
 * from the date its author gave it: a message first seen (or last edited) ten
 * days after it was sent is kept ten days longer, open case or closed.
 *
 * - messages (every version, private ones too, evidence copies): replaced by
 *   a tombstone with ids, dates and kind; text, media, names gone;
 * - membership events and admin roster snapshots: deleted, counted by kind
 *   in `warden:{case}:erased`;
 * - members last seen before the cutoff: profile, name history, status
 *   history and username index gone; id, first/last seen and counts stay;
 * - an album kept as one unit of evidence (src/collect/albums.ts: its
 *   captions, file ids and hashes) and its membership hash: deleted with its
 *   items, and named in the erasure's entry;
 * - downloaded media files: deleted from disk;
 * - audit entries that name people without a role (refused commands): their
 *   payloads erased with `eraseEntryPayloads`, which keeps the log verifiable
 *   and never erases the log of consultation and disclosure.
 *
 * Each batch of erasures is one `erase` entry in the audit log, written in the
 * same atomic step as the erasure itself, with the actor who ran it. Running
 * it again erases nothing twice. A dry run reads the same batches and writes
 * nothing: not the erasures, not their entries, not a file on disk.
 */

export interface RetentionDeps {
  redis: Redis;
  audit: AuditLog;
  /** Who runs the retention: the erase entries name them. */
  actor: Actor;
}

export interface RetentionOptions {
  /**
   * The day retention is counted from. The CLI passes today for a real run
   * and lets an operator choose a later day only for a dry run; erasing
   * early is never a command.
   */
  now: Date;
  /** Count what would be erased; write nothing. */
  dryRun?: boolean;
}

/** What one run of `runRetention` would erase, or did, and how much. */
interface Run extends RetentionDeps {
  dryRun: boolean;
}

export interface RetentionReport {
  caseId: string;
  dryRun: boolean;
  cutoff: string;
  messages: number;
  events: number;
  admins: number;
  members: number;
  files: number;
  auditEntries: number;
}

const BATCH = 200;

export function retentionCutoff(record: CaseRecord, now: Date): number {
  return now.getTime() - record.retentionDays * 86_400_000;
}

/** Writes one batch of erasures with its `erase` entry, in one atomic step; in a dry run, nothing. */
async function erase(
  deps: Run,
  caseId: string,
  params: Record<string, unknown>,
  writes: RedisWrite[],
): Promise<AuditEntry | undefined> {
  if (deps.dryRun) return undefined;
  return deps.audit.record(
    { case: caseId, actor: deps.actor, op: "erase", phase: "info", params },
    { writes },
  );
}

/** When Warden last received a version of a message: its last edit, or the message itself. */
function lastReceived(stored: StoredMessage, lastVersion: string | null | undefined): number {
  if (!lastVersion) return stored.received_at;
  const version = JSON.parse(lastVersion) as Partial<StoredMessage>;
  return Math.max(stored.received_at, version.received_at ?? 0);
}

async function eraseMessages(deps: Run, caseId: string, cutoff: number, reason: string) {
  let erased = 0;
  // A message cannot be received before it was sent, so its date is a first sieve; what decides is
  // when Warden received it and its last edit.
  const cutoffSeconds = Math.floor(cutoff / 1000);
  for (const chatId of await messageChats(deps.redis, caseId)) {
    const msgsKey = collectKeys.messages(caseId, chatId);
    const dates = collectKeys.messageDates(caseId, chatId);
    let offset = 0;
    for (;;) {
      const ids = await deps.redis.zrangebyscore(
        dates,
        "-inf",
        `(${cutoffSeconds}`,
        "LIMIT",
        offset,
        BATCH,
      );
      if (ids.length === 0) break;
      offset += ids.length;
      const raw = await deps.redis.hmget(msgsKey, ...ids);
      const reads = deps.redis.pipeline();
      for (const id of ids)
        reads.lindex(collectKeys.messageVersions(caseId, chatId, Number(id)), -1);
      const lastVersions = ((await reads.exec()) ?? []).map(([, v]) => v as string | null);
      const writes: RedisWrite[] = [];
      const done: number[] = [];
      const albums = new Set<string>();
      raw.forEach((value, i) => {
        const id = ids[i] as string;
        if (!value) return;
        const stored = JSON.parse(value) as StoredMessage;
        if (stored.erased_at !== undefined) return;
        if (lastReceived(stored, lastVersions[i]) >= cutoff) return;
        const m = stored.message;
        const tombstone = {
          update_id: stored.update_id,
          received_at: stored.received_at,
          edited: stored.edited,
          erased_at: Date.now(),
          ...(stored.offer ? { offer: stored.offer } : {}),
          message: {
            message_id: m.message_id,
            date: m.date,
            chat: m.chat,
            ...(m.from ? { from: { id: m.from.id } } : {}),
            ...(m.sender_chat ? { sender_chat: { id: m.sender_chat.id } } : {}),
            kind: messageKind(m),
          },
        };
        writes.push(
          ["HSET", msgsKey, id, JSON.stringify(tombstone)],
          ["DEL", collectKeys.messageVersions(caseId, chatId, Number(id))],
          ["HDEL", collectKeys.evidence(caseId), `${chatId}:${id}`],
          ["HDEL", actionKeys.deletions(caseId), `${chatId}:${id}`],
        );
        const album = (m as { media_group_id?: string }).media_group_id;
        // The album's unit repeats its items' captions: it goes with the first of them erased
        // (Telegram delivers an album's items within moments, so they fall in the same run).
        if (album !== undefined && !albums.has(album)) {
          albums.add(album);
          writes.push(
            ["HDEL", collectKeys.evidence(caseId), `${chatId}:album:${album}`],
            ["DEL", collectKeys.album(caseId, chatId, album)],
          );
        }
        done.push(Number(id));
      });
      if (done.length === 0) continue;
      writes.push(["HINCRBY", collectKeys.erased(caseId), "messages", done.length]);
      await erase(
        deps,
        caseId,
        {
          what: "messages",
          chat_id: chatId,
          message_ids: toRanges(done),
          count: done.length,
          ...(albums.size ? { albums: [...albums] } : {}),
          reason,
        },
        writes,
      );
      erased += done.length;
    }
  }
  return erased;
}

/** Deletes stream entries older than the cutoff (stream ids are insertion times), counting them by kind. */
async function eraseStream(
  deps: Run,
  caseId: string,
  key: string,
  what: string,
  kindOf: (fields: string[]) => string,
  cutoff: number,
  reason: string,
) {
  let erased = 0;
  // Paged from after the last id read: a dry run deletes nothing, so the first page would come back.
  let start = "-";
  for (;;) {
    const page = await deps.redis.xrange(key, start, `${cutoff - 1}`, "COUNT", BATCH);
    if (page.length === 0) return erased;
    start = `(${page[page.length - 1]?.[0]}`;
    const counts = new Map<string, number>();
    for (const [, fields] of page) {
      const kind = `${what}:${kindOf(fields)}`;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    const writes: RedisWrite[] = [["XDEL", key, ...page.map(([id]) => id)]];
    for (const [kind, n] of counts) writes.push(["HINCRBY", collectKeys.erased(caseId), kind, n]);
    await erase(
      deps,
      caseId,
      {
        what,
        from_id: page[0]?.[0],
        to_id: page[page.length - 1]?.[0],
        count: page.length,
        reason,
      },
      writes,
    );
    erased += page.length;
  }
}

async function eraseMembers(deps: Run, caseId: string, cutoff: number, reason: string) {
  let erased = 0;
  const membersKey = collectKeys.members(caseId);
  for (let start = 0; ; start += BATCH) {
    const ids = await deps.redis.zrange(membersKey, start, start + BATCH - 1);
    if (ids.length === 0) return erased;
    const pipeline = deps.redis.pipeline();
    for (const id of ids) {
      pipeline.hmget(collectKeys.member(caseId, Number(id)), "last_seen", "erased_at");
      pipeline.lrange(collectKeys.memberNames(caseId, Number(id)), 0, -1);
    }
    const replies = (await pipeline.exec()) ?? [];
    const writes: RedisWrite[] = [];
    const done: number[] = [];
    for (const [i, id] of ids.entries()) {
      const [lastSeen, erasedAt] = (replies[2 * i]?.[1] ?? []) as (string | null)[];
      if (erasedAt || lastSeen === null || lastSeen === undefined || Number(lastSeen) >= cutoff)
        continue;
      const userId = Number(id);
      const usernames = ((replies[2 * i + 1]?.[1] ?? []) as string[])
        .map((n) => nameRecordOf(n).username)
        .filter((u): u is string => Boolean(u))
        .map((u) => u.toLowerCase());
      const memberKey = collectKeys.member(caseId, userId);
      writes.push(
        ["HDEL", memberKey, "profile", "name_sig"],
        ["HSET", memberKey, "erased_at", Date.now()],
        ["DEL", collectKeys.memberNames(caseId, userId)],
        ["DEL", collectKeys.memberStatus(caseId, userId)],
      );
      // A username now used by someone else points to them: remove only entries naming this member.
      const owners = usernames.length
        ? await deps.redis.hmget(collectKeys.usernames(caseId), ...usernames)
        : [];
      usernames.forEach((username, k) => {
        if (owners[k] === String(userId))
          writes.push(["HDEL", collectKeys.usernames(caseId), username]);
      });
      done.push(userId);
    }
    if (done.length === 0) continue;
    writes.push(["HINCRBY", collectKeys.erased(caseId), "members", done.length]);
    await erase(deps, caseId, { what: "members", count: done.length, reason }, writes);
    erased += done.length;
  }
}

async function eraseFiles(deps: Run, caseId: string, cutoff: number, reason: string) {
  const filesKey = collectKeys.files(caseId);
  let erased = 0;
  let cursor = "0";
  do {
    const [next, flat] = await deps.redis.hscan(filesKey, cursor, "COUNT", BATCH);
    cursor = next;
    const writes: RedisWrite[] = [];
    const ids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const file = JSON.parse(flat[i + 1] as string) as StoredFile;
      if (file.status === "erased" || file.at >= cutoff) continue;
      if (file.path && !deps.dryRun) await rm(file.path, { force: true });
      writes.push([
        "HSET",
        filesKey,
        flat[i] as string,
        JSON.stringify({ ...file, status: "erased", path: undefined, erased_at: Date.now() }),
      ]);
      ids.push(flat[i] as string);
    }
    if (ids.length > 0) {
      writes.push(["HINCRBY", collectKeys.erased(caseId), "files", ids.length]);
      await erase(deps, caseId, { what: "media files", count: ids.length, reason }, writes);
      erased += ids.length;
    }
  } while (cursor !== "0");
  return erased;
}

/** Runs retention for one case as of `opts.now`, or with `dryRun` counts what it would erase. */
export async function runRetention(
  retentionDeps: RetentionDeps,
  record: CaseRecord,
  opts: RetentionOptions,
): Promise<RetentionReport> {
  const dryRun = opts.dryRun === true;
  const deps: Run = { ...retentionDeps, dryRun };
  const caseId = record.id;
  const cutoff = retentionCutoff(record, opts.now);
  const reason = `retention of ${record.retentionDays} days ended (cutoff ${new Date(cutoff).toISOString()})`;
  const messages = await eraseMessages(deps, caseId, cutoff, reason);
  const events = await eraseStream(
    deps,
    caseId,
    collectKeys.events(caseId),
    "events",
    (fields) => String((JSON.parse(fields[1] ?? "{}") as { kind?: string }).kind ?? "unknown"),
    cutoff,
    reason,
  );
  const admins = await eraseStream(
    deps,
    caseId,
    collectKeys.admins(caseId),
    "admin-snapshots",
    () => "roster",
    cutoff,
    reason,
  );
  const members = await eraseMembers(deps, caseId, cutoff, reason);
  const files = await eraseFiles(deps, caseId, cutoff, reason);
  const audit = await eraseEntryPayloads(
    deps.audit,
    caseId,
    (e) => e.actor.kind === "member" && Date.parse(e.ts) < cutoff,
    reason,
    deps.actor,
    { dryRun },
  );
  return {
    caseId,
    dryRun,
    cutoff: new Date(cutoff).toISOString(),
    messages,
    events,
    admins,
    members,
    files,
    auditEntries: audit.erased.length,
  };
}
