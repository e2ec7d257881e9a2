import type { Context, MiddlewareFn } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "pino";
import { type AuditLog, RecordRefusedError } from "../audit/record.ts";
import type { Redis } from "../store/redis.ts";
import { isSlotMoving } from "../store/script.ts";
import { type CaseCache, createCaseCache } from "./case-cache.ts";
import {
  type CollectedUpdate,
  chatOfUpdate,
  factsOf,
  type OfferVerdict,
  rawFacts,
} from "./facts.ts";
import { collectKeys } from "./keys.ts";
import { createMediaQueue, type Download, type MediaQueue } from "./media.ts";
import { createPersister, isRefusal, type UpdateFacts } from "./persist.ts";
import { attributePrivate } from "./private.ts";
import { type CollectApi, createRoster, type Roster } from "./roster.ts";

/**
 * The first middleware of every update (after per-chat ordering): what comes
 * from a seized chat, and every private message to the bot, is persisted (one
 * atomic step per update and case) before any command or scenario sees it.
 * If Redis is unreachable the update waits and is retried rather than
 * dropped; a redelivered update changes nothing.
 *
 * Each persisted update is also queued, in the same atomic step, for the
 * audit log's batched `collect` entries, so a crash cannot lose the record of
 * a collection. Listeners registered with `onRecorded` learn when an update is
 * safe, which is how the update source knows it may confirm it to Telegram.
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
  /** How long case settings (what to keep, the lexicon) are cached. */
  settingsTtlMs?: number;
  /** Bot API calls for admin rosters, member counts and media; without it neither is read. */
  api?: CollectApi;
  /** Media download (category `files`), into `<dataDir>/evidence/<case>/`; both needed. */
  download?: Download;
  dataDir?: string;
}

/** What the recorder learnt about an update from a seized chat, for the features after it. */
export interface RecordedUpdate {
  caseId: string;
  chatId: number;
  messageId?: number;
  /** Set when the detector called the message a trade offer. */
  offer?: OfferVerdict;
  /**
   * With `offer`: this update is the one that first made the message an offer
   * — a new offer, or an edit of a message judged harmless until then. False
   * for an edit of a message that was an offer already, so what acts on
   * offers acts once per message however often it is edited (a redelivered
   * update is still the first: its own actions are keyed by update or
   * message and do not repeat).
   */
  firstOffer?: boolean;
  /** The update is an edit (`edited_message`). */
  edited: boolean;
  forwarded: boolean;
  /** For offers and forwards: the chat's freeze mode when the update was persisted ("" if none). */
  frozen?: string;
}

/** `kept`: persisted (now or before) in at least one case; otherwise nothing was Warden's to keep. */
export type RecordedListener = (updateId: number, kept: boolean) => void;

export interface Recorder {
  middleware: MiddlewareFn<Context>;
  /** Called once per update, as soon as it is persisted or known to hold nothing to keep; returns an unsubscribe. */
  onRecorded(listener: RecordedListener): () => void;
  /** Writes what is queued into the audit log now. */
  flush(): Promise<void>;
  /** Waits for background roster reads and media downloads (tests, shutdown). */
  idle(): Promise<void>;
  readonly cases: CaseCache;
  close(): Promise<void>;
}

const recorded = new WeakMap<Update, RecordedUpdate>();

/** What the recorder found in this update, if it came from a seized chat. */
export function recordedOf(update: Update): RecordedUpdate | undefined {
  return recorded.get(update);
}

const FLUSHED_ELSEWHERE = "another process wrote these collect entries first";

export function pendingCollectKey(caseId: string): string {
  return collectKeys.pendingCollect(caseId);
}

/**
 * Whether this update is the one that first made the message an offer: the
 * case's `offers` hash keeps, once per message, the verdict of the first
 * version judged an offer with its update id (written in the update's own
 * atomic step). Read only for edits judged offers, which are few.
 */
async function firstJudgedOfferBy(
  redis: Redis,
  caseId: string,
  chatId: number,
  messageId: number | undefined,
  updateId: number,
): Promise<boolean> {
  if (messageId === undefined) return true;
  const raw = await redis.hget(collectKeys.offers(caseId), `${chatId}:${messageId}`);
  // Nothing kept (a message without a sender): its judgment was never recorded, so it is new.
  if (raw === null) return true;
  return (JSON.parse(raw) as { update_id?: number }).update_id === updateId;
}

interface Target {
  caseId: string;
  attribution?: "seen" | "unseen";
}

function isSeizeCommand(update: Update): boolean {
  return /^\/seize(@\w+)?(\s|$)/.test(update.message?.text ?? "");
}

/**
 * Writes a case's queue of persisted update ids into `collect` audit entries
 * (1000 ids at most each), until the queue is empty. Safe beside other
 * processes flushing the same queue (see the precondition).
 */
