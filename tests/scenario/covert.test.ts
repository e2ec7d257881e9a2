/**
 * The shipped covert-observe scenario: for two simulated days of a busy
 * group, with members even writing to the bot, nothing members can see
 * changes. The proof is the simulator's record of every Bot API call: the
 * bot posted only in the control room and changed no permission, title,
 * pin or membership — while the operators heard of every offer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RehearsalResult } from "../../src/cli/rehearsal.ts";
import type { CallRecord, ChatSnapshot } from "../../src/sim/index.ts";
import { type Staged, stageRehearsal, textOf } from "./helpers.ts";

let s: Staged;
let result: RehearsalResult;
let calls: CallRecord[];
let before: ChatSnapshot;
let after: ChatSnapshot;

beforeAll(async () => {
  s = await stageRehearsal({ scenario: "covert-observe" });
  before = await s.r.control.chat(s.r.aliases.fw1 as number);
  await s.r.operatorSays("/scenario start covert-observe fw1");
  await s.r.runUntilDone("fw1");
  calls = await s.calls();
  after = await s.r.control.chat(s.r.aliases.fw1 as number);
  result = await s.r.finish("fw1");
}, 120_000);
afterAll(async () => {
  await s?.r.close();
});

/** Methods that change what someone other than the bot can see. */
const VISIBLE =
  /^(send|copy|forward|edit|delete|pin|unpin|setChat|restrict|ban|unban|promote|approve|decline|export|create|revoke|setMessageReaction|leaveChat)/;

describe("covert-observe rehearsal", () => {
  it("ran its two days to the end, verified", () => {
    expect(result, s.lines.join("\n")).toMatchObject({
      ok: true,
      runStatus: "finished",
      verified: true,
    });
  });

  it("sent nothing anywhere but the control room, and changed nothing", async () => {
    const visible = calls.filter((c) => VISIBLE.test(c.method));
    expect(visible.length).toBeGreaterThan(0);
    for (const c of visible) {
      expect(c.method, JSON.stringify(c.params)).toBe("sendMessage");
      expect((c.params as { chat_id: number }).chat_id).toBe(s.r.room);
    }
    expect(after.title).toBe(before.title);
    expect(after.description).toBe(before.description);
    expect(after.permissions).toEqual(before.permissions);
    expect(after.pinned_message_ids).toEqual(before.pinned_message_ids);
    expect(after.photo).toEqual(before.photo);
    // Memberships as they were, except a restriction that simply ran out on the simulated clock.
    const now = s.r.sim.sim.clock.now();
    const expired = (m: ChatSnapshot["members"][number]) =>
      m.status === "restricted" && m.until_date > 0 && m.until_date <= now;
    expect(after.members.map((m) => m.user?.id)).toEqual(before.members.map((m) => m.user?.id));
    before.members.forEach((m, i) => {
      if (!expired(m)) expect(after.members[i]?.status, String(m.user?.id)).toBe(m.status);
    });
    expect(after.messages.filter((m) => m.deleted)).toEqual([]);
    // Members who wrote to the bot got no answer.
    for (const key of ["mike", "fleur", "mees"]) {
      const dialog = await s.r.control.chat(s.r.users[key] as number);
      expect(dialog.messages.filter((m) => m.sender_id === s.r.botId)).toEqual([]);
    }
  });

  it("told the operators of offers and of talk about the police", () => {
    const room = calls.filter((c) => c.method === "sendMessage").map(textOf);
    expect(room.filter((t) => t.includes("offer by")).length).toBe(5);
    expect(room).toContainEqual(
      expect.stringContaining("mentions the police: Is dit echt de politie??"),
    );
    expect(room.at(-1)).toContain("two days of observation are over");
  });
});
