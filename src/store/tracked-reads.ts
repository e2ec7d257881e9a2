import { EventEmitter } from "node:events";
import { Redis as IORedis } from "ioredis";
import type { Redis } from "./redis.ts";

/**
 * Reads the bot makes for nearly every update — is any scenario running, which
 * run is active in this chat, has this member a conversation — answered from
 * this process's memory, and forgotten the moment Redis says the key changed.
 *
 * Redis does the invalidating itself (server-assisted client-side caching,
 * `CLIENT TRACKING`, Redis 6+): the reads go through a connection of their own
 * with tracking on, and Redis sends the name of every key that connection read
 * to a subscriber connection as soon as anything changes it — a Lua script, a
 * `warden` command in another process, another replica, `FLUSHDB`. Nobody who
 * writes has to remember to tell the cache. A change reaches this process one
 * loopback or LAN hop after Redis applied it, and before it answered the writer;
 * an update handled within that hop is concurrent with the change and could
 * have gone either way without a cache too.
 *
 * Fail-safe: whenever either connection is not up (at start, after a loss, until
 * tracking is on again) nothing is cached and every read goes to Redis on the
 * main connection, as without this module. A value read while an invalidation
 * arrived is not kept (the reply and the invalidation travel on two sockets, so
 * their order here is not Redis's). On the embedded Redis (ioredis-mock), a
 * cluster, or a server or ACL user that refuses `CLIENT TRACKING`, reads are
 * simply not cached. Entries are also re-read after `MAX_AGE_MS`, a bound on
 * what a silently broken subscriber connection (no reset, no close) could serve.
 */

export interface TrackedReads {
  /**
   * The value `read` gives for `key` (a Redis key) and `part` (what of it: a
   * field, or "" for the whole), from memory while Redis has not said `key`
   * changed. `read` must read only `key`, through the connection it is given.
   */
  get<T>(key: string, part: string, read: (redis: Redis) => Promise<T>): Promise<T>;
  /**
   * What `get` would answer from memory now, without waiting: `{ value }`, or
   * undefined when it would have to ask Redis. For the questions asked of
   * every update, so the common answer costs no promise; ask `get` when this
   * says undefined.
   */
  peek(key: string, part: string): { readonly value: unknown } | undefined;
  /** Whether reads are being cached now (tests, the benchmark). */
  tracking(): boolean;
  /**
   * Tells `listener` when caching starts ("tracking"), when Redis said keys
   * changed ("invalidated"), when a connection was lost ("lost"), and when Redis
   * refused tracking for good ("refused": reads stay uncached); for tests.
   */
  on(event: "tracking" | "invalidated" | "lost" | "refused", listener: () => void): () => void;
  close(): void;
}

const INVALIDATE = "__redis__:invalidate";
/** Re-read at least this often, whatever the subscriber says (see above). */
export const MAX_AGE_MS = 5_000;
/** Redis's answers that mean it will never track for this user or server. */
const REFUSED = /^(NOPERM|ERR unknown (sub)?command|ERR unknown command|ERR .*tracking)/i;
/** Parts kept of one key (fields of a hash read one by one); past it the key starts afresh. */
const MAX_PARTS = 50_000;
/** Wait before setting tracking up again after a connection was lost or refused. */
const RETRY_MS = 1_000;

interface Entry {
  value: unknown;
  at: number;
}

/** One per connection, shared by every feature that reads through it; closed with the connection. */
const shared = new WeakMap<Redis, TrackedReads>();

export function trackedReads(redis: Redis): TrackedReads {
  let reads = shared.get(redis);
  if (!reads) {
    reads = createTrackedReads(redis);
    shared.set(redis, reads);
  }
  return reads;
}

