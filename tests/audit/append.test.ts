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

describe("contention and restarts", () => {
  it("two logs on two connections racing for one case keep one chain", async () => {
    const { Redis } = await import("ioredis");
    const { createAuditLog } = await import("../../src/audit/record.ts");
    const { log, url, redis } = await freshLog();
    const other = new Redis(url);
    const rival = createAuditLog({ redis: other, software: { version: "t", commit: "rival" } });
    await Promise.all([appendSome(log, "c2", 300), appendSome(rival, "c2", 300)]);
    await rival.close();
    other.disconnect();
    const report = await verifyCaseLog(redis, "c2");
    expect(report).toMatchObject({ ok: true, entries: 600 });
  });

  it("a restarted process continues the tree from the stored frontier", async () => {
    const { createAuditLog } = await import("../../src/audit/record.ts");
    const { log, redis, signer } = await freshLog();
    await appendSome(log, "c3", 37);
    await log.close();
    const restarted = createAuditLog({ redis, signer });
    await appendSome(restarted, "c3", 26);
    await restarted.close();
    const notes = (await readCheckpointNotes(redis, "c3")).map((n) => parseCheckpoint(n).size);
    expect(notes).toEqual([37, 63]);
    const report = await verifyCaseLog(redis, "c3", { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, entries: 63, signedSize: 63, warnings: [] });
  });

  it("grows the chain without a key and reports the unsigned range as a warning", async () => {
    const { createAuditLog } = await import("../../src/audit/record.ts");
    const { redis, log: signed, signer } = await freshLog();
    const unsigned = createAuditLog({ redis });
    await appendSome(unsigned, "c4", 5);
    await unsigned.close();
    expect(await readCheckpointNotes(redis, "c4")).toEqual([]);
    await appendSome(signed, "c4", 3);
    await signed.close();
    await appendSome(createAuditLog({ redis }), "c4", 2);
    const report = await verifyCaseLog(redis, "c4", { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, entries: 10, signedSize: 8 });
    expect(report.warnings).toEqual([
      {
        seq: 9,
        message: expect.stringMatching(/entries 9–10 are not covered by a signed checkpoint/),
      },
    ]);
  });

  it("applies writes only with their entry, and refuses both when a precondition fails", async () => {
    const { log, redis } = await freshLog();
    const { RecordRefusedError } = await import("../../src/audit/record.ts");
    await log.record(info("c5", "config"), { writes: [["HSET", "warden:{c5}:cfg", "a", "1"]] });
    const refused = log.record(info("c5", "config"), {
      preconditions: [
        { key: "warden:{c5}:cfg", field: "a", exists: false, message: "a is already set" },
      ],
      writes: [["HSET", "warden:{c5}:cfg", "a", "2"]],
    });
    const alongside = log.record(info("c5", "warn"));
    await expect(refused).rejects.toThrow(RecordRefusedError);
    await expect(refused).rejects.toThrow("a is already set");
    expect((await alongside).seq).toBe(2);
    expect(await redis.hget("warden:{c5}:cfg", "a")).toBe("1");
    expect(await redis.xlen(auditKeys.stream("c5"))).toBe(2);
  });

  it("refuses consult and disclose without a justification, and malformed entries", async () => {
    const { log } = await freshLog();
    await expect(log.record(info("c6", "consult"))).rejects.toThrow(
      /consult needs a justification/,
    );
    await expect(log.record({ ...info("c6", "disclose"), justification: "court" })).rejects.toThrow(
      /recipient/,
    );
    await expect(log.record(info("c6", "Not An Op"))).rejects.toThrow(/malformed at op/);
  });
});

describe("entry validation", () => {
  it("refuses fields the schema does not know instead of dropping them", async () => {
    const { log } = await freshLog();
    const input = { ...info("c7", "warn"), colour: "red" } as ReturnType<typeof info>;
    await expect(log.record(input)).rejects.toThrow(/unknown fields colour/);
  });
});

describe("people without a role", () => {
  it("may appear on refusals only", async () => {
    const { log, redis } = await freshLog();
    const stranger = { kind: "member" as const, id: 999, name: "stranger" };
    await log.record({
      case: "c8",
      actor: stranger,
      op: "ban",
      phase: "refused",
      params: { reason: "no role" },
    });
    expect((await verifyCaseLog(redis, "c8")).ok).toBe(true);
    await log.record({ case: "c8", actor: stranger, op: "ban", phase: "intent" });
    expect((await verifyCaseLog(redis, "c8")).failure).toMatchObject({
      seq: 2,
      message: expect.stringMatching(/without a role/),
    });
  });
});
