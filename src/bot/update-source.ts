import {
  createConcurrentSink,
  createRunner,
  type RunnerHandle,
  type UpdateSource,
} from "@grammyjs/runner";
import { type Api, type Bot, GrammyError } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "pino";

/**
 * Warden's own long-polling update source for @grammyjs/runner, which
 * confirms an update to Telegram only once it is safe.
 *
 * Why: Telegram forgets an update as soon as `getUpdates` is called with an
 * offset past it, and keeps unconfirmed updates for 24 hours. The runner's
 * own fetcher (node_modules/@grammyjs/runner/out/runner.js,
 * `createUpdateFetcher`) sets `offset = last update_id + 1` the moment a batch
 * arrives, and its source asks for the next batch while the sink still has
 * capacity (500 by default) — so while Warden's recorder waits for Redis,
 * hundreds of updates would be confirmed that exist only in this process's
 * memory, and a crash would lose them.
 *
 * This source keeps every fetched update "unsecured" until the recorder says
 * it is persisted (or holds nothing to keep), and polls with the offset of the
 * oldest unsecured update. An update is secured as soon as the recorder is
 * done with it, not when its handlers finish, so a long command never holds
 * back the updates of other chats. Telegram then
 * hands the unsecured ones back with every poll; they are recognised by id
 * and not handled twice. At most `maxUnsecured` updates are unsecured at once
 * (Telegram returns at most 100 per call), and it polls again only when at
 * most half of them are still unsecured, so a poll is never mostly repeats:
 * while Redis is down the bot stops taking updates and Telegram keeps them.
 */

export interface SecuredSourceOptions {
  api: Api;
  allowedUpdates: readonly string[];
  /** Long-polling timeout (seconds) when nothing is unsecured. */
  timeoutSeconds: number;
  logger: Logger;
  /** Most updates fetched and not yet secured; at most 100. */
  maxUnsecured?: number;
  /** Called before the first poll (grammY's `bot.init`). */
  init?: () => Promise<void>;
  /**
   * One of several processes (src/bot/intake/polling.ts): the offset the
   * previous poller confirmed, to start from; whether this process may poll
   * now (it holds the polling lease); and what to do with the offset before
   * each poll sends it (store it, fenced by the lease: a rejection means the
   * lease is lost, and the poll is not sent). Telegram's 409 Conflict then
   * means another process polled during a hand-over: the poll is tried again
   * later rather than ending the bot.
   */
  startOffset?: number;
  mayPoll?: () => boolean;
  beforePoll?: (offset: number) => Promise<void>;
}

export interface SecuredSource extends UpdateSource<Update> {
  /** The recorder persisted the update, or found nothing in it to keep. */
  recorded(updateId: number): void;
  /** The bot finished handling the update, successfully or not. */
  handled(updateId: number, ok: boolean): void;
  /** The offset the next poll sends: every update below it is safe and may be forgotten by Telegram. */
  offset(): number;
  /** How many fetched updates are not yet secured. */
  unsecured(): number;
}

const LIMIT = 100;

