import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/collect/keys.ts";
import {
  approveLatestRequest,
  botMessages,
  command,
  eventually,
  type Stage,
  startStage,
} from "../helpers/warden.ts";

/**
 * A takeover of a forum with albums, end to end (simulator over HTTP, the
 * real bot, real Redis): a scenario trigger limited to the topic "Verkoop"
 * answers offers there, in that topic, and removes them — an album whole,
 * answered once — and an offer edited into a harmless message; offers in
 * other topics are left to other triggers.
 */

const fixtures = new URL("./fixtures/forum-scenarios/", import.meta.url).pathname;
const OFFER = "5 cobra 6 voor 50 euro, dm";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage({ forum: true, scenariosDir: fixtures });
});
afterEach(async () => {
  await stage.stop();
});

/** The bot's replies in the group, with the topic each went to. */
async function replies() {
  const snapshot = await stage.control.chat(stage.group);
  return snapshot.messages
    .filter((m) => m.sender_id === stage.botUser.id && !m.is_service)
    .map(
      (m) =>
        m.message as {
          message_id: number;
          text?: string;
          message_thread_id?: number;
          reply_to_message?: { message_id: number };
        },
    )
    .filter((m) => m.text?.includes("dit is de politie") || m.text?.includes("this is the police"));
}

async function deleted(ids: number[]): Promise<boolean> {
  const snapshot = await stage.control.chat(stage.group);
  return ids.every((id) =>
    snapshot.messages.some(
      (m) => (m.message as { message_id: number }).message_id === id && m.deleted,
    ),
  );
}

describe("a scenario in a forum", () => {
  it("answers and removes offers only in the topic it names: in that topic, an album whole and once, an edited-in offer too", async () => {
    const s = stage;
    const verkoop = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Verkoop" });
    const vraag = await s.control.createTopic(s.group, { from_id: s.owner.id, name: "Vraag" });
    // A scenario that removes messages starts once a supervisor approves.
    expect(await command(s, s.room, s.operator, "/scenario start verkoop-offers fw1")).toContain(
      "Approval needed",
    );
    await approveLatestRequest(s);
    await eventually(async () =>
      (await botMessages(s, s.room)).some((m) => m.text?.includes("started verkoop-offers")),
    );
    const elsewhere = await s.control.sendMessage(s.group, {
      from_id: s.bob.id,
      text: OFFER,
      message_thread_id: vraag.message_thread_id,
    });
    const album = await s.control.sendAlbum(s.group, {
      from_id: s.bob.id,
      message_thread_id: verkoop.message_thread_id,
      items: [{ photo: true }, { photo: true, caption: OFFER }, { photo: true }],
      delivery_order: "reversed",
    });
    const albumIds = album.map((m) => m.message_id);
    const harmless = await s.control.sendMessage(s.group, {
      from_id: s.alice.id,
      text: "wie komt er zaterdag?",
      message_thread_id: verkoop.message_thread_id,
    });
    await s.control.editMessage(s.group, harmless.message_id, { text: OFFER });

    await eventually(() => deleted([...albumIds, harmless.message_id]));
    await eventually(async () => (await replies()).length === 2);
    const answered = await replies();
    // Each in Verkoop, one for the album (its captioned item) and one for the edited-in offer.
    expect(answered.map((m) => m.message_thread_id)).toEqual([
      verkoop.message_thread_id,
      verkoop.message_thread_id,
    ]);
    expect(answered.map((m) => m.reply_to_message?.message_id).sort()).toEqual(
      [albumIds[1], harmless.message_id].sort(),
    );
    // The album is kept whole as evidence; the offer in Vraag is neither answered nor removed.
    const unit = JSON.parse(
      (await s.redis.hget(
        collectKeys.evidence(s.caseId),
        `${s.group}:album:${album[0]?.media_group_id}`,
      )) as string,
    ) as { message_ids: number[] };
    expect(unit.message_ids).toEqual(albumIds);
    expect(await deleted([elsewhere.message_id])).toBe(false);
  });
});
