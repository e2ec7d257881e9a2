import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/audit/entry.ts";
import { RecordRefusedError } from "../../src/audit/record.ts";
import { auditKeys, readHead } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { freshLog, info, operator, verifierOf } from "./helpers.ts";

/** Counts the append script calls in flight at once on this connection (EVALSHA, or EVAL when Redis lacks the script). */
function watchInFlight(redis: Redis): { max: () => number } {
  let now = 0;
  let max = 0;
  const spied = redis as unknown as Record<
    "eval" | "evalsha",
    (...args: unknown[]) => Promise<unknown>
  >;
  for (const command of ["eval", "evalsha"] as const) {
    const original = spied[command].bind(redis);
    spied[command] = (...args) => {
      now++;
      max = Math.max(max, now);
      return original(...args).finally(() => {
        now--;
      });
    };
  }
  return { max: () => max };
}

describe("pipelined appends", () => {
  it("keeps several batches in flight and resolves them in order", async () => {
    const { log, redis, signer } = await freshLog({ maxBatch: 3, pipelineDepth: 4 });
    const watch = watchInFlight(redis);
    const recorded = await Promise.all(
      Array.from({ length: 40 }, (_, i) => log.record(info("p1", "warn", { i }))),
    );
    expect(watch.max()).toBeGreaterThan(1);
    expect(recorded.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(recorded.map((e) => e.params?.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await log.close();
    const report = await verifyCaseLog(redis, "p1", { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, entries: 40, signedSize: 40, warnings: [] });
  });

  it("a refused precondition mid-pipeline: later batches are appended again from the real head, their writes with them", async () => {
    const { log, redis } = await freshLog({ maxBatch: 1, pipelineDepth: 4 });
    const watch = watchInFlight(redis);
    const writesFor = (e: AuditEntry) => [["HSET", "{p2}:applied", String(e.seq), e.op] as const];
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        log.record(
          info("p2", i === 3 ? "freeze" : "warn", { i }),
          i === 3
            ? {
                preconditions: [{ key: "{p2}:missing", exists: true, message: "no such chat" }],
                writes: writesFor,
              }
            : { writes: writesFor },
        ),
      ),
    );
    expect(watch.max()).toBeGreaterThan(1);
    const refused = results[3];
    expect(refused?.status).toBe("rejected");
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(RecordRefusedError);
    const appended = results
      .filter((r): r is PromiseFulfilledResult<AuditEntry> => r.status === "fulfilled")
      .map((r) => r.value);
    expect(appended.map((e) => [e.seq, e.params?.i])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 4],
      [5, 5],
      [6, 6],
      [7, 7],
    ]);
    // Each entry's writes were applied with it, under the seq it finally got; the refused one's never.
    expect(await redis.hgetall("{p2}:applied")).toEqual(
      Object.fromEntries(appended.map((e) => [String(e.seq), "warn"])),
    );
    const report = await verifyCaseLog(redis, "p2");
    expect(report).toMatchObject({ ok: true, entries: 7 });
  });

  it("an outcome whose intent was closed meanwhile becomes a late report, and the batches after it follow", async () => {
    const { log, redis } = await freshLog({ maxBatch: 1, pipelineDepth: 4 });
    const intent = await log.record({ case: "p3", actor: operator, op: "ban", phase: "intent" });
    // As if start-up had closed it as unknown while this process was presumed dead.
    await log.record({
      case: "p3",
      actor: operator,
      op: "ban",
      phase: "outcome",
      intent_seq: intent.seq,
      result: { ok: "unknown", description: "closed at start-up" },
    });
    const [late, ...after] = await Promise.all([
      log.record({
        case: "p3",
        actor: operator,
        op: "ban",
        phase: "outcome",
        intent_seq: intent.seq,
        result: { ok: true },
      }),
      ...Array.from({ length: 5 }, (_, i) => log.record(info("p3", "warn", { i }))),
    ]);
    expect(late).toMatchObject({ seq: 3, phase: "info", params: { late_outcome: true } });
    expect(after.map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
    const report = await verifyCaseLog(redis, "p3");
    expect(report).toMatchObject({ ok: true, entries: 8 });
  });

  it("the script checks the head's hash, not only its seq: a batch chained on another chain is built again", async () => {
    const { log, redis } = await freshLog();
    await log.record(info("p4", "case.create"));
    // Another chain reached the same seq (what a refused batch in flight would leave behind).
    const rival = "ab".repeat(32);
    await redis.hset(auditKeys.head("p4"), "hash", rival);
    const second = await log.record(info("p4", "warn"));
    expect(second).toMatchObject({ seq: 2, prev: rival });
    expect((await readHead(redis, "p4")).hash).not.toBe(rival);
  });

  it("one batch at a time still works (pipelineDepth 1)", async () => {
    const { log, redis } = await freshLog({ maxBatch: 4, pipelineDepth: 1 });
    const watch = watchInFlight(redis);
    await Promise.all(Array.from({ length: 30 }, (_, i) => log.record(info("p5", "warn", { i }))));
    expect(watch.max()).toBe(1);
    expect((await verifyCaseLog(redis, "p5")).ok).toBe(true);
  });

  it("verifies a live log as it stood when the read began, while appends go on", async () => {
    const { log, redis, signer } = await freshLog({ checkpointEvery: 500 });
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) => log.record(info("live", "warn", { i }))),
    );
    let reading = true;
    let appended = 0;
    const writer = (async () => {
      while (reading) {
        await log.record(info("live", "warn", { later: appended }));
        appended++;
      }
    })();
    const report = await verifyCaseLog(redis, "live", { verifiers: [verifierOf(signer)] });
    reading = false;
    await writer;
    expect(appended).toBeGreaterThan(0);
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.entries).toBeGreaterThanOrEqual(5000);
    // Once the writer has stopped, everything it appended verifies too.
    const after = await verifyCaseLog(redis, "live", { verifiers: [verifierOf(signer)] });
    expect(after).toMatchObject({ ok: true, entries: 5000 + appended });
  });
});
