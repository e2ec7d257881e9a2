import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { casePrefix, collectKeys } from "../../src/collect/keys.ts";
import { createPersister, SEEN_UPDATES_MS, type UpdateFacts } from "../../src/collect/persist.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

/**
 * The recorder's atomic step on its own, against real Redis: updates sent
 * together each get their own answer, a redelivered update changes nothing
 * while its id is remembered, and ids older than the de-duplication window
 * are forgotten rather than kept for ever.
 */

let redis: Redis;
beforeAll(async () => {
  redis = new Redis(await freshRedisUrl());
});
afterAll(() => redis.disconnect());

function facts(caseId: string, updateId: number, receivedAt: number, userId: number): UpdateFacts {
  return {
    prefix: casePrefix(caseId),
    updateId,
    receivedAt,
    members: [
      {
        userId,
        profile: JSON.stringify({ id: userId, is_bot: false, first_name: "Kees" }),
        nameSignature: JSON.stringify(["Kees", null, null]),
        usernameLower: "",
        countField: "count:text",
      },
    ],
    once: [],
    writes: [],
  };
}

describe("persisting update facts", () => {
  it("answers each update of a batch, and changes nothing for one delivered twice", async () => {
    const persister = createPersister(redis);
    const now = Date.now();
    const first = await Promise.all([
      persister.persist(facts("persist-a", 1, now, 7)),
      persister.persist(facts("persist-a", 2, now, 7)),
      persister.persist(facts("persist-a", 1, now, 7)),
    ]);
    expect(first.map((r) => r.applied)).toEqual([true, true, false]);
    expect((await persister.persist(facts("persist-a", 2, now, 7))).applied).toBe(false);
    expect(await redis.hget(collectKeys.member("persist-a", 7), "count:text")).toBe("2");
    expect(await redis.lrange(collectKeys.pendingCollect("persist-a"), 0, -1)).toEqual(["1", "2"]);
  });

  it("forgets update ids older than the de-duplication window", async () => {
    const persister = createPersister(redis);
    const now = Date.now();
    const old = now - SEEN_UPDATES_MS - 60_000;
    await persister.persist(facts("persist-b", 10, old, 8));
    await persister.persist(facts("persist-b", 11, now, 8));
    const seen = await redis.zrange(collectKeys.seenUpdates("persist-b"), 0, -1);
    expect(seen).toEqual(["11"]);
  });
});
