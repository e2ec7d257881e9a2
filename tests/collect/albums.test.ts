import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/audit/record.ts";
import { createWardenBot, startPolling, type WardenBot } from "../../src/bot/create.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import { runRetention } from "../../src/collect/retention.ts";
import { getCase } from "../../src/store/cases.ts";
import { auditEntries } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

/**
 * Albums as one offer, through the simulator over HTTP with the real bot and
 * real Redis: a trade-frozen group where a member posts an album whose
 * caption is an offer. Whatever order its items arrive in, every item goes
 * and the album is kept whole as evidence.
 */

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
  expect(await command(stage, stage.room, stage.operator, "/freeze fw1 trade")).toContain("fw1");
});
afterEach(async () => {
  await stage.stop();
});

const OFFER = "Cobra 6 en 8 op voorraad, 5 voor 50 euro, dm";
const TRADE_WARNING = "Trading is not allowed in this group";

async function deleted(ids: number[]): Promise<boolean> {
  const snapshot = await stage.control.chat(stage.group);
  return ids.every((id) =>
    snapshot.messages.some(
      (m) => (m.message as { message_id: number }).message_id === id && m.deleted,
    ),
  );
}

async function albumEvidence(group: string) {
  const raw = await stage.redis.hget(
    collectKeys.evidence(stage.caseId),
    `${stage.group}:album:${group}`,
  );
  return raw
    ? (JSON.parse(raw) as {
        message_ids: number[];
        captions: Array<{ message_id: number; caption: string }>;
        files: Array<{ message_id: number; file_unique_id: string }>;
      })
    : undefined;
}

async function post(order: number[] | "reversed") {
  return stage.control.sendAlbum(stage.group, {
    // The owner: members may post only text in a trade freeze, and the owner is still judged.
    from_id: stage.owner.id,
    items: [{ photo: true, caption: OFFER }, { photo: true }, { photo: true }],
    delivery_order: order,
  });
}

const quiet = pino({ level: "silent" });

/** Another Warden process on the stage's Redis and simulator, with nothing in memory: a restart. */
async function anotherProcess(audit: AuditLog = stage.audit): Promise<WardenBot> {
  const warden = createWardenBot({
    token: stage.token,
    apiRoot: stage.sim.apiRoot,
    redis: stage.redis,
    audit,
    logger: quiet,
    throttle: false,
  });
  await warden.bot.init();
  return warden;
}

/** Runs `check` while `warden` polls the simulator; stops and closes it after. */
async function whilePolling(warden: WardenBot, check: () => Promise<unknown>): Promise<void> {
  const runner = startPolling(warden, quiet, { timeoutSeconds: 1 });
  try {
    await check();
  } finally {
    await runner.stop();
    await warden.close();
  }
}

/** The stage's log, except that the first purge intent is refused, as when Redis is lost at that moment. */
function refusingPurgeIntentOnce(audit: AuditLog): AuditLog {
  let refused = false;
  return {
    ...audit,
    redis: audit.redis,
    signer: audit.signer,
    record(entry, opts) {
      if (!refused && entry.op === "purge" && entry.phase === "intent") {
        refused = true;
        return Promise.reject(new Error("Connection is closed."));
      }
      return audit.record(entry, opts);
    },
    recordMany: (entries) => audit.recordMany(entries),
    checkpoint: (c) => audit.checkpoint(c),
    close: async () => undefined,
  };
}

