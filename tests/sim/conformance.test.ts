/**
 * Every implemented method is exercised, and every result (and every update
 * delivered on the way) is validated against the return type the derived
 * spec declares: required fields present, no unknown fields, right JSON
 * types, unions resolved by their discriminator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createValidator, implementedMethods } from "../../src/sim/index.ts";
import { botApiSpec } from "../../src/sim/spec/spec.ts";
import { type Cast, startCast } from "./helpers.ts";

const validator = createValidator();
let cast: Cast;
const results: { method: string; result: unknown }[] = [];

async function call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  const answer = await cast.api<T>(method, params);
  if (!answer.body.ok) throw new Error(`${method} failed: ${answer.body.description}`);
  results.push({ method, result: answer.body.result });
  return answer.body.result as T;
}

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async function upload(method: string, field: string, params: Record<string, string>) {
  const form = new FormData();
  for (const [key, value] of Object.entries(params)) form.append(key, value);
  form.append(field, new Blob([Buffer.from(PNG, "base64")]), "photo.png");
  const response = await fetch(`${cast.sim.apiRoot}/bot${cast.token}/${method}`, {
    method: "POST",
    body: form,
  });
  const body = (await response.json()) as { ok: boolean; result: unknown; description?: string };
  if (!body.ok) throw new Error(`${method} failed: ${body.description}`);
  results.push({ method, result: body.result });
  return body.result;
}

/** An album of two uploaded photos through multipart `attach://` parts. */
async function uploadAlbum(chat: number, thread: number) {
  const form = new FormData();
  form.append("chat_id", String(chat));
  form.append("message_thread_id", String(thread));
  form.append(
    "media",
    JSON.stringify([
      { type: "photo", media: "attach://first", caption: "<b>eerste</b>", parse_mode: "HTML" },
      { type: "photo", media: "attach://second" },
    ]),
  );
  form.append("first", new Blob([Buffer.from(PNG, "base64")]), "first.png");
  form.append("second", new Blob([Buffer.from(PNG, "base64")]), "second.png");
  const response = await fetch(`${cast.sim.apiRoot}/bot${cast.token}/sendMediaGroup`, {
    method: "POST",
    body: form,
  });
  const body = (await response.json()) as { ok: boolean; result: unknown; description?: string };
  if (!body.ok) throw new Error(`sendMediaGroup failed: ${body.description}`);
  results.push({ method: "sendMediaGroup", result: body.result });
  return body.result;
}

let spareInline: { id: number };

