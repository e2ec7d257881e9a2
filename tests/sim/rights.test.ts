import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminRights, botApiSpec } from "../../src/sim/index.ts";
import { type Cast, startCast } from "./helpers.ts";

let cast: Cast;
let carol: { id: number };

beforeAll(async () => {
  cast = await startCast();
  carol = await cast.sim.control.createUser({ first_name: "Carol", username: "carol_mod" });
});
afterAll(() => cast.sim.close());

type BotRole = "member" | "admin without the right" | "admin with the right";

/**
 * A fresh chat where alice is a member, carol an admin promoted by the
 * owner, and the bot has `role` with respect to `right`.
 */
async function chatWithBot(
  role: BotRole,
  right: keyof AdminRights,
  type: "supergroup" | "group" = "supergroup",
) {
  const c = cast.sim.control;
  const { id } = await c.createChat({ type, title: `Rights ${role}`, owner_id: cast.owner.id });
  await c.join(id, cast.alice.id);
  await c.join(id, carol.id);
  await c.promote(id, carol.id, { can_restrict_members: true, can_delete_messages: true });
  if (role === "member") await c.join(id, cast.bot.id);
  else {
    const rights: Partial<AdminRights> = { can_invite_users: true, can_manage_video_chats: true };
    if (role === "admin with the right") rights[right] = true;
    await c.promote(id, cast.bot.id, rights);
  }
  return id;
}

async function statusOf(chat: number, userId: number) {
  const answer = await cast.api<{ status: string }>("getChatMember", {
    chat_id: chat,
    user_id: userId,
  });
  return answer.body.result?.status;
}

const mute = { permissions: { can_send_messages: false } };
const NO_RESTRICT = "Bad Request: not enough rights to restrict/unrestrict chat member";

describe("restrictChatMember", () => {
  it.each<BotRole>(["member", "admin without the right"])(
    "refuses a bot that is %s",
    async (role) => {
      const chat = await chatWithBot(role, "can_restrict_members");
      const answer = await cast.api("restrictChatMember", {
        chat_id: chat,
        user_id: cast.alice.id,
        ...mute,
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ ok: false, error_code: 400, description: NO_RESTRICT });
      expect(await statusOf(chat, cast.alice.id)).toBe("member");
    },
  );

  it("restricts a plain member when the bot has can_restrict_members", async () => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    const answer = await cast.api("restrictChatMember", {
      chat_id: chat,
      user_id: cast.alice.id,
      ...mute,
    });
    expect(answer.body).toEqual({ ok: true, result: true });
    const member = await cast.api<Record<string, unknown>>("getChatMember", {
      chat_id: chat,
      user_id: cast.alice.id,
    });
    expect(member.body.result).toMatchObject({
      status: "restricted",
      is_member: true,
      can_send_messages: false,
      until_date: 0,
    });
    const refused = await cast.sim.control.trySendMessage(chat, {
      from_id: cast.alice.id,
      text: "nog iemand vuurwerk?",
    });
    expect(refused).toEqual({
      ok: false,
      error_code: 403,
      description: "not enough rights to send text messages to the chat",
    });
  });

  it.each([
    ["an administrator", () => carol.id, "Bad Request: user is an administrator of the chat"],
    ["the creator", () => cast.owner.id, "Bad Request: can't remove chat owner"],
    ["the bot itself", () => cast.bot.id, "Bad Request: can't restrict self"],
  ])("refuses to restrict %s", async (_, target, description) => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    const answer = await cast.api("restrictChatMember", {
      chat_id: chat,
      user_id: target(),
      ...mute,
    });
    expect(answer.body).toEqual({ ok: false, error_code: 400, description });
    expect(await statusOf(chat, target())).toMatch(/administrator|creator/);
  });

  it("is available only in supergroups", async () => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members", "group");
    const answer = await cast.api("restrictChatMember", {
      chat_id: chat,
      user_id: cast.alice.id,
      ...mute,
    });
    expect(answer.body.description).toBe("Bad Request: method is available only for supergroups");
    expect(await statusOf(chat, cast.alice.id)).toBe("member");
  });
});

