import pino from "pino";
import { describe, expect, it } from "vitest";
import { ephemeralSigner } from "../../src/audit/checkpoint.ts";
import { closeDanglingIntents } from "../../src/audit/intents.ts";
import { claimAuditKey, keyFingerprint } from "../../src/audit/key-claim.ts";
import { createAuditLog, RecordRefusedError } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { scenarioInbox } from "../../src/bot/features/scenario.ts";
import { confirmOffset } from "../../src/bot/intake/polling.ts";
import { flushCollectQueue } from "../../src/collect/recorder.ts";
import {
  createCaseLeases,
  fencedAudit,
  LeaseLostError,
} from "../../src/scenario/runtime/case-lease.ts";
import { botKeys, collectKeys, replicaKeys, scenarioKeys } from "../../src/store/keys.ts";
import { acquireLease, leaseHandle } from "../../src/store/lease.ts";
import { isAlive, keepAlive } from "../../src/store/process.ts";
import { freshLog, freshRedis } from "../audit/helpers.ts";

/**
 * What several processes on one Redis share, one piece at a time: the fenced
 * lease, liveness, the open intents each process leaves, the batched collect
 * entries, and the audit key's fingerprint.
 */

const CASE = "op-multi";
const keys = { lease: "warden:global:{t}:lease", fence: "warden:global:{t}:fence" };

describe("a lease with a fencing token", () => {
  it("is held by one holder at a time; a new holder gets a higher token; a lapsed holder resumes its token only if nobody took it", async () => {
    const { redis } = await freshRedis();
    const a = await acquireLease(redis, keys, "a", 60_000);
    expect(a).toEqual({ token: 1 });
    expect(await acquireLease(redis, keys, "b", 60_000)).toEqual({ heldBy: "a" });
    // Renewing keeps the token.
    expect(await acquireLease(redis, keys, "a", 60_000, 1)).toEqual({ token: 1 });
    // It lapses (as if a had been paused past it): b takes it with a newer token.
    await redis.del(keys.lease);
    expect(await acquireLease(redis, keys, "b", 60_000)).toEqual({ token: 2 });
    await redis.del(keys.lease);
    // a comes back: token 1 is stale, so it gets a new one rather than its old.
    expect(await acquireLease(redis, keys, "a", 60_000, 1)).toEqual({ token: 3 });
    await redis.del(keys.lease);
    // Lapsed and taken by nobody since: the same token again.
    expect(await acquireLease(redis, keys, "a", 60_000, 3)).toEqual({ token: 3 });
  });

  it("tells its holder when a renewal finds the lease taken over", async () => {
    const { redis } = await freshRedis();
    const lost: number[] = [];
    const a = leaseHandle({ redis, keys, holder: "a", onLost: (t) => lost.push(t) });
    expect(await a.renew()).toBe(1);
    expect(a.held()).toBe(1);
    await redis.del(keys.lease);
    expect(await acquireLease(redis, keys, "b", 60_000)).toEqual({ token: 2 });
    expect(await a.renew()).toBeUndefined();
    expect(a.held()).toBeUndefined();
    expect(a.heldBy()).toBe("b");
    expect(lost).toEqual([1]);
  });

  it("fences audit writes: a precondition on the fence's value refuses the writer whose token is no longer the newest", async () => {
    const { redis, log } = await freshLog();
    const fence = "warden:{op-multi}:scenario:fence";
    await redis.set(fence, "2");
    const entry = {
      case: CASE,
      actor: { kind: "system" as const, name: "test" },
      op: "scenario.step",
      phase: "info" as const,
    };
    const guard = (token: number) => ({
      preconditions: [{ key: fence, exists: true, equals: String(token), message: "lease lost" }],
    });
    await expect(log.record(entry, guard(2))).resolves.toMatchObject({ seq: 1 });
    await expect(log.record(entry, guard(1))).rejects.toThrow(RecordRefusedError);
  });
});

describe("the polling lease's confirmed offset", () => {
  it("is moved only by the newest leader: a leader that lost the lease has its offset refused", async () => {
    const { redis } = await freshRedis();
    const poll = { lease: replicaKeys.pollLease(), fence: replicaKeys.pollFence() };
    expect(await acquireLease(redis, poll, "a", 60_000)).toEqual({ token: 1 });
    expect(await confirmOffset(redis, 1, 10)).toBe(true);
    // A was frozen past its lease; B took it.
    await redis.del(poll.lease);
    expect(await acquireLease(redis, poll, "b", 60_000)).toEqual({ token: 2 });
    expect(await confirmOffset(redis, 2, 15)).toBe(true);
    // A wakes up and would confirm what it fetched before it froze: refused, and it must not poll.
    expect(await confirmOffset(redis, 1, 30)).toBe(false);
    expect(await redis.hgetall(replicaKeys.pollOffset())).toEqual({ offset: "15", token: "2" });
    // The offset never goes back.
    expect(await confirmOffset(redis, 2, 12)).toBe(true);
    expect(await redis.hget(replicaKeys.pollOffset(), "offset")).toBe("15");
  });
});

describe("the scenario inbox beside other processes", () => {
  it("replays only what dead processes left below the offset Telegram will hand out again", async () => {
    const { redis } = await freshRedis();
    const key = botKeys.scenarioInbox();
    const update = (id: number) => ({ update_id: id, message: { message_id: id } });
    await redis.hset(key, "5", JSON.stringify({ owner: "dead", update: update(5) }));
    await redis.hset(key, "12", JSON.stringify({ owner: "dead", update: update(12) }));
    await redis.hset(key, "6", JSON.stringify({ owner: "live", update: update(6) }));
    const inbox = scenarioInbox(redis, pino({ level: "silent" }), {
      id: "me",
      alive: async (id) => id !== "dead",
      redeliveredFrom: async () => 10,
    });
    const handled: number[] = [];
    expect(await inbox.replay(async (u) => void handled.push(u.update_id))).toBe(1);
    // 5 was confirmed to Telegram: only the inbox has it. 12 comes again from Telegram; 6 is a live process's.
    expect(handled).toEqual([5]);
    expect((await redis.hkeys(key)).sort()).toEqual(["12", "6"]);
  });
});

