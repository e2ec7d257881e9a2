import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { createCase } from "../../src/actions/case-changes.ts";
import { exportBundle, verifyBundle } from "../../src/audit/bundle.ts";
import {
  ephemeralSigner,
  type Signer,
  signCheckpoint,
  verifierOf,
} from "../../src/audit/checkpoint.ts";
import { canonicalBytes, GENESIS_PREV } from "../../src/audit/entry.ts";
import {
  appendLeaf,
  emptyFrontier,
  encodeFrontier,
  hexFrontierRoot,
  leafHash,
} from "../../src/audit/merkle.ts";
import type { AuditLog } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { verifyCaseLog } from "../../src/audit/verify-case.ts";
import { freshLog, info, operator } from "./helpers.ts";

const CASE = "op-tamper";

async function seed(log: AuditLog, n: number): Promise<void> {
  await createCase(
    { redis: log.redis, audit: log, actor: operator },
    { id: CASE, title: "Tamper", authority: "order 7/25", purpose: "test", retentionDays: 30 },
  );
  for (let i = 2; i <= n; i++) await log.record(info(CASE, "warn", { i, text: `warning ${i}` }));
}

async function payload(redis: Redis, seq: number): Promise<Record<string, unknown>> {
  return JSON.parse((await redis.hget(auditKeys.payloads(CASE), String(seq))) ?? "null");
}

/** What someone with full Redis access could do: write a whole new history, consistent in itself. */
async function rewriteHistory(redis: Redis, entries: Record<string, unknown>[]): Promise<void> {
  await redis.del(auditKeys.stream(CASE), auditKeys.payloads(CASE), auditKeys.head(CASE));
  const tree = emptyFrontier();
  let prev = GENESIS_PREV;
  for (const [i, e] of entries.entries()) {
    const bytes = canonicalBytes({ ...e, seq: i + 1, prev });
    const leaf = leafHash(bytes);
    appendLeaf(tree, leaf);
    prev = leaf.toString("hex");
    await redis.xadd(auditKeys.stream(CASE), `0-${i + 1}`, "h", prev);
    await redis.hset(auditKeys.payloads(CASE), String(i + 1), bytes);
  }
  await redis.hset(
    auditKeys.head(CASE),
    "seq",
    entries.length,
    "hash",
    prev,
    "frontier",
    encodeFrontier(tree),
  );
}

