/**
 * The rule that keeps Warden's atomic steps legal on a Redis Cluster: the
 * keys of one step share a hash tag. The cluster itself refuses a step that
 * breaks it (so the suites on the cluster find any), and Warden checks it
 * before sending, so one that breaks it fails on a single server as well.
 */
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import type { CaseCache } from "../../src/collect/case-cache.ts";
import { attributePrivate } from "../../src/collect/private.ts";
import { collectKeys, keys } from "../../src/store/keys.ts";
import { connectRedis, type RedisConnection } from "../../src/store/redis.ts";
import { scanKeys } from "../../src/store/scan.ts";
import { assertOneSlot, CrossSlotError, hashTagOf } from "../../src/store/slots.ts";
import { clusterUrl, connectTestCluster, freshCaseId } from "../helpers/cluster.ts";

describe("one slot per atomic step", () => {
  let connection: RedisConnection;
  beforeAll(async () => {
    connection = await connectTestCluster();
  });
  afterAll(async () => {
    await connection?.close();
  });

  it("is what the cluster enforces: a script over two cases' keys is refused there", async () => {
    const a = keys.caseMeta(freshCaseId("slot-a"));
    const b = keys.caseMeta(freshCaseId("slot-b"));
    await expect(
      connection.redis.eval(
        "redis.call('SET', KEYS[1], 1); redis.call('SET', KEYS[2], 1)",
        2,
        a,
        b,
      ),
    ).rejects.toThrow(/CROSSSLOT|same slot/);
    // A script over one case's keys is accepted, even for keys it was not handed.
    const caseId = freshCaseId("slot-c");
    await connection.redis.eval(
      "redis.call('SET', KEYS[1], 1); redis.call('SET', ARGV[1], 1)",
      1,
      keys.caseMeta(caseId),
      keys.caseRoles(caseId),
    );
    expect(await connection.redis.exists(keys.caseRoles(caseId))).toBe(1);
  });

  it("is checked before an audit entry is sent: a global key beside a case's is refused on any Redis", async () => {
    const caseId = freshCaseId("slot-d");
    const audit = createAuditLog({ redis: connection.redis });
    await createCase(
      { redis: connection.redis, audit, actor: { kind: "cli", name: "test" } },
      { id: caseId, title: "t", authority: "a", purpose: "p", retentionDays: 1 },
    );
    await expect(
      audit.record(
        { case: caseId, actor: { kind: "cli", name: "test" }, op: "config", phase: "info" },
        { writes: [["SADD", keys.caseIndex(), caseId]] },
      ),
    ).rejects.toThrow(/warden:global:cases, which a Redis Cluster keeps in different slots/);
    expect(() => assertOneSlot("x", [keys.caseMeta(caseId), keys.chatIndex()])).toThrow(
      CrossSlotError,
    );
    expect(hashTagOf(keys.caseMeta(caseId))).toBe(caseId);
    await audit.close();
  });

  it("leaves SCAN to visit every master: keys of many cases are all found", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => freshCaseId(`scan${i}`));
    for (const id of ids) await connection.redis.hset(keys.caseMeta(id), "scan", "1");
    const slots = new Set(
      await Promise.all(
        ids.map(async (id) => connection.redis.call("CLUSTER", "KEYSLOT", keys.caseMeta(id))),
      ),
    );
    expect(slots.size).toBeGreaterThan(1);
    const found = new Set(await scanKeys(connection.redis, "warden:{scan*}:meta"));
    for (const id of ids) expect(found).toContain(keys.caseMeta(id));
  });
});

describe("REDIS_MODE", () => {
  it("single, pointed at a cluster node, stops with one line that says to set REDIS_MODE=cluster", async () => {
    const [first] = clusterUrl().split(",");
    await expect(connectRedis({ url: first, connectTimeoutMs: 20_000 })).rejects.toThrow(
      /is a node of a Redis Cluster.*set REDIS_MODE=cluster/,
    );
  });
});

describe("reads over several cases", () => {
  it("attribute a private message to the cases that saw its sender, wherever their masters are", async () => {
    const connection = await connectTestCluster();
    try {
      const { redis } = connection;
      const ids = Array.from({ length: 6 }, (_, i) => freshCaseId(`priv${i}`));
      // Six cases land on more than one of the three masters.
      const masters = new Set(
        await Promise.all(
          ids.map(
            async (id) =>
              (redis as Cluster).slots[
                Number(await redis.call("CLUSTER", "KEYSLOT", keys.caseMeta(id)))
              ]?.[0],
          ),
        ),
      );
      expect(masters.size).toBeGreaterThan(1);
      const userId = 5_550_123;
      const seenIn = ids.filter((_, i) => i % 2 === 0);
      for (const id of seenIn) await redis.hset(collectKeys.member(id, userId), "first_seen", "1");
      const cache = { caseIds: async () => ids } as unknown as CaseCache;
      const attributed = await attributePrivate(redis, cache, userId);
      expect(attributed.filter((a) => a.attribution === "seen").map((a) => a.caseId)).toEqual(
        seenIn,
      );
    } finally {
      await connection.close();
    }
  });
});