export function createSecuredSource(opts: SecuredSourceOptions): SecuredSource {
  const maxUnsecured = Math.min(opts.maxUnsecured ?? LIMIT, LIMIT);
  // Fetched and not yet secured, by update id.
  const pending = new Map<number, Update>();
  // Updates whose handling failed before the recorder persisted them (e.g. a middleware in front
  // of it met Redis down): handled again after a pause, since Telegram will not send them again
  // while this process holds the offset before them.
  const retry: Update[] = [];
  const RETRY_MS = 1000;
  let fetchedMax = (opts.startOffset ?? 0) - 1;
  let confirmed = -1;
  let active = false;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;
  let initialised = false;

  function offset(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const id of pending.keys()) if (id < lowest) lowest = id;
    return lowest === Number.POSITIVE_INFINITY ? fetchedMax + 1 : lowest;
  }

  function secure(updateId: number) {
    if (pending.delete(updateId)) {
      wake?.();
    }
  }

  /** Resolves when something is secured, the source is closed, or after `ms`. */
  function changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function* generate(): AsyncGenerator<Update[]> {
    let idleMs = 50;
    let failures = 0;
    while (active) {
      if (retry.length > 0) {
        yield retry.splice(0);
        continue;
      }
      // Every poll hands back the unsecured updates too: poll again only once at most half the
      // window is unsecured, so each poll brings at least as many new updates as known ones.
      if (pending.size > 0 && pending.size >= maxUnsecured / 2) {
        await changed(250);
        continue;
      }
      if (!initialised) {
        await opts.init?.();
        initialised = true;
      }
      if (opts.mayPoll && !opts.mayPoll()) {
        // Not (or no longer surely) holding the polling lease: a poll now could cut another's short.
        await changed(250);
        continue;
      }
      const next = offset();
      if (opts.beforePoll && next !== confirmed) {
        try {
          await opts.beforePoll(next);
          confirmed = next;
        } catch (err) {
          if (!active) break;
          opts.logger.warn(
            { err: (err as Error).message },
            "could not store the confirmed offset: not polling",
          );
          await changed(500);
          continue;
        }
      }
      if (!active) break;
      controller = new AbortController();
      let updates: Update[];
      try {
        updates = await opts.api.getUpdates(
          {
            offset: next,
            limit: LIMIT,
            timeout: opts.timeoutSeconds,
            allowed_updates: [...opts.allowedUpdates] as never,
          },
          // grammY types the signal as the abort-controller polyfill's; Node's is the same at run time.
          controller.signal as unknown as Parameters<Api["getUpdates"]>[1],
        );
        failures = 0;
      } catch (err) {
        if (!active || controller.signal.aborted) break;
        // Unauthorized (bad token) or Conflict (another poller): waiting does not help — except
        // for a Conflict among several processes, where it is a hand-over of the polling lease.
        if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 409)) {
          if (err.error_code === 401 || !opts.mayPoll) throw err;
          await changed(1000);
          continue;
        }
        const retryAfter =
          err instanceof GrammyError ? (err.parameters.retry_after ?? 0) * 1000 : 0;
        await changed(Math.max(retryAfter, Math.min(100 * 2 ** failures++, 5000)));
        continue;
      }
      const fresh = updates.filter((u) => u.update_id > fetchedMax);
      for (const u of fresh) {
        pending.set(u.update_id, u);
        if (u.update_id > fetchedMax) fetchedMax = u.update_id;
      }
      if (fresh.length > 0) {
        idleMs = 50;
        yield fresh;
      } else if (pending.size > 0) {
        // Telegram answered at once with updates we already hold: wait for one to be secured
        // (then the offset moves) or a little while (new updates in other chats).
        await changed(idleMs);
        idleMs = Math.min(idleMs * 2, 500);
      }
    }
  }

  let generator: AsyncGenerator<Update[]> | undefined;

  return {
    generator() {
      active = true;
      generator ??= generate();
      return generator;
    },
    setGeneratorPace() {
      // The pace is set by what is unsecured, not by the sink's capacity.
    },
    isActive: () => active,
    close() {
      active = false;
      controller?.abort();
      wake?.();
      generator = undefined;
    },
    recorded(updateId) {
      secure(updateId);
    },
    handled(updateId, ok) {
      // Normally the recorder secured it long before. One that failed before reaching the recorder
      // is handled again; on shutdown it stays unconfirmed and Telegram delivers it after a restart.
      const update = pending.get(updateId);
      if (!update) return;
      if (ok) {
        secure(updateId);
        return;
      }
      if (!active) return;
      opts.logger.warn(
        { update_id: updateId },
        "an update failed before it was persisted: handling it again shortly",
      );
      setTimeout(() => {
        if (!active || !pending.has(updateId)) return;
        retry.push(update);
        wake?.();
      }, RETRY_MS).unref();
    },
    offset,
    unsecured: () => pending.size,
  };
}

/**
 * Runs `bot` on the runner with this source and the runner's concurrent sink,
 * telling the source when each update's handling is over (the recorder tells
 * it, earlier, when the update is persisted).
 */
export function runSecured(bot: Bot, source: SecuredSource, logger: Logger): RunnerHandle {
  const sink = createConcurrentSink<Update>(
    {
      consume: async (update) => {
        let ok = false;
        try {
          await bot.handleUpdate(update);
          ok = true;
        } finally {
          source.handled(update.update_id, ok);
        }
      },
    },
    async (error) => {
      try {
        await bot.errorHandler(error as Parameters<typeof bot.errorHandler>[0]);
      } catch (err) {
        logger.error({ err: (err as Error).message }, "the bot's error handler failed");
      }
    },
  );
  const runner = createRunner(source, sink);
  runner.start();
  return runner;
}