describe("verify on Redis detects tampering, naming the entry", () => {
  let redis: Redis;
  let log: AuditLog;
  let signer: Signer;
  const verify = () => verifyCaseLog(redis, CASE, { verifiers: [verifierOf(signer)] });

  beforeEach(async () => {
    ({ redis, log, signer } = await freshLog({ checkpointEvery: 1_000_000 }));
    await seed(log, 10);
    await log.checkpoint(CASE);
  });

  it("passes the untouched log", async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 10, signedSize: 10, warnings: [] });
  });

  it("a changed field", async () => {
    const e = await payload(redis, 5);
    (e.params as Record<string, unknown>).text = "nothing happened";
    await redis.hset(auditKeys.payloads(CASE), "5", canonicalBytes(e));
    expect((await verify()).failure).toMatchObject({
      seq: 5,
      message: expect.stringMatching(/altered/),
    });
  });

  it("a deleted entry", async () => {
    await redis.xdel(auditKeys.stream(CASE), "0-5");
    await redis.hdel(auditKeys.payloads(CASE), "5");
    expect((await verify()).failure).toMatchObject({
      seq: 5,
      message: expect.stringMatching(/seq 5 is missing/),
    });
  });

  it("a deleted payload", async () => {
    await redis.hdel(auditKeys.payloads(CASE), "7");
    expect((await verify()).failure).toMatchObject({
      seq: 7,
      message: expect.stringMatching(/payload of seq 7 is missing/),
    });
  });

  it("two swapped entries", async () => {
    const [p3, p4] = await redis.hmget(auditKeys.payloads(CASE), "3", "4");
    await redis.hset(auditKeys.payloads(CASE), "3", p4 ?? "", "4", p3 ?? "");
    expect((await verify()).failure).toMatchObject({ seq: 3 });
  });

  it("an entry inserted by rewriting the whole history consistently", async () => {
    const entries = await Promise.all(Array.from({ length: 10 }, (_, i) => payload(redis, i + 1)));
    entries.splice(4, 0, { ...entries[4], params: { text: "planted" } });
    await rewriteHistory(redis, entries);
    const report = await verify();
    expect(report.failure).toMatchObject({
      seq: 10,
      message: expect.stringMatching(/do not match the signed checkpoint/),
    });
  });

  it("a truncated tail, rewritten so the stream counters agree, is caught by the checkpoint", async () => {
    const entries = await Promise.all(Array.from({ length: 7 }, (_, i) => payload(redis, i + 1)));
    await rewriteHistory(redis, entries);
    expect((await verify()).failure).toMatchObject({
      seq: 8,
      message: expect.stringMatching(/tail from seq 8 was removed/),
    });
  });

  it("a tail deleted with XDEL and a rewound head is caught by the stream counters", async () => {
    await redis.del(auditKeys.checkpoints(CASE));
    await redis.xdel(auditKeys.stream(CASE), "0-9", "0-10");
    const p8 = (await redis.hget(auditKeys.payloads(CASE), "8")) ?? "";
    await redis.hset(auditKeys.head(CASE), "seq", 8, "hash", leafHash(p8).toString("hex"));
    expect((await verify()).failure).toMatchObject({
      seq: 9,
      message: expect.stringMatching(/deleted or trimmed/),
    });
  });

  it("a stream trimmed with XADD … MAXLEN", async () => {
    await redis.xadd(auditKeys.stream(CASE), "MAXLEN", "5", "0-11", "h", "0".repeat(64));
    expect((await verify()).failure).toMatchObject({
      seq: 1,
      message: expect.stringMatching(/seq 1 is missing/),
    });
  });

  it("a checkpoint signed with another key", async () => {
    await redis.del(auditKeys.checkpoints(CASE));
    const forger = ephemeralSigner(signer.name);
    const root = hexFrontierRoot(
      (await import("../../src/audit/storage.ts").then((m) => m.readHead(redis, CASE))).frontier,
    );
    await redis.xadd(
      auditKeys.checkpoints(CASE),
      "0-10",
      "n",
      signCheckpoint(forger, `warden/${CASE}`, 10, root),
    );
    expect((await verify()).failure).toMatchObject({
      seq: 10,
      message: expect.stringMatching(/not by the trusted key/),
    });
  });

  it("a malformed line", async () => {
    await redis.hset(auditKeys.payloads(CASE), "6", '{"seq":6,');
    expect((await verify()).failure).toMatchObject({
      seq: 6,
      message: expect.stringMatching(/not JSON/),
    });
  });

  it("a non-canonical line", async () => {
    await redis.hset(
      auditKeys.payloads(CASE),
      "6",
      JSON.stringify(await payload(redis, 6), null, 1),
    );
    expect((await verify()).failure).toMatchObject({
      seq: 6,
      message: expect.stringMatching(/canonical/),
    });
  });

  it("a line that is canonical JSON but not an entry", async () => {
    const e = await payload(redis, 6);
    e.phase = "whatever";
    await redis.hset(auditKeys.payloads(CASE), "6", canonicalBytes(e));
    expect((await verify()).failure).toMatchObject({
      seq: 6,
      message: expect.stringMatching(/schema at phase/),
    });
  });
});

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** An attacker who edits a bundle also recomputes its manifest. */
function rewriteManifest(dir: string): void {
  const files = readdirSync(dir)
    .filter((f) => f !== "manifest.sha256")
    .sort();
  writeFileSync(
    join(dir, "manifest.sha256"),
    files.map((f) => `${sha256(join(dir, f))}  ${f}\n`).join(""),
  );
}

function editLines(dir: string, edit: (lines: string[]) => string[]): void {
  const path = join(dir, "entries.jsonl");
  const lines = readFileSync(path, "utf8").split("\n").slice(0, -1);
  writeFileSync(path, `${edit(lines).join("\n")}\n`);
  rewriteManifest(dir);
}

