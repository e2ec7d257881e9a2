/**
 * Forum supergroups and albums as bots and members meet them: topics and the
 * General topic, their service messages, who may write in a closed topic,
 * the forum methods' refusals in Telegram's words (tdlib's
 * ForumTopicManager and telegram-bot-api's check_message_topic), and
 * albums arriving as one update per item sharing a media_group_id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminRights, TgMessage } from "../../src/sim/index.ts";
import { type Cast, drainUpdates, startCast } from "./helpers.ts";

let cast: Cast;
let carol: { id: number };

beforeAll(async () => {
  cast = await startCast();
  carol = await cast.sim.control.createUser({ first_name: "Carol", username: "carol_mod" });
});
afterAll(() => cast.sim.close());

type Message = TgMessage & Record<string, unknown>;

/**
 * A fresh forum owned by the owner, where alice and bob are members, carol an
 * admin who manages topics, and the bot an admin with `botRights` ("all" by
 * default). The bot's queue is drained.
 */
async function forum(
  botRights: Partial<AdminRights> | "all" = "all",
  permissions: Record<string, boolean> = {},
) {
  const c = cast.sim.control;
  const { id } = await c.createChat({
    type: "supergroup",
    title: "Vuurwerk Forum",
    owner_id: cast.owner.id,
    is_forum: true,
    permissions,
  });
  await c.join(id, cast.alice.id);
  await c.join(id, cast.bob.id);
  await c.join(id, carol.id);
  await c.promote(id, carol.id, { can_manage_topics: true });
  await c.promote(id, cast.bot.id, botRights);
  await drainUpdates(cast.api);
  return id;
}

/** The messages of the bot's pending updates (message or edited_message), in delivery order. */
async function delivered(kind: "message" | "edited_message" = "message"): Promise<Message[]> {
  const updates = await drainUpdates(cast.api);
  return updates.flatMap((u) => (u[kind] ? [u[kind] as Message] : []));
}

async function ok<T>(method: string, params: Record<string, unknown>): Promise<T> {
  const answer = await cast.api<T>(method, params);
  if (!answer.body.ok) throw new Error(`${method}: ${answer.body.description}`);
  return answer.body.result as T;
}

async function refusal(method: string, params: Record<string, unknown>) {
  const answer = await cast.api(method, params);
  expect(answer.body.ok).toBe(false);
  return `${answer.body.error_code} ${answer.body.description}`;
}

