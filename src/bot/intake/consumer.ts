import type { Update } from "grammy/types";
import type { Logger } from "pino";
import type { RecordedListener } from "../../collect/recorder.ts";
import { LEASE_RENEW_MS } from "../../store/lease.ts";
import { type IntakeEntry, type IntakeQueue, MAX_DELIVERIES } from "./queue.ts";

/**
 * Hands the intake queue's updates to the bot: this process's consumer of the
 * queue's partitions (src/bot/intake/queue.ts).
 *
 * Partitions: every second the consumer renews its own lease and the leases
 * of the partitions it holds, and aims at an even share — ceil(partitions /
 * live consumers). Short of its share, it takes free partitions; over it, it
 * stops reading from the partitions it gives up, lets what it is handling of
 * them finish, and only then gives their leases up, so the next holder starts
 * after the last update this one handled there. A partition it takes it first
 * takes over (claims, oldest first) whatever earlier holders left pending
 * there — a process that died mid-way, or stopped at its time limit — and
 * hands those to the bot before anything newer of that partition; an entry
 * begun `maxDeliveries` times without finishing goes to the dead letters,
 * logged, instead. A partition whose lease it lost (frozen past it) it stops
 * reading at once.
 *
 * Within the process, entries are handed to the bot in stream order, at most
 * `maxInFlight` at a time; the bot's `sequentialize` keeps each chat's updates
 * in that order while chats go in parallel. An entry is acknowledged (and
 * removed from the stream) once the bot has finished with it. Handling that
 * failed after the recorder had persisted the update is over too (the error
 * is logged, as in polling); handling that failed before (Redis went away in
 * front of the recorder) is tried again after a pause, the entry still
 * pending. Until acknowledged an entry is never lost, and the recorder and the
 * actions treat a redelivered update as done.
 *
 * Reads block on Redis for up to `pollMs` (on a connection of their own), so
 * an update queued by any process reaches its partition's holder at once.
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
  /** How long a read waits for new entries (ms, default 500). */
  pollMs?: number;
  /** How often leases are renewed and partitions balanced (ms, default 1000). */
  balanceMs?: number;
  /** The pause before an update that failed before it was persisted is handled again (ms). */
  retryMs?: number;
  /** How often an entry may be begun before it goes to the dead letters (default 5). */
  maxDeliveries?: number;
}

export interface IntakeConsumer {
  start(): void;
  /** Something was queued: read now rather than at the next poll. */
  wake(): void;
  /**
   * Stops reading, waits until every update in flight is handled or
   * `deadline` (ms since the epoch) has passed, and acknowledges what was
   * handled. Returns how many were left unfinished (they stay pending, for
   * the next holder of their partition to take over).
   */
  stop(deadline: number): Promise<number>;
  inFlight(): number;
  /** The partitions this process reads now. */
  partitions(): number[];
}