beforeAll(async () => {
  cast = await startCast();
  const c = cast.sim.control;
  const g = cast.group;
  const { alice, bob, owner, bot } = cast;
  const carol = await c.createUser({
    first_name: "Carol",
    username: "carol_mod",
    is_premium: true,
  });
  const kicked = await c.createUser({ first_name: "Kees" });
  spareInline = await c.createUser({ first_name: "Aanbod", username: "aanbod_bot", is_bot: true });
  const stranger = await c.createUser({ first_name: "Stranger" });
  const channel = await c.createChat({
    type: "channel",
    title: "Vuurwerk Kanaal",
    owner_id: alice.id,
    username: "vuurwerk_kanaal",
  });
  await c.join(g, carol.id);
  await c.join(g, kicked.id);
  await c.addProfilePhoto(alice.id, PNG);

  await call("getUpdates", {
    allowed_updates: [
      "message",
      "edited_message",
      "callback_query",
      "my_chat_member",
      "chat_member",
      "chat_join_request",
      "channel_post",
    ],
  });
  await call("getMe");
  await call("setMyCommands", {
    commands: [{ command: "waarschuw", description: "Waarschuw de groep" }],
    scope: { type: "all_group_chats" },
    language_code: "nl",
  });
  await call("getMyCommands", { scope: { type: "all_group_chats" }, language_code: "nl" });
  await call("deleteMyCommands", { scope: { type: "all_group_chats" }, language_code: "nl" });

  const offer = await c.sendMessage(g, {
    from_id: alice.id,
    text: "Cobra 6 te koop, DM @alice_nl #vuurwerk",
    photo: false,
  });
  await c.sendMessage(g, { from_id: owner.id, text: "Welkom allemaal", anonymous: true });
  await c.sendMessage(g, {
    from_id: alice.id,
    text: "Officieel aanbod",
    sender_chat_id: channel.id,
  });
  await c.sendMessage(g, { from_id: bob.id, text: "Doorgestuurd", forward_from_id: alice.id });
  await c.sendMessage(g, { from_id: bob.id, text: "Verborgen", forward_sender_name: "Anoniem" });
  await c.sendMessage(g, {
    from_id: bob.id,
    text: "Ik wil er twee",
    reply_to_message_id: offer.message_id,
  });
  await c.sendMessage(g, { from_id: bob.id, caption: "foto van de doos", photo: true });
  await c.sendMessage(g, {
    from_id: bob.id,
    document: { file_name: "prijslijst.txt", content: "cobra 6: 20 euro" },
  });
  await c.editMessage(g, offer.message_id, { text: "Cobra 6 verkocht" });

  const warning = await call<{ message_id: number }>("sendMessage", {
    chat_id: g,
    text: "<b>Politie</b>: deze groep wordt onderzocht",
    parse_mode: "HTML",
    reply_parameters: { message_id: offer.message_id },
    reply_markup: {
      inline_keyboard: [
        [
          { text: "Begrepen", callback_data: "ack" },
          { text: "Info", url: "https://politie.nl" },
        ],
      ],
    },
  });
  const { callback_query_id } = await c.pressButton({
    from_id: bob.id,
    chat_id: g,
    message_id: warning.message_id,
    data: "ack",
  });
  await call("answerCallbackQuery", { callback_query_id, text: "Dank je" });
  await call("editMessageText", {
    chat_id: g,
    message_id: warning.message_id,
    text: "Politie: deze groep is overgenomen",
  });
  await call("forwardMessage", { chat_id: g, from_chat_id: g, message_id: offer.message_id });
  await call("copyMessage", { chat_id: g, from_chat_id: g, message_id: offer.message_id });
  const photo = await upload("sendPhoto", "photo", { chat_id: String(g), caption: "bewijs" });
  const fileId = (photo as { photo: { file_id: string }[] }).photo[0]?.file_id;
  await call("getFile", { file_id: fileId });
  await upload("sendDocument", "document", { chat_id: String(g) });
  await call("sendChatAction", { chat_id: g, action: "typing" });
  await call("pinChatMessage", { chat_id: g, message_id: warning.message_id });
  await call("getChat", { chat_id: g });
  await call("unpinChatMessage", { chat_id: g, message_id: warning.message_id });
  await call("pinChatMessage", { chat_id: g, message_id: warning.message_id });
  await call("unpinAllChatMessages", { chat_id: g });
  const spam = await c.sendMessage(g, { from_id: bob.id, text: "spam" });
  await call("deleteMessage", { chat_id: g, message_id: spam.message_id });
  await call("deleteMessages", { chat_id: g, message_ids: [offer.message_id, 99999] });

  await call("setChatPermissions", {
    chat_id: g,
    permissions: { can_send_messages: true, can_invite_users: true },
  });
  await call("restrictChatMember", {
    chat_id: g,
    user_id: bob.id,
    permissions: { can_send_messages: false },
    until_date: cast.sim.sim.clock.now() + 3600,
  });
  await call("banChatMember", { chat_id: g, user_id: kicked.id });
  await call("promoteChatMember", {
    chat_id: g,
    user_id: carol.id,
    can_delete_messages: true,
    can_restrict_members: true,
  });
  await call("setChatAdministratorCustomTitle", {
    chat_id: g,
    user_id: carol.id,
    custom_title: "Moderator",
  });
  for (const user of [owner, carol, alice, bob, kicked, stranger, bot]) {
    await call("getChatMember", { chat_id: g, user_id: user.id });
  }
  await call("unbanChatMember", { chat_id: g, user_id: kicked.id, only_if_banned: true });
  await call("banChatSenderChat", { chat_id: g, sender_chat_id: channel.id });
  await call("unbanChatSenderChat", { chat_id: g, sender_chat_id: channel.id });
  await call("getChatMemberCount", { chat_id: g });
  await call("getChatAdministrators", { chat_id: g });

  await call("setChatTitle", { chat_id: g, title: "In beslag genomen" });
  await call("setChatDescription", {
    chat_id: g,
    description: "Deze groep is in beslag genomen door de politie.",
  });
  await upload("setChatPhoto", "photo", { chat_id: String(g) });
  await call("getChat", { chat_id: g });
  await call("deleteChatPhoto", { chat_id: g });

  await call("exportChatInviteLink", { chat_id: g });
  const link = await call<{ invite_link: string }>("createChatInviteLink", {
    chat_id: g,
    name: "lokaas",
    member_limit: 5,
  });
  await call("editChatInviteLink", {
    chat_id: g,
    invite_link: link.invite_link,
    name: "lokaas 2",
    expire_date: cast.sim.sim.clock.now() + 86400,
  });
  await c.join(g, stranger.id, { invite_link: link.invite_link });
  await call("revokeChatInviteLink", { chat_id: g, invite_link: link.invite_link });
  const requests = await call<{ invite_link: string }>("createChatInviteLink", {
    chat_id: g,
    creates_join_request: true,
  });
  const dave = await c.createUser({ first_name: "Dave" });
  const erik = await c.createUser({ first_name: "Erik" });
  await c.join(g, dave.id, { invite_link: requests.invite_link });
  await c.requestToJoin(g, erik.id, { bio: "Ik verkoop ook" });
  await call("approveChatJoinRequest", { chat_id: g, user_id: dave.id });
  await call("declineChatJoinRequest", { chat_id: g, user_id: erik.id });

  await c.sendMessage(alice.id, { from_id: alice.id, text: "/start" });
  await call("sendMessage", { chat_id: alice.id, text: "Hallo Alice" });
  await call("getChat", { chat_id: alice.id });
  await call("getUserProfilePhotos", { user_id: alice.id });
  await c.promote(channel.id, bot.id, { can_post_messages: true }, { by: alice.id });
  await call("sendMessage", { chat_id: channel.id, text: "Kanaalbericht" });
  await c.sendMessage(channel.id, { from_id: alice.id, text: "Nieuwe voorraad" });
  await call("getChat", { chat_id: "@vuurwerk_kanaal" });
  const { id: spare } = await c.createChat({ type: "group", title: "Reserve", owner_id: owner.id });
  await c.promote(spare, bot.id, "all");
  await c.upgradeChat(spare);

  // A forum: topics, the General topic, messages and albums in topics.
  const { id: forum } = await c.createChat({
    type: "supergroup",
    title: "Vuurwerk Forum",
    owner_id: owner.id,
    is_forum: true,
  });
  await c.join(forum, alice.id);
  await c.join(forum, bob.id);
  await c.promote(forum, bot.id, "all");
  const icons = await call<{ custom_emoji_id: string }[]>("getForumTopicIconStickers");
  const topic = await call<{ message_thread_id: number }>("createForumTopic", {
    chat_id: forum,
    name: "Aanbod",
    icon_color: 16766590,
  });
  const thread = topic.message_thread_id;
  await call("editForumTopic", {
    chat_id: forum,
    message_thread_id: thread,
    name: "Aanbod 2027",
    icon_custom_emoji_id: icons[0]?.custom_emoji_id,
  });
  const offerInTopic = await c.sendMessage(forum, {
    from_id: alice.id,
    text: "Cobra 12 te koop",
    message_thread_id: thread,
  });
  await call("sendMessage", {
    chat_id: forum,
    message_thread_id: thread,
    text: "Let op: handel is verboden",
    link_preview_options: { is_disabled: true },
  });
  await call("sendMessage", {
    chat_id: forum,
    text: "Antwoord in het onderwerp",
    reply_parameters: { message_id: offerInTopic.message_id },
  });
  const topicPhoto = await upload("sendPhoto", "photo", {
    chat_id: String(forum),
    message_thread_id: String(thread),
    caption: "bewijs",
  });
  await call("pinChatMessage", {
    chat_id: forum,
    message_id: (topicPhoto as { message_id: number }).message_id,
  });
  await call("unpinAllForumTopicMessages", { chat_id: forum, message_thread_id: thread });
  await uploadAlbum(forum, thread);
  await call("sendMediaGroup", {
    chat_id: forum,
    media: [
      { type: "photo", media: fileId, caption: "een" },
      { type: "video", media: "https://example.com/video.mp4" },
    ],
  });
  await call("sendVideo", {
    chat_id: forum,
    message_thread_id: thread,
    video: "https://example.com/clip.mp4",
    caption: "filmpje",
    duration: 12,
  });
  await c.sendAlbum(forum, {
    from_id: bob.id,
    message_thread_id: thread,
    items: [{ photo: true, caption: "Cobra 6, 20 euro" }, { video: true }, { photo: true }],
    delivery_order: [2, 0, 1],
  });
  const { id: newsChannel } = await c.createChat({
    type: "channel",
    title: "Vuurwerk Nieuws",
    owner_id: bob.id,
  });
  await c.sendMessage(forum, {
    from_id: alice.id,
    text: "Zie https://example.com/aanbod",
    via_bot_id: spareInline.id,
    link_preview_options: { url: "https://example.com/aanbod", prefer_large_media: true },
  });
  await c.sendMessage(forum, {
    from_id: bob.id,
    text: "Doorgestuurd aanbod",
    forward_from_chat_id: newsChannel,
    forward_from_message_id: 7,
    forward_signature: "Bob",
    message_thread_id: thread,
  });
  const memberTopic = await c.createTopic(forum, { from_id: owner.id, name: "Tijdens lockdown" });
  // People close, reopen and rename topics and hide General: the bot hears each.
  await c.closeTopic(forum, memberTopic.message_thread_id, owner.id);
  await c.reopenTopic(forum, memberTopic.message_thread_id, owner.id);
  await c.editTopic(forum, memberTopic.message_thread_id, { name: "Na lockdown", by: owner.id });
  await c.hideGeneralTopic(forum, owner.id);
  await c.unhideGeneralTopic(forum, owner.id);
  await c.reopenTopic(forum, 1, owner.id);
  await call("closeForumTopic", { chat_id: forum, message_thread_id: thread });
  await call("reopenForumTopic", { chat_id: forum, message_thread_id: thread });
  await call("editGeneralForumTopic", { chat_id: forum, name: "Algemeen" });
  await call("closeGeneralForumTopic", { chat_id: forum });
  await call("reopenGeneralForumTopic", { chat_id: forum });
  await call("hideGeneralForumTopic", { chat_id: forum });
  await call("unhideGeneralForumTopic", { chat_id: forum });
  await call("unpinAllGeneralForumTopicMessages", { chat_id: forum });
  await call("deleteForumTopic", {
    chat_id: forum,
    message_thread_id: memberTopic.message_thread_id,
  });
  await call("getChat", { chat_id: forum });

  await call("getUpdates", { timeout: 0 });
  await call("setWebhook", {
    url: "http://127.0.0.1:9/hook",
    drop_pending_updates: true,
    secret_token: "abc",
  });
  await call("getWebhookInfo");
  await call("deleteWebhook");
  await call("getWebhookInfo");
  const spareBot = await c.createBot({ username: "spare_bot" });
  await c.join(g, spareBot.user.id);
  const spareApi = (await import("./helpers.ts")).apiCaller(cast.sim.apiRoot, spareBot.token);
  const left = await spareApi("leaveChat", { chat_id: g });
  results.push({ method: "leaveChat", result: left.body.result });
  results.push({ method: "logOut", result: (await spareApi("logOut")).body.result });
  results.push({ method: "close", result: (await spareApi("close")).body.result });
});
afterAll(() => cast.sim.close());

