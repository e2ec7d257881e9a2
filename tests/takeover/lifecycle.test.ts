import { afterEach, describe, expect, it } from "vitest";
import { getChatState } from "../../src/actions/chat-state.ts";
import { chatByAlias } from "../../src/store/cases.ts";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import {
  botMessages,
  command,
  eventually,
  type Stage,
  settled,
  startStage,
} from "../helpers/warden.ts";

let stage: Stage;
afterEach(async () => {
  await stage.stop();
});

describe("the bot's own status and the chat's life", () => {
  it("reports exactly what was done when the bot is demoted halfway through a freeze", async () => {
    stage = await startStage();
    // The first step (reading the permissions) is slow; the owner demotes the bot while it waits.
    await stage.control.injectFault({ method: "getChat", count: 1, latency_ms: 400 });
    await stage.control.sendMessage(stage.room, {
      from_id: stage.operator.id,
      text: "/freeze fw1",
    });
    await stage.control.promote(stage.group, stage.botUser.id, {});
    const answer = await eventually(async () =>
      (await botMessages(stage, stage.room))
        .map((m) => m.text ?? "")
        .find((t) => t.startsWith("freeze fw1")),
    );
    expect(answer).toContain("freeze fw1: incomplete");
    expect(answer).toContain("done: read-permissions");
    expect(answer).toContain(
      "not done: set-permissions: the bot lacks can_restrict_members in fw1: ask the owner account to grant it",
    );
    // The control room heard about the demotion itself too.
    await eventually(async () =>
      (await botMessages(stage, stage.room)).some((m) => m.text?.includes("the bot was demoted")),
    );
    const outcome = (await auditEntries(stage.redis, stage.caseId)).find(
      (e) => e.op === "freeze" && e.phase === "outcome" && e.result?.ok === false,
    );
    expect(outcome?.result).toMatchObject({
      error_code: 400,
      description: "Bad Request: not enough rights to change chat permissions",
    });
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("tells the control room when the bot is kicked, and says so when an operator then acts", async () => {
    stage = await startStage();
    await stage.control.ban(stage.group, stage.botUser.id);
    await eventually(async () =>
      (await botMessages(stage, stage.room)).some((m) =>
        m.text?.includes("the bot was removed (banned)"),
      ),
    );
    const answer = await command(stage, stage.room, stage.operator, "/warn fw1 takeover");
    expect(answer).toContain("the bot was removed from fw1");
    const entries = await auditEntries(stage.redis, stage.caseId);
    expect(
      entries.some(
        (e) => e.op === "bot.status" && (e.params as { change: string }).change === "kicked",
      ),
    ).toBe(true);
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("follows a basic group upgraded to a supergroup, keeping case, alias and saved permissions", async () => {
    stage = await startStage();
    const { id: basic } = await stage.control.createChat({
      type: "group",
      title: "Knallers",
      owner_id: stage.owner.id,
    });
    await stage.control.join(basic, stage.alice.id);
    await stage.control.join(basic, stage.botUser.id);
    await stage.control.promote(basic, stage.botUser.id, "all");
    // The bot sees its promotion before the chat is seized (otherwise the control room is told of it,
    // and that alert would be taken for the answer to /freeze below).
    await settled(stage);
    const { addChat } = await import("../../src/actions/case-changes.ts");
    await addChat(
      { redis: stage.redis, audit: stage.audit, actor: { kind: "cli", name: "test" } },
      stage.caseId,
      { chatId: basic, alias: "fw2" },
    );
    await stage.control.updateChat(basic, {
      permissions: { can_send_messages: true, can_send_photos: false },
    });
    const saved = (await stage.control.chat(basic)).permissions;
    expect(await command(stage, stage.room, stage.operator, "/freeze fw2")).toContain(
      "fw2 is frozen",
    );

    const upgraded = await stage.control.upgradeChat(basic, stage.owner.id);
    await eventually(
      async () => (await chatByAlias(stage.redis, stage.caseId, "fw2"))?.chatId === upgraded.id,
    );
    // The control room is told of the upgrade; wait for it, so it is not taken for /thaw's answer.
    await eventually(async () =>
      (await botMessages(stage, stage.room)).some((m) => m.text?.includes("upgraded")),
    );
    expect((await getChatState(stage.redis, stage.caseId, upgraded.id)).savedPermissions).toEqual(
      saved,
    );
    expect(await command(stage, stage.room, stage.operator, "/thaw fw2")).toContain("thawed");
    expect((await stage.control.chat(upgraded.id)).permissions).toMatchObject({
      can_send_messages: true,
      can_send_photos: false,
    });
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("waits out a storm of 429s and still posts the warning once", async () => {
    stage = await startStage();
    await stage.control.injectFault({
      method: "sendMessage",
      count: 2,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    await stage.control.sendMessage(stage.group, {
      from_id: stage.operator.id,
      text: "/warn trade",
    });
    await eventually(async () => (await botMessages(stage, stage.group)).length === 1);
    const sends = (await stage.control.calls()).filter(
      (c) => c.method === "sendMessage" && c.params.chat_id === stage.group,
    );
    expect(sends.map((c) => c.ok)).toEqual([false, false, true]);
    const warnIntents = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.op === "warn" && e.phase === "intent",
    );
    expect(warnIntents).toHaveLength(1);
    await expectLogVerifies(stage.redis, stage.caseId);
  });
});