describe("forum topics", () => {
  it("opens a topic with a forum_topic_created message whose id is the topic's", async () => {
    const chat = await forum();
    const topic = await ok<{ message_thread_id: number; name: string; icon_color: number }>(
      "createForumTopic",
      { chat_id: chat, name: "  Verkoop  " },
    );
    expect(topic).toEqual({
      message_thread_id: topic.message_thread_id,
      name: "Verkoop",
      icon_color: 7322096,
    });
    // Bots hear nothing of what they did themselves; a topic a person opens arrives.
    expect(await delivered()).toEqual([]);
    const theirs = await cast.sim.control.createTopic(chat, {
      from_id: carol.id,
      name: "Vraag",
      icon_color: 16766590,
    });
    const [created] = await delivered();
    expect(created).toMatchObject({
      message_id: theirs.message_thread_id,
      message_thread_id: theirs.message_thread_id,
      is_topic_message: true,
      from: { id: carol.id },
      forum_topic_created: { name: "Vraag", icon_color: 16766590 },
    });
    const chatInfo = await ok<{ is_forum?: boolean }>("getChat", { chat_id: chat });
    expect(chatInfo.is_forum).toBe(true);
  });

  it("puts members' topic messages in their topic, answering its first message, and General ones in none", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await cast.sim.control.createTopic(chat, {
      from_id: carol.id,
      name: "Vraag",
    });
    await cast.sim.control.sendMessage(chat, {
      from_id: cast.alice.id,
      text: "Wie heeft Cobra's?",
      message_thread_id: thread,
    });
    await cast.sim.control.sendMessage(chat, { from_id: cast.bob.id, text: "Hallo allemaal" });
    const [created, inTopic, inGeneral] = await delivered();
    expect(created?.forum_topic_created).toMatchObject({ name: "Vraag" });
    expect(created?.from?.id).toBe(carol.id);
    expect(inTopic).toMatchObject({ message_thread_id: thread, is_topic_message: true });
    expect(inTopic?.reply_to_message).toMatchObject({ message_id: thread });
    expect(inGeneral?.message_thread_id).toBeUndefined();
    expect(inGeneral?.is_topic_message).toBeUndefined();
    expect(inGeneral?.reply_to_message).toBeUndefined();
  });

  it("sends the bot's messages into the topic it names, and places a reply in the replied message's topic", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Reviews" },
    );
    const sent = await ok<Message>("sendMessage", {
      chat_id: chat,
      message_thread_id: thread,
      text: "Handel is hier verboden",
    });
    expect(sent).toMatchObject({ message_thread_id: thread, is_topic_message: true });
    const member = await cast.sim.control.sendMessage(chat, {
      from_id: cast.alice.id,
      text: "Top verkoper",
      message_thread_id: thread,
    });
    const reply = await ok<Message>("sendMessage", {
      chat_id: chat,
      text: "Dank je",
      reply_parameters: { message_id: member.message_id },
    });
    expect(reply.message_thread_id).toBe(thread);
    expect((reply.reply_to_message as Message).message_id).toBe(member.message_id);
  });

  it("refuses the bot General (1) and unknown topics as telegram-bot-api does", async () => {
    const chat = await forum();
    expect(await refusal("sendMessage", { chat_id: chat, message_thread_id: 1, text: "x" })).toBe(
      "400 Bad Request: message thread not found",
    );
    expect(
      await refusal("sendMessage", { chat_id: chat, message_thread_id: 999_999, text: "x" }),
    ).toBe("400 Bad Request: message thread not found");
  });

  it("ignores message_thread_id in a supergroup without topics", async () => {
    const sent = await ok<Message>("sendMessage", {
      chat_id: cast.group,
      message_thread_id: 12345,
      text: "Geen onderwerpen hier",
    });
    expect(sent.message_thread_id).toBeUndefined();
    await drainUpdates(cast.api);
  });

  it("refuses the forum methods outside forums: the chat is not a forum", async () => {
    expect(await refusal("createForumTopic", { chat_id: cast.group, name: "Verkoop" })).toBe(
      "400 Bad Request: the chat is not a forum",
    );
    expect(await refusal("closeForumTopic", { chat_id: cast.group, message_thread_id: 5 })).toBe(
      "400 Bad Request: the chat is not a forum",
    );
    expect(await refusal("hideGeneralForumTopic", { chat_id: cast.group })).toBe(
      "400 Bad Request: the chat is not a forum",
    );
  });

  it("checks names as tdlib does: blank is refused, long names are cut to 128 characters", async () => {
    const chat = await forum();
    expect(await refusal("createForumTopic", { chat_id: chat, name: "   " })).toBe(
      "400 Bad Request: name must be non-empty",
    );
    const long = await ok<{ name: string }>("createForumTopic", {
      chat_id: chat,
      name: "V".repeat(200),
    });
    expect(long.name).toHaveLength(128);
  });
});

