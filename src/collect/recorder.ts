import type { Context, MiddlewareFn } from "grammy";
import type { Update } from "grammy/types";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import { caseOfChat } from "../store/cases.ts";
import { keys } from "../store/keys.ts";
import { factsOf } from "./facts.ts";
import { persistFacts } from "./persist.ts";

/**
 * The first middleware of every update: what comes from a seized chat is
 * persisted (one atomic step per update) before any command or scenario sees
 * it. If Redis is unreachable the update waits and is retried rather than
 * dropped; a redelivered update changes nothing.
 *
 * Each persisted update is also queued, in the same atomic step, for the
 * audit log's batched `collect` entries, so a crash cannot lose the record of
 * a collection.
 */

export interface RecorderDeps {
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  now?: () => number;
  /** How long to wait between attempts while Redis is unreachable. */
  retryDelayMs?: number;
  /** Flush the collect queue into the audit log after this many updates or this many ms. */
  batchSize?: number;
  batchMs?: number;
}

export interface Recorder {
  middleware: MiddlewareFn<Context>;
  /** Writes what is queued into the audit log now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The chat an update belongs to, for the updates Warden collects. */
export function chatOfUpdate(update: Update): number | undefined {
  return (
    update.message?.chat.id ??
    update.edited_message?.chat.id ??
    update.chat_member?.chat.id ??
    update.my_chat_member?.chat.id ??
    update.chat_join_request?.chat.id ??
    update.message_reaction?.chat.id
  );
}

export function pendingCollectKey(caseId: string): string {
  return keys.casePart(caseId, "collect:pending");
}

export function createRecorder(deps: RecorderDeps): Recorder {
  const now = deps.now ?? Date.now;
  const retryDelayMs = deps.retryDelayMs ?? 500;
  const batchSize = deps.batchSize ?? 100;
  const batchMs = deps.batchMs ?? 1000;
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  async function flushCase(caseId: string): Promise<void> {
    const key = pendingCollectKey(caseId);
    const pending = await deps.redis.lrange(key, 0, 999);
    if (pending.length === 0) return;
    const updateIds = pending.map(Number);
    await deps.audit.record(
      {
        case: caseId,
        actor: { kind: "system", name: "recorder" },
        op: "collect",
        phase: "info",
        update_ids: updateIds,
        params: { updates: updateIds.length },
      },
      { writes: [["LTRIM", key, pending.length, -1]] },
    );
  }

  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      const cases = [...dirty];
      dirty.clear();
      for (const caseId of cases) {
        try {
          await flushCase(caseId);
        } catch (err) {
          dirty.add(caseId);
          deps.logger.warn(
            { case: caseId, err: (err as Error).message },
            "could not write the collect entry yet; will retry",
          );
        }
      }
    });
    return flushing;
  }

  let queued = 0;
  function schedule(caseId: string) {
    dirty.add(caseId);
    queued++;
    if (queued >= batchSize) {
      queued = 0;
      void flush();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, batchMs);
  }

  async function persist(caseId: string, update: Update): Promise<void> {
    const receivedAt = now();
    const facts = factsOf(caseId, update, receivedAt);
    if (!facts) return;
    facts.writes.push(["RPUSH", pendingCollectKey(caseId), String(update.update_id)]);
    for (let attempt = 0; ; attempt++) {
      try {
        const applied = await persistFacts(deps.redis, facts);
        if (applied) schedule(caseId);
        return;
      } catch (err) {
        if (closed) throw err;
        if (attempt === 0 || attempt % 20 === 0) {
          deps.logger.error(
            { update_id: update.update_id, attempt, err: (err as Error).message },
            "cannot persist an update: holding it until Redis is back",
          );
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  return {
    middleware: async (ctx, next) => {
      const chatId = chatOfUpdate(ctx.update);
      if (chatId !== undefined) {
        const caseId = await caseOfChat(deps.redis, chatId);
        if (caseId) await persist(caseId, ctx.update);
      }
      await next();
    },
    flush,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
