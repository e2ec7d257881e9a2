/**
 * A seized basic group upgraded to a supergroup: everything that describes
 * the group (its state, the invite links the bot created, pending join
 * requests, the scenario run active there, the trade guard's gate) follows it
 * to its new chat id, and the messages recorded under the old id stay there
 * as evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getChatState } from "../../src/actions/chat-state.ts";
import { readRun } from "../../src/scenario/runtime/run-state.ts";
import { chatByAlias } from "../../src/store/cases.ts";
import { botKeys, chatKeys, collectKeys, scenarioKeys } from "../../src/store/keys.ts";
import { expectLogVerifies } from "../helpers/audit.ts";
import { leftUnder } from "../helpers/keys.ts";
import { type Staged, stageRehearsal } from "../scenario/helpers.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
const OFFER = "Cobra 6 op voorraad, 15 euro per stuk. DM @kees_knal";
let s: Staged;

beforeAll(async () => {
  s = await stageRehearsal({
    worldPath: `${fixtures}worlds/basic-group.yaml`,
    scenariosDir: fixtures,
    scenario: "watch",
  });
}, 60_000);
afterAll(async () => {
  await s?.r.close();
});

async function botTexts(chatId: number): Promise<string[]> {
  const chat = await s.r.control.chat(chatId);
  return chat.messages
    .filter((m) => m.sender_id === s.r.botId && !m.is_service)
    .map((m) => (m.message as { text?: string }).text ?? "");
}

async function command(text: string): Promise<string> {
  const before = (await botTexts(s.r.room)).length;
  await s.r.operatorSays(text);
  return (await botTexts(s.r.room)).slice(before).join("\n");
}

describe("a seized basic group upgraded to a supergroup", () => {
  it("follows the group to its new id with everything that describes it, and leaves its messages as evidence", async () => {
    const { r } = s;
    const old = r.aliases.fw1 as number;
    const kees = r.users.kees as number;
    const piet = r.users.piet as number;

    expect(await command("/scenario start watch fw1")).toContain("started watch");
    const runId = await r.redis.hget(scenarioKeys.active(r.caseId), String(old));
    expect(runId).toBeTruthy();
    expect(await command("/freeze fw1 trade")).toContain("fw1 is frozen");
    const state = await getChatState(r.redis, r.caseId, old);
    expect(state).toMatchObject({ frozen: "trade", savedPermissions: expect.any(Object) });
    // A link the bot created, by which Joan joins; one that asks for approval, by which Piet knocks.
    const link = await r.warden.bot.api.createChatInviteLink(old, { name: "lokaas" });
    await r.control.join(old, r.users.joan as number, { invite_link: link.invite_link });
    const knock = await r.warden.bot.api.createChatInviteLink(old, { creates_join_request: true });
    await r.control.requestToJoin(old, piet, { invite_link: knock.invite_link });
    // An offer: recorded, captured as evidence and removed by the trade guard, which warns.
    const offer = await r.control.sendMessage(old, { from_id: kees, text: OFFER });
    await r.settle();
    expect(await r.redis.smembers(chatKeys.links(r.caseId, old))).toEqual([link.invite_link]);
    expect(await r.redis.smembers(chatKeys.joinRequests(r.caseId, old))).toEqual([String(piet)]);
    expect((await r.redis.hkeys(botKeys.tradeWarnings(r.caseId))).sort()).toEqual([
      `${old}:last`,
      `${old}:since`,
    ]);

    const { id: upgraded } = await r.control.upgradeChat(old, r.users.owner as number);
    await r.settle();

    // Both service messages start the migration; the control room hears of it once.
    expect((await botTexts(r.room)).filter((t) => t.includes("upgraded to a supergroup"))).toEqual([
      `fw1 was upgraded to a supergroup: Warden now follows it as ${upgraded} (was ${old})`,
    ]);
    expect(await chatByAlias(r.redis, r.caseId, "fw1")).toMatchObject({
      chatId: upgraded,
      migratedFrom: old,
    });
    expect(await getChatState(r.redis, r.caseId, upgraded)).toEqual(state);
    expect(await r.redis.smembers(chatKeys.links(r.caseId, upgraded))).toEqual([link.invite_link]);
    expect(await r.redis.smembers(chatKeys.joinRequests(r.caseId, upgraded))).toEqual([
      String(piet),
    ]);
    expect(await r.redis.hget(scenarioKeys.active(r.caseId), String(upgraded))).toBe(runId);
    expect((await readRun(r.redis, r.caseId, runId as string))?.chatId).toBe(upgraded);
    expect((await r.redis.hkeys(botKeys.tradeWarnings(r.caseId))).sort()).toEqual([
      `${upgraded}:last`,
      `${upgraded}:since`,
    ]);
    // Nothing names the old id any more but evidence, which stays where Telegram's ids belong.
    expect(await leftUnder(r.redis, old)).toEqual([]);
    const messageId = String(offer.message_id);
    expect(await r.redis.hexists(collectKeys.messages(r.caseId, old), messageId)).toBe(1);
    expect(await r.redis.hexists(collectKeys.evidence(r.caseId), `${old}:${messageId}`)).toBe(1);

    // The group carries on under its new id: the trade freeze holds and the run answers offers.
    const again = await r.control.sendMessage(upgraded, { from_id: kees, text: OFFER });
    await r.settle();
    expect(
      await r.redis.hexists(collectKeys.evidence(r.caseId), `${upgraded}:${again.message_id}`),
    ).toBe(1);
    expect(await botTexts(upgraded)).toContain("Hallo Kees, dit is de politie.");
    // Aborting ends the run where it is now: no chat is left with an active run.
    expect(await command("/scenario abort fw1")).toContain("aborted");
    expect(await r.redis.hlen(scenarioKeys.active(r.caseId))).toBe(0);
    await expectLogVerifies(r.redis, r.caseId);
  });
});