describe("the scenario lease of a case", () => {
  it("lets one process at a time move the case's runs; the one that lost it has its writes refused, outcomes excepted", async () => {
    const { redis, log } = await freshLog();
    const logger = pino({ level: "silent" });
    const a = createCaseLeases({ redis, holder: "proc-a", logger });
    const b = createCaseLeases({ redis, holder: "proc-b", logger });
    const tokenA = await a.hold(CASE);
    expect(tokenA).toBe(1);
    expect(await b.hold(CASE)).toBeUndefined();
    const staleAudit = fencedAudit(log, CASE, tokenA as number);
    const step = {
      case: CASE,
      actor: { kind: "system" as const, name: "test" },
      op: "scenario.step",
    };
    const intent = await staleAudit.record({ ...step, phase: "intent" });
    // a is frozen past its lease: b takes the case over with a newer token.
    await redis.del(scenarioKeys.lease(CASE));
    const b2 = createCaseLeases({ redis, holder: "proc-b", logger });
    expect(await b2.hold(CASE)).toBe(2);
    await expect(staleAudit.record({ ...step, phase: "info" })).rejects.toThrow(LeaseLostError);
    await expect(staleAudit.record({ ...step, phase: "intent" })).rejects.toThrow(LeaseLostError);
    // What already happened is still reported.
    await expect(
      staleAudit.record({
        ...step,
        phase: "outcome",
        intent_seq: intent.seq,
        result: { ok: true },
      }),
    ).resolves.toMatchObject({ phase: "outcome" });
    for (const l of [a, b, b2]) await l.release();
  });
});

describe("processes' liveness and their open intents", () => {
  it("closes only the intents of processes that are gone, and each once when two processes close at once", async () => {
    const { redis, url } = await freshRedis();
    const alive = await keepAlive(redis, "host-1-live", { mode: "polling" });
    const liveLog = createAuditLog({ redis, writer: "host-1-live" });
    const deadLog = createAuditLog({ redis, writer: "host-2-dead" });
    const oldLog = createAuditLog({ redis });
    const intent = (op: string) => ({
      case: CASE,
      actor: { kind: "system" as const, name: "test" },
      op,
      phase: "intent" as const,
    });
    const live = await liveLog.record(intent("ban"));
    const dead = await deadLog.record(intent("freeze"));
    const old = await oldLog.record(intent("warn"));
    expect(await redis.hget(auditKeys.openIntents(CASE), String(live.seq))).toBe("ban host-1-live");

    const { Redis } = await import("ioredis");
    const other = new Redis(url);
    const closer = (r: typeof redis) => createAuditLog({ redis: r, writer: "host-3-new" });
    const byWriter = (r: typeof redis) => (w: string) => isAlive(r, w);
    const [one, two] = await Promise.all([
      closeDanglingIntents(closer(redis), CASE, byWriter(redis)),
      closeDanglingIntents(closer(other), CASE, byWriter(other)),
    ]);
    const closed = [...one, ...two].map((d) => d.intentSeq).sort();
    expect(closed).toEqual([dead.seq, old.seq].sort());
    expect(await redis.hkeys(auditKeys.openIntents(CASE))).toEqual([String(live.seq)]);

    // Once the live one stops, its intent is closed too.
    await alive.stop();
    const later = await closeDanglingIntents(closer(redis), CASE, byWriter(redis));
    expect(later.map((d) => d.intentSeq)).toEqual([live.seq]);
    other.disconnect();
    for (const l of [liveLog, deadLog, oldLog]) await l.close();
  });
});

describe("batched collect entries with several writers", () => {
  it("puts each update id in exactly one collect entry when two recorders flush the same queue", async () => {
    const { redis, url } = await freshRedis();
    const { Redis } = await import("ioredis");
    const connections = [redis, new Redis(url)];
    const writers = connections.map((r) => ({ redis: r, audit: createAuditLog({ redis: r }) }));
    const key = collectKeys.pendingCollect(CASE);
    for (let round = 0; round < 20; round++) {
      const ids = Array.from({ length: 37 }, (_, i) => round * 100 + i);
      await redis.rpush(key, ...ids);
      // Both flush the same queue at the same moment (each was told of the case by an update).
      await Promise.all(writers.map((w) => flushCollectQueue(w.redis, w.audit, CASE)));
    }
    const counts = new Map<number, number>();
    const payloads = await redis.hvals(auditKeys.payloads(CASE));
    for (const raw of payloads) {
      const e = JSON.parse(raw) as { op: string; update_ids?: number[] };
      if (e.op !== "collect") continue;
      for (const id of e.update_ids ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBe(20 * 37);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await redis.llen(key)).toBe(0);
    for (const w of writers) await w.audit.close();
    connections[1]?.disconnect();
  });
});

describe("the audit key every process signs with", () => {
  it("is stored by the first process; another key is refused", async () => {
    const { redis } = await freshRedis();
    const a = keyFingerprint(ephemeralSigner("a"));
    const b = keyFingerprint(ephemeralSigner("b"));
    expect(await claimAuditKey(redis, a)).toEqual({ ok: true, first: true });
    expect(await claimAuditKey(redis, a)).toEqual({ ok: true, first: false });
    expect(await claimAuditKey(redis, b)).toEqual({ ok: false, stored: a });
  });
});
