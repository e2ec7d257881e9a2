/**
 * The shipped drug-market-deterrence scenario in its world: the group stays
 * open; every offer is answered and removed (evidence first); a repeat seller
 * climbs the ladder (warning, 24 hours muted, banned); a seller who never
 * answers the buyer who named him is flagged to the operators as a ghost ad,
 * one who answers is not. Starting it needs a supervisor, because it bans.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/audit/entry.ts";
import type { RehearsalResult } from "../../src/cli/rehearsal.ts";
import type { CallRecord, ChatSnapshot } from "../../src/sim/index.ts";
import { type Staged, stageRehearsal, textOf } from "./helpers.ts";

let s: Staged;
let result: RehearsalResult;
let calls: CallRecord[];
let entries: AuditEntry[];
let before: ChatSnapshot;
let after: ChatSnapshot;

beforeAll(async () => {
  s = await stageRehearsal({ scenario: "drug-market-deterrence" });
  before = await s.r.control.chat(s.r.aliases.dm1 as number);
  await s.r.operatorSays("/scenario start drug-market-deterrence dm1");
  await s.r.runUntilDone("dm1");
  calls = await s.calls();
  entries = await s.entries();
  after = await s.r.control.chat(s.r.aliases.dm1 as number);
  result = await s.r.finish("dm1");
}, 120_000);
afterAll(async () => {
  await s?.r.close();
});

const market = () => s.r.aliases.dm1 as number;
const sem = () => s.r.users.sem as number;
const rick = () => s.r.users.rick as number;

describe("drug-market-deterrence rehearsal", () => {
  it("ran its week, verified, with the start approved by a supervisor because the ladder bans", () => {
    expect(result, s.lines.join("\n")).toMatchObject({
      ok: true,
      runStatus: "finished",
      verified: true,
    });
    const approval = entries.find((e) => e.op === "approval.request");
    expect(approval?.params?.why).toBe("scenario drug-market-deterrence uses restrict, ban, purge");
    expect(entries.some((e) => e.op === "approval.grant")).toBe(true);
  });

  it("kept the group open: same title and permissions, the notice pinned", () => {
    expect(after.title).toBe(before.title);
    expect(after.permissions).toEqual(before.permissions);
    const pinned = after.messages.find((m) => m.message.message_id === after.pinned_message_ids[0]);
    expect((pinned?.message as { text?: string } | undefined)?.text).toContain(
      "Deze groep wordt gevolgd door de politie.",
    );
  });

  it("answered and removed every offer, keeping each as evidence first", async () => {
    const offers = entries.filter(
      (e) => e.op === "scenario.trigger" && e.params?.on === "trade_offer",
    );
    expect(offers.map((e) => e.target?.user_ids?.[0])).toEqual([rick(), sem(), sem(), sem()]);
    const ids = offers.map((e) => e.params?.message_id as number);
    for (const id of ids) {
      expect(
        after.messages.find((m) => m.message.message_id === id)?.deleted,
        `message ${id}`,
      ).toBeDefined();
    }
    const evidence = await s.r.redis.hkeys(`warden:{${s.r.caseId}}:evidence`);
    expect(evidence.sort()).toEqual(ids.map((id) => `${market()}:${id}`).sort());
  });

  it("climbed the ladder for the repeat seller: warning, 24 hours muted, banned", () => {
    const toSem = calls.filter(
      (c) => c.method === "sendMessage" && textOf(c).startsWith("Sem Kok"),
    );
    expect(toSem.map(textOf)).toEqual([
      "Sem Kok, uw aanbod is vastgelegd en verwijderd. Handel in drugs is strafbaar.",
      "Sem Kok, dit is uw tweede aanbod. U kunt 24 uur niets plaatsen.",
      "Sem Kok is uit de groep gezet na herhaald aanbieden van drugs.",
    ]);
    const mute = calls.find((c) => c.method === "restrictChatMember");
    const muted = mute?.params as { user_id: number; until_date: number } | undefined;
    expect(muted?.user_id).toBe(sem());
    expect((muted?.until_date ?? 0) - (mute?.time ?? 0)).toBe(24 * 3600);
    expect(
      calls
        .filter((c) => c.method === "banChatMember")
        .map((c) => (c.params as { user_id: number }).user_id),
    ).toEqual([sem()]);
    expect(after.members.find((m) => m.user?.id === sem())?.status).toBe("kicked");
    expect(after.members.find((m) => m.user?.id === rick())?.status).toBe("member");
  });

  it("flagged the seller who never answered his buyer, and not the one who did", () => {
    const room = calls
      .filter(
        (c) => c.method === "sendMessage" && (c.params as { chat_id: number }).chat_id === s.r.room,
      )
      .map(textOf);
    const ghosts = room.filter((t) => t.includes("ghost ad"));
    expect(ghosts).toEqual([
      expect.stringContaining(
        `ghost ad: Rick Bos (${rick()}) advertised and never answered 1 buyer(s) within 6h`,
      ),
    ]);
    expect(room).toContainEqual(expect.stringContaining("offer 2 by Sem Kok"));
    expect(room).toContainEqual(expect.stringContaining("Bas Prins"));
  });
});
