import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it } from "vitest";
import { addRole, createCase } from "../../src/actions/case-changes.ts";
import { exportBundle, verifyBundle } from "../../src/audit/bundle.ts";
import {
  ephemeralSigner,
  loadSigner,
  loadVerifier,
  signCheckpoint,
  verifierOf,
  writeKeyFiles,
} from "../../src/audit/checkpoint.ts";
import {
  appendLeafHex,
  emptyHexFrontier,
  hexFrontierRoot,
  leafHashHex,
} from "../../src/audit/merkle.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { editFile, rewriteEntries, rewriteManifest } from "./forge.ts";
import { freshRedis } from "./helpers.ts";

/**
 * What an auditor can rely on in an exported bundle, tried the way a forger
 * would: through the real `warden` executable, on copies of one export.
 */

const CASE = "op-trust";
const OFFICER = {
  kind: "operator" as const,
  id: 5550001,
  name: "Officer A",
  role: "operator" as const,
};

let dir: string;
let key: string;
let bundle: string;

/** A fresh copy of the exported bundle, for one test to tamper with. */
function copy(name: string): string {
  const to = join(dir, name);
  cpSync(bundle, to, { recursive: true });
  return to;
}

function verify(b: string, ...more: string[]) {
  return runWarden(["audit", "verify", "--bundle", b, ...more]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warden-trust-"));
  key = join(dir, "audit.key");
  writeKeyFiles(key, "warden-test");
  const url = await freshRedisUrl();
  const redis = new Redis(url);
  const log = createAuditLog({ redis, signer: loadSigner(key), checkpointEvery: 4 });
  const deps = { redis, audit: log, actor: { kind: "cli" as const, name: "alice@server" } };
  await createCase(deps, {
    id: CASE,
    title: "Trust",
    authority: "order 8/25",
    purpose: "test",
    retentionDays: 90,
  });
  await addRole(deps, CASE, { userId: OFFICER.id, role: "operator", name: OFFICER.name });
  for (let i = 0; i < 5; i++) {
    await log.record({
      case: CASE,
      actor: OFFICER,
      op: "ban",
      phase: "info",
      target: { chat_id: -1001234567890, alias: "fw1", user_ids: [-1009876543210] },
      params: { note: `ban ${i}` },
    });
  }
  await log.close();
  redis.disconnect();
  bundle = join(dir, "bundle");
  const exported = await runWarden(
    ["audit", "export", "--case", CASE, "--out", bundle, "--justification", "court order 9/25"],
    { REDIS_URL: url, WARDEN_AUDIT_KEY: key },
  );
  expect(exported.stderr).toBe("");
  expect(exported.code).toBe(0);
}, 60_000);

