import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

const member = async (stage: Stage, userId: number) =>
  (await stage.control.chat(stage.group)).members.find((m) => m.user?.id === userId);

describe("member commands", () => {
  it("restricts, bans, unbans and kicks by @username, id and reply, saying when Telegram treats a duration as forever", async () => {
    // Warden knows @bob_cobra only from what it has seen.
    const offer = await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      text: "10 cobra 8 voor 100 euro, pb",
    });
    await eventually(async () =>
      (await auditEntries(stage.redis, stage.caseId)).some((e) => e.op === "collect"),
    );

    let answer = await command(stage, stage.room, stage.operator, "/restrict fw1 @bob_cobra 2h");
    expect(answer).toMatch(/is restricted in fw1 until/);
    expect((await member(stage, stage.bob.id))?.status).toBe("restricted");

    answer = await command(
      stage,
      stage.room,
      stage.operator,
      `/restrict fw1 ${stage.alice.id} 10s`,
    );
    expect(answer).toContain("Telegram treats less than 30 seconds as forever");

    // From the seized chat, the answer comes privately (the operator has started the bot).
    await stage.control.sendMessage(stage.operator.id, {
      from_id: stage.operator.id,
      text: "/start",
    });
    answer = await command(stage, stage.group, stage.operator, "/ban", {
      reply_to_message_id: offer.message_id,
      answerIn: stage.operator.id,
    });
    expect(answer).toContain(`${stage.bob.id} is banned from fw1 for good`);
    expect((await member(stage, stage.bob.id))?.status).toBe("kicked");

    answer = await command(stage, stage.room, stage.operator, `/unban fw1 ${stage.bob.id}`);
    expect(answer).toContain("is unbanned");
    expect((await member(stage, stage.bob.id))?.status ?? "left").toBe("left");

    answer = await command(stage, stage.room, stage.operator, `/kick fw1 ${stage.alice.id}`);
    expect(answer).toContain("was removed from fw1");
    expect((await member(stage, stage.alice.id))?.status ?? "left").toBe("left");

    expect(await command(stage, stage.room, stage.operator, "/ban fw1 @nobody_seen")).toContain(
      "has not been seen",
    );
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("bans a channel that posts in the group with banChatSenderChat", async () => {
    const { id: channel } = await stage.control.createChat({
      type: "channel",
      title: "Deals channel",
      owner_id: stage.bob.id,
    });
    await stage.control.sendMessage(stage.group, {
      from_id: stage.bob.id,
      sender_chat_id: channel,
      text: "nieuwe voorraad!",
    });
    expect(await command(stage, stage.room, stage.operator, `/ban fw1 ${channel}`)).toContain(
      `channel ${channel} can no longer post`,
    );
    expect((await stage.control.chat(stage.group)).banned_sender_chat_ids).toContain(channel);
  });
});

describe("posting, pinning and reporting", () => {
  it("announces, pins, unpins, checks, reports status and helps", async () => {
    expect(
      await command(
        stage,
        stage.room,
        stage.operator,
        "/announce fw1 Let op: <b>niet</b> handelen",
      ),
    ).toContain("announcement posted");
    const posted = (await botMessages(stage, stage.group)).at(-1);
    expect(posted?.text).toBe("Let op: <b>niet</b> handelen");

    expect(
      await command(stage, stage.room, stage.operator, `/pin fw1 ${posted?.message_id}`),
    ).toContain("pinned");
    expect((await stage.control.chat(stage.group)).pinned_message_ids).toContain(
      posted?.message_id,
    );
    await command(stage, stage.room, stage.operator, "/unpin fw1");
    expect((await stage.control.chat(stage.group)).pinned_message_ids).toHaveLength(0);

    const check = await command(stage, stage.room, stage.operator, "/check fw1");
    expect(check).toContain("fw1");
    expect(check).toContain("ready");
    expect(check).toMatch(/Johan de Boer .*could undo the takeover: owner/);

    const status = await command(stage, stage.room, stage.supervisor, "/status");
    expect(status).toContain("fw1");
    expect(status).toContain("members: ");
    expect(status).toMatch(/pin .*ok/);

    const help = await command(stage, stage.room, stage.auditor, "/help");
    expect(help).toContain("/status");
    expect(help).not.toContain("/freeze");
  });

  it("seizes a new group with /seize and releases it again after approval", async () => {
    const { id: other } = await stage.control.createChat({
      type: "supergroup",
      title: "Knal Markt",
      owner_id: stage.owner.id,
    });
    await stage.control.join(other, stage.operator.id);
    await stage.control.join(other, stage.botUser.id);
    await stage.control.promote(other, stage.botUser.id, "all");
    await stage.control.sendMessage(stage.operator.id, {
      from_id: stage.operator.id,
      text: "/start",
    });
    const sent = await stage.control.sendMessage(other, {
      from_id: stage.operator.id,
      text: "/seize op-fw fw3",
    });
    await eventually(async () =>
      (await botMessages(stage, stage.operator.id)).some((m) => m.text?.includes("as fw3")),
    );
    const snapshot = await stage.control.chat(other);
    // The operators now see the commands in the new chat, and nobody else does.
    const scopes = Object.keys((await stage.control.bot(stage.botUser.id)).commands);
    expect(
      scopes.some((k) => k.includes(String(other)) && k.includes(String(stage.operator.id))),
    ).toBe(true);
    expect(
      scopes.some((k) => k.includes(String(other)) && k.includes(String(stage.alice.id))),
    ).toBe(false);
    expect(
      snapshot.messages.find(
        (m) => (m.message as { message_id: number }).message_id === sent.message_id,
      )?.deleted,
    ).toBeDefined();

    await command(stage, stage.room, stage.operator, "/freeze fw3 trade");
    await command(stage, stage.room, stage.operator, "/release fw3");
    const messages = await stage.control.chat(stage.room);
    const request = messages.messages
      .map(
        (m) =>
          m.message as {
            message_id: number;
            reply_markup?: { inline_keyboard: { callback_data: string }[][] };
          },
      )
      .filter((m) => m.reply_markup)
      .at(-1);
    await stage.control.pressButton({
      from_id: stage.supervisor.id,
      chat_id: stage.room,
      message_id: request?.message_id as number,
      data: request?.reply_markup?.inline_keyboard[0]?.[0]?.callback_data as string,
    });
    await eventually(async () =>
      (await botMessages(stage, other)).some((m) => m.text?.includes("vrijgegeven")),
    );
    expect((await stage.control.chat(other)).permissions).toMatchObject({ can_send_photos: true });
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("performs a redelivered command once", async () => {
    const update = {
      update_id: 9_000_001,
      message: {
        message_id: 4242,
        date: Math.floor(Date.now() / 1000),
        chat: { id: stage.room, type: "supergroup" as const, title: "Control room" },
        from: { id: stage.operator.id, is_bot: false, first_name: "Duty" },
        text: "/warn fw1 trade",
        entities: [{ type: "bot_command" as const, offset: 0, length: 5 }],
      },
    };
    await stage.warden.bot.handleUpdate(update);
    await stage.warden.bot.handleUpdate(update);
    const warnings = (await botMessages(stage, stage.group)).filter((m) =>
      m.text?.includes("Handel is in deze groep niet toegestaan"),
    );
    expect(warnings).toHaveLength(1);
    const intents = (await auditEntries(stage.redis, stage.caseId)).filter(
      (e) => e.op === "warn" && e.phase === "intent",
    );
    expect(intents).toHaveLength(1);
  });
});
