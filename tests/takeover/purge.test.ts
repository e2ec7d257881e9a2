import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/collect/keys.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage({ approvalThreshold: 1000 });
});
afterEach(async () => {
  await stage.stop();
});

describe("purge", () => {
  it("captures 250 messages as evidence, then deletes them in 3 deleteMessages calls", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 250; i++) {
      const sent = await stage.control.sendMessage(stage.group, {
        from_id: stage.bob.id,
        text: `5 cobra's voor €${i}`,
      });
      ids.push(sent.message_id);
    }
    // Wait until the recorder has kept all of them.
    await eventually(
      async () => (await stage.redis.hlen(collectKeys.messages(stage.caseId, stage.group))) >= 250,
    );
    const firstCall = (await stage.control.calls()).at(-1)?.seq ?? 0;

    const answer = await command(stage, stage.room, stage.operator, "/purge fw1 from @bob_cobra");
    expect(answer).toContain("250 of 250 messages deleted, 250 kept as evidence");

    const deletes = (await stage.control.calls(firstCall)).filter(
      (c) => c.method === "deleteMessages",
    );
    expect(deletes).toHaveLength(3);
    expect(deletes.map((c) => (c.params.message_ids as number[]).length)).toEqual([100, 100, 50]);
    const snapshot = await stage.control.chat(stage.group);
    const gone = snapshot.messages.filter(
      (m) => ids.includes((m.message as { message_id: number }).message_id) && m.deleted,
    );
    expect(gone).toHaveLength(250);

    // Every message is in evidence, and the capture was logged before the first deletion was intended.
    expect(await stage.redis.hlen(collectKeys.evidence(stage.caseId))).toBe(250);
    const entries = await auditEntries(stage.redis, stage.caseId);
    const capture = entries.find(
      (e) =>
        e.op === "collect" &&
        (e.params as { purpose?: string })?.purpose === "evidence before purge",
    );
    const firstDelete = entries.find(
      (e) =>
        e.op === "purge" &&
        e.phase === "intent" &&
        String((e.params as { step: string }).step).startsWith("delete"),
    );
    expect(capture?.seq).toBeLessThan(firstDelete?.seq ?? 0);
    expect((capture?.params as { message_ids?: number[] } | undefined)?.message_ids).toHaveLength(
      250,
    );
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("reports messages older than 48 hours instead of sending them, and never deletes what it has not captured", async () => {
    const old = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "oud aanbod",
    });
    await eventually(
      async () => (await stage.redis.hlen(collectKeys.messages(stage.caseId, stage.group))) >= 1,
    );
    await stage.control.advanceClock(49 * 3600);
    stage.clock.now += 49 * 3600 * 1000;
    const fresh = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "nieuw aanbod",
    });
    await eventually(
      async () => (await stage.redis.hlen(collectKeys.messages(stage.caseId, stage.group))) >= 2,
    );
    const answer = await command(
      stage,
      stage.room,
      stage.operator,
      `/purge fw1 ${old.message_id} ${fresh.message_id} 99999`,
    );
    expect(answer).toContain("1 of 3 messages deleted, 2 kept as evidence");
    expect(answer).toContain(`older than 48 hours`);
    expect(answer).toContain("never seen by Warden");
  });
});
