import { describe, expect, it } from "vitest";
import { closeDanglingIntents } from "../../src/audit/intents.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { startWriter } from "./children.ts";
import { freshLog, info } from "./helpers.ts";

describe("several processes", () => {
  it("two writer processes appending to one case keep one valid chain", async () => {
    const { redis, url, log } = await freshLog();
    await log.record(info("op-two", "case.create"));
    const a = startWriter([url, "op-two", "append", "400", "A"]);
    const b = startWriter([url, "op-two", "append", "400", "B"]);
    await Promise.all([a.output, b.output]);
    const report = await verifyCaseLog(redis, "op-two");
    expect(report.failure).toBeUndefined();
    expect(report.entries).toBe(801);
    const payloads = Object.values(await redis.hgetall(auditKeys.payloads("op-two")));
    const writers = payloads.map(
      (p) => (JSON.parse(p) as { params?: { writer?: string } }).params?.writer,
    );
    expect(writers.filter((w) => w === "A")).toHaveLength(400);
    expect(writers.filter((w) => w === "B")).toHaveLength(400);
  });

  it("two processes with several batches in flight each keep one chain, each writer's entries in order", async () => {
    const { redis, url, log } = await freshLog();
    await log.record(info("op-pipe", "case.create"));
    const a = startWriter([url, "op-pipe", "pipeline", "600", "A"]);
    const b = startWriter([url, "op-pipe", "pipeline", "600", "B"]);
    await Promise.all([a.output, b.output]);
    const report = await verifyCaseLog(redis, "op-pipe");
    expect(report.failure).toBeUndefined();
    expect(report.entries).toBe(1201);
    const bySeq = await redis.hgetall(auditKeys.payloads("op-pipe"));
    const order: Record<string, number[]> = { A: [], B: [] };
    for (let seq = 2; seq <= 1201; seq++) {
      const entry = JSON.parse(bySeq[String(seq)] ?? "{}") as {
        params?: { writer?: string; i?: number };
      };
      order[entry.params?.writer ?? "?"]?.push(entry.params?.i ?? -1);
    }
    const ascending = Array.from({ length: 600 }, (_, i) => i);
    expect(order.A).toEqual(ascending);
    expect(order.B).toEqual(ascending);
  });

  it("a process killed between intent and outcome leaves an intent that start-up closes as unknown", async () => {
    const { redis, url, log, signer } = await freshLog();
    await log.record(info("op-crash", "case.create"));
    const w = startWriter([url, "op-crash", "hang"]);
    await w.waitFor("performing");
    w.child.kill("SIGKILL");
    await w.output;

    expect(await redis.hkeys(auditKeys.openIntents("op-crash"))).toEqual(["2"]);
    const before = await verifyCaseLog(redis, "op-crash");
    expect(before.ok).toBe(true);
    expect(before.warnings.map((x) => x.message).join("\n")).toMatch(/intent seq 2 has no outcome/);

    const dangling = await closeDanglingIntents(log, "op-crash");
    expect(dangling).toHaveLength(1);
    expect(dangling[0]?.intent?.op).toBe("ban");
    expect(dangling[0]?.outcome).toMatchObject({
      phase: "outcome",
      intent_seq: 2,
      result: { ok: "unknown" },
    });
    expect(await redis.hlen(auditKeys.openIntents("op-crash"))).toBe(0);
    expect(await closeDanglingIntents(log, "op-crash")).toEqual([]);

    await log.close();
    const after = await verifyCaseLog(redis, "op-crash", {
      verifiers: [(await import("./helpers.ts")).verifierOf(signer)],
    });
    expect(after.failure).toBeUndefined();
    expect(after.warnings).toEqual([]);
  });
});