describe("an album whose caption is an offer, in a trade freeze", () => {
  it("arriving captioned item last: every item removed in one deleteMessages call, kept whole", async () => {
    const callsBefore = (await stage.control.calls(0, { method: "deleteMessages" })).length;
    const items = await post("reversed");
    const ids = items.map((m) => m.message_id);
    const group = items[0]?.media_group_id as string;
    await eventually(() => deleted(ids));
    const deletes = (await stage.control.calls(0, { method: "deleteMessages" })).slice(callsBefore);
    expect(deletes.map((c) => c.params.message_ids)).toEqual([ids]);
    const unit = await albumEvidence(group);
    expect(unit?.message_ids).toEqual(ids);
    expect(unit?.captions).toEqual([{ message_id: ids[0], caption: OFFER }]);
    expect(new Set(unit?.files.map((f) => f.message_id))).toEqual(new Set(ids));
    for (const id of ids)
      expect(
        await stage.redis.hexists(collectKeys.evidence(stage.caseId), `${stage.group}:${id}`),
      ).toBe(1);
    await eventually(async () =>
      (await botMessages(stage, stage.group)).some((m) => m.text?.includes(TRADE_WARNING)),
    );
    expect(
      (await botMessages(stage, stage.group)).filter((m) => m.text?.includes(TRADE_WARNING)),
    ).toHaveLength(1);
  });

  it("arriving captioned item first: the items seen later are removed as they come, and join the evidence", async () => {
    const callsBefore = (await stage.control.calls(0, { method: "deleteMessages" })).length;
    const items = await post([0, 2, 1]);
    const ids = items.map((m) => m.message_id);
    const group = items[0]?.media_group_id as string;
    await eventually(() => deleted(ids));
    // Handled in order: the captioned item alone (nothing else seen yet), then each late item.
    const deletes = (await stage.control.calls(0, { method: "deleteMessages" })).slice(callsBefore);
    expect(deletes.map((c) => c.params.message_ids)).toEqual([[ids[0]], [ids[2]], [ids[1]]]);
    await eventually(async () => (await albumEvidence(group))?.message_ids.length === 3);
    expect((await albumEvidence(group))?.message_ids).toEqual(ids);
    const membership = await stage.redis.hgetall(
      collectKeys.album(stage.caseId, stage.group, group),
    );
    expect(membership.removed).toBe("1");
    expect(
      (await botMessages(stage, stage.group)).filter((m) => m.text?.includes(TRADE_WARNING)),
    ).toHaveLength(1);
  });

  it("split by a restart: the captioned item removed by one process, the rest by the next as they come", async () => {
    // The first process takes only the captioned item, then stops before it sees the others.
    await stage.runner.stop();
    const items = await post([0, 1, 2]);
    const ids = items.map((m) => m.message_id);
    const group = items[0]?.media_group_id as string;
    const [first] = await stage.warden.bot.api.getUpdates({ limit: 1, timeout: 0 });
    expect(first?.message?.message_id).toBe(ids[0]);
    await stage.warden.bot.handleUpdate(first as NonNullable<typeof first>);
    await eventually(() => deleted([ids[0] as number]));
    expect(await deleted(ids)).toBe(false);
    await stage.warden.close();

    // A new process on the same Redis, with nothing in memory: Telegram hands it the whole album
    // again (the first item was never confirmed), and what Redis holds decides.
    await whilePolling(await anotherProcess(), async () => {
      await eventually(() => deleted(ids));
      await eventually(async () => (await albumEvidence(group))?.message_ids.length === 3);
      expect((await albumEvidence(group))?.message_ids).toEqual(ids);
      // Each item was deleted once; the redelivered captioned item asked Telegram for nothing.
      const deletes = (await stage.control.calls(0, { method: "deleteMessages" }))
        .map((c) => c.params.message_ids as number[])
        .filter((batch) => batch.some((id) => ids.includes(id)));
      expect(deletes).toEqual([[ids[0]], [ids[1]], [ids[2]]]);
      expect(
        (await botMessages(stage, stage.group)).filter((m) => m.text?.includes(TRADE_WARNING)),
      ).toHaveLength(1);
    });
  });

  it("captured but cut off before its delete was asked: removed when Telegram delivers it again", async () => {
    // The first process captures the captioned item, then Redis refuses the delete's intent.
    await stage.runner.stop();
    const items = await post([0, 1, 2]);
    const ids = items.map((m) => m.message_id);
    await stage.warden.close();
    const first = await anotherProcess(refusingPurgeIntentOnce(stage.audit));
    const [update] = await first.bot.api.getUpdates({ limit: 1, timeout: 0 });
    expect(update?.message?.message_id).toBe(ids[0]);
    await expect(first.bot.handleUpdate(update as NonNullable<typeof update>)).rejects.toThrow();
    await first.close();
    expect(
      await stage.redis.hexists(collectKeys.evidence(stage.caseId), `${stage.group}:${ids[0]}`),
    ).toBe(1);

    // The next process gets the whole album again (nothing was confirmed): every item goes.
    await whilePolling(await anotherProcess(), () => eventually(() => deleted(ids)));
  });

  it("at the end of retention: the album's unit and membership go with its items, and the erasure names the album", async () => {
    const items = await post("reversed");
    const ids = items.map((m) => m.message_id);
    const group = items[0]?.media_group_id as string;
    await eventually(async () => (await albumEvidence(group))?.message_ids.length === 3);
    const record = await getCase(stage.redis, stage.caseId);
    if (!record) throw new Error("the stage's case is gone");
    const actor = { kind: "cli" as const, name: "retention@server" };
    const later = new Date(Date.now() + (record.retentionDays + 1) * 86_400_000);
    await runRetention({ redis: stage.redis, audit: stage.audit, actor }, record, { now: later });

    expect(await albumEvidence(group)).toBeUndefined();
    expect(await stage.redis.exists(collectKeys.album(stage.caseId, stage.group, group))).toBe(0);
    for (const id of ids)
      expect(
        await stage.redis.hexists(collectKeys.evidence(stage.caseId), `${stage.group}:${id}`),
      ).toBe(0);
    const erasures = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.op === "erase" && (e.params as { what?: string }).what === "messages",
    );
    expect(erasures.flatMap((e) => (e.params as { albums?: string[] }).albums ?? [])).toEqual([
      group,
    ]);
  });
});