export async function flushCollectQueue(
  redis: Redis,
  audit: AuditLog,
  caseId: string,
): Promise<void> {
  const key = pendingCollectKey(caseId);
  for (;;) {
    const pending = await redis.lrange(key, 0, 999);
    if (pending.length === 0) return;
    const updateIds = pending.map(Number);
    try {
      await audit.record(
        {
          case: caseId,
          actor: { kind: "system", name: "recorder" },
          op: "collect",
          phase: "info",
          update_ids: updateIds,
          params: { updates: updateIds.length },
        },
        {
          // Other processes flush the same queue. Ids are only ever appended at its end (each
          // once: the persist step de-duplicates) and trimmed from its front by a flush, so while
          // its first element is still the one read here, the ids read are still its first ones
          // and no other flush has written them: each id lands in exactly one collect entry.
          preconditions: [
            {
              key,
              exists: true,
              equals: pending[0] as string,
              listHead: true,
              message: FLUSHED_ELSEWHERE,
            },
          ],
          writes: [["LTRIM", key, pending.length, -1]],
        },
      );
    } catch (err) {
      // Another process flushed (some of) them first: read the queue again.
      if (err instanceof RecordRefusedError && err.message === FLUSHED_ELSEWHERE) continue;
      throw err;
    }
    if (pending.length < 1000) return;
  }
}