describe("verify --bundle detects tampering with no Redis", () => {
  let dir: string;
  let signer: Signer;
  const verify = (opts: { heldCheckpoint?: string } = {}) =>
    verifyBundle(dir, { verifiers: [verifierOf(signer)], ...opts });

  beforeEach(async () => {
    const t = await freshLog({ checkpointEvery: 4 });
    signer = t.signer;
    await seed(t.log, 10);
    dir = join(mkdtempSync(join(tmpdir(), "warden-bundle-")), "bundle");
    const result = await exportBundle(t.log, {
      caseId: CASE,
      out: dir,
      justification: "court order 12/25",
      recipients: ["LKA auditor"],
      actor: operator,
    });
    expect(result.disclose.seq).toBe(11);
  });

  it("passes an untouched bundle, which includes its own disclose entry", async () => {
    const report = await verify();
    expect(report).toMatchObject({ ok: true, entries: 11, signedSize: 11, warnings: [] });
    const last = JSON.parse(
      readFileSync(join(dir, "entries.jsonl"), "utf8").trim().split("\n").at(-1) ?? "",
    );
    expect(last).toMatchObject({
      op: "disclose",
      justification: "court order 12/25",
      recipients: ["LKA auditor"],
    });
  });

  it("a file edited after export (manifest left alone)", async () => {
    appendFileSync(join(dir, "entries.csv"), "12,extra\r\n");
    expect((await verify()).failure?.message).toMatch(/entries\.csv was changed after export/);
  });

  it("a file added after export", async () => {
    writeFileSync(join(dir, "notes.txt"), "hi");
    expect((await verify()).failure?.message).toMatch(/notes\.txt is not in manifest\.sha256/);
  });

  it("a changed field", async () => {
    editLines(dir, (lines) =>
      lines.map((l, i) => (i === 4 ? l.replace("warning 5", "warning five") : l)),
    );
    expect((await verify()).failure).toMatchObject({ seq: 5 });
  });

  it("a deleted entry", async () => {
    editLines(dir, (lines) => lines.filter((_, i) => i !== 4));
    expect((await verify()).failure).toMatchObject({
      seq: 5,
      message: expect.stringMatching(/found seq 6/),
    });
  });

  it("an inserted entry", async () => {
    editLines(dir, (lines) => [...lines.slice(0, 5), lines[2] ?? "", ...lines.slice(5)]);
    expect((await verify()).failure).toMatchObject({
      seq: 6,
      message: expect.stringMatching(/found seq 3/),
    });
  });

  it("two swapped entries", async () => {
    editLines(dir, (lines) =>
      lines.map((l, i) => (i === 2 ? (lines[3] ?? "") : i === 3 ? (lines[2] ?? "") : l)),
    );
    expect((await verify()).failure).toMatchObject({ seq: 3 });
  });

  it("a truncated tail with its checkpoints removed is caught by a checkpoint the auditor kept", async () => {
    const held = readFileSync(join(dir, "checkpoints"), "utf8")
      .split("\n\n")
      .slice(-2)
      .join("\n\n");
    writeFileSync(
      join(dir, "checkpoints"),
      readFileSync(join(dir, "checkpoints"), "utf8").split("\nwarden/")[0] ?? "",
    );
    editLines(dir, (lines) => lines.slice(0, 7));
    // Entries 5–7 are covered by no checkpoint any more: a bundle must be signed to its end.
    const withoutHeld = await verify();
    expect(withoutHeld.failure).toMatchObject({
      seq: 5,
      message: expect.stringMatching(/entries 5–7 are not covered by a checkpoint signed by/),
    });
    const report = await verify({ heldCheckpoint: held });
    expect(report.failure).toMatchObject({
      seq: 8,
      message: expect.stringMatching(/tail from seq 8 was removed/),
    });
  });

  it("checkpoints re-signed with another key", async () => {
    const forger = ephemeralSigner(signer.name);
    const notes = readFileSync(join(dir, "checkpoints"), "utf8");
    const reSigned = notes.replace(
      /(warden\/op-tamper\n(\d+)\n(\S+)\n)\n\u2014 .*\n/g,
      (_m, _b, size: string, root: string) =>
        signCheckpoint(forger, `warden/${CASE}`, Number(size), Buffer.from(root, "base64")),
    );
    writeFileSync(join(dir, "checkpoints"), reSigned);
    writeFileSync(join(dir, "pubkey"), `${forger.verifierKey}\n`);
    rewriteManifest(dir);
    expect((await verify()).failure?.message).toMatch(/not by the trusted key/);
    // Checked only against the bundle's own key, the signatures hold, but the key is not the one
    // the export recorded in its (signed) disclose entry.
    const selfChecked = await verifyBundle(dir);
    expect(selfChecked.authenticated).toBe(false);
    expect(selfChecked.failure?.message).toMatch(
      /pubkey is not the key the export recorded in its disclose entry \(seq 11\): it was replaced/,
    );
  });

  it("a malformed line", async () => {
    editLines(dir, (lines) => lines.map((l, i) => (i === 7 ? l.slice(0, 20) : l)));
    expect((await verify()).failure).toMatchObject({
      seq: 8,
      message: expect.stringMatching(/not JSON/),
    });
  });

  it("a non-canonical line", async () => {
    editLines(dir, (lines) =>
      lines.map((l, i) =>
        i === 7 ? JSON.stringify(JSON.parse(l), null, 0).replace('{"', '{ "') : l,
      ),
    );
    expect((await verify()).failure).toMatchObject({
      seq: 8,
      message: expect.stringMatching(/canonical/),
    });
  });
});
