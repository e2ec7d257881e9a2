import type { Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import { describe, expect, it } from "vitest";
import { ephemeralSigner, verifierOf } from "../../src/audit/checkpoint.ts";
import { eraseEntryPayloads } from "../../src/audit/erase.ts";
import { closeDanglingIntents, performAudited } from "../../src/audit/intents.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { info } from "./helpers.ts";

describe("the embedded rehearsal store (ioredis-mock)", () => {
  it("appends, closes intents, erases, checkpoints and verifies", async () => {
    const redis = new RedisMock() as unknown as Redis;
    const signer = ephemeralSigner();
    const log = createAuditLog({ redis, signer, checkpointEvery: 5 });
    await log.recordMany(
      Array.from({ length: 12 }, (_, i) => info("rehearsal", i % 3 ? "warn" : "collect", { i })),
    );
    await performAudited(
      log,
      { case: "rehearsal", actor: { kind: "scenario" }, op: "freeze" },
      async () => true,
    );
    await log.record({
      case: "rehearsal",
      actor: { kind: "scenario" },
      op: "ban",
      phase: "intent",
    });
    expect(await closeDanglingIntents(log, "rehearsal")).toHaveLength(1);
    await eraseEntryPayloads(log, "rehearsal", (e) => e.op === "collect", "retention ended", {
      kind: "cli",
      name: "rehearsal",
    });
    await log.close();
    const report = await verifyCaseLog(redis, "rehearsal", { verifiers: [verifierOf(signer)] });
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ ok: true, entries: 17, erased: 4 });
    expect(report.signedSize).toBe(17);
    expect(report.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/has no XINFO/)]);
    redis.disconnect();
  });
});