function createTrackedReads(redis: Redis): TrackedReads {
  // Only a real single server: ioredis-mock has no tracking, a Cluster's keys live on many nodes.
  const real = redis instanceof IORedis && !(redis as { isCluster?: boolean }).isCluster;
  const cache = new Map<string, Map<string, Entry>>();
  let on = false;
  let closed = !real;
  /** Bumped by every invalidation and loss: a read that spans one is not kept. */
  let generation = 0;
  let reader: IORedis | undefined;
  let subscriber: IORedis | undefined;
  let retry: NodeJS.Timeout | undefined;
  const events = new EventEmitter();

  function forget() {
    on = false;
    generation++;
    cache.clear();
  }

  function teardown() {
    forget();
    reader?.disconnect();
    subscriber?.disconnect();
    reader = undefined;
    subscriber = undefined;
  }

  function again() {
    const was = reader !== undefined;
    teardown();
    if (was) events.emit("lost");
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      start();
    }, RETRY_MS);
    retry.unref();
  }

  function start() {
    if (closed) return;
    // No reconnecting of their own: any loss tears both down and sets tracking up afresh.
    const own = {
      enableOfflineQueue: false,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: false,
    };
    // Reached only for a single server (`closed` is set otherwise).
    const server = redis as IORedis;
    const r = server.duplicate(own);
    const s = server.duplicate(own);
    reader = r;
    subscriber = s;
    for (const c of [r, s]) {
      c.on("error", () => undefined); // a loss is handled by "close"; nothing to log per retry
      c.on("close", () => {
        if (reader === r) again();
      });
    }
    s.on("messageBuffer", (channel: Buffer, keys: Buffer[] | null) => {
      if (String(channel) !== INVALIDATE) return;
      generation++;
      if (keys === null)
        cache.clear(); // FLUSHDB, FLUSHALL
      else for (const k of keys) cache.delete(String(k));
      events.emit("invalidated");
    });
    const ready = (c: Redis) =>
      c.status === "ready" ? Promise.resolve() : new Promise((res) => c.once("ready", res));
    void (async () => {
      await Promise.all([ready(r), ready(s)]);
      const id = await s.client("ID");
      await s.subscribe(INVALIDATE);
      await r.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(id));
      if (reader === r && !closed) {
        generation++;
        on = true;
        events.emit("tracking");
      }
    })().catch((err: Error) => {
      if (reader !== r) return;
      // A server or ACL user that will never allow it (NOPERM, an unknown or disabled command):
      // stop asking, and read uncached from now on, rather than reconnect every second for ever.
      if (REFUSED.test(err.message)) {
        closed = true;
        teardown();
        events.emit("refused");
        return;
      }
      again();
    });
  }

  if (real) redis.once("end", () => close());
  function close() {
    closed = true;
    if (retry) clearTimeout(retry);
    teardown();
  }
  start();

  return {
    async get<T>(key: string, part: string, read: (redis: Redis) => Promise<T>): Promise<T> {
      const via = reader;
      if (!on || !via) return read(redis);
      const hit = cache.get(key)?.get(part);
      if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.value as T;
      const before = generation;
      const value = await read(via).catch(() => read(redis));
      if (on && generation === before && reader === via) {
        let parts = cache.get(key);
        if (!parts || parts.size >= MAX_PARTS) {
          parts = new Map();
          cache.set(key, parts);
        }
        parts.set(part, { value, at: Date.now() });
      }
      return value;
    },
    peek(key, part) {
      if (!on) return undefined;
      const hit = cache.get(key)?.get(part);
      return hit && Date.now() - hit.at < MAX_AGE_MS ? hit : undefined;
    },
    tracking: () => on,
    on(event, listener) {
      events.on(event, listener);
      return () => events.off(event, listener);
    },
    close,
  };
}

/**
 * Hash fields, each as HGET gives it: from memory while tracked (see above),
 * otherwise sent at once as separate commands: ioredis writes them back to
 * back on one connection (one round trip on a single server), and a cluster
 * routes each to its own slot's master, which one pipeline could not span.
 */
export async function trackedHgets(
  redis: Redis,
  fields: ReadonlyArray<readonly [key: string, field: string]>,
): Promise<Array<string | null>> {
  const reads = trackedReads(redis);
  if (reads.tracking())
    return Promise.all(
      fields.map(([key, field]) => reads.get(key, field, (r) => r.hget(key, field))),
    );
  return Promise.all(fields.map(([key, field]) => redis.hget(key, field)));
}
