import type { Update } from "grammy/types";
import type { Redis } from "ioredis";
import { intakeKeys } from "../../store/keys.ts";
import { LEASE_TTL_MS, type LeaseHandle, leaseHandle } from "../../store/lease.ts";
import { newProcessId } from "../../store/process.ts";

/**
 * The intake queue: Redis streams between Telegram's webhook and the bot,
 * shared by every process of one bot.
 *
 * - The queue is cut into `INTAKE_PARTITIONS` streams, and every update of a
 *   chat goes to the same one (`partitionOf`: by the chat, or the sender
 *   where there is no chat — the key the bot's `sequentialize` orders by).
 *   Each partition is handled by one process at a time, the holder of its
 *   lease (a fenced lease, src/store/lease.ts), so a chat's updates are
 *   handled in the order they came however many processes share the queue,
 *   while different chats go in parallel across processes. Why partitions,
 *   not a lock per chat on one stream: with one stream, consumers are handed
 *   a chat's consecutive updates at random, and a lock would have each wait
 *   for the holder of the chat's oldest pending update — round trips per
 *   update and a per-chat index in Redis to know which is oldest. A partition
 *   has one reader, so order within it is the stream's own; the price is a
 *   coarser spread (8 partitions over the processes) and a hand-over when
 *   processes come or go (consumer.ts).
 * - `add` puts an update in its partition unless its update id was taken
 *   before (one Lua step: the shared de-duplication set and the stream, under
 *   one hash tag), and resolves once Redis has acknowledged it. That
 *   acknowledgement is what the webhook waits for before it answers Telegram
 *   200: from then on the update is as durable as Redis is (`appendfsync
 *   always` in docker-compose.yml: on disk before the reply).
 * - Processes read through one consumer group (`warden`) per stream, each as
 *   a consumer of its own (its process id). An entry stays in its consumer's
 *   pending list until `ack`, which acknowledges and deletes it in one step:
 *   the streams hold only what is not yet handled.
 * - Each consumer keeps a lease in `{intake}:consumers` (name → expiry, ms),
 *   renewed every second, which says how many processes share the partitions.
 *   A process that takes a partition over claims what earlier holders left
 *   pending in it (`takeOver`) before it reads anything new there: the update
 *   of a process that died mid-way is handled by the next holder, and the
 *   actions' idempotency keys keep it from acting twice. An entry whose
 *   handling was begun `maxDeliveries` times without finishing (it crashed
 *   every process that took it) goes to the dead letters instead.
 */

export const INTAKE_GROUP = "warden";

/** How many partitions the queue is cut into. Changing it moves chats between partitions: stop every process first. */
export const INTAKE_PARTITIONS = 8;

/** How long a consumer's lease lasts without renewal (ms). */
export const LEASE_MS = LEASE_TTL_MS;

/** How often an entry's handling may be begun before it goes to the dead letters. */
export const MAX_DELIVERIES = 5;

/** Telegram redelivers nothing older than a day; the de-duplication set keeps a week. */
const SEEN_FOR_MS = 7 * 24 * 3600 * 1000;

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
  /** The partition (stream) it is in. */
  part: number;
  updateId: number;
  /** Undefined when the entry's JSON could not be read (it is acknowledged and logged, never handled). */
  update: Update | undefined;
  /** How often its handling was begun, this time included (known for entries taken over). */
  deliveries?: number;
}

/** What a dead letter holds. */
export interface DeadLetter {
  update_id: number;
  part: number;
  attempts: number;
  at: number;
  /** The update's JSON as received. */
  update: string;
}

/** The key a chat's updates are ordered by: the chat, else the sender (as the bot's `sequentialize`). */
export function orderKeyOf(update: unknown): number {
  if (typeof update !== "object" || update === null) return 0;
  for (const [field, value] of Object.entries(update)) {
    if (field === "update_id" || typeof value !== "object" || value === null) continue;
    const v = value as {
      chat?: { id?: unknown };
      message?: { chat?: { id?: unknown } };
      from?: { id?: unknown };
      user?: { id?: unknown };
    };
    const id = v.chat?.id ?? v.message?.chat?.id ?? v.from?.id ?? v.user?.id;
    if (typeof id === "number") return id;
  }
  return 0;
}