describe("closing, reopening, editing and deleting topics", () => {
  it("answers TOPIC_NOT_MODIFIED when closing, reopening or renaming changes nothing", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Verkoop" },
    );
    expect(await ok("closeForumTopic", { chat_id: chat, message_thread_id: thread })).toBe(true);
    expect(await refusal("closeForumTopic", { chat_id: chat, message_thread_id: thread })).toBe(
      "400 Bad Request: TOPIC_NOT_MODIFIED",
    );
    expect((await cast.sim.control.topics(chat)).topics[0]?.is_closed).toBe(true);
    await ok("reopenForumTopic", { chat_id: chat, message_thread_id: thread });
    expect(await refusal("reopenForumTopic", { chat_id: chat, message_thread_id: thread })).toBe(
      "400 Bad Request: TOPIC_NOT_MODIFIED",
    );
    await ok("editForumTopic", { chat_id: chat, message_thread_id: thread, name: "Aanbod" });
    expect(
      await refusal("editForumTopic", {
        chat_id: chat,
        message_thread_id: thread,
        name: "Aanbod",
      }),
    ).toBe("400 Bad Request: TOPIC_NOT_MODIFIED");
    expect(await refusal("closeForumTopic", { chat_id: chat, message_thread_id: 999_999 })).toBe(
      "400 Bad Request: TOPIC_ID_INVALID",
    );
  });

  it("tells bots of topics people close, reopen and rename, inside the topic", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    const { message_thread_id: thread } = await c.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    await drainUpdates(cast.api);
    await c.closeTopic(chat, thread, carol.id);
    await c.reopenTopic(chat, thread, carol.id);
    await c.editTopic(chat, thread, { name: "Aanbod", by: carol.id });
    const service = await delivered();
    expect(service.map((m) => Object.keys(m).find((k) => k.startsWith("forum_topic_")))).toEqual([
      "forum_topic_closed",
      "forum_topic_reopened",
      "forum_topic_edited",
    ]);
    for (const m of service) {
      expect(m).toMatchObject({
        message_thread_id: thread,
        is_topic_message: true,
        from: { id: carol.id },
      });
    }
    expect(service[2]?.forum_topic_edited).toEqual({ name: "Aanbod" });
  });

  it("lets only admins who manage topics and the topic's creator write in a closed topic", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    const { message_thread_id: thread } = await c.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    await c.closeTopic(chat, thread, carol.id);
    const member = await c.trySendMessage(chat, {
      from_id: cast.alice.id,
      text: "Cobra 6 te koop",
      message_thread_id: thread,
    });
    expect(member).toEqual({ ok: false, error_code: 403, description: "TOPIC_CLOSED" });
    // A reply to a message of the closed topic lands in it, so it is refused too.
    const root = await c.trySendMessage(chat, {
      from_id: cast.alice.id,
      text: "?",
      reply_to_message_id: thread,
    });
    expect(root).toMatchObject({ ok: false, description: "TOPIC_CLOSED" });
    const admin = await c.trySendMessage(chat, {
      from_id: carol.id,
      text: "Gesloten door de beheerder",
      message_thread_id: thread,
    });
    expect(admin.ok).toBe(true);
    const bot = await ok<Message>("sendMessage", {
      chat_id: chat,
      message_thread_id: thread,
      text: "Deze groep is in beslag genomen",
    });
    expect(bot.message_thread_id).toBe(thread);
  });

  it("refuses a bot without can_manage_topics in a topic someone else closed, but not in its own", async () => {
    const chat = await forum({ can_delete_messages: true, can_pin_messages: true });
    const c = cast.sim.control;
    const { message_thread_id: theirs } = await c.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    await c.closeTopic(chat, theirs, carol.id);
    expect(
      await refusal("sendMessage", { chat_id: chat, message_thread_id: theirs, text: "x" }),
    ).toBe("400 Bad Request: TOPIC_CLOSED");
    expect(await refusal("closeForumTopic", { chat_id: chat, message_thread_id: theirs })).toBe(
      "400 Bad Request: not enough rights to close or open the topic",
    );
    expect(
      await refusal("editForumTopic", { chat_id: chat, message_thread_id: theirs, name: "Y" }),
    ).toBe("400 Bad Request: not enough rights to edit the topic");
    expect(await refusal("createForumTopic", { chat_id: chat, name: "Eigen" })).toBe(
      "400 Bad Request: not enough rights to create a topic",
    );
    expect(await refusal("closeGeneralForumTopic", { chat_id: chat })).toBe(
      "400 Bad Request: not enough rights to close or open the topic",
    );
    expect(await refusal("hideGeneralForumTopic", { chat_id: chat })).toBe(
      "400 Bad Request: not enough rights to close or open the topic",
    );
  });

  it("lets members create topics only when the chat's permissions give can_manage_topics", async () => {
    const closed = await forum();
    const refused = await cast.sim.control.tryCreateTopic(closed, {
      from_id: cast.alice.id,
      name: "Mijn aanbod",
    });
    expect(refused).toEqual({
      ok: false,
      error_code: 403,
      description: "not enough rights to create a topic",
    });
    const open = await forum("all", { can_send_messages: true, can_manage_topics: true });
    const topic = await cast.sim.control.createTopic(open, {
      from_id: cast.alice.id,
      name: "Mijn aanbod",
    });
    expect(topic.name).toBe("Mijn aanbod");
    // Its creator may close it; another member may not.
    await expect(
      cast.sim.control.closeTopic(open, topic.message_thread_id, cast.bob.id),
    ).rejects.toMatchObject({
      status: 403,
      description: "not enough rights to close or open the topic",
    });
    await cast.sim.control.closeTopic(open, topic.message_thread_id, cast.alice.id);
  });

  it("deletes a topic with its messages; the bot then hears message thread not found, members TOPIC_DELETED", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Verkoop" },
    );
    const offer = await c.sendMessage(chat, {
      from_id: cast.alice.id,
      text: "Cobra 6, 20 euro",
      message_thread_id: thread,
    });
    expect(await ok("deleteForumTopic", { chat_id: chat, message_thread_id: thread })).toBe(true);
    expect(
      await refusal("forwardMessage", {
        chat_id: chat,
        from_chat_id: chat,
        message_id: offer.message_id,
      }),
    ).toBe("400 Bad Request: message to forward not found");
    expect(
      await refusal("sendMessage", { chat_id: chat, message_thread_id: thread, text: "x" }),
    ).toBe("400 Bad Request: message thread not found");
    expect(
      await c.trySendMessage(chat, { from_id: cast.bob.id, text: "x", message_thread_id: thread }),
    ).toMatchObject({ ok: false, description: "TOPIC_DELETED" });
    expect(await refusal("deleteForumTopic", { chat_id: chat, message_thread_id: thread })).toBe(
      "400 Bad Request: TOPIC_ID_INVALID",
    );
    const { topics } = await c.topics(chat);
    expect(topics[0]?.deleted?.by).toBe(cast.bot.id);
  });

  it("refuses to delete a topic's first message by itself", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Verkoop" },
    );
    expect(await refusal("deleteMessage", { chat_id: chat, message_id: thread })).toBe(
      "400 Bad Request: message can't be deleted",
    );
  });

  it("unpins the messages of one topic only", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Verkoop" },
    );
    const inTopic = await ok<Message>("sendMessage", {
      chat_id: chat,
      message_thread_id: thread,
      text: "Waarschuwing in Verkoop",
    });
    const inGeneral = await ok<Message>("sendMessage", { chat_id: chat, text: "Waarschuwing" });
    await ok("pinChatMessage", { chat_id: chat, message_id: inTopic.message_id });
    await ok("pinChatMessage", { chat_id: chat, message_id: inGeneral.message_id });
    await ok("unpinAllForumTopicMessages", { chat_id: chat, message_thread_id: thread });
    const info = await ok<{ pinned_message?: Message }>("getChat", { chat_id: chat });
    expect(info.pinned_message?.message_id).toBe(inGeneral.message_id);
    await ok("unpinAllGeneralForumTopicMessages", { chat_id: chat });
    const after = await ok<{ pinned_message?: Message }>("getChat", { chat_id: chat });
    expect(after.pinned_message).toBeUndefined();
  });
});

