import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/program.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { getMemberRecord, type StoredMessage } from "../../src/collect/queries.ts";
import { runRetention } from "../../src/collect/retention.ts";
import { getCase } from "../../src/store/cases.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { runWarden } from "../helpers/cli.ts";
import { eventually, type Stage, settled, startStage } from "../helpers/warden.ts";

let stage: Stage;
let dir: string;
beforeEach(async () => {
  stage = await startStage();
  dir = mkdtempSync(join(tmpdir(), "warden-export-"));
});
afterEach(async () => {
  await stage.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `warden export <kind>` of the stage's case, with the justification and any further options. */
function exportArgs(caseId: string, kind: string, format: string, out: string, ...more: string[]) {
  return [
    "export",
    kind,
    "--case",
    caseId,
    "--format",
    format,
    "--out",
    out,
    "--justification",
    WHY,
    ...more,
  ];
}

/**
 * The CLI run in this process (fast: no new Node process per command), with stdout and stderr
 * captured; `runWarden` (a real child process) is used once per file to check the wiring.
 */
async function warden(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args, { REDIS_URL: stage.redisUrl, LOG_LEVEL: "warn" });
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const WHY = "request of the public prosecutor, 2026-03-02";

async function stored(chatId: number, messageId: number): Promise<StoredMessage | undefined> {
  const raw = await stage.redis.hget(collectKeys.messages(stage.caseId, chatId), String(messageId));
  return raw ? (JSON.parse(raw) as StoredMessage) : undefined;
}

describe("warden export", () => {
  it("exports members with their history, neutralising formulas; verifies; refuses to overwrite; logs consult and disclose", async () => {
    const formula = await stage.control.createUser({
      first_name: '=HYPERLINK("http://x")',
      last_name: "+31 6",
    });
    await stage.control.join(stage.group, formula.id);
    await stage.control.sendMessage(stage.group, { from_id: formula.id, text: "@everyone -5" });
    await stage.control.sendMessage(stage.group, { from_id: stage.bob.id, text: "oude naam" });
    await stage.control.updateUser(stage.bob.id, { first_name: "Robert" });
    await stage.control.sendMessage(stage.group, { from_id: stage.bob.id, text: "nieuwe naam" });
    await settled(stage);
    await eventually(
      async () =>
        (await getMemberRecord(stage.redis, stage.caseId, stage.bob.id))?.names.length === 2,
    );

    const out = join(dir, "members.csv");
    const exported = await runWarden(exportArgs(stage.caseId, "members", "csv", out), {
      REDIS_URL: stage.redisUrl,
    });
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain("logged as consult");
    const csv = readFileSync(out, "utf8");
    const lines = csv.split("\r\n");
    expect(lines[0]).toMatch(/^user_id,is_bot,first_name,last_name,username/);
    // A spreadsheet must show the name as text, never run it.
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(csv).toContain(",'+31 6,");
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    const bobRows = lines.filter((l) => l.startsWith(`${stage.bob.id},`));
    expect(bobRows).toHaveLength(1);
    expect(bobRows[0]).toContain("Robert");
    expect(bobRows[0]).toContain('""first_name"":""Bob""');

    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, "utf8"));
    expect(manifest).toMatchObject({
      case: stage.caseId,
      authority: "OM-2026-0142",
      kind: "members",
      format: "csv",
      file: "members.csv",
      justification: WHY,
      audit: { op: "consult" },
      software: { version: expect.any(String) },
    });
    expect(manifest.rows).toBe(lines.length - 2);
    expect(manifest.time_range.from <= manifest.time_range.to).toBe(true);
    const verified = await warden(["export", "verify", out]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain("ok:");

    // An existing path is refused, and nothing is logged for it; --force replaces it.
    // (Counted by what an export logs: the recorder's own batched entries may land meanwhile.)
    const looks = async () =>
      (await auditEntries(stage.redis, stage.caseId)).filter(
        (e) => e.op === "consult" || e.op === "disclose",
      ).length;
    const before = await looks();
    const again = await warden(exportArgs(stage.caseId, "members", "csv", out));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
    expect(again.stderr).toContain("--force");
    expect(await looks()).toBe(before);
    const forced = await warden(
      exportArgs(
        stage.caseId,
        "members",
        "jsonl",
        out,
        "--recipient",
        "OM Rotterdam",
        "--recipient",
        "FIOD",
        "--force",
      ),
    );
    expect(forced.code).toBe(0);
    const rows = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.find((r) => r.user_id === formula.id)?.first_name).toBe('=HYPERLINK("http://x")');
    expect((await warden(["export", "verify", out])).code).toBe(0);

    // A changed file no longer matches.
    writeFileSync(out, `${readFileSync(out, "utf8")}{"user_id":1}\n`);
    const tampered = await warden(["export", "verify", out]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain("does not match its manifest");

    const entries = await auditEntries(stage.redis, stage.caseId);
    const access = entries.filter((e) => e.op === "consult" || e.op === "disclose");
    expect(access.map((e) => [e.op, e.phase])).toEqual([
      ["consult", "intent"],
      ["consult", "outcome"],
      ["disclose", "intent"],
      ["disclose", "outcome"],
    ]);
    expect(access.every((e) => e.justification === WHY)).toBe(true);
    expect(access[3]?.recipients).toEqual(["OM Rotterdam", "FIOD"]);
    expect(access[3]?.result).toMatchObject({
      ok: true,
      sha256: JSON.parse(readFileSync(`${out}.manifest.json`, "utf8")).sha256,
    });

    // Exports are for supervisors and auditors; operators see summaries in Telegram.
    const base = [
      "export",
      "members",
      "--case",
      stage.caseId,
      "--format",
      "csv",
      "--justification",
      WHY,
    ];
    const byOperator = await warden([
      ...base,
      "--out",
      join(dir, "op.csv"),
      "--as",
      String(stage.operator.id),
    ]);
    expect(byOperator.code).toBe(2);
    expect(byOperator.stderr).toContain("operators see summaries");
    const byAuditor = await warden([
      ...base,
      "--out",
      join(dir, "aud.csv"),
      "--as",
      String(stage.auditor.id),
    ]);
    expect(byAuditor.code).toBe(0);
    expect((await auditEntries(stage.redis, stage.caseId)).at(-1)?.actor).toMatchObject({
      kind: "auditor",
      id: stage.auditor.id,
    });

    const noWhy = await warden([
      "export",
      "members",
      "--case",
      stage.caseId,
      "--format",
      "csv",
      "--out",
      join(dir, "x.csv"),
    ]);
    expect(noWhy.code).toBe(2);
    expect(noWhy.stderr).toContain("--justification");
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("exports messages with every version, events and admin rosters, each verifiable", async () => {
    const long = `<script>${"x".repeat(4080)}\u202E</script>`.slice(0, 4096);
    const m = await stage.control.sendMessage(stage.group, { from_id: stage.bob.id, text: long });
    await stage.control.editMessage(stage.group, m.message_id, { text: "=1+1\nline two" });
    await stage.control.sendMessage(stage.group, {
      from_id: stage.alice.id,
      text: "5 cobra 6 voor 50 euro",
    });
    await settled(stage);
    await eventually(async () => (await stage.redis.xlen(collectKeys.admins(stage.caseId))) > 0);

    const messages = join(dir, "messages.jsonl");
    expect((await warden(exportArgs(stage.caseId, "messages", "jsonl", messages))).code).toBe(0);
    const rows = readFileSync(messages, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const versions = rows.filter((r) => r.message_id === m.message_id);
    expect(versions.map((r) => [r.version, r.text])).toEqual([
      [0, long],
      [1, "=1+1\nline two"],
    ]);
    expect(rows.find((r) => r.text === "5 cobra 6 voor 50 euro")?.offer).toBe(true);

    const csv = join(dir, "messages.csv");
    expect((await warden(exportArgs(stage.caseId, "messages", "csv", csv))).code).toBe(0);
    expect(readFileSync(csv, "utf8")).toContain(`"'=1+1\nline two"`);
    for (const kind of ["events", "admins"]) {
      const out = join(dir, `${kind}.csv`);
      const result = await warden(exportArgs(stage.caseId, kind, "csv", out));
      expect(result.code).toBe(0);
      expect((await warden(["export", "verify", out])).code).toBe(0);
    }
    expect(readFileSync(join(dir, "admins.csv"), "utf8")).toContain(String(stage.botUser.id));
    for (const file of [messages, csv])
      expect((await warden(["export", "verify", file])).code).toBe(0);
  });
});

describe("warden retention run and warden case collection", () => {
  it("erases payloads past the retention and keeps counts, on the record; keeps only what the case chose", async () => {
    const shown = await warden(["case", "collection", stage.caseId]);
    expect(shown.stdout).toContain("[x] text");
    expect(shown.stdout).toContain("[ ] files");
    const set = await warden(["case", "collection", stage.caseId, "--keep", "text"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("[ ] media");
    expect(
      (await warden(["case", "collection", stage.caseId, "--keep", "text,fotos"])).stderr,
    ).toContain('"fotos" is not a collection category');
    stage.warden.recorder.cases.invalidate();

    const photo = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      photo: true,
      caption: "te koop",
    });
    const fwd = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "doorgestuurd",
      forward_from_id: stage.alice.id,
    });
    await eventually(async () => (await stored(stage.group, fwd.message_id)) !== undefined);
    const kept = (await stored(stage.group, photo.message_id)) as StoredMessage;
    expect(kept.message.caption).toBe("te koop");
    expect(kept.message.photo).toBeUndefined();
    expect((await stored(stage.group, fwd.message_id))?.message.forward_origin).toBeUndefined();

    await stage.control.requestToJoin(
      stage.group,
      (await stage.control.createUser({ first_name: "Dave" })).id,
      { bio: "geheim" },
    );
    await settled(stage);
    const countsBefore = (await getMemberRecord(stage.redis, stage.caseId, stage.bob.id))?.counts;

    // Not yet past the retention (180 days): nothing is erased.
    const soon = await warden(["retention", "run", "--case", stage.caseId]);
    expect(soon.code).toBe(0);
    expect(soon.stdout).toContain("erased 0 messages");

    // A later date is only for a dry run (tests/collect/retention.test.ts): the erasure itself is
    // run here through the function the command calls, with the clock set 181 days ahead.
    const later = new Date(Date.now() + 181 * 86_400_000).toISOString();
    const dry = await warden(["retention", "run", "--dry-run", "--now", later]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/op-fw: would erase [1-9]\d* messages, [1-9]\d* events/);
    const record = await getCase(stage.redis, stage.caseId);
    if (!record) throw new Error("the stage's case is gone");
    const run = await runRetention(
      { redis: stage.redis, audit: stage.audit, actor: { kind: "cli", name: "test@server" } },
      record,
      { now: new Date(later) },
    );
    expect(run.messages).toBeGreaterThan(0);
    expect(run.events).toBeGreaterThan(0);
    const erased = (await stored(stage.group, photo.message_id)) as StoredMessage;
    expect(erased.erased_at).toBeDefined();
    expect(erased.message.caption).toBeUndefined();
    expect(erased.message.message_id).toBe(photo.message_id);
    const bob = await getMemberRecord(stage.redis, stage.caseId, stage.bob.id);
    expect(bob?.profile).toBeUndefined();
    expect(bob?.names).toEqual([]);
    expect(bob?.counts).toEqual(countsBefore);
    expect(await stage.redis.hget(collectKeys.usernames(stage.caseId), "bob_cobra")).toBeNull();
    expect(await stage.redis.xlen(collectKeys.events(stage.caseId))).toBe(0);
    expect(
      Number(await stage.redis.hget(collectKeys.erased(stage.caseId), "events:join-request")),
    ).toBe(1);
    const entries = await auditEntries(stage.redis, stage.caseId);
    expect(entries.filter((e) => e.op === "erase").length).toBeGreaterThanOrEqual(3);
    expect(entries.find((e) => e.op === "config" && e.params?.collection)?.params).toMatchObject({
      collection: { keep: ["text"] },
    });

    const twice = await warden([
      "retention",
      "run",
      "--case",
      stage.caseId,
      "--dry-run",
      "--now",
      later,
    ]);
    expect(twice.stdout).toContain(
      "would erase 0 messages, 0 events, 0 roster snapshots, 0 member profiles",
    );
    expect((await warden(["retention", "run", "--now", "next week"])).code).toBe(2);
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
