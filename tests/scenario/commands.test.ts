/**
 * `/scenario` in the control room: list, start (with a supervisor's approval
 * when the scenario seals or releases the group, refused when the bot lacks a
 * declared right or the chat already runs one), pause and resume (time spent
 * paused does not count), skip past a failed step, abort, status — and two
 * chats running different scenarios at once. Only operators act; an auditor may only look.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRole } from "../../src/actions/case-changes.ts";
import { type Staged, stageRehearsal } from "./helpers.ts";

const fixtures = new URL("./fixtures/", import.meta.url).pathname;
let s: Staged;

beforeAll(async () => {
  s = await stageRehearsal({
    worldPath: `${fixtures}worlds/two-groups.yaml`,
    scenariosDir: fixtures,
    scenario: "pausable",
  });
  await addRole(
    { redis: s.r.redis, audit: s.r.audit, actor: { kind: "cli", name: "test" } },
    s.r.caseId,
    {
      userId: s.r.users.clerk as number,
      role: "auditor",
      name: "Audit clerk",
    },
  );
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

/** Types a command in the control room and returns what the bot said there in answer. */
async function command(text: string, from = s.r.operator): Promise<string> {
  const before = (await botTexts(s.r.room)).length;
  await s.r.control.sendMessage(s.r.room, { from_id: from, text });
  await s.r.settle();
  return (await botTexts(s.r.room)).slice(before).join("\n");
}

async function later(seconds: number): Promise<void> {
  await s.r.advanceTo(s.r.sim.sim.clock.nowMs() + seconds * 1000);
  await s.r.settle();
  await s.r.warden.scenarios.tick();
  await s.r.settle();
}

const fw1 = () => s.r.aliases.fw1 as number;
const fw2 = () => s.r.aliases.fw2 as number;