describe("conformance with the derived spec", () => {
  it("exercises every implemented method, all of which exist in the spec", () => {
    const implemented = implementedMethods(cast.sim.sim);
    const spec = botApiSpec();
    for (const method of implemented) expect(spec.methods[method], method).toBeDefined();
    expect(new Set(results.map((r) => r.method))).toEqual(new Set(implemented));
  });

  it("returns results of the declared type for every call", () => {
    const failures = results
      .map(({ method, result }) => ({ method, violations: validator.checkResult(method, result) }))
      .filter((f) => f.violations.length > 0);
    expect(failures).toEqual([]);
  });

  it("delivers only well-formed updates, of every kind exercised", () => {
    const updates = results
      .filter((r) => r.method === "getUpdates")
      .flatMap((r) => r.result as object[]);
    const kinds = new Set(updates.flatMap((u) => Object.keys(u).filter((k) => k !== "update_id")));
    expect([...kinds].sort()).toEqual(
      [
        "callback_query",
        "channel_post",
        "chat_join_request",
        "chat_member",
        "edited_message",
        "message",
        "my_chat_member",
      ].sort(),
    );
    expect(validator.check(["Array of Update"], updates)).toEqual([]);
  });

  it("delivers each forum service message and album items among them", () => {
    const messages = results
      .filter((r) => r.method === "getUpdates")
      .flatMap((r) => r.result as { message?: Record<string, unknown> }[])
      .flatMap((u) => (u.message ? [u.message] : []));
    const fields = new Set(messages.flatMap((m) => Object.keys(m)));
    for (const field of [
      "forum_topic_created",
      "forum_topic_closed",
      "forum_topic_reopened",
      "forum_topic_edited",
      "general_forum_topic_hidden",
      "general_forum_topic_unhidden",
      "message_thread_id",
      "is_topic_message",
      "media_group_id",
      "via_bot",
    ])
      expect(fields, field).toContain(field);
  });

  it("had no self-check violations on the server side", async () => {
    expect(await cast.sim.control.violations()).toEqual([]);
  });
});

