import type { Update } from "grammy/types";
import type { Logger } from "pino";
import type { RecordedListener } from "../../collect/recorder.ts";
import { type IntakeEntry, type IntakeQueue, LEASE_MS } from "./queue.ts";

/**
 * Hands the intake queue's updates to the bot: this process's consumer of the
 * stream (src/bot/intake/queue.ts).
 *
 * It reads what no consumer was given yet, and what consumers without a lease
 * left unfinished, at most `maxInFlight` at a time, in stream order; the bot's
 * `sequentialize` keeps each chat's updates in that order while chats go in
 * parallel. An entry is acknowledged (and removed from the stream) once the
 * bot has finished with it. Handling that failed after the recorder had
 * persisted the update is over too (the error is logged, as in polling);
 * handling that failed before (Redis went away in front of the recorder) is
 * tried again after a pause, the entry still pending. Until acknowledged an
 * entry is never lost: when this process stops or dies, another claims it, and
 * the recorder and the actions treat a redelivered update as done.
 *
 * Entries queued by this process's webhook wake it at once; entries other
 * processes queued are looked for every `pollMs`.
 */

export interface IntakeConsumerOptions {
  queue: IntakeQueue;
  /** Handles one update; rejects when its handling failed (after the bot's error handler ran). */
  handle(update: Update): Promise<void>;
  /** The recorder's notice that an update is persisted (or holds nothing to keep). */
  onRecorded(listener: RecordedListener): () => void;
  logger: Logger;
  /** Most entries being handled at once (default 100). */
  maxInFlight?: number;
  /** How often to look for entries queued by other processes (ms, default 500). */
  pollMs?: number;
  /** How often to look for entries abandoned by consumers without a lease (ms, default 5000). */
  claimMs?: number;
  /** The pause before an update that failed before it was persisted is handled again (ms). */
  retryMs?: number;
}

export interface IntakeConsumer {
  start(): void;
  /** Something was queued: read now rather than at the next poll. */
  wake(): void;
  /**
   * Stops reading, waits until every update in flight is handled or
   * `deadline` (ms since the epoch) has passed, and acknowledges what was
   * handled. Returns how many were left unfinished (they stay pending, for
   * the next process to claim).
   */
  stop(deadline: number): Promise<number>;
  inFlight(): number;
}