describe("an exported bundle", () => {
  it("verifies with the operator's key, every entry covered by a signed checkpoint", async () => {
    const ok = await verify(bundle, "--pubkey", `${key}.pub`);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/INTACT: 8 entries, signed up to 8/);
  });

  it("a forged bundle (every entry rewritten and re-chained, checkpoints emptied, manifest rebuilt) fails with --pubkey, naming seq 1", async () => {
    const b2 = copy("forged");
    rewriteEntries(b2, (e) => ({
      ...e,
      actor: { ...(e.actor as object), name: "Someone Else" },
    }));
    writeFileSync(join(b2, "checkpoints"), "");
    rewriteManifest(b2);
    const forged = await verify(b2, "--pubkey", `${key}.pub`);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/FAILED at seq 1: .*not covered by a checkpoint signed by/);
  });

  it("without --pubkey, the first line says the bundle is not authenticated", async () => {
    const self = await verify(bundle);
    expect(self.stdout.split("\n")[0]).toMatch(
      /^NOT AUTHENTICATED: .*key shipped inside the bundle proves nothing/,
    );
  });

  it("ids stay numbers in entries.csv: negative chat and channel ids are not turned into text", () => {
    const csv = readFileSync(join(bundle, "entries.csv"), "utf8");
    expect(csv).toContain(",-1001234567890,fw1,-1009876543210,");
    expect(csv).not.toContain("'-100");
  });

  it("report.html edited (a name), manifest recomputed: verify rebuilds it from the entries and fails naming it", async () => {
    const b = copy("report-edited");
    editFile(b, "report.html", /Officer A/g, "Officer Z");
    const edited = await verify(b, "--pubkey", `${key}.pub`);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/report\.html does not match the verified entries/);
  });

  it("entries.csv edited (an actor), manifest recomputed: verify rebuilds it and fails naming it", async () => {
    const b = copy("csv-edited");
    editFile(b, "entries.csv", /,Officer A,/g, ",Officer Z,");
    const edited = await verify(b, "--pubkey", `${key}.pub`);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/entries\.csv does not match the verified entries/);
  });

  it("a file Warden does not write, listed in a recomputed manifest, is reported", async () => {
    const b = copy("extra-file");
    writeFileSync(join(b, "README.txt"), "the log is complete");
    rewriteManifest(b);
    const extra = await verify(b, "--pubkey", `${key}.pub`);
    expect(extra.code).toBe(1);
    expect(extra.stderr).toMatch(/README\.txt is not a file Warden writes into a bundle/);
  });

  it("says which files it checked, and how", async () => {
    const ok = await verify(bundle, "--pubkey", `${key}.pub`);
    expect(ok.code).toBe(0);
    for (const line of [
      /^entries\.jsonl: verified/m,
      /^checkpoints: verified/m,
      /^entries\.csv: rebuilt from the verified entries: identical/m,
      /^report\.html: rebuilt from the verified entries: identical/m,
      /^pubkey: the key the export recorded in its disclose entry/m,
      /^manifest\.sha256: every file matches/m,
    ])
      expect(ok.stdout).toMatch(line);
  });

  it("cut back to an earlier checkpoint (entries and later checkpoints removed): not the export's end, fails", async () => {
    const b = copy("cut");
    const lines = readFileSync(join(b, "entries.jsonl"), "utf8").split("\n").slice(0, 4);
    writeFileSync(join(b, "entries.jsonl"), `${lines.join("\n")}\n`);
    const notes = readFileSync(join(b, "checkpoints"), "utf8").split(/\n(?=warden\/)/);
    writeFileSync(
      join(b, "checkpoints"),
      notes.filter((n) => /^warden\/op-trust\n4\n/.test(n)).join("\n"),
    );
    rewriteManifest(b);
    const report = await verifyBundle(b, { verifiers: [loadVerifier(`${key}.pub`)] });
    expect(report.failure).toMatchObject({
      seq: 4,
      message: expect.stringMatching(
        /does not end with the disclose entry of its export \(seq 4 is a ban\)/,
      ),
    });
  });

  it("pubkey swapped for another key, checked with the right one: fails naming pubkey", async () => {
    const b = copy("pubkey-swapped");
    writeFileSync(join(b, "pubkey"), `${ephemeralSigner("warden-test").verifierKey}\n`);
    rewriteManifest(b);
    const report = await verifyBundle(b, { verifiers: [loadVerifier(`${key}.pub`)] });
    expect(report.failure?.message).toMatch(/pubkey is not the key the export recorded/);
  });

  it("a bundle of another format (re-signed here, as only the key holder could): derived files listed as not checked", async () => {
    const b = copy("older");
    const signer = loadSigner(key);
    rewriteEntries(b, (e) =>
      e.op === "disclose"
        ? { ...e, params: { via: "audit export", files: (e.params as { files: unknown }).files } }
        : e,
    );
    const lines = readFileSync(join(b, "entries.jsonl"), "utf8").trim().split("\n");
    const tree = emptyHexFrontier();
    for (const line of lines) appendLeafHex(tree, leafHashHex(line));
    writeFileSync(
      join(b, "checkpoints"),
      signCheckpoint(signer, `warden/${CASE}`, lines.length, hexFrontierRoot(tree)),
    );
    rewriteManifest(b);
    const report = await verifyBundle(b, { verifiers: [verifierOf(signer)] });
    expect(report.ok).toBe(true);
    expect(report.files.filter((f) => !f.checked).map((f) => f.file)).toEqual([
      "pubkey",
      "entries.csv",
      "report.html",
    ]);
    expect(report.files.find((f) => f.file === "report.html")?.detail).toMatch(
      /not checked: made in bundle format 1/,
    );
    expect(report.warnings.at(-1)?.message).toMatch(
      /pubkey, entries\.csv, report\.html not checked/,
    );
  });

  it("a bundle exported without a signing key fails with --pubkey at seq 1, and is not authenticated without", async () => {
    const { redis: r } = await freshRedis();
    const log = createAuditLog({ redis: r });
    await createCase(
      { redis: log.redis, audit: log, actor: { kind: "cli", name: "alice@server" } },
      { id: "op-unsigned", title: "U", authority: "a", purpose: "p", retentionDays: 9 },
    );
    const out = join(dir, "unsigned");
    await exportBundle(log, {
      caseId: "op-unsigned",
      out,
      justification: "review",
      recipients: ["auditor"],
      actor: { kind: "cli", name: "alice@server" },
    });
    await log.close();
    const withKey = await verifyBundle(out, { verifiers: [loadVerifier(`${key}.pub`)] });
    expect(withKey.failure).toMatchObject({
      seq: 1,
      message: expect.stringMatching(
        /entries 1–2 are not covered by a checkpoint signed by warden-test/,
      ),
    });
    const without = await verifyBundle(out);
    expect(without).toMatchObject({ ok: true, authenticated: false });
    expect(without.files.map((f) => [f.file, f.checked])).toContainEqual(["report.html", true]);
  });
});
