/**
 * Offers in every shape, end to end: members post through the simulator's
 * control API, the real bot polls it over HTTP, Redis is real. An edit that
 * makes a harmless message an offer is removed (trade freeze) or answered
 * (trade_offer trigger) once, with every version kept; forwards of every
 * origin, captions, inline-bot messages and links behind words or in a
 * preview are judged and kept with what shows where they came from.
 */
import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entriesSince } from "../../src/audit/recent.ts";
import { messageRows } from "../../src/collect/export/rows.ts";
import { collectKeys } from "../../src/collect/keys.ts";
import type { StoredMessage } from "../../src/collect/queries.ts";
import type { MemberMessageInput } from "../../src/sim/index.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

const fixtures = new URL("./fixtures/offer-scenarios/", import.meta.url).pathname;

let stage: Stage;
beforeEach(async () => {
  stage = await startStage({ scenariosDir: fixtures });
});
afterEach(async () => {
  await stage.stop();
});

const OFFER = "5 cobra 6 voor 50 euro, dm";
const HARMLESS = "wie komt er zaterdag?";
const SHOP = "https://cobra-shop.nl/vuurwerk-te-koop/prijslijst";
const TRADE_WARNING = "Trading is not allowed in this group";

type Posted = { message_id: number };

async function post(from: { id: number }, input: Omit<MemberMessageInput, "from_id">) {
  return (await stage.control.sendMessage(stage.group, { from_id: from.id, ...input })) as Posted;
}

async function stored(messageId: number): Promise<StoredMessage | undefined> {
  const raw = await stage.redis.hget(
    collectKeys.messages(stage.caseId, stage.group),
    String(messageId),
  );
  return raw ? (JSON.parse(raw) as StoredMessage) : undefined;
}

async function versions(messageId: number): Promise<StoredMessage[]> {
  const raw = await stage.redis.lrange(
    collectKeys.messageVersions(stage.caseId, stage.group, messageId),
    0,
    -1,
  );
  return raw.map((v) => JSON.parse(v) as StoredMessage);
}

async function evidence(messageId: number) {
  const raw = await stage.redis.hget(
    collectKeys.evidence(stage.caseId),
    `${stage.group}:${messageId}`,
  );
  return raw ? (JSON.parse(raw) as StoredMessage & { versions?: StoredMessage[] }) : undefined;
}

async function isDeleted(messageId: number): Promise<boolean> {
  const snapshot = await stage.control.chat(stage.group);
  return snapshot.messages.some(
    (m) => (m.message as { message_id: number }).message_id === messageId && m.deleted,
  );
}

/** Updates of a chat are handled in order: once a later message is kept, earlier ones were handled. */
async function barrier(): Promise<void> {
  const marker = await post(stage.alice, { text: "hoi allemaal" });
  await eventually(async () => (await stored(marker.message_id)) !== undefined);
}

async function deleteCalls(messageId: number): Promise<number> {
  const calls = await stage.control.calls(0, { method: "deleteMessages" });
  return calls.filter((c) =>
    ((c.params as { message_ids?: number[] }).message_ids ?? []).includes(messageId),
  ).length;
}

async function tradeWarnings(): Promise<number> {
  return (await botMessages(stage, stage.group)).filter((m) => m.text?.includes(TRADE_WARNING))
    .length;
}

/** The bot's answers in the group that reply to a message. */
async function repliesTo(messageId: number): Promise<number> {
  const snapshot = await stage.control.chat(stage.group);
  return snapshot.messages.filter(
    (m) =>
      m.sender_id === stage.botUser.id &&
      (m.message as { reply_to_message?: { message_id: number } }).reply_to_message?.message_id ===
        messageId,
  ).length;
}