describe("the General topic", () => {
  it("hides (and so closes) General and shows it again on reopen", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    await ok("hideGeneralForumTopic", { chat_id: chat });
    expect(await refusal("hideGeneralForumTopic", { chat_id: chat })).toBe(
      "400 Bad Request: TOPIC_NOT_MODIFIED",
    );
    expect((await c.topics(chat)).general).toMatchObject({ is_hidden: true, is_closed: true });
    expect(await c.trySendMessage(chat, { from_id: cast.alice.id, text: "Hallo?" })).toMatchObject({
      ok: false,
      description: "TOPIC_CLOSED",
    });
    // Those who manage topics still write in it.
    expect((await c.trySendMessage(chat, { from_id: carol.id, text: "Gesloten" })).ok).toBe(true);
    await ok("reopenGeneralForumTopic", { chat_id: chat });
    expect((await c.topics(chat)).general).toMatchObject({ is_hidden: false, is_closed: false });
    await ok("editGeneralForumTopic", { chat_id: chat, name: "Algemeen" });
    expect((await c.topics(chat)).general.name).toBe("Algemeen");
    expect(await refusal("editGeneralForumTopic", { chat_id: chat, name: "Algemeen" })).toBe(
      "400 Bad Request: TOPIC_NOT_MODIFIED",
    );
  });

  it("tells bots of General hidden and shown by people, outside any topic", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    await c.hideGeneralTopic(chat, carol.id);
    await c.unhideGeneralTopic(chat, carol.id);
    // Showing General again leaves it closed, as hiding left it.
    expect((await c.topics(chat)).general.is_closed).toBe(true);
    await c.reopenTopic(chat, 1, carol.id);
    const service = await delivered();
    expect(
      service.map((m) => Object.keys(m).find((k) => /^(general_)?forum_topic/.test(k))),
    ).toEqual([
      "general_forum_topic_hidden",
      "general_forum_topic_unhidden",
      "forum_topic_reopened",
    ]);
    for (const m of service) {
      expect(m.message_thread_id).toBeUndefined();
      expect(m.is_topic_message).toBeUndefined();
    }
  });

  it("returns the topic icons as custom emoji stickers a topic can wear", async () => {
    const chat = await forum();
    const icons = await ok<{ type: string; custom_emoji_id: string }[]>(
      "getForumTopicIconStickers",
      {},
    );
    expect(icons.length).toBeGreaterThan(0);
    expect(icons.every((s) => s.type === "custom_emoji")).toBe(true);
    const topic = await ok<{ icon_custom_emoji_id?: string }>("createForumTopic", {
      chat_id: chat,
      name: "Reviews",
      icon_custom_emoji_id: icons[0]?.custom_emoji_id,
    });
    expect(topic.icon_custom_emoji_id).toBe(icons[0]?.custom_emoji_id);
  });
});