describe("banChatMember", () => {
  it.each<BotRole>(["member", "admin without the right"])(
    "refuses a bot that is %s",
    async (role) => {
      const chat = await chatWithBot(role, "can_restrict_members");
      const answer = await cast.api("banChatMember", { chat_id: chat, user_id: cast.alice.id });
      expect(answer.body.description).toBe(NO_RESTRICT);
      expect(await statusOf(chat, cast.alice.id)).toBe("member");
    },
  );

  it.each(["supergroup", "group"] as const)(
    "bans a plain member of a %s, who then shows as kicked",
    async (type) => {
      const chat = await chatWithBot("admin with the right", "can_restrict_members", type);
      const answer = await cast.api("banChatMember", { chat_id: chat, user_id: cast.alice.id });
      expect(answer.body).toEqual({ ok: true, result: true });
      expect(await statusOf(chat, cast.alice.id)).toBe("kicked");
      const snapshot = await cast.sim.control.chat(chat);
      const removal = snapshot.messages.at(-1)?.message;
      expect(removal).toMatchObject({
        from: { id: cast.bot.id },
        left_chat_member: { id: cast.alice.id },
      });
    },
  );

  it.each([
    [
      "an administrator it did not promote",
      () => carol.id,
      "Bad Request: user is an administrator of the chat",
    ],
    ["the creator", () => cast.owner.id, "Bad Request: can't remove chat owner"],
    ["the bot itself", () => cast.bot.id, "Bad Request: can't restrict self"],
  ])("refuses to ban %s", async (_, target, description) => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    const answer = await cast.api("banChatMember", { chat_id: chat, user_id: target() });
    expect(answer.body.description).toBe(description);
    expect(await statusOf(chat, target())).not.toBe("kicked");
  });
});

describe("setChatPermissions", () => {
  it.each<BotRole>(["member", "admin without the right"])(
    "refuses a bot that is %s",
    async (role) => {
      const chat = await chatWithBot(role, "can_restrict_members");
      const answer = await cast.api("setChatPermissions", {
        chat_id: chat,
        permissions: { can_send_messages: false },
      });
      expect(answer.body.description).toBe(
        "Bad Request: not enough rights to change chat permissions",
      );
    },
  );

  it("applies Telegram's implications unless permissions are independent", async () => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    await cast.api("setChatPermissions", { chat_id: chat, permissions: { can_send_polls: true } });
    let info = await cast.api<{ permissions: Record<string, boolean> }>("getChat", {
      chat_id: chat,
    });
    expect(info.body.result?.permissions).toMatchObject({
      can_send_polls: true,
      can_send_messages: true,
      can_send_photos: false,
    });
    await cast.api("setChatPermissions", {
      chat_id: chat,
      permissions: { can_send_other_messages: true },
    });
    info = await cast.api("getChat", { chat_id: chat });
    expect(info.body.result?.permissions).toMatchObject({
      can_send_messages: true,
      can_send_photos: true,
      can_send_polls: false,
    });
    await cast.api("setChatPermissions", {
      chat_id: chat,
      permissions: { can_send_polls: true },
      use_independent_chat_permissions: true,
    });
    info = await cast.api("getChat", { chat_id: chat });
    expect(info.body.result?.permissions).toMatchObject({
      can_send_polls: true,
      can_send_messages: false,
    });
  });
});

describe("ChatPermissions", () => {
  const messagesAndMedia = {
    can_send_messages: true,
    can_send_audios: true,
    can_send_documents: true,
    can_send_photos: true,
    can_send_videos: true,
    can_send_video_notes: true,
    can_send_voice_notes: true,
  };

  it.each([
    ["link previews", { can_add_web_page_previews: true }],
    ["the legacy can_send_media_messages", { can_send_media_messages: true }],
  ])("lets %s imply messages and media", async (_, permissions) => {
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    await cast.api("setChatPermissions", { chat_id: chat, permissions });
    const info = await cast.api<{ permissions: Record<string, boolean> }>("getChat", {
      chat_id: chat,
    });
    expect(info.body.result?.permissions).toMatchObject({
      ...messagesAndMedia,
      can_send_polls: false,
      can_send_other_messages: false,
    });
  });

  it("reports every field the spec declares, in chats and for restricted members", async () => {
    const declared = botApiSpec().types.ChatPermissions;
    const fields = declared && !declared.subtypes ? declared.fields.map((f) => f.name) : [];
    expect(fields).toContain("can_edit_tag");
    const chat = await chatWithBot("admin with the right", "can_restrict_members");
    await cast.api("restrictChatMember", { chat_id: chat, user_id: cast.alice.id, ...mute });
    const info = await cast.api<{ permissions: Record<string, boolean> }>("getChat", {
      chat_id: chat,
    });
    expect(Object.keys(info.body.result?.permissions ?? {}).sort()).toEqual([...fields].sort());
    const member = await cast.api<Record<string, unknown>>("getChatMember", {
      chat_id: chat,
      user_id: cast.alice.id,
    });
    const memberFields = Object.keys(member.body.result ?? {}).filter((k) => k.startsWith("can_"));
    expect(memberFields.sort()).toEqual([...fields].sort());
    const snapshot = await cast.sim.control.chat(chat);
    expect(Object.keys(snapshot.permissions).sort()).toEqual([...fields].sort());
  });
});

