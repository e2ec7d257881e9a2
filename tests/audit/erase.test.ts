import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import { exportBundle, verifyBundle } from "../../src/audit/bundle.ts";
import { canonicalBytes } from "../../src/audit/entry.ts";
import { eraseEntryPayloads } from "../../src/audit/erase.ts";
import { RecordRefusedError } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { freshLog, operator, verifierOf } from "./helpers.ts";

const CASE = "op-erase";

async function seeded() {
  const t = await freshLog({ checkpointEvery: 3 });
  await createCase(
    { redis: t.redis, audit: t.log, actor: operator },
    { id: CASE, title: "Erase", authority: "order 9/25", purpose: "test", retentionDays: 1 },
  );
  for (let i = 0; i < 6; i++) {
    await t.log.record({
      case: CASE,
      actor: { kind: "system" },
      op: i % 2 === 0 ? "collect" : "warn",
      phase: "info",
      target: { user_ids: [1000 + i] },
      params: { username: `user${i}`, bio: "selling ⚡ fireworks" },
    });
  }
  return t;
}

/** Who runs an erasure: callers pass theirs, there is no default. */
const RETENTION = { kind: "cli" as const, name: "retention@server" };

/** A consult and a disclose entry, as the collect exports write them. */
async function withConsultAndDisclose(t: Awaited<ReturnType<typeof seeded>>) {
  const consult = await t.log.record({
    case: CASE,
    actor: operator,
    op: "consult",
    phase: "info",
    justification: "court order 3/25",
    params: { what: "members" },
  });
  const disclose = await t.log.record({
    case: CASE,
    actor: operator,
    op: "disclose",
    phase: "info",
    justification: "court order 3/25",
    recipients: ["OM"],
    params: { what: "members" },
  });
  return { consult, disclose };
}