export function createIntakeConsumer(opts: IntakeConsumerOptions): IntakeConsumer {
  const { queue, logger } = opts;
  const maxInFlight = opts.maxInFlight ?? 100;
  const pollMs = opts.pollMs ?? 500;
  const balanceMs = opts.balanceMs ?? LEASE_RENEW_MS;
  const retryMs = opts.retryMs ?? 1000;
  const maxDeliveries = opts.maxDeliveries ?? MAX_DELIVERIES;

  /** Entries given to this process and not yet acknowledged, by stream id. */
  const handling = new Map<string, IntakeEntry>();
  /** Update ids of entries in flight that the recorder has persisted. */
  const recorded = new Set<number>();
  const inFlightIds = new Set<number>();
  /** Handled, not yet acknowledged. */
  const toAck: IntakeEntry[] = [];
  /** Entries that failed before they were persisted, waiting to be handled again. */
  const retrying = new Map<string, NodeJS.Timeout>();
  /** Partitions held (lease token) and read from. */
  const held = new Map<number, number>();
  /** Partitions being given up: not read from, released once nothing of them is in flight. */
  const leaving = new Set<number>();
  let active = false;
  let loop: Promise<void> | undefined;
  let nudged = false;
  let wakeUp: (() => void) | undefined;
  let idle: Array<() => void> = [];
  let acking: Promise<void> | undefined;
  let lastForget = 0;

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

  function inFlightOf(part: number): number {
    let n = 0;
    for (const e of handling.values()) if (e.part === part) n++;
    return n;
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
          const list = toAck.splice(0, 500);
          try {
            await queue.ack(list);
          } catch (err) {
            toAck.unshift(...list);
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
      toAck.push(entry);
      finished(entry);
      flushAcks().catch(() => undefined); // retried by the loop
      return;
    }
    if (!active) {
      // Stopping: it stays pending, and the next holder of its partition takes it over.
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
      toAck.push(entry);
      return;
    }
    handling.set(entry.id, entry);
    inFlightIds.add(entry.updateId);
    void run(entry, entry.update);
  }

  /**
   * Renews the leases and moves towards an even share of the partitions;
   * returns what was taken over in partitions taken now, oldest first.
   */
  async function balance(): Promise<IntakeEntry[]> {
    await queue.renew();
    const taken: IntakeEntry[] = [];
    // Renew what is held; a partition whose lease went to another is dropped at once.
    for (const [part, token] of [...held]) {
      const renewed = await queue
        .partitionLease(part)
        .renew()
        .catch(() => queue.partitionLease(part).held());
      if (renewed !== token) {
        held.delete(part);
        leaving.delete(part);
        logger.warn({ partition: part, token }, "lost an intake partition's lease");
      }
    }
    // Partitions being given up go once nothing of them is in flight.
    for (const part of [...leaving]) {
      if (inFlightOf(part) > 0) continue;
      await flushAcks();
      await queue.partitionLease(part).release();
      held.delete(part);
      leaving.delete(part);
      logger.info({ partition: part }, "gave an intake partition up to another process");
    }
    const share = Math.ceil(queue.partitions / Math.max(1, await queue.liveConsumers()));
    const reading = [...held.keys()].filter((p) => !leaving.has(p)).sort((a, b) => a - b);
    if (reading.length > share) {
      for (const part of reading.slice(share)) leaving.add(part);
    } else if (held.size < share) {
      // Start looking at a place of this consumer's own, so consumers do not all race for partition 0.
      const start = spread(queue.consumer, queue.partitions);
      for (let k = 0; k < queue.partitions && held.size < share; k++) {
        const part = (start + k) % queue.partitions;
        if (held.has(part)) continue;
        const token = await queue.partitionLease(part).renew();
        if (token === undefined) continue;
        held.set(part, token);
        const { entries, dead } = await queue.takeOver(part, maxDeliveries);
        for (const e of dead)
          logger.error(
            { update_id: e.updateId, partition: part, attempts: (e.deliveries ?? 1) - 1 },
            "an update's handling was begun too often without finishing: moved to the dead letters",
          );
        if (entries.length > 0)
          logger.warn(
            { partition: part, updates: entries.map((e) => e.updateId) },
            "taking over updates a stopped process had not finished",
          );
        logger.info({ partition: part, token }, "took an intake partition");
        taken.push(...entries);
      }
    }
    const at = Date.now();
    if (at - lastForget > 30_000) {
      lastForget = at;
      await queue.forgetGone();
    }
    return taken;
  }

  async function read(): Promise<void> {
    let failures = 0;
    let lastBalance = 0;
    while (active) {
      try {
        const at = Date.now();
        if (at - lastBalance >= balanceMs) {
          lastBalance = at;
          const taken = await balance();
          if (!active) break;
          for (const entry of taken) dispatch(entry);
        }
        if (toAck.length > 0) await flushAcks();
        const room = maxInFlight - handling.size;
        const parts = [...held.keys()].filter(
          (p) => !leaving.has(p) && queue.partitionLease(p).held() === held.get(p),
        );
        if (room <= 0 || parts.length === 0) {
          await pause(Math.min(250, balanceMs));
          continue;
        }
        const entries = await queue.readNew(
          parts,
          room,
          Math.max(1, Math.min(pollMs, balanceMs - (Date.now() - lastBalance))),
        );
        if (failures > 0) logger.info({ after: failures }, "reading the intake queue again");
        failures = 0;
        if (!active) break; // read while stopping: left pending for the next holder
        for (const entry of entries) dispatch(entry);
      } catch (err) {
        if (!active) break;
        // A stream or its group went (a flushed database): made again, it takes what comes next.
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
      // Updates waiting to be tried again are not in flight: they stay pending for the next holder.
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
    partitions: () => [...held.keys()].filter((p) => !leaving.has(p)).sort((a, b) => a - b),
  };
}

/** A partition to start looking from, of this consumer's own. */
function spread(name: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % partitions;
}