describe("pinChatMessage", () => {
  it.each<BotRole>(["member", "admin without the right"])(
    "refuses a bot that is %s",
    async (role) => {
      const chat = await chatWithBot(role, "can_pin_messages");
      const message = await cast.sim.control.sendMessage(chat, {
        from_id: cast.alice.id,
        text: "Cobra 6 te koop",
      });
      const answer = await cast.api("pinChatMessage", {
        chat_id: chat,
        message_id: message.message_id,
      });
      expect(answer.body.description).toBe(
        "Bad Request: not enough rights to manage pinned messages in the chat",
      );
      expect((await cast.sim.control.chat(chat)).pinned_message_ids).toEqual([]);
    },
  );

  it("pins with can_pin_messages, and refuses a missing message", async () => {
    const chat = await chatWithBot("admin with the right", "can_pin_messages");
    const message = await cast.sim.control.sendMessage(chat, {
      from_id: cast.alice.id,
      text: "Cobra 6 te koop",
    });
    expect(
      (await cast.api("pinChatMessage", { chat_id: chat, message_id: message.message_id })).body.ok,
    ).toBe(true);
    expect((await cast.sim.control.chat(chat)).pinned_message_ids).toEqual([message.message_id]);
    const missing = await cast.api("pinChatMessage", { chat_id: chat, message_id: 9999 });
    expect(missing.body.description).toBe("Bad Request: message to pin not found");
  });
});

describe("deleteMessage", () => {
  it.each<BotRole>(["member", "admin without the right"])(
    "refuses others' messages to a bot that is %s",
    async (role) => {
      const chat = await chatWithBot(role, "can_delete_messages");
      const message = await cast.sim.control.sendMessage(chat, {
        from_id: cast.alice.id,
        text: "vuurwerk pakket 50 euro",
      });
      const answer = await cast.api("deleteMessage", {
        chat_id: chat,
        message_id: message.message_id,
      });
      expect(answer.body.description).toBe("Bad Request: message can't be deleted");
      const own = await cast.api<{ message_id: number }>("sendMessage", {
        chat_id: chat,
        text: "Let op.",
      });
      const deleteOwn = await cast.api("deleteMessage", {
        chat_id: chat,
        message_id: own.body.result?.message_id,
      });
      expect(deleteOwn.body.ok).toBe(true);
    },
  );

  it("deletes with can_delete_messages within 48 hours and records who deleted it", async () => {
    const chat = await chatWithBot("admin with the right", "can_delete_messages");
    const c = cast.sim.control;
    const fresh = await c.sendMessage(chat, { from_id: cast.alice.id, text: "nieuw aanbod" });
    const old = await c.sendMessage(chat, { from_id: cast.alice.id, text: "oud aanbod" });
    await c.advanceClock(47 * 3600);
    expect(
      (await cast.api("deleteMessage", { chat_id: chat, message_id: fresh.message_id })).body.ok,
    ).toBe(true);
    await c.advanceClock(3600);
    const tooOld = await cast.api("deleteMessage", { chat_id: chat, message_id: old.message_id });
    expect(tooOld.body.description).toBe("Bad Request: message can't be deleted for everyone");
    const again = await cast.api("deleteMessage", { chat_id: chat, message_id: fresh.message_id });
    expect(again.body.description).toBe("Bad Request: message to delete not found");
    const snapshot = await c.chat(chat);
    const entry = snapshot.messages.find((m) => m.message.message_id === fresh.message_id);
    expect(entry?.deleted?.by).toBe(cast.bot.id);
    expect(
      snapshot.messages.find((m) => m.message.message_id === old.message_id)?.deleted,
    ).toBeUndefined();
  });

  it("deleteMessages takes 1 to 100 ids and skips missing ones", async () => {
    const chat = await chatWithBot("admin with the right", "can_delete_messages");
    const a = await cast.sim.control.sendMessage(chat, { from_id: cast.alice.id, text: "a" });
    const tooMany = await cast.api("deleteMessages", {
      chat_id: chat,
      message_ids: Array.from({ length: 101 }, (_, i) => i + 1),
    });
    expect(tooMany.body.description).toBe("Bad Request: too many message identifiers specified");
    const answer = await cast.api("deleteMessages", {
      chat_id: chat,
      message_ids: [a.message_id, 5000],
    });
    expect(answer.body).toEqual({ ok: true, result: true });
    const snapshot = await cast.sim.control.chat(chat);
    expect(snapshot.messages.find((m) => m.message.message_id === a.message_id)?.deleted?.by).toBe(
      cast.bot.id,
    );
  });
});

