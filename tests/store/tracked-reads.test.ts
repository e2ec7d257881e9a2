/**
 * Reads cached in the process and invalidated by Redis (src/store/tracked-reads.ts):
 * a cached answer is served until any writer changes the key — another
 * connection, a Lua script, FLUSHDB — and nothing is cached while the
 * subscriber connection that carries Redis's invalidations is down.
 */
import { Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TrackedReads, trackedReads } from "../../src/store/tracked-reads.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

let redis: Redis;
let writer: Redis;
let reads: TrackedReads;
let db: string;
/** Redis tracks key names across databases, and other test files share the server: a name of our own. */
let key: string;
/** The test server's URL without a database. */
let base: string;

function next(event: "tracking" | "invalidated" | "lost" | "refused"): Promise<void> {
  return new Promise((resolve) => {
    const off = reads.on(event, () => {
      off();
      resolve();
    });
  });
}

async function tracking(): Promise<void> {
  if (!reads.tracking()) await next("tracking");
}

/** A read of `key`'s field that counts how often it reached Redis. */
function counted(key: string, field: string) {
  let calls = 0;
  return {
    get: () =>
      reads.get(key, field, (r) => {
        calls++;
        return r.hget(key, field);
      }),
    calls: () => calls,
  };
}

beforeEach(async () => {
  const url = await freshRedisUrl();
  db = url.split("/").pop() as string;
  base = url.slice(0, url.lastIndexOf("/"));
  key = `warden:global:tracked-${db}-${Math.random().toString(36).slice(2)}`;
  redis = new Redis(url);
  writer = new Redis(url);
  reads = trackedReads(redis);
});
afterEach(() => {
  redis.disconnect();
  writer.disconnect();
});

describe("tracked reads", () => {
  it("answers a second read from memory", async () => {
    await tracking();
    await writer.hset(key, "a", "1");
    const read = counted(key, "a");
    expect(await read.get()).toBe("1");
    expect(await read.get()).toBe("1");
    expect(read.calls()).toBe(1);
  });

  it("peeks without waiting at what it would answer from memory, and at nothing once the key changed", async () => {
    await tracking();
    await writer.hset(key, "a", "1");
    expect(reads.peek(key, "a")).toBeUndefined(); // never read: Redis must be asked
    const read = counted(key, "a");
    expect(await read.get()).toBe("1");
    expect(reads.peek(key, "a")).toEqual(expect.objectContaining({ value: "1" }));
    const invalidated = next("invalidated");
    await writer.hset(key, "a", "2");
    await invalidated;
    expect(reads.peek(key, "a")).toBeUndefined();
    expect(await read.get()).toBe("2");
    expect(read.calls()).toBe(2);
  });

  it("reads again once another connection changed the key, by a command or a script", async () => {
    await tracking();
    const read = counted(key, "a");
    expect(await read.get()).toBeNull();
    let invalidated = next("invalidated");
    await writer.hset(key, "a", "1");
    await invalidated;
    expect(await read.get()).toBe("1");
    invalidated = next("invalidated");
    await writer.eval("redis.call('HSET', KEYS[1], 'a', '2')", 1, key);
    await invalidated;
    expect(await read.get()).toBe("2");
    expect(read.calls()).toBe(3);
  });

  it("forgets everything on FLUSHDB", async () => {
    await tracking();
    await writer.hset(key, "a", "1");
    const read = counted(key, "a");
    expect(await read.get()).toBe("1");
    const invalidated = next("invalidated");
    await writer.flushdb();
    await invalidated;
    expect(await read.get()).toBeNull();
  });

  it("caches nothing while its subscriber is gone, and tracks again once it is back", async () => {
    await tracking();
    const read = counted(key, "a");
    await read.get();
    const lost = next("lost");
    const back = next("tracking");
    // Only this test's subscriber: the one subscribed client in this test's database.
    const ours = String(await writer.client("LIST"))
      .split("\n")
      .filter((line) => line.includes(` db=${db} `) && / sub=[1-9]/.test(line))
      .map((line) => /id=(\d+)/.exec(line)?.[1]);
    expect(ours).toHaveLength(1);
    await writer.client("KILL", "ID", ours[0] as string);
    await lost;
    expect(reads.tracking()).toBe(false);
    await writer.hset(key, "a", "1");
    expect(await read.get()).toBe("1");
    expect(await read.get()).toBe("1");
    expect(read.calls()).toBe(3);
    await back;
    const invalidated = next("invalidated");
    expect(await read.get()).toBe("1");
    await writer.hset(key, "a", "2");
    await invalidated;
    expect(await read.get()).toBe("2");
  });

  it("reads uncached, and stops asking, when the ACL user may not track", async () => {
    const user = `tracked-${db}-${Math.random().toString(36).slice(2)}`;
    await writer.acl("SETUSER", user, "on", ">pw-tracked", "~*", "&*", "+@all", "-client");
    const url = new URL(`${base}/${db}`);
    url.username = user;
    url.password = "pw-tracked";
    const limited = new Redis(url.toString());
    try {
      reads = trackedReads(limited);
      await next("refused");
      expect(reads.tracking()).toBe(false);
      await writer.hset(key, "a", "1");
      const read = counted(key, "a");
      expect(await read.get()).toBe("1");
      expect(await read.get()).toBe("1");
      expect(read.calls()).toBe(2);
    } finally {
      limited.disconnect();
      await writer.acl("DELUSER", user);
    }
  });

  it("caches nothing on the embedded Redis, which cannot track", async () => {
    const mock = new RedisMock({ host: "embedded-tracked-reads", port: 6379 }) as unknown as Redis;
    const embedded = trackedReads(mock);
    let calls = 0;
    const get = () =>
      embedded.get(key, "", async (r) => {
        calls++;
        return r.scard(key);
      });
    await get();
    await get();
    expect(calls).toBe(2);
    expect(embedded.tracking()).toBe(false);
    mock.disconnect();
  });
});
