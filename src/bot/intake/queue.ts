import { hostname } from "node:os";
import type { Update } from "grammy/types";
import { intakeKeys } from "../../store/keys.ts";
import type { Redis } from "../../store/redis.ts";

/**
 * The intake queue: a Redis stream between Telegram's webhook and the bot,
 * shared by every process of one bot.
 *
 * - `add` puts an update in the stream unless its update id was taken before
 *   (one Lua step: the de-duplication set and the stream, under one hash tag),
 *   and resolves once Redis has acknowledged it. That acknowledgement is what
 *   the webhook waits for before it answers Telegram 200: from then on the
 *   update is as durable as Redis is (`appendfsync always` in
 *   docker-compose.yml: on disk before the reply).
 * - Processes read it through one consumer group (`warden`), each as a
 *   consumer of its own (`<host>-<pid>-<random>`), so several may share the
 *   stream. An entry stays in its consumer's pending list until `ack`, which
 *   acknowledges and deletes it in one step: the stream holds only what is
 *   not yet handled.
 * - Each consumer holds a lease (`{intake}:consumers`: name → expiry) that it
 *   renews while it runs and gives up when it stops. What a consumer without a
 *   live lease still holds (a process that crashed, or stopped before it
 *   finished) is claimed by another (`claimAbandoned`, XPENDING + XCLAIM), so
 *   nothing waits for a process that is gone. A later step may add XAUTOCLAIM
 *   for consumers that hold a lease yet make no progress.
 */

export const INTAKE_GROUP = "warden";

/** How long a consumer's lease lasts without renewal (ms). */
export const LEASE_MS = 30_000;

/** Telegram redelivers nothing older than a day; the de-duplication set keeps a week. */
const SEEN_FOR_MS = 7 * 24 * 3600 * 1000;

/** An entry claimed from another consumer is left alone by a second claimer for this long (ms). */
const CLAIM_MIN_IDLE_MS = 1000;