/** The partition of an update's chat (FNV-1a of the chat id, so every process agrees). */
export function partitionOf(update: unknown, partitions = INTAKE_PARTITIONS): number {
  const text = String(orderKeyOf(update));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export interface IntakeQueue {
  /** This process's consumer name. */
  readonly consumer: string;
  readonly partitions: number;
  /** Creates the streams and their consumer groups if missing. */
  prepare(): Promise<void>;
  /** Queues an update in partition `part` unless its id was queued before; resolves once Redis has acknowledged it. */
  add(updateId: number, json: string, part?: number): Promise<"added" | "duplicate">;
  /** Up to `count` entries of these partitions no consumer was given yet, now this consumer's; waits up to `blockMs` for one. */
  readNew(parts: readonly number[], count: number, blockMs?: number): Promise<IntakeEntry[]>;
  /**
   * What other consumers left pending in a partition this consumer just took:
   * claimed, oldest first (with how often each was begun); those begun
   * `maxDeliveries` times already go to the dead letters and come back in `dead`.
   */
  takeOver(
    part: number,
    maxDeliveries?: number,
  ): Promise<{ entries: IntakeEntry[]; dead: IntakeEntry[] }>;
  /** The entries are handled: acknowledged and removed from their streams, in one step. */
  ack(entries: ReadonlyArray<Pick<IntakeEntry, "id" | "part">>): Promise<void>;
  /** Takes or renews this consumer's lease. */
  renew(): Promise<void>;
  /** How many consumers hold a live lease (this one included, once renewed). */
  liveConsumers(): Promise<number>;
  /** The lease of a partition, as this consumer sees it. */
  partitionLease(part: number): LeaseHandle;
  /** Forgets consumers long gone that hold nothing. */
  forgetGone(): Promise<void>;
  /**
   * Gives up the lease and every partition lease held, so another process
   * takes over at once; removes the consumer from the groups where it holds nothing.
   */
  release(): Promise<void>;
  /** How many entries are in the streams (handled ones are removed). */
  length(): Promise<number>;
  /** The dead letters, oldest first. */
  deadLetters(): Promise<DeadLetter[]>;
  /** Closes the connection used for blocking reads. */
  close(): void;
}

export interface IntakeQueueOptions {
  redis: Redis;
  now?: () => number;
  /** Default: a new process id (`<host>-<pid>-<random>`). */
  consumer?: string;
  partitions?: number;
}

type RawEntry = [id: string, fields: string[] | null];

export function createIntakeQueue(opts: IntakeQueueOptions): IntakeQueue {
  const { redis } = opts;
  const now = opts.now ?? Date.now;
  const consumer = opts.consumer ?? newProcessId();
  const partitions = opts.partitions ?? INTAKE_PARTITIONS;
  const streams = Array.from({ length: partitions }, (_, p) => intakeKeys.updates(p));
  const seen = intakeKeys.seen();
  const leases = intakeKeys.consumers();
  const dead = intakeKeys.dead();
  const handles = new Map<number, LeaseHandle>();
  // Blocking reads hold their connection: they get one of their own.
  let reader: Redis | undefined;

  const streamOf = (part: number) => streams[part] as string;

  function entriesOf(part: number, raw: RawEntry[] | null | undefined): IntakeEntry[] {
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
      out.push({ id, part, updateId: Number(get("id") ?? update?.update_id ?? -1), update });
    }
    return out;
  }

  async function consumersOf(part: number): Promise<Array<{ name: string; pending: number }>> {
    const raw = (await redis.xinfo("CONSUMERS", streamOf(part), INTAKE_GROUP)) as unknown[][];
    return raw.map((fields) => {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
      return { name: String(info.name), pending: Number(info.pending ?? 0) };
    });
  }

  return {
    consumer,
    partitions,
    async prepare() {
      for (const stream of streams) {
        try {
          await redis.xgroup("CREATE", stream, INTAKE_GROUP, "0", "MKSTREAM");
        } catch (err) {
          if (!/BUSYGROUP/.test((err as Error).message)) throw err;
        }
      }
    },
    async add(updateId, json, part = 0) {
      const at = now();
      const added = await redis.eval(
        ADD_SCRIPT,
        2,
        streamOf(part),
        seen,
        updateId,
        json,
        at,
        at - SEEN_FOR_MS,
      );
      return Number(added) === 1 ? "added" : "duplicate";
    },
    async readNew(parts, count, blockMs) {
      if (parts.length === 0) return [];
      if (blockMs && !reader) reader = redis.duplicate();
      const client = blockMs && reader ? reader : redis;
      const args: (string | number)[] = ["GROUP", INTAKE_GROUP, consumer, "COUNT", count];
      if (blockMs) args.push("BLOCK", blockMs);
      args.push("STREAMS", ...parts.map(streamOf), ...parts.map(() => ">"));
      const raw = (await (
        client.xreadgroup as unknown as (...a: (string | number)[]) => Promise<unknown>
      )(...args)) as Array<[string, RawEntry[]]> | null;
      const out: IntakeEntry[] = [];
      for (const [stream, entries] of raw ?? [])
        out.push(...entriesOf(streams.indexOf(stream), entries));
      return out;
    },
    async takeOver(part, maxDeliveries = MAX_DELIVERIES) {
      const stream = streamOf(part);
      const entries: IntakeEntry[] = [];
      const gone: IntakeEntry[] = [];
      for (;;) {
        const pending = (
          (await redis.xpending(stream, INTAKE_GROUP, "-", "+", 500)) as Array<
            [string, string, number, number]
          >
        ).filter(([, owner]) => owner !== consumer);
        if (pending.length === 0) break;
        const deliveries = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
        const raw = (await redis.xclaim(
          stream,
          INTAKE_GROUP,
          consumer,
          0,
          ...pending.map(([id]) => id),
        )) as RawEntry[];
        const claimed = entriesOf(part, raw);
        // Claimed entries whose message is gone hold nothing: acknowledge them away.
        const found = new Set(claimed.map((e) => e.id));
        const empty = pending.map(([id]) => id).filter((id) => !found.has(id));
        if (empty.length > 0) await redis.xack(stream, INTAKE_GROUP, ...empty);
        for (const entry of claimed) {
          const begun = deliveries.get(entry.id) ?? 0;
          entry.deliveries = begun + 1;
          if (begun < maxDeliveries) {
            entries.push(entry);
            continue;
          }
          const letter: DeadLetter = {
            update_id: entry.updateId,
            part,
            attempts: begun,
            at: now(),
            update: entry.update ? JSON.stringify(entry.update) : "",
          };
          const done = await redis
            .multi()
            .rpush(dead, JSON.stringify(letter))
            .xack(stream, INTAKE_GROUP, entry.id)
            .xdel(stream, entry.id)
            .exec();
          const failed = done?.find(([err]) => err);
          if (!done || failed) throw failed?.[0] ?? new Error("the dead letter was discarded");
          gone.push(entry);
        }
        if (pending.length < 500) break;
      }
      entries.sort((a, b) => compareIds(a.id, b.id));
      return { entries, dead: gone };
    },
    async ack(list) {
      if (list.length === 0) return;
      const byPart = new Map<number, string[]>();
      for (const e of list) {
        const ids = byPart.get(e.part);
        if (ids) ids.push(e.id);
        else byPart.set(e.part, [e.id]);
      }
      const multi = redis.multi();
      for (const [part, ids] of byPart)
        multi.xack(streamOf(part), INTAKE_GROUP, ...ids).xdel(streamOf(part), ...ids);
      const result = await multi.exec();
      const failed = result?.find(([err]) => err);
      if (!result || failed)
        throw failed?.[0] ?? new Error("the intake acknowledgement was discarded");
    },
    async renew() {
      await redis.hset(leases, consumer, now() + LEASE_MS);
    },
    async liveConsumers() {
      const at = now();
      return Object.values(await redis.hgetall(leases)).filter((expiry) => Number(expiry) > at)
        .length;
    },
    partitionLease(part) {
      let h = handles.get(part);
      if (!h) {
        h = leaseHandle({
          redis,
          keys: { lease: intakeKeys.partitionLease(part), fence: intakeKeys.partitionFence(part) },
          holder: consumer,
        });
        handles.set(part, h);
      }
      return h;
    },
    async forgetGone() {
      const held = await redis.hgetall(leases);
      const at = now();
      for (const [name, expiry] of Object.entries(held)) {
        if (name === consumer || Number(expiry) + LEASE_MS >= at) continue;
        let holds = 0;
        for (let part = 0; part < partitions; part++) {
          const mine = (await consumersOf(part)).find((c) => c.name === name);
          if (!mine) continue;
          if (mine.pending === 0)
            await redis.xgroup("DELCONSUMER", streamOf(part), INTAKE_GROUP, name);
          else holds += mine.pending;
        }
        // Gone and holding nothing: forget it (a process that comes back takes a new name).
        if (holds === 0) await redis.hdel(leases, name);
      }
    },
    async release() {
      await Promise.all([...handles.values()].map((h) => h.release().catch(() => undefined)));
      await redis.hdel(leases, consumer);
      for (let part = 0; part < partitions; part++) {
        const mine = (await consumersOf(part)).find((c) => c.name === consumer);
        if (mine && mine.pending === 0)
          await redis.xgroup("DELCONSUMER", streamOf(part), INTAKE_GROUP, consumer);
      }
    },
    async length() {
      let total = 0;
      for (const stream of streams) total += await redis.xlen(stream);
      return total;
    },
    async deadLetters() {
      return (await redis.lrange(dead, 0, -1)).map((raw) => JSON.parse(raw) as DeadLetter);
    },
    close() {
      reader?.disconnect();
      reader = undefined;
    },
  };
}

/** Orders stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}