describe("the bot's own standing", () => {
  it("refuses to send for a bot restricted from text messages", async () => {
    const chat = await chatWithBot("member", "can_restrict_members");
    await cast.sim.control.restrict(chat, cast.bot.id, { can_send_photos: true });
    const answer = await cast.api("sendMessage", { chat_id: chat, text: "hallo" });
    expect(answer.body.description).toBe(
      "Bad Request: not enough rights to send text messages to the chat",
    );
  });

  it.each([
    ["supergroup", "supergroup chat"],
    ["group", "group chat"],
  ] as const)(
    "answers 403 once the bot is kicked from a %s, and after it left",
    async (type, words) => {
      const c = cast.sim.control;
      const kicked = await chatWithBot("member", "can_restrict_members", type);
      await c.ban(kicked, cast.bot.id);
      const answer = await cast.api("sendMessage", { chat_id: kicked, text: "hallo" });
      expect(answer.status).toBe(403);
      expect(answer.body.description).toBe(`Forbidden: bot was kicked from the ${words}`);
      const left = await chatWithBot("member", "can_restrict_members", type);
      expect((await cast.api("leaveChat", { chat_id: left })).body.ok).toBe(true);
      const afterLeaving = await cast.api("sendMessage", { chat_id: left, text: "hallo" });
      expect(afterLeaving.body.description).toBe(`Forbidden: bot is not a member of the ${words}`);
    },
  );

  it("does not know chats it was never in, nor users that do not exist", async () => {
    const c = cast.sim.control;
    const { id } = await c.createChat({
      type: "supergroup",
      title: "Elders",
      owner_id: cast.owner.id,
    });
    expect((await cast.api("getChat", { chat_id: id })).body.description).toBe(
      "Bad Request: chat not found",
    );
    expect((await cast.api("getChat", { chat_id: -100123 })).body.description).toBe(
      "Bad Request: chat not found",
    );
    const invalid = await cast.api("banChatMember", { chat_id: cast.group, user_id: 0 });
    expect(invalid.body.description).toBe("Bad Request: invalid user_id specified");
  });

  it("getChatMember says left for a stranger; getChatAdministrators leaves out other bots but not itself", async () => {
    const c = cast.sim.control;
    const stranger = await c.createUser({ first_name: "Stranger" });
    const other = await c.createBot({ username: "other_helper_bot" });
    await c.promote(cast.group, other.user.id, { can_delete_messages: true });
    const member = await cast.api<{ status: string }>("getChatMember", {
      chat_id: cast.group,
      user_id: stranger.id,
    });
    expect(member.body.result?.status).toBe("left");
    const admins = await cast.api<{ user: { id: number }; status: string }[]>(
      "getChatAdministrators",
      { chat_id: cast.group },
    );
    const ids = admins.body.result?.map((a) => a.user.id);
    expect(ids).toContain(cast.bot.id);
    expect(ids).toContain(cast.owner.id);
    expect(ids).not.toContain(other.user.id);
  });
});
