import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeRole } from "../../src/actions/case-changes.ts";
import { createAuditLog } from "../../src/audit/record.ts";
import { trackedReads } from "../../src/store/tracked-reads.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

async function sendCalls(stage: Stage, since: number): Promise<number> {
  const calls = await stage.control.calls(since);
  return calls.filter((c) => /^send|^copy|^forward/.test(c.method)).length;
}

describe("access control", () => {
  it("gives strangers, anonymous admins, channels and auditors no reply and changes nothing, logging each as refused", async () => {
    const { control } = stage;
    // The operator is also an anonymous admin of fw1: anonymous, their commands cannot be attributed.
    await control.promote(
      stage.group,
      stage.operator.id,
      { can_delete_messages: true, is_anonymous: true },
      { custom_title: "boss" },
    );
    const { id: channel } = await control.createChat({
      type: "channel",
      title: "Deals channel",
      owner_id: stage.stranger.id,
    });
    const before = (await control.chat(stage.group)).permissions;
    const firstCall = (await control.calls()).at(-1)?.seq ?? 0;

    await control.sendMessage(stage.group, { from_id: stage.stranger.id, text: "/freeze full" });
    await control.sendMessage(stage.group, {
      from_id: stage.operator.id,
      text: "/freeze full",
      anonymous: true,
    });
    await control.sendMessage(stage.group, {
      from_id: stage.stranger.id,
      text: "/ban 1234567",
      sender_chat_id: channel,
    });
    await control.sendMessage(stage.room, { from_id: stage.stranger.id, text: "/freeze fw1" });
    await control.sendMessage(stage.room, { from_id: stage.auditor.id, text: "/freeze fw1" });

    // The auditor may read: once /status is answered, everything before it in the room was handled.
    const status = await command(stage, stage.room, stage.auditor, "/status");
    expect(status).toContain("fw1");
    await eventually(
      async () =>
        (await auditEntries(stage.redis, stage.caseId)).filter((e) => e.phase === "refused")
          .length === 5,
    );

    expect((await control.chat(stage.group)).permissions).toEqual(before);
    // The only message sent was the answer to the auditor's /status.
    expect(await sendCalls(stage, firstCall)).toBe(1);
    const refused = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.phase === "refused",
    );
    expect(refused.map((e) => (e.params as { reason: string }).reason).sort()).toEqual(
      [
        "anonymous admin",
        "holds no role in the case",
        "holds no role in the case",
        "posted as a channel",
        "role auditor may not use /freeze",
      ].sort(),
    );
    // Nobody but the bot deleted anything, and the strangers' commands are still there.
    const messages = (await control.chat(stage.group)).messages.filter((m) => m.deleted);
    expect(messages).toHaveLength(0);
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("refuses an operator at the first command after another process removed their role, though the role was cached", async () => {
    // Roles are read through tracked reads (src/store/tracked-reads.ts): wait until they are cached.
    const tracked = trackedReads(stage.redis);
    if (!tracked.tracking())
      await new Promise<void>((resolve) => {
        const off = tracked.on("tracking", () => {
          off();
          resolve();
        });
      });
    expect(await command(stage, stage.room, stage.operator, "/status")).toContain("fw1");
    expect(await command(stage, stage.room, stage.operator, "/status")).toContain("fw1");
    // The CLI in another process: a connection of its own.
    const cli = new Redis(stage.redisUrl);
    const audit = createAuditLog({ redis: cli });
    await removeRole(
      { redis: cli, audit, actor: { kind: "cli", name: "test" } },
      stage.caseId,
      stage.operator.id,
    );
    await audit.close();
    cli.disconnect();
    await command(stage, stage.room, stage.operator, "/freeze fw1", { expectAnswer: false });
    // The auditor's /status is answered after the operator's command was handled (one chat, in order).
    await command(stage, stage.room, stage.auditor, "/status");
    const refused = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.phase === "refused",
    );
    expect(refused.map((e) => (e.params as { reason: string }).reason)).toEqual([
      "holds no role in the case",
    ]);
    expect((await stage.control.chat(stage.group)).permissions?.can_send_messages).not.toBe(false);
  });

  it("lists the commands only to operators, in their chats", async () => {
    await stage.warden.publishCommands();
    const bot = await stage.control.bot(stage.botUser.id);
    const scopes = Object.keys(bot.commands);
    expect(scopes.some((s) => s.includes(String(stage.operator.id)))).toBe(true);
    expect(scopes.some((s) => s.includes(String(stage.stranger.id)))).toBe(false);
    expect(
      scopes.every(
        (s) => s !== "default" || (bot.commands as Record<string, unknown[]>)[s]?.length === 0,
      ),
    ).toBe(true);
  });
});
