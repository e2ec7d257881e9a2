/**
 * The four-eyes rule is the catalog's, whichever path asks: an operator's
 * command, a scenario step or a scenario trigger acting on more members or
 * messages than the threshold waits for a supervisor, and a scenario that can
 * remove, restrict or delete needs one to start. Each path is driven through
 * the real bot against the simulator, with the threshold set to 1 (commands,
 * steps) or 0 (a trigger, which acts on one member at a time).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { auditEntries, expectLogVerifies } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.stop();
  stage = undefined;
});

interface Request {
  message_id: number;
  text: string;
  approve: string;
}

/** Approval requests in the control room still waiting for an answer (an answer edits the text), oldest first. */
async function requests(s: Stage): Promise<Request[]> {
  const messages = (await s.control.chat(s.room)).messages.map(
    (m) =>
      m.message as {
        message_id: number;
        text?: string;
        reply_markup?: { inline_keyboard: { callback_data: string }[][] };
      },
  );
  return messages.flatMap((m) => {
    const data = m.reply_markup?.inline_keyboard[0]?.[0]?.callback_data;
    return data && m.text?.includes("Approval needed")
      ? [{ message_id: m.message_id, text: m.text, approve: data }]
      : [];
  });
}

async function approve(s: Stage, request: Request): Promise<string | undefined> {
  const { callback_query_id } = await s.control.pressButton({
    from_id: s.supervisor.id,
    chat_id: s.room,
    message_id: request.message_id,
    data: request.approve,
  });
  const answer = await eventually(async () => {
    const a = await s.control.callbackAnswer(callback_query_id);
    return a.answered ? a.answer : undefined;
  });
  return answer?.text;
}

async function memberStatus(s: Stage, userId: number): Promise<string | undefined> {
  return (await s.control.chat(s.group)).members.find((m) => m.user?.id === userId)?.status;
}

function scenarioDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "warden-four-eyes-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("commands above the threshold wait for a supervisor", () => {
  it.each([
    ["kick", (a: number, b: number) => `/kick fw1 ${a} ${b}`, "left"],
    ["restrict", (a: number, b: number) => `/restrict fw1 ${a} ${b} 2h`, "restricted"],
    ["ban", (a: number, b: number) => `/ban fw1 ${a} ${b}`, "kicked"],
  ])("/%s of two members with a threshold of 1", async (name, text, after) => {
    stage = await startStage({ approvalThreshold: 1 });
    const s = stage;
    const answer = await command(s, s.room, s.operator, text(s.alice.id, s.bob.id));
    expect(answer).toContain("Approval needed");
    expect(answer).toContain(`asks to run ${name} fw1`);
    expect(await memberStatus(s, s.alice.id)).toBe("member");
    const entries = await auditEntries(s.redis, s.caseId);
    expect(entries.some((e) => e.op === name && e.phase === "intent")).toBe(false);

    const [request] = await requests(s);
    expect(await approve(s, request as Request)).toBe("Approved");
    await eventually(async () => (await memberStatus(s, s.bob.id)) === after);
    expect(await memberStatus(s, s.alice.id)).toBe(after);
    const intents = (await auditEntries(s.redis, s.caseId)).filter(
      (e) => e.op === name && e.phase === "intent",
    );
    expect(intents.length).toBeGreaterThanOrEqual(2);
    expect(intents[0]?.actor).toMatchObject({ kind: "operator", id: s.operator.id });
    await expectLogVerifies(s.redis, s.caseId);
  });

  it("/purge of more messages than the threshold; one member or message runs at once", async () => {
    stage = await startStage({ approvalThreshold: 1 });
    const s = stage;
    const posted: number[] = [];
    for (const text of ["een", "twee"]) {
      const m = await s.control.sendMessage(s.group, { from_id: s.alice.id, text });
      posted.push(m.message_id);
    }
    await eventually(async () =>
      (await auditEntries(s.redis, s.caseId)).some((e) => e.op === "collect"),
    );
    expect(await command(s, s.room, s.operator, `/purge fw1 ${posted.join(" ")}`)).toContain(
      "Approval needed",
    );
    expect(await command(s, s.room, s.operator, `/kick fw1 ${s.bob.id}`)).toContain(
      "was removed from fw1",
    );
    const [request] = await requests(s);
    expect(request?.text).toContain("purging 2 (more than 1)");
    await approve(s, request as Request);
    await eventually(async () =>
      (await botMessages(s, s.room)).some((m) => m.text?.includes("2 of 2 messages deleted")),
    );
  });
});

