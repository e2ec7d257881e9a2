/**
 * Everything members write reaches operators with invisible formatting
 * characters shown, never applied: a right-to-left override (U+202E) in a
 * member's name would reverse what an officer reads, a zero-width space
 * (U+200B) would make two names look alike. One escaper serves every path;
 * this drives each one: a command's answer (/who), a scenario's notify, an
 * approval request, /check's list of admins, and the rehearsal transcript.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addRole } from "../../src/actions/case-changes.ts";
import { auditEntries } from "../helpers/audit.ts";
import { botMessages, command, eventually, type Stage, startStage } from "../helpers/warden.ts";
import { stageRehearsal } from "../scenario/helpers.ts";

const RLO = "\u202E";
const ZWSP = "\u200B";
const NAME = `Mall${RLO}yro${ZWSP}`;

let stage: Stage | undefined;
afterEach(async () => {
  await stage?.stop();
  stage = undefined;
});

function expectShown(text: string | undefined): void {
  expect(text).toContain("[U+202E]");
  expect(text).toContain("[U+200B]");
  expect(text).not.toContain(RLO);
  expect(text).not.toContain(ZWSP);
}

function scenarioDir(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "warden-invisible-"));
  writeFileSync(join(dir, name), text);
  return dir;
}

describe("invisible characters in what members write", () => {
  it("are shown in command answers, notifications, approvals and /check", async () => {
    stage = await startStage({
      scenariosDir: scenarioDir(
        "notice.yaml",
        [
          "id: notice",
          "title: Tell the operators about every cobra",
          "version: 1",
          "languages: [nl]",
          "rights: []",
          "phases:",
          "  - id: only",
          "    steps:",
          "      - wait: 1d",
          "    triggers:",
          "      - on: message",
          "        keywords: [cobra]",
          "        do:",
          '          - notify: "{member} wrote: {text}"',
          "",
        ].join("\n"),
      ),
    });
    const s = stage;
    const mallory = await s.control.createUser({ first_name: NAME, username: "mallory_rtl" });
    await s.control.join(s.group, mallory.id);
    expect(await command(s, s.room, s.operator, "/scenario start notice fw1")).toMatch(
      /^started notice/,
    );
    await s.control.sendMessage(s.group, { from_id: mallory.id, text: `cobra ${RLO}koop` });
    const notice = await eventually(async () =>
      (await botMessages(s, s.room)).find((m) => m.text?.includes("wrote:")),
    );
    expectShown(notice.text);

    // A command's answer: what Warden knows of the member.
    const who = await command(
      s,
      s.room,
      s.supervisor,
      "/who @mallory_rtl checking a suspected seller",
    );
    expectShown(who);

    // /check lists the group's other admins by name.
    await s.control.promote(s.group, mallory.id, { can_delete_messages: true });
    expectShown(await command(s, s.room, s.operator, "/check fw1"));

    // An approval request names the requester (a name the server's CLI was given).
    await addRole(
      { redis: s.redis, audit: s.audit, actor: { kind: "cli", name: "test" } },
      s.caseId,
      { userId: s.stranger.id, role: "operator", name: NAME },
    );
    const asked = await command(s, s.room, s.stranger, "/lockdown fw1");
    expect(asked).toContain("Approval needed");
    expectShown(asked);
    const entries = await auditEntries(s.redis, s.caseId);
    expect(entries.some((e) => e.op === "approval.request")).toBe(true);
  });

  it("are shown in the rehearsal transcript", async () => {
    const fixtures = new URL("../scenario/fixtures/", import.meta.url).pathname;
    // Kees's name carries both; he posts in the group (the timeline) and writes to the bot (the script).
    const world = readFileSync(`${fixtures}worlds/two-groups.yaml`, "utf8")
      .replace("{ key: kees, first_name: Kees,", `{ key: kees, first_name: "Kees${RLO}${ZWSP}",`)
      .replace(
        "rehearsal:",
        [
          "timeline:",
          `  - { at: 60, chat: one, from: kees, text: "hallo ${RLO}allemaal" }`,
          "rehearsal:",
          "  script:",
          `    - { at: 120, private: kees, text: "wie ${RLO}is dit" }`,
        ].join("\n"),
      );
    const dir = mkdtempSync(join(tmpdir(), "warden-invisible-world-"));
    writeFileSync(join(dir, "two-groups.yaml"), world);
    const s = await stageRehearsal({
      worldPath: join(dir, "two-groups.yaml"),
      scenariosDir: fixtures,
      scenario: "pausable",
    });
    try {
      await s.r.advanceTo(s.r.sim.sim.clock.nowMs() + 300_000);
      await s.r.settle();
      await s.r.flush();
      const timeline = s.lines.find((l) => l.includes("allemaal"));
      const script = s.lines.find((l) => l.includes("writes to Warden"));
      expectShown(timeline);
      expectShown(script);
      expect(s.lines.join("\n")).not.toContain(RLO);
    } finally {
      await s.r.close();
    }
  });
});