export function createIntakeConsumer(opts: IntakeConsumerOptions): IntakeConsumer {
  const { queue, logger } = opts;
  const maxInFlight = opts.maxInFlight ?? 100;
  const pollMs = opts.pollMs ?? 500;
  const claimMs = opts.claimMs ?? 5000;
  const retryMs = opts.retryMs ?? 1000;
  const renewMs = Math.floor(LEASE_MS / 3);

  /** Entries given to this process and not yet acknowledged, by stream id. */
  const handling = new Map<string, IntakeEntry>();
  /** Update ids of entries in flight that the recorder has persisted. */
  const recorded = new Set<number>();
  const inFlightIds = new Set<number>();
  /** Handled, not yet acknowledged. */
  const toAck: string[] = [];
  /** Entries that failed before they were persisted, waiting to be handled again. */
  const retrying = new Map<string, NodeJS.Timeout>();
  let active = false;
  let loop: Promise<void> | undefined;
  let nudged = false;
  let wakeUp: (() => void) | undefined;
  let idle: Array<() => void> = [];
  let acking: Promise<void> | undefined;

  const unsubscribe = opts.onRecorded((updateId) => {
    if (inFlightIds.has(updateId)) recorded.add(updateId);
  });

  function wake() {
    nudged = true;
    wakeUp?.();
  }

  /** Resolves after `ms`, or at once when woken (also by a wake that came before). */
  function pause(ms: number): Promise<void> {
    if (nudged) {
      nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        nudged = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  function finished(entry: IntakeEntry) {
    const wasFull = handling.size >= maxInFlight;
    handling.delete(entry.id);
    inFlightIds.delete(entry.updateId);
    recorded.delete(entry.updateId);
    if (handling.size === 0) for (const resolve of idle.splice(0)) resolve();
    if (wasFull) wake();
  }

  /** Acknowledges what was handled; on failure keeps it for the next try. */
  function flushAcks(): Promise<void> {
    acking ??= (async () => {
      try {
        while (toAck.length > 0) {
          const ids = toAck.splice(0, 500);
          try {
            await queue.ack(ids);
          } catch (err) {
            toAck.unshift(...ids);
            throw err;
          }
        }
      } finally {
        acking = undefined;
      }
    })();
    return acking;
  }

  async function run(entry: IntakeEntry, update: Update): Promise<void> {
    let ok = false;
    try {
      await opts.handle(update);
      ok = true;
    } catch {
      // The bot's error handler has logged it.
    }
    if (ok || recorded.has(entry.updateId)) {
      toAck.push(entry.id);
      finished(entry);
      flushAcks().catch(() => undefined); // retried by the loop
      return;
    }
    if (!active) {
      // Stopping: it stays pending, and the next process claims it.
      finished(entry);
      return;
    }
    logger.warn(
      { update_id: entry.updateId },
      "an update failed before it was persisted: handling it again shortly",
    );
    retrying.set(
      entry.id,
      setTimeout(() => {
        retrying.delete(entry.id);
        if (active) void run(entry, update);
        else finished(entry);
      }, retryMs),
    );
  }

  function dispatch(entry: IntakeEntry) {
    if (handling.has(entry.id)) return;
    if (!entry.update) {
      logger.error(
        { entry: entry.id, update_id: entry.updateId },
        "an intake entry holds no readable update: dropped",
      );
      toAck.push(entry.id);
      return;
    }
    handling.set(entry.id, entry);
    inFlightIds.add(entry.updateId);
    void run(entry, entry.update);
  }

  async function read(): Promise<void> {
    let failures = 0;
    let lastRenew = 0;
    let lastClaim = 0;
    while (active) {
      try {
        const at = Date.now();
        if (at - lastRenew >= renewMs) {
          await queue.renew();
          lastRenew = at;
        }
        if (toAck.length > 0) await flushAcks();
        const room = maxInFlight - handling.size;
        if (room <= 0) {
          await pause(250);
          continue;
        }
        let entries: IntakeEntry[] = [];
        if (at - lastClaim >= claimMs) {
          entries = await queue.claimAbandoned(room);
          lastClaim = at;
          if (entries.length > 0)
            logger.warn(
              { updates: entries.map((e) => e.updateId) },
              "taking over updates a stopped process had not finished",
            );
        }
        if (entries.length < room) entries.push(...(await queue.readNew(room - entries.length)));
        if (failures > 0) logger.info({ after: failures }, "reading the intake queue again");
        failures = 0;
        if (!active) break; // read while stopping: left pending for the next process
        for (const entry of entries) dispatch(entry);
        if (entries.length === 0) await pause(pollMs);
      } catch (err) {
        if (!active) break;
        // The stream or its group went (a flushed database): made again, it takes what comes next.
        if (/NOGROUP/.test((err as Error).message)) await queue.prepare().catch(() => undefined);
        if (failures++ % 20 === 0)
          logger.error(
            { err: (err as Error).message, failures },
            "cannot read the intake queue: waiting for Redis",
          );
        await pause(Math.min(100 * 2 ** Math.min(failures, 6), 5000));
      }
    }
  }

  return {
    start() {
      if (active) return;
      active = true;
      loop = read();
    },
    wake,
    async stop(deadline) {
      active = false;
      wake();
      const left = Math.max(0, deadline - Date.now());
      const timeUp = new Promise<void>((resolve) => setTimeout(resolve, left).unref());
      await Promise.race([loop, timeUp]);
      // Updates waiting to be tried again are not in flight: they stay pending for the next process.
      for (const [id, timer] of retrying) {
        clearTimeout(timer);
        retrying.delete(id);
        const entry = handling.get(id);
        if (entry) finished(entry);
      }
      if (handling.size > 0)
        await Promise.race([new Promise<void>((resolve) => idle.push(resolve)), timeUp]);
      await Promise.race([flushAcks().catch(() => undefined), timeUp]);
      unsubscribe();
      idle = [];
      return handling.size;
    },
    inFlight: () => handling.size,
  };
}