describe("albums", () => {
  it("sends a bot's album as messages sharing a media_group_id, one item as a plain message", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await ok<{ message_thread_id: number }>(
      "createForumTopic",
      { chat_id: chat, name: "Verkoop" },
    );
    const album = await ok<Message[]>("sendMediaGroup", {
      chat_id: chat,
      message_thread_id: thread,
      media: [
        { type: "photo", media: "https://example.com/a.jpg", caption: "Bewijs" },
        { type: "video", media: "https://example.com/b.mp4" },
      ],
    });
    expect(album).toHaveLength(2);
    const group = album[0]?.media_group_id;
    expect(group).toEqual(expect.any(String));
    expect(album.map((m) => m.media_group_id)).toEqual([group, group]);
    expect(album.map((m) => m.message_thread_id)).toEqual([thread, thread]);
    expect(album[0]?.caption).toBe("Bewijs");
    const one = await ok<Message[]>("sendMediaGroup", {
      chat_id: chat,
      media: [{ type: "photo", media: "https://example.com/c.jpg" }],
    });
    expect(one[0]?.media_group_id).toBeUndefined();
    expect(
      await refusal("sendMediaGroup", {
        chat_id: chat,
        media: [
          { type: "document", media: "https://example.com/d.pdf" },
          { type: "photo", media: "https://example.com/e.jpg" },
        ],
      }),
    ).toBe("400 Bad Request: document can't be mixed with other media types");
  });

  it("delivers a member's album as one update per item, sharing a media_group_id, in the order given", async () => {
    const chat = await forum();
    const { message_thread_id: thread } = await cast.sim.control.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    await drainUpdates(cast.api);
    const posted = await cast.sim.control.sendAlbum(chat, {
      from_id: cast.alice.id,
      message_thread_id: thread,
      items: [
        { photo: true, caption: "Cobra 6, 20 euro per stuk" },
        { photo: true },
        { video: true },
      ],
      delivery_order: "reversed",
    });
    const ids = posted.map((m) => m.message_id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const arrived = await delivered();
    expect(arrived.map((m) => m.message_id)).toEqual([...ids].reverse());
    const group = posted[0]?.media_group_id;
    expect(group).toEqual(expect.any(String));
    for (const m of arrived) {
      expect(m).toMatchObject({
        media_group_id: group,
        message_thread_id: thread,
        is_topic_message: true,
      });
    }
    expect(arrived.at(-1)?.caption).toBe("Cobra 6, 20 euro per stuk");
    expect(arrived[0]?.video).toBeDefined();
  });

  it("refuses a member's album in a closed topic, as a single message would be", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    const { message_thread_id: thread } = await c.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    await c.closeTopic(chat, thread, carol.id);
    expect(
      await c.trySendAlbum(chat, {
        from_id: cast.bob.id,
        message_thread_id: thread,
        items: [{ photo: true }, { photo: true }],
      }),
    ).toMatchObject({ ok: false, error_code: 403, description: "TOPIC_CLOSED" });
  });

  it("reports a member's edit of an album caption in a topic as an edited_message", async () => {
    const chat = await forum();
    const c = cast.sim.control;
    const { message_thread_id: thread } = await c.createTopic(chat, {
      from_id: carol.id,
      name: "Verkoop",
    });
    const [first] = await c.sendAlbum(chat, {
      from_id: cast.alice.id,
      message_thread_id: thread,
      items: [{ photo: true, caption: "Mooie foto's" }, { photo: true }],
    });
    await drainUpdates(cast.api);
    await c.editMessage(chat, first?.message_id ?? 0, { caption: "Cobra 6 te koop, 20 euro" });
    const [edited] = await delivered("edited_message");
    expect(edited).toMatchObject({
      message_id: first?.message_id,
      caption: "Cobra 6 te koop, 20 euro",
      media_group_id: first?.media_group_id,
      message_thread_id: thread,
      edit_date: expect.any(Number),
    });
  });
});

describe("spec", () => {
  it("every result of these tests validated against the Bot API spec", async () => {
    expect(await cast.sim.control.violations()).toEqual([]);
  });
});