describe("the case's own threshold", () => {
  it("overrides the bot's default: two members are too many in a case that says one", async () => {
    stage = await startStage({ caseApprovalThreshold: 1 });
    const s = stage;
    const answer = await command(s, s.room, s.operator, `/ban fw1 ${s.alice.id} ${s.bob.id}`);
    expect(answer).toContain("banning 2 (more than 1)");
    expect(await memberStatus(s, s.alice.id)).toBe("member");
  });
});

describe("scenarios", () => {
  it("a ban step naming more members than the threshold waits for a supervisor", async () => {
    stage = await startStage({
      approvalThreshold: 1,
      scenariosDir: scenarioDir({
        "mass-ban.yaml": [
          "id: mass-ban",
          "title: Ban two sellers",
          "version: 1",
          "languages: [nl]",
          "rights: [can_restrict_members]",
          "phases:",
          "  - id: only",
          "    steps:",
          '      - ban: { users: ["@alice_nl", "@bob_cobra"] }',
          "",
        ].join("\n"),
      }),
    });
    const s = stage;
    // Members named by @username must have been seen by Warden.
    for (const who of [s.alice, s.bob])
      await s.control.sendMessage(s.group, { from_id: who.id, text: "hoi" });
    await eventually(async () =>
      (await auditEntries(s.redis, s.caseId)).some((e) => e.op === "collect"),
    );
    const asked = await command(s, s.room, s.operator, "/scenario start mass-ban fw1");
    expect(asked).toContain("Approval needed"); // to start: the scenario can ban
    await approve(s, (await requests(s))[0] as Request);
    const step = await eventually(async () => (await requests(s))[0]);
    expect(step.text).toContain("banning 2 (more than 1)");
    expect(await memberStatus(s, s.alice.id)).toBe("member");
    await approve(s, step);
    await eventually(async () => (await memberStatus(s, s.bob.id)) === "kicked");
    expect(await memberStatus(s, s.alice.id)).toBe("kicked");
    await expectLogVerifies(s.redis, s.caseId);
  });

  it("a trigger that restricts needs approval to start, and above the threshold waits per use", async () => {
    stage = await startStage({
      approvalThreshold: 0,
      scenariosDir: scenarioDir({
        "mute-offers.yaml": [
          "id: mute-offers",
          "title: Mute whoever says cobra",
          "version: 1",
          "languages: [nl]",
          "rights: [can_restrict_members]",
          "phases:",
          "  - id: only",
          "    steps:",
          "      - wait: 1d",
          "    triggers:",
          "      - on: message",
          "        keywords: [cobra]",
          "        do:",
          "          - restrict: 1h",
          "",
        ].join("\n"),
      }),
    });
    const s = stage;
    const list = await command(s, s.room, s.operator, "/scenario list");
    expect(list).toContain(
      "mute-offers v1 — Mute whoever says cobra (phases: only; starting needs approval)",
    );
    expect(await command(s, s.room, s.operator, "/scenario start mute-offers fw1")).toContain(
      "Approval needed",
    );
    await approve(s, (await requests(s))[0] as Request);
    await eventually(async () =>
      (await auditEntries(s.redis, s.caseId)).some((e) => e.op === "scenario.start"),
    );
    await s.control.sendMessage(s.group, { from_id: s.alice.id, text: "cobra 6 te koop" });

    const perUse = await eventually(async () => (await requests(s))[0]);
    expect(perUse.text).toContain("restrict fw1");
    expect(perUse.text).toContain("restricting 1 (more than 0)");
    expect(await memberStatus(s, s.alice.id)).toBe("member");
    await approve(s, perUse);
    await eventually(async () => (await memberStatus(s, s.alice.id)) === "restricted");
    const restrict = (await auditEntries(s.redis, s.caseId)).find(
      (e) => e.op === "restrict" && e.phase === "intent",
    );
    expect(restrict?.actor).toMatchObject({ kind: "scenario", name: "mute-offers" });
    expect(restrict?.scenario).toMatchObject({ id: "mute-offers" });
    await expectLogVerifies(s.redis, s.caseId);
  });
});