describe("an edit judged again", () => {
  it("removes a harmless message edited into an offer once, keeping both versions as evidence", async () => {
    expect(await command(stage, stage.room, stage.operator, "/freeze fw1 trade")).toContain(
      "frozen (text only)",
    );
    const message = await post(stage.bob, { text: HARMLESS });
    await barrier();
    expect(await isDeleted(message.message_id)).toBe(false);

    stage.clock.now += 60_000;
    await stage.control.editMessage(stage.group, message.message_id, { text: OFFER });
    await eventually(() => isDeleted(message.message_id));
    await barrier();
    expect(await deleteCalls(message.message_id)).toBe(1);
    expect(await tradeWarnings()).toBe(1);

    // Evidence: the version as first seen, then the edit with its edit_date and verdict.
    const kept = await evidence(message.message_id);
    expect(kept).toMatchObject({
      reason: "purge",
      request: `offer:${stage.group}:${message.message_id}`,
      edited: false,
      message: { text: HARMLESS },
    });
    expect(kept?.offer).toBeUndefined();
    expect(kept?.versions).toHaveLength(1);
    const edit = kept?.versions?.[0] as StoredMessage;
    expect(edit).toMatchObject({
      edited: true,
      message: { text: OFFER, edit_date: expect.any(Number) },
      offer: { rules: expect.arrayContaining(["item:fireworks"]) },
    });
    expect(edit.update_id).toBeGreaterThan(kept?.update_id as number);

    // The recorder's history and the export say the same, each version with its edit_date.
    expect((await versions(message.message_id)).map((v) => v.message.text)).toEqual([OFFER]);
    const rows = [];
    for await (const row of messageRows(stage.redis, stage.caseId))
      if (row.values.message_id === message.message_id) rows.push(row.values);
    expect(rows.map((r) => [r.version, r.text, r.offer, typeof r.edit_date])).toEqual([
      [0, HARMLESS, false, "undefined"],
      [1, OFFER, true, "string"],
    ]);
  });

  it("answers an edited-in offer once with a trade_offer trigger, and never a harmless edit or an offer edited again", async () => {
    expect(
      await command(stage, stage.room, stage.operator, "/scenario start answer-offers fw1"),
    ).toMatch(/^started answer-offers/);
    const harmless = await post(stage.bob, { text: HARMLESS });
    const offer = await post(stage.bob, { text: OFFER });
    const captioned = await post(stage.bob, { photo: true, caption: OFFER });
    await stage.control.editMessage(stage.group, harmless.message_id, {
      text: "wie komt er zondag?",
    });
    await stage.control.editMessage(stage.group, offer.message_id, {
      text: "cobra 6 te koop 40 euro per stuk",
    });
    await stage.control.editMessage(stage.group, harmless.message_id, { text: OFFER });
    await stage.control.editMessage(stage.group, harmless.message_id, {
      text: "cobra 6 te koop 40 euro per stuk",
    });
    // A trigger's actions run in order from its run's queue: once a later offer is answered,
    // every earlier firing has run.
    const last = await post(stage.alice, { text: OFFER });
    await eventually(async () => (await repliesTo(last.message_id)) === 1);
    expect(await repliesTo(offer.message_id)).toBe(1);
    expect(await repliesTo(harmless.message_id)).toBe(1);
    expect(await repliesTo(captioned.message_id)).toBe(1);

    // The trigger's record names the edit that made the offer.
    const fired = (await entriesSince(stage.redis, stage.caseId, 0)).filter(
      (e) => e.op === "scenario.trigger",
    );
    expect(fired).toHaveLength(4);
    const byEdit = (await versions(harmless.message_id))[1] as StoredMessage;
    expect(fired.some((e) => e.update_ids?.includes(byEdit.update_id))).toBe(true);
    // Every version is kept; the offer is counted once per message.
    expect((await versions(harmless.message_id)).map((v) => v.offer !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
    expect(
      await stage.redis.hget(collectKeys.member(stage.caseId, stage.bob.id), "count:offers"),
    ).toBe("3");
  });

  it("answers an edited-in offer whose update comes again after it was kept, once", async () => {
    const message = await post(stage.bob, { text: HARMLESS });
    await barrier();
    const first = (await stored(message.message_id)) as StoredMessage;
    const group = { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" };
    const edit = {
      update_id: first.update_id + 10_000,
      edited_message: {
        ...first.message,
        chat: group,
        text: OFFER,
        edit_date: first.message.date + 60,
      },
    } as Update;
    // Kept while no scenario ran (as when a crash cut its handling short), then delivered again.
    await stage.warden.bot.handleUpdate(edit);
    expect((await versions(message.message_id)).map((v) => v.offer !== undefined)).toEqual([true]);
    await command(stage, stage.room, stage.operator, "/scenario start answer-offers fw1");
    await stage.warden.bot.handleUpdate(edit);
    await stage.warden.bot.handleUpdate(edit);
    const last = await post(stage.alice, { text: OFFER });
    await eventually(async () => (await repliesTo(last.message_id)) === 1);
    expect(await repliesTo(message.message_id)).toBe(1);
    expect(await versions(message.message_id)).toHaveLength(1);
  });

  it("counts an offer made by an edit at the time of the edit, for a trigger's limits", async () => {
    expect(
      await command(stage, stage.room, stage.operator, "/scenario start answer-daily fw1"),
    ).toMatch(/^started answer-daily/);
    const message = await post(stage.bob, { text: HARMLESS });
    await stage.control.advanceClock(2 * 86_400);
    stage.clock.now += 2 * 86_400 * 1000;
    await stage.control.editMessage(stage.group, message.message_id, { text: OFFER });
    await eventually(async () => (await repliesTo(message.message_id)) === 1);
    // An hour after the edit: the same member's next offer is within the day, and not answered.
    await stage.control.advanceClock(3600);
    stage.clock.now += 3600 * 1000;
    const next = await post(stage.bob, { text: OFFER });
    const last = await post(stage.alice, { text: OFFER });
    await eventually(async () => (await repliesTo(last.message_id)) === 1);
    expect(await repliesTo(next.message_id)).toBe(0);
  });

  it("leaves a harmless edit alone, and an edit of an offer already removed asks Telegram for nothing", async () => {
    await command(stage, stage.room, stage.operator, "/freeze fw1 trade");
    const chat = await post(stage.bob, { text: HARMLESS });
    await stage.control.editMessage(stage.group, chat.message_id, { text: "wie komt er zondag?" });
    const offer = await post(stage.bob, { text: OFFER });
    await eventually(() => isDeleted(offer.message_id));
    await barrier();
    expect(await isDeleted(chat.message_id)).toBe(false);
    expect((await versions(chat.message_id)).map((v) => v.offer)).toEqual([undefined]);

    // Edits made just before the removal reach the bot after it: Telegram delivers them all.
    const before = await entriesSince(stage.redis, stage.caseId, 0);
    const callsBefore = (await stage.control.calls(0)).length;
    const first = (await stored(offer.message_id)) as StoredMessage;
    const group = { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" };
    for (let i = 1; i <= 5; i++) {
      const edit = {
        update_id: first.update_id + 10_000 + i,
        edited_message: {
          ...first.message,
          chat: group,
          text: `${OFFER} (${i})`,
          edit_date: first.message.date + i,
        },
      } as Update;
      await stage.warden.bot.handleUpdate(edit);
    }
    await barrier();
    expect(await deleteCalls(offer.message_id)).toBe(1);
    expect(await tradeWarnings()).toBe(1);
    // No Bot API call but the barrier's, and no action on the record: only the versions kept.
    const calls = (await stage.control.calls(0)).slice(callsBefore);
    expect(calls.filter((c) => c.bot_id !== undefined && c.method !== "getUpdates")).toEqual([]);
    const added = (await entriesSince(stage.redis, stage.caseId, 0)).slice(before.length);
    expect(added.filter((e) => e.op !== "collect" || e.params?.purpose !== undefined)).toEqual([]);
    expect(await versions(offer.message_id)).toHaveLength(5);
    expect((await evidence(offer.message_id))?.message.text).toBe(OFFER);
  });
});

describe("offers in other shapes", () => {
  it("judges forwards of every origin and keeps the origin; a shop channel's name makes an offer", async () => {
    const channel = await stage.control.createChat({
      type: "channel",
      title: "Cobra Verkoop NL",
      username: "cobra_verkoop",
      owner_id: stage.owner.id,
    });
    const otherGroup = await stage.control.createChat({
      type: "supergroup",
      title: "Knallers Twee",
      owner_id: stage.owner.id,
    });
    const origins: Array<[string, Partial<MemberMessageInput>]> = [
      ["user", { forward_from_id: stage.bob.id }],
      ["hidden_user", { forward_sender_name: "Piet" }],
      ["chat", { forward_from_chat_id: otherGroup.id }],
      ["channel", { forward_from_chat_id: channel.id }],
    ];
    for (const [type, origin] of origins) {
      const forward = await post(stage.alice, { text: OFFER, ...origin });
      await eventually(async () => (await stored(forward.message_id)) !== undefined);
      const kept = (await stored(forward.message_id)) as StoredMessage;
      expect(kept.offer?.rules, type).toContain("item:fireworks");
      expect(kept.message.forward_origin?.type).toBe(type);
    }
    // Harmless words forwarded from a shop's channel: its name is what the forward advertises.
    const advert = await post(stage.alice, { text: "kijk even", forward_from_chat_id: channel.id });
    const fromPerson = await post(stage.alice, {
      text: "kijk even",
      forward_from_id: stage.bob.id,
    });
    await barrier();
    expect((await stored(advert.message_id))?.offer).toBeDefined();
    expect((await stored(fromPerson.message_id))?.offer).toBeUndefined();

    // In a trade freeze the forwarded offer is removed, its origin in the evidence.
    await command(stage, stage.room, stage.operator, "/freeze fw1 trade");
    const removed = await post(stage.alice, { text: OFFER, forward_from_chat_id: channel.id });
    await eventually(() => isDeleted(removed.message_id));
    expect(await evidence(removed.message_id)).toMatchObject({
      offer: { rules: expect.arrayContaining(["item:fireworks"]) },
      message: {
        forward_origin: {
          type: "channel",
          chat: { id: channel.id, title: "Cobra Verkoop NL" },
        },
      },
    });
  });

  it("judges captions, captions edited into offers, inline-bot messages and links behind words or in a preview", async () => {
    // Media are posted before the freeze: the trade freeze lets members post text only.
    const photo = await post(stage.bob, { photo: true, caption: OFFER });
    const document = await post(stage.bob, { document: "lijst.txt", caption: HARMLESS });
    await barrier();
    expect((await stored(photo.message_id))?.offer?.rules).toContain("item:fireworks");
    expect((await stored(document.message_id))?.offer).toBeUndefined();
    await command(stage, stage.room, stage.operator, "/freeze fw1 trade");
    const { user: shopBot } = await stage.control.createBot({
      username: "cobra_verkoop_bot",
      first_name: "Shop",
    });
    const viaBot = await post(stage.bob, { text: "kijk even", via_bot_id: shopBot.id });
    const linked = await post(stage.bob, {
      text: "klik hier",
      entities: [{ type: "text_link", offset: 0, length: 9, url: SHOP }],
    });
    const previewed = await post(stage.bob, {
      text: "kijk hier",
      link_preview_options: { url: SHOP },
    });
    const weather = await post(stage.bob, {
      text: "klik hier",
      entities: [
        { type: "text_link", offset: 0, length: 9, url: "https://weerbericht.nl/vandaag" },
      ],
    });
    for (const m of [viaBot, linked, previewed]) await eventually(() => isDeleted(m.message_id));
    await barrier();
    expect(await isDeleted(weather.message_id)).toBe(false);
    expect(await isDeleted(photo.message_id)).toBe(false);

    // A caption edited into an offer during the freeze is removed like a new offer.
    await stage.control.editMessage(stage.group, document.message_id, { caption: OFFER });
    await eventually(() => isDeleted(document.message_id));

    expect(await evidence(viaBot.message_id)).toMatchObject({
      message: { via_bot: { id: shopBot.id, username: "cobra_verkoop_bot" } },
    });
    expect(await evidence(previewed.message_id)).toMatchObject({
      message: { link_preview_options: { url: SHOP } },
    });
    expect(await evidence(document.message_id)).toMatchObject({
      message: { caption: HARMLESS },
      versions: [{ message: { caption: OFFER }, offer: { score: expect.any(Number) } }],
    });
    const rows = new Map<unknown, Record<string, unknown>>();
    for await (const row of messageRows(stage.redis, stage.caseId))
      if (row.values.version === 0) rows.set(row.values.message_id, row.values);
    expect(rows.get(viaBot.message_id)).toMatchObject({ via_bot: shopBot.id, offer: true });
    expect(rows.get(photo.message_id)).toMatchObject({ caption: OFFER, offer: true });
  });
});