describe("/scenario", () => {
  it("lists the scenarios of its directory, broken ones with a pointer to the linter", async () => {
    const text = await command("/scenario list");
    expect(text).toContain("• pausable v1 — Warn, wait a day, tell the operators (phases: only)");
    expect(text).toContain(
      "• sealing v1 — Seal for an hour (phases: seal; starting needs approval)",
    );
    expect(text).toMatch(
      /✗ .*broken\.yaml: \d+ problem\(s\), first: .+; run warden scenario lint on it/,
    );
  });

  it("lets an auditor look but not act", async () => {
    expect(await command("/scenario start pausable fw1", s.r.users.clerk)).toBe(
      "only operators may start a scenario; your role is auditor",
    );
    expect(await command("/scenario status", s.r.users.clerk)).toMatch(
      /no scenario has run in case/,
    );
  });

  it("refuses to start when the bot lacks a right the scenario declares", async () => {
    expect(await command("/scenario start valid-example fw2")).toBe(
      "valid-example was not started: the bot lacks can_pin_messages in fw2; ask the owner account to grant it, then start again",
    );
    const entries = await s.entries();
    expect(entries.at(-1)).toMatchObject({
      op: "scenario.start",
      phase: "refused",
      params: { missing: ["can_pin_messages"] },
      scenario: { id: "valid-example", step: "start" },
    });
  });

  it("runs different scenarios in two chats at once; sealing waits for a supervisor", async () => {
    const started = await command("/scenario start pausable fw1");
    expect(started).toMatch(/^started pausable v1 \([0-9a-f]{12}\) on fw1 as run fw1-[0-9a-f]{8}/);
    expect((await botTexts(fw1())).at(-1)).toBe(
      "Knallers Eén staat onder toezicht van de politie.\n\n—\n\nKnallers Eén is watched by the police.",
    );

    const asked = await command("/scenario start sealing fw2");
    expect(asked).toContain("Approval needed");
    expect((await s.r.control.chat(fw2())).title).toBe("Knallers Twee");
    expect(await s.r.approvePending()).toBe(1);
    await s.r.settle();
    expect((await s.r.control.chat(fw2())).title).toBe("Deze groep is overgenomen door de politie");

    expect(await command("/scenario start pausable fw1")).toMatch(
      /^fw1 already runs pausable \(run fw1-[0-9a-f]{8}, running\): \/scenario abort fw1 first$/,
    );
    const status = await command("/scenario status");
    expect(status).toMatch(/fw1: pausable v1 .*\n {2}at only\/day, waiting until .* \(in 1d\)/);
    expect(status).toMatch(/fw2: sealing v1 .*\n {2}at seal\/hour, waiting until .* \(in 1h\)/);
  });

  it("pauses one run while the other goes on, and does not count the time spent paused", async () => {
    expect(await command("/scenario pause fw1")).toBe(
      "pausable on fw1 is paused at only/day; /scenario resume fw1 goes on",
    );
    await later(2 * 3600);
    const status = await command("/scenario status");
    expect(status).toMatch(/fw2: sealing .*\n {2}finished/);
    expect((await s.r.control.chat(fw2())).permissions).toMatchObject({ can_send_messages: true });
    await later(86_400);
    expect(await command("/scenario status fw1")).toMatch(
      /fw1: pausable .*\n {2}paused at only\/day/,
    );
    expect((await botTexts(s.r.room)).some((t) => t.includes("the day is over"))).toBe(false);

    const resumed = await command("/scenario resume fw1");
    // A day's wait, paused after a moment and resumed 26 hours later: nearly all of it is still to come.
    expect(resumed).toMatch(/at only\/day, waiting until .* \(in 1d\)/);
  });

  it("aborts a run: nothing more happens, and every change is on the record", async () => {
    expect(await command("/scenario abort fw1")).toMatch(
      /^pausable on fw1 is aborted at only\/day/,
    );
    const before = (await botTexts(fw1())).length;
    await s.r.control.sendMessage(fw1(), {
      from_id: s.r.users.kees as number,
      text: "Cobra 6 op voorraad, 15 euro per stuk. DM @kees_knal",
    });
    await later(2 * 86_400);
    expect((await botTexts(fw1())).length).toBe(before);
    expect((await botTexts(s.r.room)).some((t) => t.includes("the day is over"))).toBe(false);
    const ops = (await s.entries()).filter((e) => /^scenario\.(pause|resume|abort)$/.test(e.op));
    expect(ops.map((e) => [e.op, e.actor.kind, e.scenario?.id])).toEqual([
      ["scenario.pause", "operator", "pausable"],
      ["scenario.resume", "operator", "pausable"],
      ["scenario.abort", "operator", "pausable"],
    ]);
    expect(await command("/scenario resume fw1")).toBe(
      "no scenario runs there: /scenario start <id> <alias> starts one",
    );
  });

  it("skips a failed step on an operator's word, on the record, and only a failed one", async () => {
    expect(await command("/scenario start pinning fw1")).toMatch(/^started pinning/);
    expect(await command("/scenario skip fw1")).toBe(
      `run ${(await s.r.warden.scenarios.runs(s.r.caseId, 1))[0]?.id} is running: only the failed step of a failed run can be skipped`,
    );
    // The owner takes the pin right away during the wait: the pin step fails when the hour is up.
    await s.r.control.promote(fw1(), s.r.botId, {
      can_manage_chat: true,
      can_delete_messages: true,
      can_restrict_members: true,
      can_invite_users: true,
      can_change_info: true,
    });
    await later(3600);
    const failedNote = (await botTexts(s.r.room)).at(-1) ?? "";
    expect(failedNote).toContain("step only/pin-it failed");
    expect(failedNote).toContain("/scenario skip fw1 goes on without it");
    expect(await command("/scenario status fw1")).toMatch(/fw1: pinning .*\n {2}failed/);

    const skipped = await command("/scenario skip fw1");
    expect(skipped).toContain("skipped only/pin-it");
    expect(skipped).toContain("fw1: pinned or skipped");
    expect(skipped).toMatch(/finished/);
    expect(await command("/scenario skip fw1")).toBe(
      "no scenario runs there: /scenario start <id> <alias> starts one",
    );
    const skip = (await s.entries()).find((e) => e.op === "scenario.skip");
    expect(skip).toMatchObject({
      actor: { kind: "operator" },
      params: { step: "only/pin-it", failure: expect.stringContaining("can_pin_messages") },
      scenario: { id: "pinning" },
    });
  });
});
