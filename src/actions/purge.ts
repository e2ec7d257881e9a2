import type { Message } from "grammy/types";
import { z } from "zod";
import { UsageError } from "../base/usage-error.ts";
import { albumEvidenceWrites, albumMembership, albumOf } from "../collect/albums.ts";
import { collectKeys } from "../collect/keys.ts";
import {
  countMessagesFrom,
  getMessages,
  getMessageVersions,
  messageIdsFrom,
  messageIdsSince,
  recentMessageIds,
  type StoredMessage,
} from "../collect/queries.ts";
import { GENERAL_TOPIC_ID } from "../collect/topics.ts";
import type { RedisWrite } from "../store/cases.ts";
import { actionKeys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { MemberRef, parseMemberRef, resolveMembers } from "./members-named.ts";
import { type ActionReport, runStep, type StepReport } from "./run.ts";
import { namedTopic } from "./topics.ts";

/**
 * Removes messages from a seized chat, evidence first: every message is
 * captured (from what the recorder kept) before any is deleted, and only
 * captured messages are deleted. Deletion goes in batches of 100, the most
 * deleteMessages takes. Telegram lets bots delete only messages under 48 hours
 * old; older ones are reported, not sent. An album is removed whole: any of
 * its items brings the others Warden has seen, into the same deleteMessages
 * call, and the album is kept as one unit of evidence besides its items.
 */

export type PurgeSelection =
  | { messageIds: number[] }
  | { senderId: number }
  | { last: number }
  /** A forum topic's messages that Telegram still lets bots delete (the last 48 hours). */
  | { topicId: number };

const BATCH = 100;
const DELETE_WINDOW_SECONDS = 48 * 3600;

export interface PurgeReport extends ActionReport {
  captured: number[];
  deleted: number[];
  tooOld: number[];
  notSeen: number[];
  failed: number[];
}

async function select(
  env: ActionEnv,
  scope: ActionScope,
  selection: PurgeSelection,
): Promise<number[]> {
  const { id: caseId } = scope.case;
  const { chatId } = scope.chat;
  if ("messageIds" in selection) return [...new Set(selection.messageIds)].sort((a, b) => a - b);
  if ("senderId" in selection) return messageIdsFrom(env.redis, caseId, chatId, selection.senderId);
  if ("topicId" in selection) return topicMessageIds(env, scope, selection.topicId);
  return recentMessageIds(env.redis, caseId, chatId, selection.last);
}

/**
 * A topic's messages of the last 48 hours: older ones Telegram does not let a
 * bot delete, so they are not looked for (the recorder indexes messages by
 * date, not by topic). General is every message not in another topic. A
 * topic's own service messages (created, edited, closed…) are left: Telegram
 * refuses to delete a topic's creation, and the others are the record of it.
 */
async function topicMessageIds(
  env: ActionEnv,
  scope: ActionScope,
  topicId: number,
): Promise<number[]> {
  const { id: caseId } = scope.case;
  const { chatId } = scope.chat;
  const since = (env.now?.() ?? Math.floor(Date.now() / 1000)) - DELETE_WINDOW_SECONDS;
  const recent = await messageIdsSince(env.redis, caseId, chatId, since);
  const stored = await getMessages(env.redis, caseId, chatId, recent);
  return recent.filter((id) => {
    const m = stored.get(id)?.message as Partial<Message> | undefined;
    if (!m || Object.keys(m).some((k) => k.startsWith("forum_topic_"))) return false;
    const thread = m.is_topic_message ? m.message_thread_id : undefined;
    return topicId === GENERAL_TOPIC_ID ? thread === undefined : thread === topicId;
  });
}

/**
 * The selection grown to whole albums: an item of an album brings every
 * other item Warden has seen of it (src/collect/albums.ts), except those a
 * purge already asked Telegram to delete (`deletionAsked`). Returns, per album touched,
 * every item seen, for the album's evidence unit.
 */
async function wholeAlbums(
  env: ActionEnv,
  caseId: string,
  chatId: number,
  selected: number[],
): Promise<{
  ids: number[];
  stored: Map<number, StoredMessage>;
  albums: Map<string, Map<number, StoredMessage>>;
}> {
  const stored = await getMessages(env.redis, caseId, chatId, selected);
  const albums = new Map<string, Map<number, StoredMessage>>();
  const groups = new Set(selected.flatMap((id) => albumOf(stored.get(id)) ?? []));
  if (groups.size === 0) return { ids: selected, stored, albums };
  const ids = new Set(selected);
  for (const group of groups) {
    const { items } = await albumMembership(env.redis, caseId, chatId, group);
    const others = items.filter((id) => !stored.has(id));
    const found = await getMessages(env.redis, caseId, chatId, others);
    const asked = others.length
      ? await env.redis.hmget(
          actionKeys.deletions(caseId),
          ...others.map((id) => `${chatId}:${id}`),
        )
      : [];
    others.forEach((id, i) => {
      const message = found.get(id);
      if (!message) return;
      stored.set(id, message);
      if (asked[i] === null) ids.add(id);
    });
    albums.set(
      group,
      new Map(
        items.flatMap((id) => (stored.has(id) ? [[id, stored.get(id) as StoredMessage]] : [])),
      ),
    );
  }
  return { ids: [...ids].sort((a, b) => a - b), stored, albums };
}

export async function purge(
  env: ActionEnv,
  scope: ActionScope,
  selection: PurgeSelection,
): Promise<PurgeReport> {
  const { id: caseId } = scope.case;
  const { chatId, alias } = scope.chat;
  const now = env.now?.() ?? Math.floor(Date.now() / 1000);
  const selected = await select(env, scope, selection);
  const { ids, stored, albums } = await wholeAlbums(env, caseId, chatId, selected);
  const notSeen = ids.filter((id) => !stored.has(id));
  const captured = ids.filter((id) => stored.has(id));
  const tooOld = captured.filter(
    (id) => now - (stored.get(id)?.message.date ?? now) >= DELETE_WINDOW_SECONDS,
  );
  const deletable = captured.filter((id) => !tooOld.includes(id));

  // Capture: one audit entry, applied atomically with the evidence copies, before any deletion.
  // An edited message is captured with every version, so an offer edited into a harmless
  // message (or the reverse) is kept as the members saw it each time.
  if (captured.length > 0) {
    const versions = await getMessageVersions(env.redis, caseId, chatId, captured);
    const evidenceKey = collectKeys.evidence(caseId);
    const writes: RedisWrite[] = captured.map((id) => [
      "HSETNX",
      evidenceKey,
      `${chatId}:${id}`,
      JSON.stringify({
        captured_at: Date.now(),
        reason: "purge",
        request: scope.idempotencyKey,
        ...stored.get(id),
        ...(versions.has(id) ? { versions: versions.get(id) } : {}),
      }),
    ]);
    for (const [mediaGroupId, items] of albums)
      writes.push(
        ...(await albumEvidenceWrites(
          env.redis,
          caseId,
          chatId,
          mediaGroupId,
          items,
          scope.idempotencyKey,
        )),
      );
    await env.audit.record(
      {
        case: caseId,
        actor: scope.actor,
        op: "collect",
        phase: "info",
        target: { chat_id: chatId, alias },
        params: {
          purpose: "evidence before purge",
          message_ids: captured,
          ...(albums.size ? { albums: [...albums.keys()] } : {}),
          request: scope.idempotencyKey,
        },
        ...(scope.updateIds?.length ? { update_ids: scope.updateIds } : {}),
        ...(scope.scenario ? { scenario: scope.scenario } : {}),
      },
      { writes },
    );
  }

  const steps: StepReport[] = [];
  const deleted: number[] = [];
  const failed: number[] = [];
  const batches = Math.ceil(deletable.length / BATCH);
  for (let b = 0; b < batches; b++) {
    const batch = deletable.slice(b * BATCH, (b + 1) * BATCH);
    const step = await runStep(env, scope, {
      op: "purge",
      step: `delete ${b + 1}/${batches}`,
      params: { message_ids: batch },
      perform: () => env.api.deleteMessages(chatId, batch),
      onIntent: [
        [
          "HSET",
          actionKeys.deletions(caseId),
          ...batch.flatMap((id) => [`${chatId}:${id}`, scope.idempotencyKey]),
        ],
      ],
    });
    steps.push(step);
    (step.status === "done" ? deleted : failed).push(...batch);
  }

  const parts = [
    `purge ${alias}: ${deleted.length} of ${ids.length} messages deleted, ${captured.length} kept as evidence`,
  ];
  if (tooOld.length)
    parts.push(
      `${tooOld.length} older than 48 hours (bots cannot delete them; ask the owner account): ${tooOld.join(", ")}`,
    );
  if (notSeen.length)
    parts.push(
      `${notSeen.length} never seen by Warden, so not captured and not deleted: ${notSeen.join(", ")}`,
    );
  for (const s of steps.filter((x) => x.status !== "done"))
    parts.push(`not done: ${s.step}: ${s.reason ?? s.status}`);
  return {
    op: "purge",
    alias,
    ok: failed.length === 0 && tooOld.length === 0 && notSeen.length === 0,
    steps,
    summary: parts.join("\n"),
    detail: { deleted: deleted.length, captured: captured.length, too_old: tooOld.length },
    captured,
    deleted,
    tooOld,
    notSeen,
    failed,
  };
}

/** Which messages, as people name them: by id, by sender (id or @username), or the last N. */
const Selection = z.union([
  z.strictObject({ messageIds: z.array(z.number().int().positive()).min(1).max(10_000) }),
  z.strictObject({ sender: MemberRef }),
  z.strictObject({ last: z.number().int().min(1).max(10_000) }),
  /** A forum topic, by title (or number; "General"), as Warden has seen it. */
  z.strictObject({ topic: z.string().min(1).max(128) }),
]);
type Selection = z.infer<typeof Selection>;

async function resolveSelection(
  env: ActionEnv,
  scope: ActionScope,
  selection: Selection,
): Promise<PurgeSelection> {
  if ("topic" in selection) return { topicId: (await namedTopic(env, scope, selection.topic)).id };
  if (!("sender" in selection)) return selection;
  const [senderId] = await resolveMembers(env, scope.case.id, [selection.sender]);
  return { senderId: senderId as number };
}

const PURGE_USAGE =
  "usage: /purge last N | /purge @user | /purge from <id> | /purge topic <title> | /purge <message ids or ranges> | reply /purge";

/** `3-7` → 3, 4, 5, 6, 7; single ids as they are. */
function messageIdsOf(words: string[]): number[] {
  return words.flatMap((word) => {
    const range = /^(\d+)-(\d+)$/.exec(word);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from || to - from >= 10_000)
        throw new UsageError(`"${word}" is not a sensible range of message ids`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    }
    if (!/^\d+$/.test(word)) throw new UsageError(PURGE_USAGE);
    return [Number(word)];
  });
}

