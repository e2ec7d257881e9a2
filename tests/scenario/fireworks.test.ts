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

  it("printed, at simulated times, who did what to whom: members, the police, Warden, and the audit entries", () => {
    const transcript = s.lines.join("\n");
    for (const line of [
      "[12-27 19:00] Duty officer (operator) writes in the control room: /scenario start fireworks-takeover fw1",
      "[12-27 19:00] Team lead (supervisor) presses “Approve” under Warden's request for approval",
      "[12-27 19:00] Warden renames group fw1 to “Deze groep is overgenomen door de politie”",
      "[12-27 19:03] Bram Visser writes in group fw1: Ik heb nog 3 dozen Vlinders over, 25 euro per doos",
      "[12-27 19:03] Warden deletes Bram Visser's message in group fw1",
      "[12-27 20:01] Mike Peters writes to Warden: Hello? What happened to the group?",
      "[12-27 20:01] Warden writes to Mike Peters: Were you mainly a buyer, a seller, or neither in this group? [Buyer | Seller | Neither]",
      "[12-27 20:02] Mike Peters presses “Buyer” under Warden's message “Were you mainly a buyer, a seller, or neither in this group?”",
      "[12-27 20:02] Fleur de Jong sends Warden a photo",
      "[12-27 21:00] Mees de Groot asks to join group fw1",
      "[12-30 19:00] Team lead (supervisor) presses “Approve” under Warden's request for approval",
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
    expect(transcript).toMatch(
      /^ {11}audit #\d+ Duty officer started the scenario in group fw1 as run fw1-[0-9a-f]{8} \[scenario\.start\]$/m,
    );
    expect(transcript).toMatch(/^ {11}audit #\d+ the scenario finished \[scenario\.finish\]$/m);
  });

  it("named the member whose message Telegram refused, and said why in plain words", () => {
    expect(s.lines).toContain(
      "[12-27 19:12] Ruben Mulder's message in group fw1 was refused by Telegram: it replied to a message that no longer exists",
    );
    expect(s.lines).toContain(
      "[12-27 19:15] Femke van Dijk's photo in group fw1 was refused by Telegram: Femke van Dijk may not send photos there now",
    );
    expect(s.lines.filter((l) => l.includes("refused a member's message"))).toEqual([]);
  });

  it("said what the freeze and the release let members do, in words, naming permissions one way", () => {
    expect(s.lines).toContain(
      "[12-27 19:00] Warden changes what members of group fw1 may do: they may now send only text; audio files, documents, photos, videos, video messages, voice messages, polls, stickers and GIFs and link previews are off",
    );
    expect(s.lines).toContain(
      "[12-30 19:00] Warden changes what members of group fw1 may do: they may now send anything; they may also react to messages and invite people",
    );
    // No permission in Telegram's field names, and nothing that reads as if trade were allowed.
    expect(s.lines.filter((l) => /\b(can_|send_)[a-z_]+/.test(l))).toEqual([]);
    expect(s.lines.filter((l) => l.endsWith("may now send text"))).toEqual([]);
  });

  it("printed each request for approval before the supervisor's answer to it", () => {
    const requests = s.lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => l.startsWith("[") && l.includes("Warden writes in the control room"))
      .filter(([, i]) => s.lines.slice(i, i + 3).some((l) => l.includes("Approval needed")))
      .map(([, i]) => i);
    const presses = s.lines
      .map((l, i) => [l, i] as const)
      .filter(([l]) => l.includes("(supervisor) presses “Approve”"))
      .map(([, i]) => i);
    expect(requests).toHaveLength(2);
    expect(presses).toHaveLength(2);
    for (const [n, press] of presses.entries()) {
      expect(requests[n], s.lines.join("\n")).toBeLessThan(press);
      // …and the answer's audit entry after the press, not before it.
      const grant = s.lines.findIndex(
        (l, i) => i > (requests[n] as number) && l.includes("[approval.grant]"),
      );
      expect(grant).toBeGreaterThan(press);
    }
  });

  it("printed every message whole: what Warden sent, what members wrote", async () => {
    const shown = s.lines.join("\n");
    const texts = calls
      .filter((c) => c.ok && (c.method === "sendMessage" || c.method === "editMessageText"))
      .map((c) => plainText(String((c.params as { text?: string }).text ?? "")));
    expect(texts.length).toBeGreaterThan(20);
    for (const text of texts)
      for (const line of text.split("\n").filter((l) => l.trim()))
        expect(shown, `cut short or missing: ${line}`).toContain(line.trim());
    // A long member message, whole.
    expect(s.lines).toContain(
      "[12-27 19:30] Chris Walker writes in group fw1: Is this group safe? Heard police are watching these",
    );
  });

  it("followed the log: an action's outcome under the call it reports, member messages before Warden's answer", () => {
    const at = (needle: string) => s.lines.findIndex((l) => l.includes(needle));
    const offer = at("Bram Visser writes in group fw1: Ik heb nog 3 dozen Vlinders");
    const deleted = at("Warden deletes Bram Visser's message in group fw1");
    const outcome = s.lines.findIndex((l, i) => i > deleted && l.includes("[purge]"));
    expect(offer).toBeGreaterThan(-1);
    expect(deleted).toBeGreaterThan(offer);
    expect(outcome).toBeGreaterThan(deleted);
    const title = at("Warden renames group fw1");
    expect(s.lines[title + 1]).toMatch(
      /audit #\d+ the scenario's lockdown \(set-title\) in group fw1: done/,
    );
  });
});

/** A sent message's text as the transcript shows it: no tags, entities decoded, spaces trimmed. */
function plainText(html: string): string {
  return html
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}
