import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectKeys } from "../../src/collect/keys.ts";
import { caseLexiconKey } from "../../src/collect/lexicon/store.ts";
import { getMemberRecord, type StoredMessage } from "../../src/collect/queries.ts";
import { actionKeys } from "../../src/store/keys.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage;
beforeEach(async () => {
  stage = await startStage();
});
afterEach(async () => {
  await stage.stop();
});

const OFFER = "5 cobra 6 voor 50 euro, dm";
const TRADE_WARNING = "Trading is not allowed in this group";

async function isDeleted(messageId: number): Promise<boolean> {
  const snapshot = await stage.control.chat(stage.group);
  return snapshot.messages.some(
    (m) => (m.message as { message_id: number }).message_id === messageId && m.deleted,
  );
}

async function storedMessage(messageId: number): Promise<StoredMessage | undefined> {
  const raw = await stage.redis.hget(
    collectKeys.messages(stage.caseId, stage.group),
    String(messageId),
  );
  return raw ? (JSON.parse(raw) as StoredMessage) : undefined;
}

/**
 * Every update of a chat is handled in order, so once a later message is recorded the
 * handling of everything before it (removals, warnings) has finished.
 */
async function barrier(): Promise<void> {
  const marker = await stage.control.sendMessage(stage.group, {
    from_id: stage.alice.id,
    text: "hoi allemaal",
  });
  await eventually(async () => (await storedMessage(marker.message_id)) !== undefined);
}

async function tradeWarnings(): Promise<number> {
  return (await botMessages(stage, stage.group)).filter((m) => m.text?.includes(TRADE_WARNING))
    .length;
}

async function post(from: { id: number }, text: string, extra: Record<string, unknown> = {}) {
  return stage.control.sendMessage(stage.group, { from_id: from.id, text, ...extra });
}

describe("the trade freeze", () => {
  it("removes offers and forwards with evidence first, warns without flooding, and leaves operators and harmless talk alone", async () => {
    // Before the freeze offers are only flagged.
    const early = await post(stage.bob, OFFER);
    await eventually(async () => (await storedMessage(early.message_id))?.offer !== undefined);
    expect(await command(stage, stage.room, stage.operator, "/freeze fw1 trade")).toContain(
      "frozen (text only)",
    );
    await barrier();
    expect(await isDeleted(early.message_id)).toBe(false);

    const offer = await post(stage.bob, OFFER);
    await eventually(() => isDeleted(offer.message_id));
    await barrier();
    expect(await tradeWarnings()).toBe(1);
    // Evidence first: the removed offer is kept, with the rules that fired.
    const evidence = await stage.redis.hget(
      collectKeys.evidence(stage.caseId),
      `${stage.group}:${offer.message_id}`,
    );
    expect(JSON.parse(evidence as string)).toMatchObject({
      request: `offer:${stage.group}:${offer.message_id}`,
      message: { text: OFFER },
      offer: { rules: expect.arrayContaining(["item:fireworks"]) },
    });

    // A second offer soon after: removed, but no second warning.
    const second = await post(stage.bob, "wie heeft cobra's? betaal 20 euro per stuk");
    await eventually(() => isDeleted(second.message_id));
    await barrier();
    expect(await tradeWarnings()).toBe(1);

    // Forwards cannot be blocked by permissions: they count as violations.
    const forward = await post(stage.alice, "kijk hier", { forward_from_id: stage.bob.id });
    await eventually(() => isDeleted(forward.message_id));

    // Operators are never affected, nor is ordinary talk.
    const byOperator = await post(stage.operator, OFFER);
    const harmless = await post(stage.alice, "wat een mooi weer vandaag");
    await barrier();
    expect(await isDeleted(byOperator.message_id)).toBe(false);
    expect(await isDeleted(harmless.message_id)).toBe(false);
    expect(await tradeWarnings()).toBe(1);

    // An hour later the next removal warns again.
    stage.clock.now += 3600 * 1000;
    const later = await post(stage.bob, OFFER);
    await eventually(() => isDeleted(later.message_id));
    await barrier();
    expect(await tradeWarnings()).toBe(2);

    expect((await getMemberRecord(stage.redis, stage.caseId, stage.bob.id))?.counts.offers).toBe(4);
    await expectLogVerifies(stage.redis, stage.caseId);
  });

  it("removes an offer once, however often its update is delivered", async () => {
    await command(stage, stage.room, stage.operator, "/freeze fw1 trade");
    const offer = await post(stage.bob, OFFER);
    await eventually(() => isDeleted(offer.message_id));
    await barrier();
    const stored = (await storedMessage(offer.message_id)) as StoredMessage;
    const deletesBefore = (await stage.control.calls(0, { method: "deleteMessages" })).length;
    const warningsBefore = await tradeWarnings();
    // Stored messages leave out the chat (it is their key); Telegram's redelivery carries it.
    const chat = { id: stage.group, type: "supergroup", title: "Vuurwerk Deals NL" };
    const again = { update_id: stored.update_id, message: { ...stored.message, chat } } as Update;
    await stage.warden.bot.handleUpdate(again);
    expect((await stage.control.calls(0, { method: "deleteMessages" })).length).toBe(deletesBefore);
    expect(await tradeWarnings()).toBe(warningsBefore);
    expect(
      await stage.redis.exists(
        actionKeys.step(stage.caseId, `offer:${stage.group}:${offer.message_id}`, "delete 1/1"),
      ),
    ).toBe(1);
  });

  it("judges with the case's lexicon, reloaded when it changes", async () => {
    await command(stage, stage.room, stage.operator, "/freeze fw1 trade");
    const before = await post(stage.bob, "knetterballen te koop");
    await barrier();
    expect(await isDeleted(before.message_id)).toBe(false);

    await stage.redis.set(
      caseLexiconKey(stage.caseId),
      JSON.stringify({ add: { "item:fireworks": ["knetterbal*"] } }),
    );
    stage.warden.recorder.cases.invalidate();
    const after = await post(stage.bob, "knetterballen te koop");
    await eventually(() => isDeleted(after.message_id));
    expect((await storedMessage(after.message_id))?.offer?.rules).toContain("item:fireworks");
  });
});