/**
 * Whether a purge, by any request, asked Telegram to delete the message (its
 * delete step's intent is on the record, whatever the call's outcome). A
 * redelivered update, or one that a guard other than the one that removed it
 * would act on, then asks nothing more. Captured as evidence but not yet asked
 * (handling stopped in between) is not enough: that purge must go on.
 */
export async function deletionAsked(
  redis: Redis,
  caseId: string,
  chatId: number,
  messageId: number,
): Promise<boolean> {
  return (await redis.hexists(actionKeys.deletions(caseId), `${chatId}:${messageId}`)) === 1;
}

export const purgeAction = defineAction({
  name: "purge",
  op: "purge",
  rights: () => ["can_delete_messages"],
  args: z.strictObject({ selection: Selection }),
  approval: {
    kind: "above-threshold",
    what: "purging",
    async count(env, scope, { selection }) {
      if ("messageIds" in selection) return selection.messageIds.length;
      if ("last" in selection) return selection.last;
      if ("topic" in selection)
        return (await select(env, scope, await resolveSelection(env, scope, selection))).length;
      const [senderId] = await resolveMembers(env, scope.case.id, [selection.sender]);
      return countMessagesFrom(env.redis, scope.case.id, scope.chat.chatId, senderId as number);
    },
  },
  run: async (env, scope, { selection }) =>
    purge(env, scope, await resolveSelection(env, scope, selection)),
  command: {
    usage: "last N | @user | from <id> | topic <title> | <ids>",
    describe:
      "delete messages, evidence first: the last N, a member's, a forum topic's (last 48 hours), or by id",
    parse({ words, replyTo }) {
      const [first, second] = words;
      if (first === "last") {
        if (!second || !/^\d{1,5}$/.test(second) || Number(second) < 1 || Number(second) > 10_000)
          throw new UsageError(PURGE_USAGE);
        return { selection: { last: Number(second) } };
      }
      if (first === "topic") {
        const title = words.slice(1).join(" ");
        if (!title) throw new UsageError(PURGE_USAGE);
        return { selection: { topic: title } };
      }
      if (first === "from" || first?.startsWith("@")) {
        const who = first === "from" ? second : first;
        if (!who) throw new UsageError(PURGE_USAGE);
        return { selection: { sender: parseMemberRef(who) } };
      }
      if (!first && replyTo) return { selection: { messageIds: [replyTo.messageId] } };
      if (!first) throw new UsageError(PURGE_USAGE);
      return { selection: { messageIds: messageIdsOf(words) } };
    },
  },
});