// KEYS: stream, seen set. ARGV: update id, update JSON, now (ms), keep ids seen since (ms).
const ADD_SCRIPT = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'u', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
return 1
`;

export interface IntakeEntry {
  /** The stream entry's id. */
  id: string;
  updateId: number;
  /** Undefined when the entry's JSON could not be read (it is acknowledged and logged, never handled). */
  update: Update | undefined;
}

export interface IntakeQueue {
  /** This process's consumer name. */
  readonly consumer: string;
  /** Creates the stream and the consumer group if missing. */
  prepare(): Promise<void>;
  /** Queues an update unless its id was queued before; resolves once Redis has acknowledged it. */
  add(updateId: number, json: string): Promise<"added" | "duplicate">;
  /** Up to `count` entries no consumer was given yet, now this consumer's. */
  readNew(count: number): Promise<IntakeEntry[]>;
  /** Up to `count` entries held by consumers without a live lease, now this consumer's. */
  claimAbandoned(count: number): Promise<IntakeEntry[]>;
  /** The entries are handled: acknowledged and removed from the stream, in one step. */
  ack(ids: readonly string[]): Promise<void>;
  /** Takes or renews this consumer's lease. */
  renew(): Promise<void>;
  /**
   * Gives up the lease, so another process may claim at once what this one
   * still holds; removes the consumer from the group when it holds nothing.
   */
  release(): Promise<void>;
  /** How many entries are in the stream (handled ones are removed). */
  length(): Promise<number>;
}

export interface IntakeQueueOptions {
  redis: Redis;
  now?: () => number;
  /** Default: `<host>-<pid>-<random>`. */
  consumer?: string;
}

type RawEntry = [id: string, fields: string[] | null];

export function createIntakeQueue(opts: IntakeQueueOptions): IntakeQueue {
  const { redis } = opts;
  const now = opts.now ?? Date.now;
  const consumer =
    opts.consumer ??
    `${hostname()}-${process.pid}-${Math.floor(Math.random() * 0x100000000).toString(36)}`;
  const stream = intakeKeys.updates();
  const seen = intakeKeys.seen();
  const leases = intakeKeys.consumers();

  function entriesOf(raw: RawEntry[] | null | undefined): IntakeEntry[] {
    const out: IntakeEntry[] = [];
    for (const [id, fields] of raw ?? []) {
      // A pending entry whose message was deleted comes back without fields: nothing to handle.
      if (!fields) continue;
      const get = (name: string) => {
        for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
        return undefined;
      };
      let update: Update | undefined;
      try {
        update = JSON.parse(get("u") ?? "") as Update;
      } catch {
        update = undefined;
      }
      out.push({ id, updateId: Number(get("id") ?? update?.update_id ?? -1), update });
    }
    return out;
  }

  async function consumersOf(): Promise<Array<{ name: string; pending: number }>> {
    const raw = (await redis.xinfo("CONSUMERS", stream, INTAKE_GROUP)) as unknown[][];
    return raw.map((fields) => {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
      return { name: String(info.name), pending: Number(info.pending ?? 0) };
    });
  }

  return {
    consumer,
    async prepare() {
      try {
        await redis.xgroup("CREATE", stream, INTAKE_GROUP, "0", "MKSTREAM");
      } catch (err) {
        if (!/BUSYGROUP/.test((err as Error).message)) throw err;
      }
    },
    async add(updateId, json) {
      const at = now();
      const added = await redis.eval(
        ADD_SCRIPT,
        2,
        stream,
        seen,
        updateId,
        json,
        at,
        at - SEEN_FOR_MS,
      );
      return Number(added) === 1 ? "added" : "duplicate";
    },
    async readNew(count) {
      const raw = (await redis.xreadgroup(
        "GROUP",
        INTAKE_GROUP,
        consumer,
        "COUNT",
        count,
        "STREAMS",
        stream,
        ">",
      )) as Array<[string, RawEntry[]]> | null;
      return entriesOf(raw?.[0]?.[1]);
    },
    async claimAbandoned(count) {
      const held = await redis.hgetall(leases);
      const at = now();
      const claimed: IntakeEntry[] = [];
      for (const other of await consumersOf()) {
        if (other.name === consumer || Number(held[other.name] ?? 0) > at) continue;
        if (other.pending === 0) {
          // Gone, holding nothing: forget it (a process that comes back takes a new name).
          await redis.xgroup("DELCONSUMER", stream, INTAKE_GROUP, other.name);
          await redis.hdel(leases, other.name);
          continue;
        }
        if (claimed.length >= count) continue;
        const pending = (await redis.xpending(
          stream,
          INTAKE_GROUP,
          "-",
          "+",
          count - claimed.length,
          other.name,
        )) as Array<[string, string, number, number]>;
        if (pending.length === 0) continue;
        const raw = (await redis.xclaim(
          stream,
          INTAKE_GROUP,
          consumer,
          CLAIM_MIN_IDLE_MS,
          ...pending.map(([id]) => id),
        )) as RawEntry[];
        claimed.push(...entriesOf(raw));
      }
      // Leases of consumers no longer in the group and long expired.
      for (const [name, expiry] of Object.entries(held))
        if (name !== consumer && Number(expiry) + LEASE_MS < at) await redis.hdel(leases, name);
      return claimed;
    },
    async ack(ids) {
      if (ids.length === 0) return;
      const result = await redis
        .multi()
        .xack(stream, INTAKE_GROUP, ...ids)
        .xdel(stream, ...ids)
        .exec();
      const failed = result?.find(([err]) => err);
      if (!result || failed)
        throw failed?.[0] ?? new Error("the intake acknowledgement was discarded");
    },
    async renew() {
      await redis.hset(leases, consumer, now() + LEASE_MS);
    },
    async release() {
      await redis.hdel(leases, consumer);
      const mine = (await consumersOf()).find((c) => c.name === consumer);
      if (mine && mine.pending === 0)
        await redis.xgroup("DELCONSUMER", stream, INTAKE_GROUP, consumer);
    },
    length: () => redis.xlen(stream),
  };
}
