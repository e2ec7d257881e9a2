import { describe, expect, it } from "vitest";
import { parseCheckpoint } from "../../src/audit/checkpoint.ts";
import { auditKeys, readCheckpointNotes, readHead } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { appendSome, freshLog, info, verifierOf } from "./helpers.ts";

describe("appending", () => {
  it("numbers entries 1, 2, 3 … and chains them", async () => {
    const { log, redis, signer } = await freshLog();
    const a = await log.record(info("c1", "case.create"));
    const b = await log.record(info("c1", "warn"));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.prev).toBe("0".repeat(64));
    expect(b.prev).not.toBe(a.prev);
    expect(await redis.xlen(auditKeys.stream("c1"))).toBe(2);
    const report = await verifyCaseLog(redis, "c1", { verifiers: [verifierOf(signer)] });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(2);
  });

  it("coalesces concurrent records into batches and keeps one chain", async () => {
    const { log, redis, signer } = await freshLog({ checkpointEvery: 100 });
    await appendSome(log, "c1", 1234);
    await log.close();
    const head = await readHead(redis, "c1");
    expect(head.seq).toBe(1234);
    const notes = await readCheckpointNotes(redis, "c1");
    expect(notes.map((n) => parseCheckpoint(n).size)).toContain(1234);
    const report = await verifyCaseLog(redis, "c1", { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, entries: 1234, signedSize: 1234, warnings: [] });
  });
});