export function createRecorder(deps: RecorderDeps): Recorder {
  const now = deps.now ?? Date.now;
  const retryDelayMs = deps.retryDelayMs ?? 500;
  const batchSize = deps.batchSize ?? 500;
  const batchMs = deps.batchMs ?? 1000;
  const cases = createCaseCache(deps.redis, {
    ...(deps.settingsTtlMs !== undefined ? { ttlMs: deps.settingsTtlMs } : {}),
    logger: deps.logger,
  });
  const roster: Roster | undefined = deps.api
    ? createRoster({ api: deps.api, audit: deps.audit, logger: deps.logger, now })
    : undefined;
  const media: MediaQueue | undefined =
    deps.api && deps.download && deps.dataDir
      ? createMediaQueue({
          api: deps.api,
          download: deps.download,
          audit: deps.audit,
          logger: deps.logger,
          dataDir: deps.dataDir,
          now,
        })
      : undefined;
  const persister = createPersister(deps.redis);
  const listeners: RecordedListener[] = [];
  const dirty = new Set<string>();
  const drained = new Set<string>();
  // Cases whose leftover collect queue (from a process that stopped before flushing) was picked up.
  const resumed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  const flushCase = (caseId: string) => flushCollectQueue(deps.redis, deps.audit, caseId);

  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      const chosen = [...dirty];
      dirty.clear();
      for (const caseId of chosen) {
        try {
          await flushCase(caseId);
        } catch (err) {
          if (closed) {
            // The queue is in Redis: the next start writes its entry (see `resumed`).
            deps.logger.warn(
              { case: caseId, err: (err as Error).message },
              "could not write the collect entry before stopping; the next start writes it",
            );
            continue;
          }
          dirty.add(caseId);
          deps.logger.warn(
            { case: caseId, err: (err as Error).message },
            "could not write the collect entry yet; will retry",
          );
          timer ??= setTimeout(() => {
            timer = undefined;
            void flush();
          }, batchMs);
        }
      }
    });
    return flushing;
  }

  let queued = 0;
  function schedule(caseId: string) {
    // After close nothing is armed: what is still queued stays in Redis for the next start.
    if (closed) return;
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

  /** The cases an update belongs to: its seized chat's, or for a private message the attributed ones. */
  async function targetsOf(update: Update): Promise<Target[]> {
    const chat = chatOfUpdate(update);
    if (!chat) return [];
    if (chat.type === "private") {
      // Only what people write: the bot's own status in a private chat (blocked, unblocked) is not a message.
      const from = update.message?.from ?? update.edited_message?.from;
      if (!from || from.is_bot) return [];
      return attributePrivate(deps.redis, cases, from.id);
    }
    const caseId = await cases.caseOfChat(chat.id);
    return caseId ? [{ caseId }] : [];
  }

  /** After a first persist: roster, member count and media, beside the update. */
  function followUp(caseId: string, collected: CollectedUpdate | undefined) {
    if (!collected || collected.chatId > 0) return;
    if (roster) {
      void roster.snapshot(
        caseId,
        collected.chatId,
        collected.rosterChange ? "admin change" : "first seen seized",
        collected.rosterChange,
      );
      if (collected.membershipChange) roster.count(caseId, collected.chatId, "membership change");
    }
    if (media && (collected.media.length > 0 || !drained.has(caseId))) {
      drained.add(caseId);
      media.drain(caseId);
    }
  }

  /** Persists one case's facts of the update; undefined when the case keeps nothing of it. */
  async function persistTarget(
    target: Target,
    update: Update,
    receivedAt: number,
    whole: boolean,
  ): Promise<{ collected: CollectedUpdate | undefined; frozen?: string } | undefined> {
    const settings = cases.cachedSettings(target.caseId) ?? (await cases.settings(target.caseId));
    if (!settings) return undefined;
    let collected: CollectedUpdate | undefined;
    let facts: UpdateFacts | undefined;
    try {
      if (whole) throw new Error("Redis refused this update's facts several times");
      collected = factsOf(target.caseId, update, receivedAt, {
        keep: settings.keep,
        detect: settings.detect,
        ...(target.attribution ? { attribution: target.attribution } : {}),
      });
      facts = collected?.facts;
    } catch (err) {
      deps.logger.error(
        { update_id: update.update_id, case: target.caseId, err: (err as Error).message },
        "could not read this update's facts: keeping it whole instead",
      );
      facts = rawFacts(target.caseId, update, receivedAt);
    }
    if (!facts) return undefined;
    const { applied, frozen } = await persister.persist(facts);
    if (applied) {
      schedule(target.caseId);
      followUp(target.caseId, collected);
    } else if (!resumed.has(target.caseId)) {
      schedule(target.caseId);
    }
    resumed.add(target.caseId);
    return frozen !== undefined ? { collected, frozen } : { collected };
  }

  /** Persists the update in every case it belongs to, retrying while Redis is unreachable. */
  async function record(update: Update): Promise<boolean> {
    const receivedAt = now();
    let refusals = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const chat = chatOfUpdate(update);
        const cached =
          chat && chat.type !== "private" ? cases.cachedCaseOfChat(chat.id) : undefined;
        const targets = cached ? [{ caseId: cached }] : await targetsOf(update);
        if (targets.length === 0) return false;
        let kept = false;
        for (const target of targets) {
          const persisted = await persistTarget(target, update, receivedAt, refusals >= 3);
          if (persisted === undefined) continue;
          kept = true;
          const { collected, frozen } = persisted;
          if (collected && collected.chatId < 0) {
            // Built field by field: this runs for every update, and each conditional spread is an
            // object more for the garbage collector.
            const edited = update.edited_message !== undefined;
            const seen: RecordedUpdate = {
              caseId: target.caseId,
              chatId: collected.chatId,
              edited,
              forwarded: collected.forwarded,
            };
            if (frozen !== undefined) seen.frozen = frozen;
            if (collected.messageId !== undefined) seen.messageId = collected.messageId;
            if (collected.offer) {
              seen.offer = collected.offer;
              seen.firstOffer =
                !edited ||
                (await firstJudgedOfferBy(
                  deps.redis,
                  target.caseId,
                  collected.chatId,
                  collected.messageId,
                  update.update_id,
                ));
            }
            recorded.set(update, seen);
          }
        }
        return kept;
      } catch (err) {
        if (closed) throw err;
        // Redis answered, but refused this update's step (a script error, not an outage): after a
        // few tries the update is kept whole instead, so one odd update cannot stop the bot.
        if (isRefusal(err)) refusals++;
        if (attempt === 0 || attempt % 20 === 0) {
          const details = { update_id: update.update_id, attempt, err: (err as Error).message };
          // A reshard moving the case's slot: the step waits for the move, which ends by itself.
          if (isSlotMoving(err))
            deps.logger.warn(
              details,
              "the case's Redis Cluster slot is being moved: holding the update until the move is done",
            );
          else
            deps.logger.error(details, "cannot persist an update: holding it until Redis is back");
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  return {
    middleware: async (ctx, next) => {
      const kept = await record(ctx.update);
      for (const listener of listeners) listener(ctx.update.update_id, kept);
      await next();
      // /seize binds the chat while it is handled: read the new seized chat's roster right away.
      if (!kept && roster && isSeizeCommand(ctx.update) && ctx.chat) {
        cases.invalidate();
        const caseId = await cases.caseOfChat(ctx.chat.id).catch(() => undefined);
        if (caseId) void roster.snapshot(caseId, ctx.chat.id, "seized", true);
      }
    },
    onRecorded(listener) {
      listeners.push(listener);
      return () => {
        const i = listeners.indexOf(listener);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    flush,
    async idle() {
      await Promise.all([media?.idle(), flushing]);
    },
    cases,
    async close() {
      // From here on nothing arms a timer (see schedule) and a flush that fails is not retried: what
      // is still queued stays in Redis, where the next start picks it up.
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await roster?.close();
      await media?.close();
      await flush();
    },
  };
}