describe("erasure at the end of retention", () => {
  it("replaces payloads by tombstones that keep the hashes; the log still verifies against old checkpoints", async () => {
    const { redis, log, signer } = await seeded();
    const result = await eraseEntryPayloads(
      log,
      CASE,
      (e) => e.op === "collect",
      "retention of 1 day ended",
      RETENTION,
    );
    expect(result.erased).toEqual([2, 4, 6]);
    expect(result.entry).toMatchObject({
      op: "erase",
      params: {
        ranges: [
          [2, 2],
          [4, 4],
          [6, 6],
        ],
      },
    });
    const stored = await redis.hget(auditKeys.payloads(CASE), "2");
    expect(stored).not.toContain("user0");
    expect(JSON.parse(stored ?? "")).toMatchObject({ seq: 2, erased_by: result.entry?.seq });
    await log.close();
    const report = await verifyCaseLog(redis, CASE, { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, erased: 3, warnings: [] });
    expect(report.signedSize).toBe(report.entries);

    const again = await eraseEntryPayloads(log, CASE, [2, 4], "again", RETENTION);
    expect(again).toEqual({ entry: undefined, erased: [] });
  });

  it("exports and verifies a bundle with erased entries", async () => {
    const { log, signer } = await seeded();
    await eraseEntryPayloads(log, CASE, [3, 5], "retention ended", RETENTION);
    const dir = join(mkdtempSync(join(tmpdir(), "warden-erase-")), "b");
    await exportBundle(log, {
      caseId: CASE,
      out: dir,
      justification: "review",
      recipients: ["auditor"],
      actor: operator,
    });
    const report = await verifyBundle(dir, { verifiers: [verifierOf(signer)] });
    expect(report).toMatchObject({ ok: true, erased: 2 });
  });

  it("refuses to erase the registry entries the verifier needs", async () => {
    const { log } = await seeded();
    await expect(eraseEntryPayloads(log, CASE, [1, 2], "tidy up", RETENTION)).rejects.toThrow(
      RecordRefusedError,
    );
    await expect(eraseEntryPayloads(log, CASE, [1, 2], "tidy up", RETENTION)).rejects.toThrow(
      /1 \(case\.create\) cannot be erased/,
    );
  });

  it("detects a tombstone that no erase entry explains, and a payload swapped for a forged tombstone", async () => {
    const { redis, log } = await seeded();
    const { entry } = await eraseEntryPayloads(log, CASE, [2], "retention ended", RETENTION);
    const t2 = JSON.parse((await redis.hget(auditKeys.payloads(CASE), "2")) ?? "");
    await redis.hset(auditKeys.payloads(CASE), "2", canonicalBytes({ ...t2, erased_by: 5 }));
    expect((await verifyCaseLog(redis, CASE)).failure).toMatchObject({
      seq: 5,
      message: expect.stringMatching(/not an erase/),
    });

    await redis.hset(auditKeys.payloads(CASE), "2", canonicalBytes(t2));
    const h3 = (await redis.xrange(auditKeys.stream(CASE), "0-3", "0-3"))[0]?.[1][1] ?? "";
    await redis.hset(
      auditKeys.payloads(CASE),
      "3",
      canonicalBytes({ erased_by: entry?.seq, leaf: h3, seq: 3 }),
    );
    expect((await verifyCaseLog(redis, CASE)).failure).toMatchObject({
      seq: entry?.seq,
      message: expect.stringMatching(/lists 1 of their 2/),
    });
  });

  it("never erases the log of consultation and disclosure (LED Art. 25), by seq or by rule", async () => {
    const t = await seeded();
    const { consult, disclose } = await withConsultAndDisclose(t);
    await expect(
      eraseEntryPayloads(t.log, CASE, [consult.seq], "retention ended", RETENTION),
    ).rejects.toThrow(/consult\) cannot be erased: .*Art\. 25/);
    await expect(
      eraseEntryPayloads(t.log, CASE, [2, disclose.seq], "retention ended", RETENTION),
    ).rejects.toThrow(/disclose\) cannot be erased/);
    const byRule = await eraseEntryPayloads(t.log, CASE, () => true, "everything", RETENTION);
    expect(byRule.erased).not.toContain(consult.seq);
    expect(byRule.erased).not.toContain(disclose.seq);
    expect(await t.redis.hget(auditKeys.payloads(CASE), String(consult.seq))).toContain(
      '"op":"consult"',
    );
    // The erase entry says which operations it erased, and who ran it.
    expect(byRule.entry).toMatchObject({
      actor: RETENTION,
      params: {
        ops: {
          collect: [
            [2, 2],
            [4, 4],
            [6, 6],
          ],
          warn: [
            [3, 3],
            [5, 5],
            [7, 7],
          ],
        },
      },
    });
    expect((await verifyCaseLog(t.redis, CASE)).ok).toBe(true);
  });

  it("verify fails a tombstone over a consult or disclose entry, however the erasure was written", async () => {
    const t = await seeded();
    const { consult } = await withConsultAndDisclose(t);
    const leaf =
      (
        await t.redis.xrange(auditKeys.stream(CASE), `0-${consult.seq}`, `0-${consult.seq}`)
      )[0]?.[1][1] ?? "";
    const forgeErasure = (params: Record<string, unknown>) =>
      t.log.record(
        { case: CASE, actor: RETENTION, op: "erase", phase: "info", params },
        {
          writes: (erase) => [
            [
              "HSET",
              auditKeys.payloads(CASE),
              String(consult.seq),
              canonicalBytes({ erased_by: erase.seq, leaf, seq: consult.seq }),
            ],
          ],
        },
      );
    // An erase entry that says what it erased: a consult.
    const honest = await forgeErasure({
      ranges: [[consult.seq, consult.seq]],
      ops: { consult: [[consult.seq, consult.seq]] },
      reason: "tidy up",
    });
    expect((await verifyCaseLog(t.redis, CASE)).failure).toMatchObject({
      seq: honest.seq,
      message: expect.stringMatching(
        new RegExp(
          `erase entry seq ${honest.seq} erased seq ${consult.seq}, a consult entry: .*Art\\. 25`,
        ),
      ),
    });
  });

  it("verify fails an erase entry that does not say which operations it erased", async () => {
    const t = await seeded();
    const leaf = (await t.redis.xrange(auditKeys.stream(CASE), "0-2", "0-2"))[0]?.[1][1] ?? "";
    const erase = await t.log.record(
      {
        case: CASE,
        actor: RETENTION,
        op: "erase",
        phase: "info",
        params: { ranges: [[2, 2]], reason: "x" },
      },
      {
        writes: (e) => [
          [
            "HSET",
            auditKeys.payloads(CASE),
            "2",
            canonicalBytes({ erased_by: e.seq, leaf, seq: 2 }),
          ],
        ],
      },
    );
    expect((await verifyCaseLog(t.redis, CASE)).failure).toMatchObject({
      seq: erase.seq,
      message: expect.stringMatching(/does not say which operations it erased/),
    });
  });
});
