import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRole, createCase } from "../../src/actions/case-changes.ts";
import { loadSigner, writeKeyFiles } from "../../src/audit/checkpoint.ts";
import { COSIGNATURE_ED25519, loadKeyFile, loadVerifier } from "../../src/audit/note-keys.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { latestFile } from "../../src/audit/witness-state.ts";
import { runWarden } from "../helpers/cli.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { insiderRewrite } from "./insider.ts";

/**
 * The witness against the insider it exists for: someone holding the
 * server's audit key and Redis, who rewrites history and signs it again.
 * Everything runs through the real `warden` executable, in order: a case is
 * witnessed as it grows, exported, witnessed offline, then rewritten.
 */

const CASE = "op-witness";
const OFFICER = {
  kind: "operator" as const,
  id: 5550001,
  name: "Officer A",
  role: "operator" as const,
};

let dir: string;
let key: string;
let witnessKey: string;
let state: string;
let url: string;
let redis: Redis;

const env = () => ({ REDIS_URL: url, WARDEN_AUDIT_KEY: key });
const witness = (...more: string[]) =>
  runWarden(
    ["audit", "witness", "--key", witnessKey, "--state", state, "--pubkey", `${key}.pub`, ...more],
    { REDIS_URL: url },
  );
const verifyCase = (...more: string[]) =>
  runWarden(["audit", "verify", "--case", CASE, "--pubkey", `${key}.pub`, ...more], {
    REDIS_URL: url,
  });

/** Appends `n` bans with the operator's key; closing the log signs a checkpoint of its end. */
async function appendBans(n: number, from: number): Promise<void> {
  const log = createAuditLog({ redis, signer: loadSigner(key), checkpointEvery: 1_000_000 });
  for (let i = 0; i < n; i++) {
    await log.record({
      case: CASE,
      actor: OFFICER,
      op: "ban",
      phase: "info",
      target: { chat_id: -1001234567890, user_ids: [700000 + from + i] },
      params: { note: `ban ${from + i}` },
    });
  }
  await log.close();
}

function historyLines(): string[] {
  return readFileSync(join(state, "history.jsonl"), "utf8").trim().split("\n");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warden-witness-"));
  key = join(dir, "audit.key");
  writeKeyFiles(key, "warden-test");
  witnessKey = join(dir, "witness.key");
  state = join(dir, "witness-state");
  const made = await runWarden([
    "audit",
    "witness",
    "keygen",
    "--out",
    witnessKey,
    "--name",
    "om-oversight",
  ]);
  expect(made.code).toBe(0);
  url = await freshRedisUrl();
  redis = new Redis(url);
  const log = createAuditLog({ redis, signer: loadSigner(key), checkpointEvery: 1_000_000 });
  const deps = { redis, audit: log, actor: { kind: "cli" as const, name: "alice@server" } };
  await createCase(deps, {
    id: CASE,
    title: "Witness",
    authority: "order 10/25",
    purpose: "test",
    retentionDays: 90,
  });
  await addRole(deps, CASE, { userId: OFFICER.id, role: "operator", name: OFFICER.name });
  await log.close();
  await appendBans(10, 0);
}, 60_000);

afterAll(() => {
  redis.disconnect();
});

