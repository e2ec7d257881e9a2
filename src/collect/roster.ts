import type { ChatMember, File as TgFile } from "grammy/types";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import { collectKeys } from "./keys.ts";

/**
 * Admin roster snapshots and the member-count timeline. A bot cannot list a
 * group's members, but it can ask who the admins are and how many members
 * there are: the roster is read when a chat is first seen seized and whenever
 * a member update shows an admin change; the count whenever membership
 * changes, at most once a minute per chat. Both run beside the update, never
 * in front of it, and each snapshot is a `collect` entry in the audit log.
 */

/** The Bot API calls collection makes (grammY's `bot.api` has them). */
export interface CollectApi {
  getChatAdministrators(chatId: number): Promise<ChatMember[]>;
  getChatMemberCount(chatId: number): Promise<number>;
  getFile(fileId: string): Promise<TgFile>;
}

export interface RosterDeps {
  api: CollectApi;
  audit: AuditLog;
  logger: Logger;
  now: () => number;
  /** Least time between two member counts of one chat. */
  countIntervalMs?: number;
}

export interface Roster {
  /** Reads the roster (and count) now, unless a snapshot exists and `force` is false. */
  snapshot(caseId: string, chatId: number, reason: string, force: boolean): Promise<void>;
  /** Reads the member count soon, at most once per interval per chat. */
  count(caseId: string, chatId: number, reason: string): void;
  close(): Promise<void>;
}

const ACTOR = { kind: "system" as const, name: "recorder" };
const RETRY_MS = 5 * 60_000;

/** What a roster entry keeps: who, their status, title, anonymity and rights. */
export function rosterEntry(member: ChatMember): Record<string, unknown> {
  const { user, status, ...rest } = member;
  return {
    user_id: user.id,
    is_bot: user.is_bot,
    first_name: user.first_name,
    ...(user.last_name !== undefined ? { last_name: user.last_name } : {}),
    ...(user.username !== undefined ? { username: user.username } : {}),
    status,
    ...rest,
  };
}

export function createRoster(deps: RosterDeps): Roster {
  const interval = deps.countIntervalMs ?? 60_000;
  const chains = new Map<number, Promise<void>>();
  const known = new Set<number>();
  // Chats whose roster could not be read (the bot is no admin there yet): tried again after a while,
  // not on every update.
  const tried = new Map<number, number>();
  const lastCount = new Map<number, number>();
  const timers = new Map<number, NodeJS.Timeout>();
  let closed = false;

  /** One job at a time per chat, so snapshots of one chat never interleave. */
  function serial(chatId: number, job: () => Promise<void>): Promise<void> {
    const next = (chains.get(chatId) ?? Promise.resolve()).then(job).catch((err: Error) => {
      deps.logger.warn(
        { chat: chatId, err: err.message },
        "could not read the admin roster or member count; will try again on the next change",
      );
    });
    chains.set(chatId, next);
    return next;
  }

  async function take(caseId: string, chatId: number, reason: string, force: boolean) {
    if (!force) {
      if (known.has(chatId)) return;
      const exists = await deps.audit.redis.hexists(
        collectKeys.adminsLatest(caseId),
        String(chatId),
      );
      if (exists) {
        known.add(chatId);
        return;
      }
    }
    const [admins, count] = await Promise.all([
      deps.api.getChatAdministrators(chatId),
      deps.api.getChatMemberCount(chatId).catch(() => undefined),
    ]);
    const at = deps.now();
    const snapshot = { chat_id: chatId, at, reason, admins: admins.map(rosterEntry) };
    await deps.audit.record(
      {
        case: caseId,
        actor: ACTOR,
        op: "collect",
        phase: "info",
        target: { chat_id: chatId, user_ids: admins.map((a) => a.user.id) },
        params: {
          what: "admin roster",
          reason,
          admins: admins.length,
          ...(count !== undefined ? { member_count: count } : {}),
        },
      },
      {
        writes: [
          ["XADD", collectKeys.admins(caseId), "*", "s", JSON.stringify(snapshot)],
          ["HSET", collectKeys.adminsLatest(caseId), String(chatId), at],
          ...(count !== undefined
            ? ([
                [
                  "XADD",
                  collectKeys.memberCounts(caseId),
                  "*",
                  "c",
                  JSON.stringify({ chat_id: chatId, at, count, reason }),
                ],
              ] as const)
            : []),
        ],
      },
    );
    known.add(chatId);
  }

  async function countNow(caseId: string, chatId: number, reason: string) {
    const count = await deps.api.getChatMemberCount(chatId);
    const at = deps.now();
    lastCount.set(chatId, at);
    await deps.audit.record(
      {
        case: caseId,
        actor: ACTOR,
        op: "collect",
        phase: "info",
        target: { chat_id: chatId },
        params: { what: "member count", reason, member_count: count },
      },
      {
        writes: [
          [
            "XADD",
            collectKeys.memberCounts(caseId),
            "*",
            "c",
            JSON.stringify({ chat_id: chatId, at, count, reason }),
          ],
        ],
      },
    );
  }

  return {
    snapshot(caseId, chatId, reason, force) {
      if (closed) return Promise.resolve();
      if (!force) {
        if (known.has(chatId)) return Promise.resolve();
        const last = tried.get(chatId);
        if (last !== undefined && deps.now() - last < RETRY_MS) return Promise.resolve();
      }
      tried.set(chatId, deps.now());
      return serial(chatId, () => take(caseId, chatId, reason, force));
    },
    count(caseId, chatId, reason) {
      if (closed || timers.has(chatId)) return;
      const wait = Math.max(0, (lastCount.get(chatId) ?? -Infinity) + interval - deps.now());
      const timer = setTimeout(() => {
        timers.delete(chatId);
        void serial(chatId, () => countNow(caseId, chatId, reason));
      }, wait);
      timer.unref();
      timers.set(chatId, timer);
    },
    async close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.all(chains.values());
    },
  };
}
