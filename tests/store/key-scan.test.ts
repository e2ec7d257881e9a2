/**
 * Every key Warden writes is declared in the key registry (src/store/layout/).
 * A full rehearsal on the test Redis — the shipped fireworks takeover on its
 * world (lockdown, freeze, pinned warning, offers answered, helpdesk and
 * intake conversations, a supervisor's release approval), operators' commands
 * on a second, basic group (a freeze, a lockdown approved by the supervisor,
 * a purge, bot-created invite links, a join request) and that group's upgrade
 * to a supergroup. Every key written meanwhile (seen through keyspace
 * notifications, so keys that live for a moment count too) and every key
 * left in Redis at the end (SCAN, with its type) must be declared by a shape:
 * the test fails naming each one that is not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChat } from "../../src/actions/case-changes.ts";
import type { RehearsalResult } from "../../src/cli/rehearsal.ts";
import { caseOfChat } from "../../src/store/cases.ts";
import { botKeys, globalScenarioKeys } from "../../src/store/keys.ts";
import {
  allKeys,
  leftUnder,
  undeclaredKeys,
  undeclaredNames,
  watchKeyEvents,
} from "../helpers/keys.ts";
import { freshRedisUrl } from "../helpers/redis.ts";
import { type Staged, stageRehearsal } from "../scenario/helpers.ts";

const OFFER = "Cobra 6 op voorraad, 15 euro per stuk. DM @kev_cobra";
let s: Staged;
let result: RehearsalResult;
let basic: number;
let upgraded: number;
let written: Set<string>;

/** Types a command in the control room, approves what it asks for, and waits until all is handled. */
async function command(text: string): Promise<void> {
  await s.r.operatorSays(text);
  while ((await s.r.approvePending()) > 0) await s.r.settle();
}

beforeAll(async () => {
  const redisUrl = await freshRedisUrl();
  const watch = await watchKeyEvents(redisUrl);
  s = await stageRehearsal({ scenario: "fireworks-takeover", redisUrl });
  const { r } = s;
  const [owner, kevin, daan, lotte] = ["owner", "kevin", "daan", "lotte"].map(
    (key) => r.users[key] as number,
  );

  // A basic group seized next to the scenario's supergroup, worked by hand.
  ({ id: basic } = await r.control.createChat({
    type: "group",
    title: "Knallers",
    owner_id: owner as number,
  }));
  for (const member of [kevin, daan]) await r.control.join(basic, member as number);
  await r.control.join(basic, r.botId);
  await r.control.promote(basic, r.botId, "all");
  await addChat(
    { redis: r.redis, audit: r.audit, actor: { kind: "cli", name: "test" } },
    r.caseId,
    { chatId: basic, alias: "fw2" },
  );
  await r.control.sendMessage(basic, { from_id: daan as number, text: "Hoe laat vanavond?" });
  await command("/freeze fw2 trade");
  await r.control.sendMessage(basic, { from_id: kevin as number, text: OFFER });
  await command("/lockdown fw2");
  await command("/purge fw2 last 1");
  const link = await r.warden.bot.api.createChatInviteLink(basic, { name: "lokaas" });
  await r.control.join(basic, lotte as number, { invite_link: link.invite_link });
  await r.control.requestToJoin(basic, r.users.thijs as number);
  await r.settle();
  ({ id: upgraded } = await r.control.upgradeChat(basic, owner));
  await r.settle();

  await r.operatorSays("/scenario start fireworks-takeover fw1");
  await r.runUntilDone("fw1");
  await command("/status");
  result = await r.finish("fw1");
  written = await watch.stop();
}, 180_000);
afterAll(async () => {
  await s?.r.close();
});

describe("the key registry against a full rehearsal", () => {
  it("rehearsed the takeover to the end", () => {
    expect(result, s.lines.join("\n")).toMatchObject({ ok: true, runStatus: "finished" });
  });

  it("declares every key the rehearsal wrote, and the type of every key it left", async () => {
    expect(written.size).toBeGreaterThan(100);
    // Keys that exist only while something is under way were seen.
    expect(written).toContain(botKeys.scenarioInbox());
    expect(written).toContain(globalScenarioKeys.conversations());
    expect((await allKeys(s.r.redis)).length).toBeGreaterThan(100);
    expect([...undeclaredNames(written), ...(await undeclaredKeys(s.r.redis))]).toEqual([]);
  });

  it("left nothing but evidence under the id the basic group had before its upgrade", async () => {
    expect(await caseOfChat(s.r.redis, upgraded)).toBe(s.r.caseId);
    expect(await leftUnder(s.r.redis, basic)).toEqual([]);
  });
});
