import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/collect/keys.ts";
import { getMemberRecord } from "../../src/collect/queries.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { eventually, type Stage, startStage } from "../helpers/warden.ts";
import { startRedisServer } from "../setup/redis-server.ts";

/**
 * Redis goes away in the middle of a stream of updates and comes back on the
 * same port (with its data, as a production Redis with persistence would):
 * the bot stops confirming updates to Telegram while it cannot persist them,
 * and once Redis is back every update is there exactly once.
 */

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("Redis going away mid-stream", () => {
  it("holds updates unconfirmed while Redis is down and persists each exactly once when it is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-outage-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // AOF in a folder of the test's own, so the restarted server has the data of the first.
    const persistence = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
    let server = await startRedisServer(persistence);
    cleanup.push(() => server.stop());
    const stage: Stage = await startStage({ redisUrl: server.url });
    cleanup.push(() => stage.stop());
    stage.redis.on("error", () => undefined); // expected while the server is down
    const messages = collectKeys.messages(stage.caseId, stage.group);
    const sent: number[] = [];
    const send = async (text: string) =>
      sent.push(
        (await stage.control.sendMessage(stage.group, { from_id: stage.bob.id, text })).message_id,
      );
    const kept = async () =>
      (await stage.redis.hmget(messages, ...sent.map(String))).filter((v) => v !== null).length;

    for (let i = 0; i < 20; i++) await send(`voor ${i}`);
    await eventually(async () => (await kept()) === 20);

    await server.stop();
    const firstCall = (await stage.control.calls()).at(-1)?.seq ?? 0;
    for (let i = 0; i < 20; i++) await send(`tijdens ${i}`);
    const queued = await stage.control.pendingUpdates(stage.botUser.id);
    const firstDuring = Math.min(...queued.map((u) => u.update_id));
    // The bot fetches them (it keeps polling) but never confirms one: no poll asks past the first.
    await eventually(async () => {
      const polls = await stage.control.calls(firstCall, { method: "getUpdates" });
      return polls.some((c) =>
        ((c.result as { update_id: number }[] | undefined) ?? []).some(
          (u) => u.update_id === firstDuring + 19,
        ),
      );
    });
    const polls = await stage.control.calls(firstCall, { method: "getUpdates" });
    for (const poll of polls)
      expect(Number(poll.params.offset ?? 0)).toBeLessThanOrEqual(firstDuring);
    expect((await stage.control.bot(stage.botUser.id)).pending_update_count).toBeGreaterThanOrEqual(
      20,
    );

    server = await startRedisServer(persistence, server.port);
    for (let i = 0; i < 10; i++) await send(`na ${i}`);
    await eventually(async () => (await kept()) === 50, 20_000);
    await eventually(
      async () => (await stage.control.bot(stage.botUser.id)).pending_update_count === 0,
    );

    // Exactly once: no message lost, no count doubled, every update in one collect entry.
    expect((await getMemberRecord(stage.redis, stage.caseId, stage.bob.id))?.counts.text).toBe(50);
    const texts = (await stage.redis.hmget(messages, ...sent.map(String))).map(
      (v) => (JSON.parse(v as string) as { message: { text: string } }).message.text,
    );
    expect(new Set(texts).size).toBe(50);
    await stage.warden.recorder.flush();
    const seen = await stage.redis.zrange(collectKeys.seenUpdates(stage.caseId), 0, -1);
    const collected = (await auditEntries(stage.redis, stage.caseId))
      .filter((e) => e.op === "collect")
      .flatMap((e) => e.update_ids ?? []);
    expect(collected.length).toBe(new Set(collected).size);
    expect(new Set(collected)).toEqual(new Set(seen.map(Number)));
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