describe("warden audit witness", () => {
  it("cosigns a live case: the first checkpoint on trust, then only one proved to extend it", async () => {
    const first = await witness("--case", CASE);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(
      /cosigned warden\/op-witness at size 12: the first checkpoint this witness has seen/,
    );
    await appendBans(5, 10);
    const second = await witness("--case", CASE);
    expect(second.stderr).toBe("");
    expect(second.stdout).toMatch(/at size 17: proved consistent with size 12, cosigned on/);
    expect(await redis.xlen(auditKeys.cosignatures(CASE))).toBe(2);
    expect(historyLines()).toHaveLength(2);

    const covered = await verifyCase("--witness-pubkey", `${witnessKey}.pub`);
    expect(covered.code).toBe(0);
    expect(covered.stdout).toMatch(
      /witness om-oversight \([0-9a-f]{8}\): cosigned the end of the log \(size 17 on /,
    );
    await appendBans(2, 15);
    const gap = await verifyCase("--witness-pubkey", `${witnessKey}.pub`);
    expect(gap.code).toBe(0);
    expect(gap.stdout).toMatch(
      /cosigned up to seq 17 on .*; entries 18–19 are not covered by it and are only as trustworthy as the operator's key/,
    );
  }, 60_000);

  it("exports carry the cosignatures; a bundle is witnessed offline, and the cosignature imported for later exports", async () => {
    const bundle = join(dir, "bundle");
    const exported = await runWarden(
      ["audit", "export", "--case", CASE, "--out", bundle, "--justification", "oversight 1/26"],
      env(),
    );
    expect(exported.code).toBe(0);
    expect(readFileSync(join(bundle, "checkpoints"), "utf8")).toMatch(/\n\u2014 om-oversight /);
    const before = await runWarden([
      "audit",
      "verify",
      "--bundle",
      bundle,
      "--pubkey",
      `${key}.pub`,
      "--witness-pubkey",
      `${witnessKey}.pub`,
    ]);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/cosigned up to seq 17 .*entries 18–20 are not covered by it/);

    const cosigned = join(dir, "bundle.cosigned");
    const offline = await runWarden([
      "audit",
      "witness",
      "--bundle",
      bundle,
      "--key",
      witnessKey,
      "--state",
      state,
      "--pubkey",
      `${key}.pub`,
      "--out",
      cosigned,
    ]);
    expect(offline.stderr).toBe("");
    expect(offline.stdout).toMatch(/at size 20: proved consistent with size 17/);
    const after = await runWarden([
      "audit",
      "verify",
      "--bundle",
      bundle,
      "--pubkey",
      `${key}.pub`,
      "--witness-pubkey",
      `${witnessKey}.pub`,
      "--checkpoint",
      cosigned,
    ]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/cosigned the end of the log \(size 20 on /);

    const imported = await runWarden(
      ["audit", "witness", "import", cosigned, "--case", CASE],
      env(),
    );
    expect(imported.stderr).toBe("");
    expect(imported.stdout).toMatch(
      /stored the cosigned checkpoint of size 20 with case op-witness/,
    );
    expect(await redis.xlen(auditKeys.cosignatures(CASE))).toBe(3);
  }, 90_000);

  it("an insider with the server's key and Redis rewrites an entry and re-signs everything: INTACT to the operator's key, FAILED to the witness's, and the witness will not cosign it", async () => {
    const signer = loadSigner(key);
    const cosignedNotes = await redis.xrange(auditKeys.cosignatures(CASE), "-", "+");
    // Entry 14 (a ban after the first witnessed checkpoint, before the second) now says another user.
    await insiderRewrite(
      redis,
      CASE,
      signer,
      (entries) =>
        entries.map((e) =>
          e.seq === 14 ? { ...e, target: { chat_id: -1001234567890, user_ids: [999] } } : e,
        ),
      { dropCosignatures: true },
    );

    const operatorOnly = await verifyCase();
    expect(operatorOnly.stderr).toBe("");
    expect(operatorOnly.code).toBe(0);
    expect(operatorOnly.stdout).toMatch(
      /audit log of case op-witness: INTACT: 20 entries, signed up to 20/,
    );

    const noneLeft = await verifyCase("--witness-pubkey", `${witnessKey}.pub`);
    expect(noneLeft.code).toBe(1);
    expect(noneLeft.stderr).toMatch(
      /FAILED at seq 1: witness om-oversight .* has cosigned no checkpoint of this log/,
    );

    const held = latestFile(state, `warden/${CASE}`);
    const withHeld = await verifyCase(
      "--witness-pubkey",
      `${witnessKey}.pub`,
      "--checkpoint",
      held,
    );
    expect(withHeld.code).toBe(1);
    expect(withHeld.stderr).toMatch(
      /FAILED at seq 1: entries 1–20 do not match the checkpoint for tree size 20 that witness om-oversight on .* cosigned: the log was rewritten after the witness saw it/,
    );

    // Had the insider left the cosignatures in Redis, the witnessed checkpoints narrow it down.
    for (const [, fields] of cosignedNotes)
      await redis.xadd(auditKeys.cosignatures(CASE), "*", ...fields);
    const narrowed = await verifyCase("--witness-pubkey", `${witnessKey}.pub`);
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toMatch(
      /FAILED at seq 13: entries 1–17 do not match the checkpoint for tree size 17 that witness om-oversight on .* cosigned: .*somewhere in seq 13–17/,
    );
    await redis.del(auditKeys.cosignatures(CASE));

    // The rewritten log grows and the insider offers its next checkpoint: the proof from 20 fails.
    await appendBans(1, 17);
    const lines = historyLines().length;
    const refused = await witness("--case", CASE);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /not cosigned: inconsistent: checkpoint 21 of warden\/op-witness does not extend checkpoint 20, which this witness cosigned on /,
    );
    expect(historyLines()).toHaveLength(lines);
    expect(await redis.exists(auditKeys.cosignatures(CASE))).toBe(0);

    // Nor can the operator import the old cosignature over the rewritten log.
    const stale = await runWarden(
      ["audit", "witness", "import", join(dir, "bundle.cosigned"), "--case", CASE],
      env(),
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/the first 20 entries of case op-witness do not have the root/);
  }, 90_000);

  it("refuses a rollback (a shorter log, re-signed) and a checkpoint the operator's key did not sign", async () => {
    await insiderRewrite(redis, CASE, loadSigner(key), (entries) => entries.slice(0, 15), {
      dropCosignatures: true,
    });
    const rollback = await witness("--case", CASE);
    expect(rollback.code).toBe(1);
    expect(rollback.stderr).toMatch(
      /not cosigned: rollback: checkpoint 15 of warden\/op-witness is smaller than checkpoint 20, which this witness cosigned on /,
    );

    const other = join(dir, "other.key");
    writeKeyFiles(other, "warden-test");
    const foreign = await runWarden(
      [
        "audit",
        "witness",
        "--case",
        CASE,
        "--key",
        witnessKey,
        "--state",
        state,
        "--pubkey",
        `${other}.pub`,
      ],
      { REDIS_URL: url },
    );
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /not cosigned: checkpoint 15 of warden\/op-witness: signed by warden-test \([0-9a-f]+\), not by the trusted key/,
    );
  }, 60_000);

  it("will not run on a record it cannot believe, nor beside another run", async () => {
    const path = join(state, "history.jsonl");
    const good = readFileSync(path, "utf8");
    writeFileSync(path, good.replace(/"size":12,/, '"size":2,'));
    const damaged = await witness("--case", CASE);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toMatch(
      /history\.jsonl line 1 cannot be believed: .*restore the directory from its backup/,
    );
    writeFileSync(path, good);

    writeFileSync(join(state, "lock"), "4242 2026-01-01T00:00:00.000Z\n");
    const locked = await witness("--case", CASE);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(
      /another witness run holds .*remove the file if no witness is running/,
    );
  }, 60_000);

  it("keeps the two kinds of key apart", () => {
    expect(() => loadSigner(witnessKey)).toThrow(
      /is a witness key \(cosignature\/v1\), not the log's audit signing key/,
    );
    expect(() => loadKeyFile(key, COSIGNATURE_ED25519)).toThrow(
      /is the log's audit signing key, not a witness key/,
    );
    expect(() => loadVerifier(`${witnessKey}.pub`)).toThrow(/pass it with --witness-pubkey/);
    expect(() => loadVerifier(`${key}.pub`, COSIGNATURE_ED25519)).toThrow(/pass it with --pubkey/);
  });
});
