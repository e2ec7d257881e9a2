import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

describe("takeover commands end to end", () => {
  it("freezes fw1 from the control room and thaws back to a custom permission set exactly", async () => {
    const custom = {
      can_send_messages: true,
      can_send_audios: false,
      can_send_documents: true,
      can_send_photos: true,
      can_send_videos: false,
      can_send_video_notes: false,
      can_send_voice_notes: true,
      can_send_polls: false,
      can_send_other_messages: true,
      can_add_web_page_previews: false,
      can_change_info: false,
      can_invite_users: true,
      can_pin_messages: false,
      can_manage_topics: false,
    };
    await stage.control.updateChat(stage.group, { permissions: custom });
    const before = (await stage.control.chat(stage.group)).permissions;

    const answer = await command(stage, stage.room, stage.operator, "/freeze fw1 full");
    expect(answer).toContain("fw1 is frozen");
    const frozen = (await stage.control.chat(stage.group)).permissions as Record<string, boolean>;
    expect(Object.values(frozen).every((v) => v === false)).toBe(true);

    // A second freeze (trade) must not overwrite the saved original.
    expect(await command(stage, stage.room, stage.operator, "/freeze fw1 trade")).toContain(
      "text only",
    );
    expect((await stage.control.chat(stage.group)).permissions).toMatchObject({
      can_send_messages: true,
      can_send_photos: false,
    });

    expect(await command(stage, stage.room, stage.operator, "/thaw fw1")).toContain("thawed");
    expect((await stage.control.chat(stage.group)).permissions).toEqual(before);
  });

  it("takes commands in the seized chat itself, deleting the command message at once", async () => {
    const sent = await stage.control.sendMessage(stage.group, {
      from_id: stage.operator.id,
      text: "/warn takeover pin",
    });
    await eventually(
      async () => (await stage.control.chat(stage.group)).pinned_message_ids.length > 0,
    );
    const snapshot = await stage.control.chat(stage.group);
    const commandMessage = snapshot.messages.find(
      (m) => (m.message as { message_id: number }).message_id === sent.message_id,
    );
    expect(commandMessage?.deleted?.by).toBe(stage.botUser.id);
    const warning = (await botMessages(stage, stage.group)).at(-1);
    expect(warning?.text).toContain("Deze groep is overgenomen door de politie");
    expect(warning?.text).toContain("This group is now under police control");
    expect(snapshot.pinned_message_ids).toContain(warning?.message_id);
  });

  it("answers a malformed command with one usage line to the operator only", async () => {
    const answer = await command(stage, stage.room, stage.operator, "/freeze fw1 sideways");
    expect(answer).toBe("usage: /freeze [full|trade]");
    expect(await command(stage, stage.room, stage.operator, "/freeze fw9")).toMatch(
      /unknown chat "fw9" in case op-fw/,
    );
    expect(await command(stage, stage.room, stage.operator, "/restrict fw1")).toMatch(/name who/);
  });
});
