import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalBytes } from "../../src/audit/entry.ts";
import { auditKeys } from "../../src/audit/storage.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import type { StoredMessage } from "../../src/collect/queries.ts";
import { runRetention } from "../../src/collect/retention.ts";
import { getCase } from "../../src/store/cases.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { runWarden } from "../helpers/cli.ts";
import { eventually, type Stage, settled, startStage } from "../helpers/warden.ts";

/**
 * Retention erases evidence for good, so what an auditor expects of it is
 * tried here: nothing before its time, nothing on a command that says
 * otherwise, nothing of the log of access, and everything on the record
 * under the name of whoever ran it.
 */

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

const DAY = 86_400_000;
const RUNNER = { kind: "cli" as const, name: "retention@server" };

async function stored(messageId: number): Promise<StoredMessage | undefined> {
  const raw = await stage.redis.hget(
    collectKeys.messages(stage.caseId, stage.group),
    String(messageId),
  );
  return raw ? (JSON.parse(raw) as StoredMessage) : undefined;
}

/** What a run could write: the log's head, every message as stored, the events and the erased counts. */
async function written(): Promise<string> {
  const r = stage.redis;
  return canonicalBytes({
    head: await r.hgetall(auditKeys.head(stage.caseId)),
    messages: await r.hgetall(collectKeys.messages(stage.caseId, stage.group)),
    events: await r.xlen(collectKeys.events(stage.caseId)),
    erased: await r.hgetall(collectKeys.erased(stage.caseId)),
  });
}

describe("warden retention run", () => {
  it("refuses --now without --dry-run, and a dry run prints what would go and writes nothing", async () => {
    const m = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "te koop",
    });
    await eventually(async () => (await stored(m.message_id)) !== undefined);
    await settled(stage);
    // The recorder logs what it kept in a batched `collect` entry: once that is written, nothing else is.
    await eventually(
      async () => (await stage.redis.llen(collectKeys.pendingCollect(stage.caseId))) === 0,
    );
    const before = await written();
    const env = { REDIS_URL: stage.redisUrl };
    const later = new Date(Date.now() + 181 * DAY).toISOString();

    const early = await runWarden(["retention", "run", "--now", later], env);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(
      /--now is only for --dry-run: a real run counts retention from today/,
    );
    expect(await written()).toBe(before);

    const dry = await runWarden(["retention", "run", "--dry-run", "--now", later], env);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /op-fw: would erase [1-9]\d* messages, [1-9]\d* events.*nothing was written/,
    );
    expect(await written()).toBe(before);
    expect((await stored(m.message_id))?.message.text).toBe("te koop");

    // Today nothing in the case is past its 180 days.
    const today = await runWarden(["retention", "run"], env);
    expect(today.stdout).toMatch(
      /op-fw: erased 0 messages, 0 events, 0 roster snapshots, 0 member profiles, 0 media files, 0 audit entry payloads/,
    );
    expect(await written()).toBe(before);
  }, 60_000);

  it("counts from when Warden received a message, keeps the log of access, and names who ran it", async () => {
    const start = stage.clock.now;
    const early = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "oud",
    });
    await eventually(async () => (await stored(early.message_id)) !== undefined);
    // A message Warden receives ten days after it was sent (the bot came late, or the message was
    // edited): its date is old, but it was collected ten days later and is kept ten days longer.
    stage.clock.now = start + 10 * DAY;
    const late = await stage.control.sendMessage(stage.group, {
      from_id: stage.alice.id,
      text: "laat",
    });
    await eventually(async () => (await stored(late.message_id)) !== undefined);
    await settled(stage);
    expect((await stored(late.message_id))?.message.date).toBeLessThan((start + DAY) / 1000);
    const access = await stage.audit.record({
      case: stage.caseId,
      actor: RUNNER,
      op: "consult",
      phase: "info",
      justification: "court order 4/26",
      params: { what: "members" },
    });

    const record = await getCase(stage.redis, stage.caseId);
    if (!record) throw new Error("the stage's case is gone");
    const deps = { redis: stage.redis, audit: stage.audit, actor: RUNNER };
    // 181 days after the first message: past its retention, not past the late one's.
    const report = await runRetention(deps, record, { now: new Date(start + 181 * DAY) });
    expect(report.messages).toBeGreaterThanOrEqual(1);
    expect((await stored(early.message_id))?.erased_at).toBeDefined();
    expect((await stored(late.message_id))?.message.text).toBe("laat");

    const entries = await auditEntries(stage.redis, stage.caseId);
    const erasures = entries.filter((e) => e.op === "erase");
    expect(erasures.length).toBeGreaterThan(0);
    for (const e of erasures) expect(e.actor).toEqual(RUNNER);
    expect(entries.find((e) => e.seq === access.seq)).toMatchObject({ op: "consult" });

    // Ten days later the late one is past its retention too.
    await runRetention(deps, record, { now: new Date(start + 191 * DAY) });
    expect((await stored(late.message_id))?.erased_at).toBeDefined();
    expect(
      (await auditEntries(stage.redis, stage.caseId)).find((e) => e.seq === access.seq),
    ).toMatchObject({ op: "consult" });
    await expectLogVerifies(stage.redis, stage.caseId);
  }, 60_000);
});
