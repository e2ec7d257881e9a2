/**
 * The shipped fireworks-takeover scenario, rehearsed end to end in the
 * shipped world: the group is sealed with the Dutch title, trade frozen, the
 * bilingual warning pinned, every offer answered in its author's language,
 * members who write to the bot taken through the helpdesk conversation (one
 * answering with a photo, one never answering), a join request answered in
 * private, and the group released after three simulated days once a
 * supervisor approves. Every action carries the scenario's id, hash and step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/audit/entry.ts";
import type { RehearsalResult } from "../../src/cli/rehearsal.ts";
import { loadScenarioFile } from "../../src/scenario/definition/load.ts";
import type { CallRecord } from "../../src/sim/index.ts";
import { type Staged, stageRehearsal, textOf } from "./helpers.ts";

let s: Staged;
let result: RehearsalResult;
let calls: CallRecord[];
let entries: AuditEntry[];
let initialPermissions: Record<string, boolean>;

beforeAll(async () => {
  s = await stageRehearsal({ scenario: "fireworks-takeover" });
  initialPermissions = (await s.r.control.chat(s.r.aliases.fw1 as number)).permissions as Record<
    string,
    boolean
  >;
  await s.r.operatorSays("/scenario start fireworks-takeover fw1");
  await s.r.runUntilDone("fw1");
  calls = await s.calls();
  entries = await s.entries();
  result = await s.r.finish("fw1");
}, 120_000);
afterAll(async () => {
  await s?.r.close();
});

const group = () => s.r.aliases.fw1 as number;
const sends = (chatId: number) =>
  calls.filter(
    (c) =>
      c.method === "sendMessage" && c.ok && (c.params as { chat_id: number }).chat_id === chatId,
  );

describe("fireworks-takeover rehearsal", () => {
  it("ran to the end and left a verified, exported audit log", () => {
    expect(result, s.lines.join("\n")).toMatchObject({
      ok: true,
      runStatus: "finished",
      verified: true,
      failures: [],
      missingRights: [],
    });
    expect(result.exportFiles.some((f) => f.endsWith("report.html"))).toBe(true);
  });

  it("sealed the group with the Dutch title, pinned the bilingual warning and thawed it on release", async () => {
    const chat = await s.r.control.chat(group());
    expect(chat.title).toBe("Deze groep is overgenomen door de politie");
    const pinned = chat.messages.find((m) => m.message.message_id === chat.pinned_message_ids[0]);
    expect((pinned?.message as { text?: string } | undefined)?.text).toContain(
      "Deze groep is overgenomen door de politie.",
    );
    expect((pinned?.message as { text?: string } | undefined)?.text).toContain(
      "This group is now under police control.",
    );
    // Frozen to text only during the hold, back to what it was after the release.
    const freeze = calls.find((c) => c.method === "setChatPermissions");
    expect(
      (freeze?.params as { permissions: Record<string, boolean> } | undefined)?.permissions
        .can_send_photos,
    ).toBe(false);
    expect(chat.permissions).toEqual(initialPermissions);
    expect(sends(group()).at(-1)?.params).toMatchObject({
      text: expect.stringContaining("De politie heeft deze groep vrijgegeven."),
    });
  });

  it("answered every offer, in the language of whoever posted it, once a day per member", () => {
    const replies = sends(group()).filter(
      (c) => (c.params as { reply_parameters?: unknown }).reply_parameters,
    );
    const texts = replies.map(textOf);
    expect(
      texts
        .filter((t) => t.includes("handel in illegaal vuurwerk is strafbaar"))
        .map((t) => t.split(",")[0]),
    ).toEqual(["⚠️ Bram Visser", "⚠️ Kevin Hendriks", "⚠️ Jesse Vos"]);
    expect(
      texts
        .filter((t) => t.includes("trading illegal fireworks is a criminal offence"))
        .map((t) => t.split(",")[0]),
    ).toEqual(["⚠️ Sarah Collins", "⚠️ Liam O'Brien", "⚠️ Liam O'Brien"]);
    const triggered = entries.filter(
      (e) => e.op === "scenario.trigger" && e.params?.on === "trade_offer",
    );
    expect(triggered).toHaveLength(6);
  });

  it("took two members through the helpdesk at once: a button, a photo, a timeout", async () => {
    const mike = s.r.users.mike as number;
    const fleur = s.r.users.fleur as number;
    const mikeSaw = sends(mike).map(textOf);
    expect(mikeSaw).toEqual([
      expect.stringContaining("You are talking to the police"),
      "Were you mainly a buyer, a seller, or neither in this group?",
      expect.stringContaining("Buying illegal fireworks is an offence"),
      expect.stringContaining("Is there anything you want to tell us?"),
      "Thank you, Mike Peters. More information: politie.nl",
    ]);
    const fleurSaw = sends(fleur).map(textOf);
    expect(fleurSaw).toEqual([
      expect.stringContaining("U spreekt met de politie"),
      "Was u in deze groep vooral koper, verkoper of geen van beide?",
      "Antwoord alstublieft met tekst.",
      expect.stringContaining("Verkopen van illegaal vuurwerk is een misdrijf"),
      "Wilt u nog iets kwijt? Uw antwoord wordt vastgelegd.",
      "Dank u, Fleur de Jong. Meer informatie: politie.nl",
    ]);
    const answers = entries.filter(
      (e) => e.op === "collect" && e.params?.purpose === "scenario conversation answer",
    );
    expect(answers.map((e) => [e.target?.user_ids?.[0], e.params?.name])).toEqual([
      [mike, "role"],
      [mike, "statement"],
      [fleur, "role"],
      [s.r.users.mees, "reason"],
    ]);
    expect(
      entries.filter((e) => e.op === "conversation.timeout").map((e) => e.target?.user_ids),
    ).toEqual([[fleur]]);
    const evidence = await s.r.redis.hgetall(`warden:{${s.r.caseId}}:evidence`);
    expect(
      Object.values(evidence).map((v) => (JSON.parse(v) as { answer?: string }).answer),
    ).toEqual(
      expect.arrayContaining([
        "buyer",
        "I only wanted a few for New Year's Eve",
        "seller",
        "Ik wilde nog vuurwerk kopen voor oud en nieuw",
      ]),
    );
  });

  it("answered a join request in the requester's private chat", () => {
    const mees = s.r.users.mees as number;
    expect(sends(mees).map(textOf)).toEqual([
      expect.stringContaining("U vroeg toegang tot Vuurwerk Deals NL"),
      "Dank u. Handel in illegaal vuurwerk is strafbaar.",
    ]);
  });

  it("put the scenario's id, content hash and step in every entry it caused", async () => {
    const { hash } = await loadScenarioFile("scenarios/fireworks-takeover.yaml");
    const caused = entries.filter((e) => e.actor.kind === "scenario");
    expect(caused.length).toBeGreaterThan(50);
    for (const e of caused)
      expect(e.scenario, `#${e.seq} ${e.op}`).toMatchObject({
        id: "fireworks-takeover",
        hash,
        step: expect.any(String),
      });
    const steps = new Set(caused.map((e) => e.scenario?.step));
    for (const step of [
      "seize/lockdown",
      "seize/freeze",
      "seize/warning",
      "seize/pin-warning",
      "hold/three-days",
      "hold/offers",
      "release/approval",
      "release/release",
    ])
      expect(steps).toContain(step);
    // Every intent has its outcome, and each succeeded.
    const outcomes = new Map(
      entries.filter((e) => e.phase === "outcome").map((e) => [e.intent_seq, e]),
    );
    for (const intent of entries.filter((e) => e.phase === "intent"))
      expect(outcomes.get(intent.seq)?.result, `#${intent.seq} ${intent.op}`).toMatchObject({
        ok: true,
      });
    expect(entries.filter((e) => e.op.startsWith("approval.")).map((e) => e.op)).toEqual([
      "approval.request",
      "approval.grant",
      "approval.request",
      "approval.grant",
    ]);
  });

  it("printed, at simulated times, what members, the police and the bot did, and the audit entries", () => {
    const transcript = s.lines.join("\n");
    for (const line of [
      "[12-27 19:00] operator in the control room: /scenario start fireworks-takeover fw1",
      "[12-27 19:00] supervisor presses Approve",
      "[12-27 19:00] group fw1: title is now “Deze groep is overgenomen door de politie”",
      "[12-27 19:03] Bram Visser in group fw1: Ik heb nog 3 dozen Vlinders over, 25 euro per doos",
      "[12-27 20:01] Mike Peters writes to the bot: Hello? What happened to the group?",
      "[12-27 20:01] Mike Peters (private) sees: Were you mainly a buyer, a seller, or neither in this group? [Buyer | Seller | Neither]",
      "[12-27 20:02] Mike Peters presses “Buyer”",
      "[12-27 20:02] Fleur de Jong writes to the bot: [photo] ",
      "[12-27 21:00] Mees de Groot asks to join group fw1",
      "[12-30 19:00] supervisor presses Approve",
    ])
      expect(s.lines, transcript).toContain(line);
    expect(s.lines[0]).toMatch(/^world: \S*scenarios\/worlds\/fireworks\.yaml \(Vuurwerk Deals NL/);
    expect(s.lines[1]).toBe("  chosen because fireworks-takeover names it (world: fireworks)");
    // Recorded answers, with whose they are and what they say (read from the evidence).
    expect(transcript).toMatch(
      /^ {11}audit #\d+ Mike Peters's answer recorded as role: buyer ‹conv:helpdesk\/role›$/m,
    );
    expect(transcript).toMatch(
      /^ {11}audit #\d+ Mike Peters's answer recorded as statement: I only wanted a few for New Year's Eve ‹conv:helpdesk\/statement›$/m,
    );
    expect(transcript).toMatch(/Fleur de Jong's answer recorded as role: seller/);
    expect(transcript).toMatch(/^ {11}audit #\d+ scenario\.start ‹start›$/m);
    expect(transcript).toMatch(/^ {11}audit #\d+ scenario\.finish ‹finish›$/m);
  });
});
