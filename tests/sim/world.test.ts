/**
 * Worlds and the rules of the simulated Telegram: YAML worlds and their
 * timeline, until_date handling, privacy mode, supergroup migration, join
 * requests, anonymous and channel senders, private chats and callbacks.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  GROUP_ANONYMOUS_BOT,
  loadWorld,
  type RunningSimulator,
  startSimulator,
} from "../../src/sim/index.ts";
import { apiCaller, type Cast, drainUpdates, startCast } from "./helpers.ts";

const WORLD = new URL("../fixtures/worlds/small.yaml", import.meta.url).pathname;
const FIREWORKS = new URL("../../scenarios/worlds/fireworks.yaml", import.meta.url).pathname;

let running: RunningSimulator | undefined;
let cast: Cast | undefined;
afterEach(async () => {
  await running?.close();
  await cast?.sim.close();
  running = undefined;
  cast = undefined;
});

type Update = Record<string, Record<string, unknown> & { text?: string }>;

describe("world files", () => {
  it("builds accounts, memberships and history, and plays the timeline as the clock advances", async () => {
    running = await startSimulator({ world: WORLD, selfCheck: true, rateLimits: false });
    expect(running.tokens).toEqual(["7000000001:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]);
    const api = apiCaller(running.apiRoot, running.tokens[0] ?? "");
    const [chat] = await running.control.chats();
    const snapshot = await running.control.chat(chat?.id ?? 0);
    expect(snapshot.title).toBe("Knallers 2027");
    expect(snapshot.messages.map((m) => m.message.text)).toEqual([
      "Wie heeft er nog Cobra 6?",
      "I have some, DM me",
    ]);
    expect(snapshot.messages[1]?.message.reply_to_message?.text).toBe("Wie heeft er nog Cobra 6?");
    expect(await running.control.clock()).toMatchObject({ iso: "2026-12-28T20:00:00.000Z" });
    // History predates the bot's polling: it is in the chat, not in the queue.
    expect((await api<Update[]>("getUpdates")).body.result).toEqual([]);

    const first = await running.control.advanceClock(90);
    expect(first.played.map((p) => p.ok)).toEqual([true]);
    const second = await running.control.advanceClock(120);
    expect(second.played).toMatchObject([
      { ok: false, description: "not enough rights to send text messages to the chat" },
      {
        ok: true,
        message: { text: "How much?", reply_to_message: { text: "Nieuwe lading binnen!" } },
      },
    ]);
    const updates = (await api<Update[]>("getUpdates")).body.result ?? [];
    expect(updates.map((u) => [u.message?.text, u.message?.date])).toEqual([
      ["Nieuwe lading binnen!", Date.parse("2026-12-28T20:01:00Z") / 1000],
      ["How much?", Date.parse("2026-12-28T20:03:00Z") / 1000],
    ]);
  });

  it("lifts a timed restriction once the simulated clock passes until_date", async () => {
    running = await startSimulator({ world: WORLD, rateLimits: false });
    const [chat] = await running.control.chats();
    const id = chat?.id ?? 0;
    const muted = (await running.control.users()).find((u) => u.first_name === "Stil");
    const before = await running.control.trySendMessage(id, {
      from_id: muted?.id ?? 0,
      text: "hallo",
    });
    expect(before.ok).toBe(false);
    await running.control.advanceClock(601);
    const after = await running.control.trySendMessage(id, {
      from_id: muted?.id ?? 0,
      text: "hallo",
    });
    expect(after.ok).toBe(true);
  });

  it("refuses an invalid world with the path of the problem", () => {
    expect(() => loadWorld("users:\n  - { last_name: x }\n")).toThrow(/users\.0\.first_name/);
  });

  it("ships the fireworks example world", async () => {
    running = await startSimulator({ world: FIREWORKS, rateLimits: false, selfCheck: true });
    const chats = await running.control.chats();
    const deals = chats.find((c) => c.title === "Vuurwerk Deals NL");
    expect(deals?.type).toBe("supergroup");
    const snapshot = await running.control.chat(deals?.id ?? 0);
    expect(snapshot.members.length).toBeGreaterThanOrEqual(20);
    const bot = snapshot.members.find((m) => m.user?.is_bot);
    expect(bot?.status).toBe("administrator");
    const played = await running.control.advanceClock(3600);
    expect(played.played.length).toBeGreaterThan(5);
    expect(played.played.every((p) => p.ok)).toBe(true);
  });
});

describe("until_date", () => {
  it.each([
    ["20 seconds away", 20, 0],
    ["367 days away", 367 * 86400, 0],
    ["an hour away", 3600, 3600],
  ])("treats a restriction %s accordingly", async (_, offset, kept) => {
    cast = await startCast();
    const now = cast.sim.sim.clock.now();
    await cast.api("restrictChatMember", {
      chat_id: cast.group,
      user_id: cast.bob.id,
      permissions: { can_send_messages: false },
      until_date: now + offset,
    });
    const member = await cast.api<{ until_date: number }>("getChatMember", {
      chat_id: cast.group,
      user_id: cast.bob.id,
    });
    expect(member.body.result?.until_date).toBe(kept === 0 ? 0 : now + kept);
  });
});

describe("privacy mode", () => {
  it("shows a non-admin bot only commands, replies to it and service messages, until privacy is off", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    const { id: chat } = await c.createChat({
      type: "supergroup",
      title: "Privé",
      owner_id: cast.owner.id,
    });
    await c.join(chat, cast.alice.id);
    await c.join(chat, cast.bot.id);
    expect(
      (await cast.api<{ can_read_all_group_messages: boolean }>("getMe")).body.result
        ?.can_read_all_group_messages,
    ).toBe(false);
    await drainUpdates(cast.api);
    const mine = await cast.api<{ message_id: number }>("sendMessage", {
      chat_id: chat,
      text: "Ik ben een bot",
    });
    await c.sendMessage(chat, { from_id: cast.alice.id, text: "gewoon praten" });
    await c.sendMessage(chat, { from_id: cast.alice.id, text: "/prijs@warden_bot" });
    await c.sendMessage(chat, { from_id: cast.alice.id, text: "/prijs@other_bot" });
    await c.sendMessage(chat, {
      from_id: cast.alice.id,
      text: "antwoord",
      reply_to_message_id: mine.body.result?.message_id,
    });
    await c.join(chat, cast.bob.id);
    const seen = (await drainUpdates(cast.api)) as Update[];
    expect(
      seen.map((u) => u.message?.text ?? (u.message?.new_chat_members ? "<join>" : "?")),
    ).toEqual(["/prijs@warden_bot", "antwoord", "<join>"]);
    await c.setPrivacy("warden_bot", false);
    expect(
      (await cast.api<{ can_read_all_group_messages: boolean }>("getMe")).body.result
        ?.can_read_all_group_messages,
    ).toBe(true);
    await c.sendMessage(chat, { from_id: cast.alice.id, text: "nu wel" });
    expect(((await drainUpdates(cast.api)) as Update[]).map((u) => u.message?.text)).toEqual([
      "nu wel",
    ]);
  });
});

describe("supergroup migration", () => {
  it("moves a basic group to a supergroup with both service messages and the migrate error", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    const { id: old } = await c.createChat({
      type: "group",
      title: "Oude groep",
      owner_id: cast.owner.id,
    });
    await c.promote(old, cast.bot.id, "all");
    await drainUpdates(cast.api);
    const upgraded = await c.upgradeChat(old);
    expect(upgraded.id).toBeLessThan(-1000000000000);
    const updates = (await drainUpdates(cast.api)) as Update[];
    expect(updates.map((u) => u.message)).toMatchObject([
      { chat: { id: old, type: "group" }, migrate_to_chat_id: upgraded.id },
      { chat: { id: upgraded.id, type: "supergroup" }, migrate_from_chat_id: old },
    ]);
    const refused = await cast.api("sendMessage", { chat_id: old, text: "hallo" });
    expect(refused.body).toEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: group chat was upgraded to a supergroup chat",
      parameters: { migrate_to_chat_id: upgraded.id },
    });
    expect((await cast.api("sendMessage", { chat_id: upgraded.id, text: "hallo" })).body.ok).toBe(
      true,
    );
  });
});

describe("membership updates", () => {
  it("sends chat_member only when asked for, with the invite link used", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    await drainUpdates(cast.api);
    const dave = await c.createUser({ first_name: "Dave" });
    await c.join(cast.group, dave.id);
    expect(((await drainUpdates(cast.api)) as Update[]).map((u) => Object.keys(u)[1])).toEqual([
      "message",
    ]);

    await cast.api("getUpdates", { allowed_updates: ["message", "chat_member"] });
    const link = await cast.api<{ invite_link: string }>("createChatInviteLink", {
      chat_id: cast.group,
      name: "lokaas",
    });
    const erik = await c.createUser({ first_name: "Erik" });
    await c.join(cast.group, erik.id, { invite_link: link.body.result?.invite_link ?? "" });
    const updates = (await drainUpdates(cast.api)) as Update[];
    const member = updates.find((u) => u.chat_member)?.chat_member;
    expect(member).toMatchObject({
      old_chat_member: { status: "left" },
      new_chat_member: { status: "member", user: { id: erik.id } },
      invite_link: { invite_link: link.body.result?.invite_link, name: "lokaas" },
    });
    const snapshot = await c.chat(cast.group);
    expect(snapshot.invite_links.find((l) => l.name === "lokaas")?.usage).toBe(1);
  });

  it("turns a join-request link into a chat_join_request, and approval into a join", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    await cast.api("getUpdates", {
      allowed_updates: ["message", "chat_member", "chat_join_request"],
    });
    const link = await cast.api<{ invite_link: string }>("createChatInviteLink", {
      chat_id: cast.group,
      creates_join_request: true,
    });
    const frank = await c.createUser({ first_name: "Frank" });
    expect(
      await c.join(cast.group, frank.id, { invite_link: link.body.result?.invite_link ?? "" }),
    ).toEqual({
      status: "left",
      pending_join_request: true,
    });
    let updates = (await drainUpdates(cast.api)) as Update[];
    expect(updates.at(-1)?.chat_join_request).toMatchObject({
      from: { id: frank.id },
      user_chat_id: frank.id,
    });
    expect(
      (await cast.api("approveChatJoinRequest", { chat_id: cast.group, user_id: frank.id })).body
        .ok,
    ).toBe(true);
    updates = (await drainUpdates(cast.api)) as Update[];
    expect(updates.find((u) => u.chat_member)?.chat_member).toMatchObject({
      via_join_request: true,
      new_chat_member: { status: "member" },
    });
    const again = await cast.api("approveChatJoinRequest", {
      chat_id: cast.group,
      user_id: frank.id,
    });
    expect(again.body.description).toBe("Bad Request: USER_ALREADY_PARTICIPANT");
  });
});

describe("senders", () => {
  it("shows anonymous admins as GroupAnonymousBot with the group as sender_chat", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    const carol = await c.createUser({ first_name: "Carol" });
    await c.join(cast.group, carol.id);
    await c.promote(
      cast.group,
      carol.id,
      { can_delete_messages: true, is_anonymous: true },
      { custom_title: "Beheer" },
    );
    await drainUpdates(cast.api);
    await c.sendMessage(cast.group, { from_id: carol.id, text: "Regels!", anonymous: true });
    const channel = await c.createChat({
      type: "channel",
      title: "Knal Kanaal",
      owner_id: cast.alice.id,
    });
    await c.sendMessage(cast.group, {
      from_id: cast.alice.id,
      text: "Van het kanaal",
      sender_chat_id: channel.id,
    });
    const [anonymous, asChannel] = ((await drainUpdates(cast.api)) as Update[]).map(
      (u) => u.message,
    );
    expect(anonymous).toMatchObject({
      from: { id: GROUP_ANONYMOUS_BOT.id, username: "GroupAnonymousBot", is_bot: true },
      sender_chat: { id: cast.group, type: "supergroup" },
      author_signature: "Beheer",
    });
    expect(asChannel).toMatchObject({
      from: { id: 136817688, username: "Channel_Bot" },
      sender_chat: { id: channel.id, type: "channel" },
    });
    expect(
      (await cast.api("banChatSenderChat", { chat_id: cast.group, sender_chat_id: channel.id }))
        .body.ok,
    ).toBe(true);
    const refused = await c.trySendMessage(cast.group, {
      from_id: cast.alice.id,
      text: "weer",
      sender_chat_id: channel.id,
    });
    expect(refused.ok).toBe(false);
  });
});

describe("private chats and buttons", () => {
  it("needs the user to write first, and reports a block", async () => {
    cast = await startCast();
    const c = cast.sim.control;
    const first = await cast.api("sendMessage", { chat_id: cast.alice.id, text: "Hallo" });
    expect(first.body).toEqual({
      ok: false,
      error_code: 403,
      description: "Forbidden: bot can't initiate conversation with a user",
    });
    await c.sendMessage(cast.alice.id, { from_id: cast.alice.id, text: "/start" });
    expect((await cast.api("sendMessage", { chat_id: cast.alice.id, text: "Hallo" })).body.ok).toBe(
      true,
    );
    await drainUpdates(cast.api);
    await c.blockBot(cast.alice.id);
    const [update] = (await drainUpdates(cast.api)) as Update[];
    expect(update?.my_chat_member).toMatchObject({
      chat: { id: cast.alice.id, type: "private" },
      old_chat_member: { status: "member" },
      new_chat_member: { status: "kicked" },
    });
    const blocked = await cast.api("sendMessage", { chat_id: cast.alice.id, text: "Hallo?" });
    expect(blocked.body).toEqual({
      ok: false,
      error_code: 403,
      description: "Forbidden: bot was blocked by the user",
    });
  });

  it("turns a button press into a callback_query and records the answer", async () => {
    cast = await startCast();
    const sent = await cast.api<{ message_id: number }>("sendMessage", {
      chat_id: cast.group,
      text: "Akkoord?",
      reply_markup: { inline_keyboard: [[{ text: "Ja", callback_data: "ja" }]] },
    });
    await drainUpdates(cast.api);
    const { callback_query_id } = await cast.sim.control.pressButton({
      from_id: cast.alice.id,
      chat_id: cast.group,
      message_id: sent.body.result?.message_id ?? 0,
      data: "ja",
    });
    const [update] = (await drainUpdates(cast.api)) as Update[];
    expect(update?.callback_query).toMatchObject({
      id: callback_query_id,
      data: "ja",
      from: { id: cast.alice.id },
    });
    expect((await cast.sim.control.callbackAnswer(callback_query_id)).answered).toBe(false);
    await cast.api("answerCallbackQuery", {
      callback_query_id,
      text: "Genoteerd",
      show_alert: true,
    });
    expect(await cast.sim.control.callbackAnswer(callback_query_id)).toMatchObject({
      answered: true,
      answer: { text: "Genoteerd", show_alert: true },
    });
    const twice = await cast.api("answerCallbackQuery", { callback_query_id });
    expect(twice.body.description).toBe(
      "Bad Request: query is too old and response timeout expired or query ID is invalid",
    );
  });
});

describe("getUpdates", () => {
  it("confirms by offset, keeps the newest with a negative offset, and honours limit", async () => {
    cast = await startCast();
    await drainUpdates(cast.api);
    for (const text of ["1", "2", "3", "4"])
      await cast.sim.control.sendMessage(cast.group, { from_id: cast.alice.id, text });
    const all =
      (await cast.api<{ update_id: number }[]>("getUpdates", { limit: 2 })).body.result ?? [];
    expect(all).toHaveLength(2);
    const again = (await cast.api<{ update_id: number }[]>("getUpdates")).body.result ?? [];
    expect(again.map((u) => u.update_id).slice(0, 2)).toEqual(all.map((u) => u.update_id));
    const afterConfirm = (
      await cast.api<{ update_id: number }[]>("getUpdates", {
        offset: (all[1]?.update_id ?? 0) + 1,
      })
    ).body.result;
    expect(afterConfirm).toHaveLength(2);
    const newest = (await cast.api<Update[]>("getUpdates", { offset: -1 })).body.result ?? [];
    expect(newest.map((u) => u.message?.text)).toEqual(["4"]);
    expect((await cast.api<unknown[]>("getUpdates")).body.result).toHaveLength(1);
  });

  it("keeps a YAML world readable by the fixture loader", () => {
    expect(loadWorld(readFileSync(WORLD, "utf8")).chats[0]?.members).toHaveLength(4);
  });
});

const FORUM = new URL("../../scenarios/worlds/fireworks-forum.yaml", import.meta.url).pathname;

describe("a forum world", () => {
  it("opens its topics, puts history and timeline in them, and delivers albums one item at a time", async () => {
    running = await startSimulator({ world: FORUM, selfCheck: true, rateLimits: false });
    const api = apiCaller(running.apiRoot, running.tokens[0] ?? "");
    const forum = (await running.control.chats()).find((c) => c.title === "Vuurwerk Forum NL");
    const id = forum?.id ?? 0;
    const { general, topics } = await running.control.topics(id);
    expect(general).toMatchObject({ is_closed: false, is_hidden: false });
    expect(topics.map((t) => [t.name, t.is_closed])).toEqual([
      ["Verkoop", false],
      ["Vraag", false],
      ["Reviews", false],
      ["Regels", true],
    ]);
    const thread = (name: string) => topics.find((t) => t.name === name)?.message_thread_id;
    const history = (await running.control.chat(id)).messages.map((m) => m.message);
    const album = history.filter((m) => m.media_group_id !== undefined);
    expect(album).toHaveLength(3);
    expect(album.every((m) => m.message_thread_id === thread("Verkoop"))).toBe(true);
    expect(album[0]?.caption).toMatch(/^Cobra 6 en Cobra 8/);
    const reply = history.find((m) => m.text === "Ik heb er nog, stuur me een DM");
    expect(reply).toMatchObject({
      message_thread_id: thread("Vraag"),
      reply_to_message: { text: "Iemand nog mortieren in de buurt van Utrecht?" },
    });

    const { played } = await running.control.advanceClock(1000);
    expect(played.every((p) => p.ok)).toBe(true);
    const updates = (await api<Update[]>("getUpdates")).body.result ?? [];
    const messages = updates.map((u) => u.message ?? {});
    const items = messages.slice(0, 3);
    const group = items[0]?.media_group_id;
    expect(group).toEqual(expect.any(String));
    expect(items.map((m) => m.media_group_id)).toEqual([group, group, group]);
    // Delivered reversed: the video first, the caption last, ids counting down.
    expect(items[0]?.video).toBeDefined();
    expect(items[2]?.caption).toMatch(/^Mortieren 10 stuks/);
    const ids = items.map((m) => Number(m.message_id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(messages.map((m) => m.message_thread_id)).toEqual([
      thread("Verkoop"),
      thread("Verkoop"),
      thread("Verkoop"),
      thread("Vraag"),
      thread("Verkoop"),
      thread("Reviews"),
      thread("Verkoop"),
    ]);

    // A member opens a topic during the rehearsal and posts an album in it.
    const later = await running.control.advanceClock(5460 - 1000);
    expect(later.played.every((p) => p.ok)).toBe(true);
    const opened = (await running.control.topics(id)).topics.find(
      (t) => t.name === "Sem zijn aanbod",
    );
    expect(opened).toMatchObject({ icon_color: 16766590, is_closed: false });
    const next =
      (await api<Update[]>("getUpdates", { offset: Number(updates.at(-1)?.update_id) + 1 })).body
        .result ?? [];
    expect(next.map((u) => u.message?.forum_topic_created !== undefined)).toEqual([
      true,
      false,
      false,
    ]);
    expect(next.slice(1).map((u) => u.message?.message_thread_id)).toEqual([
      opened?.message_thread_id,
      opened?.message_thread_id,
    ]);
    expect(await running.control.violations()).toEqual([]);
  });
});