describe("the validator itself", () => {
  const user = { id: 1, is_bot: false, first_name: "A" };
  it("accepts a valid union member and rejects what does not fit", () => {
    expect(validator.check(["ChatMember"], { status: "left", user })).toEqual([]);
    expect(validator.check(["ChatMember"], { status: "kicked", user })).toEqual([
      { path: "result.until_date", message: "missing in ChatMemberBanned" },
    ]);
    expect(validator.check(["ChatMember"], { status: "ghost", user })).toEqual([
      { path: "result", message: "no ChatMember subtype matches" },
    ]);
    expect(validator.check(["User"], { ...user, nickname: "x" })).toEqual([
      { path: "result.nickname", message: "not a field of User" },
    ]);
    expect(validator.check(["Array of Integer"], [1, 2.5])).toEqual([
      { path: "result[1]", message: "expected Integer" },
    ]);
    expect(validator.checkResult("getChatMemberCount", "3")).toEqual([
      { path: "result", message: "expected Integer" },
    ]);
  });

  it("resolves undiscriminated unions structurally", () => {
    const inaccessible = { chat: { id: -1, type: "group", title: "x" }, message_id: 5, date: 0 };
    expect(validator.check(["MaybeInaccessibleMessage"], inaccessible)).toEqual([]);
    expect(validator.check(["MaybeInaccessibleMessage"], { message_id: 5 }).length).toBeGreaterThan(
      0,
    );
  });
});
