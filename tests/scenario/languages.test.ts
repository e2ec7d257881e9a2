/**
 * Scenarios in any language: `languages:` takes ISO 639-1 codes, members get
 * theirs when the scenario speaks it (else its default), right-to-left
 * templates reach Telegram exactly as written while a member's name in them
 * has its invisible characters shown; Warden's own texts are Dutch and
 * English only, so the linter names each one a scenario in another language
 * would post, and what to write instead.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintScenarioFile } from "../../src/scenario/definition/load.ts";
import { type Staged, stageRehearsal } from "./helpers.ts";

const fixture = new URL("./fixtures/arabic.yaml", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "warden-languages-"));

describe("linting a scenario in a language Warden does not ship", () => {
  it("names every text Warden would post in Dutch and English only, and what to write", async () => {
    const file = join(scratch, "turkish.yaml");
    writeFileSync(
      file,
      [
        "id: turkish",
        "title: Turkish and English",
        "version: 1",
        "languages: [tr, en]",
        "rights: [can_change_info, can_invite_users, can_restrict_members, can_pin_messages]",
        "templates:",
        '  q: { tr: "Alıcı mıydınız?", en: "Were you buying?", nl: "Kocht u?" }',
        "conversations:",
        "  talk:",
        "    steps:",
        "      - ask: { template: q, expect: anything, timeout: 1h }",
        "phases:",
        "  - id: a",
        "    steps:",
        "      - lockdown: true",
        "      - warn: { template: takeover, pin: true }",
        "      - wait: 1d",
        "      - release: true",
        "    triggers:",
        "      - on: private_message",
        "        do: [{ start: talk }]",
      ].join("\n"),
    );
    const { problems } = await lintScenarioFile(file);
    const speaks = "written in Dutch and English only, and this scenario speaks Turkish (tr)";
    expect(problems.map((p) => `${p.line}:${p.column} ${p.severity}: ${p.message}`)).toEqual([
      '7:55 warning: template "q" has a Dutch (nl) text, but nl is not one of the scenario\'s languages, so nobody gets it',
      `11:9 error: this question may answer "Please answer with text." (Warden's text-please), ${speaks}`,
      `11:9 error: this question may answer "That is a command, not an answer. Please answer the question." (Warden's not-a-command), ${speaks}`,
      `11:9 error: this question may answer "I do not understand that answer. Please try again." (Warden's not-understood), ${speaks}`,
      `15:19 error: lockdown: without its own title and description sets Warden's, ${speaks}`,
      `16:15 error: template "takeover" is Warden's own, ${speaks}`,
      `18:18 error: release: posts Warden's own template "release", ${speaks}`,
    ]);
    expect(problems.find((p) => p.message.includes("takeover"))?.hint).toBe(
      'define your own template "takeover" under templates:, with a text in each of: tr, en',
    );
  });

  it("refuses a language code that is not ISO 639-1, saying what one is", async () => {
    const file = join(scratch, "code.yaml");
    writeFileSync(
      file,
      "id: code\ntitle: x\nversion: 1\nlanguages: [nl, arabic]\nrights: []\nphases: [{ id: a, steps: [{ wait: 1h }] }]\n",
    );
    const [problem] = (await lintScenarioFile(file)).problems;
    expect(problem).toMatchObject({
      line: 4,
      column: 17,
      message: '"arabic" is not allowed here',
      hint: expect.stringMatching(/^An ISO 639-1 language code: nl, en, ar, tr/),
    });
  });
});

describe("a rehearsal in Arabic and English", () => {
  let s: Staged;
  beforeAll(async () => {
    s = await stageRehearsal({ scenario: fixture });
    await s.r.operatorSays("/scenario start arabic s1");
    await s.r.runUntilDone("s1");
    const result = await s.r.finish("s1");
    expect(result, s.lines.join("\n")).toMatchObject({ ok: true, runStatus: "finished" });
  }, 60_000);
  afterAll(async () => {
    await s?.r.close();
  });

  it("answers each member in their language, or the default, right-to-left text as written", async () => {
    const group = s.r.aliases.s1 as number;
    const sent = (await s.calls())
      .filter((c) => c.method === "sendMessage" && c.ok)
      .map((c) => c.params as { chat_id: number; text: string })
      .filter((p) => p.chat_id === group)
      .map((p) => p.text);
    expect(sent).toEqual([
      // The group gets every language, the default (en) first.
      "This group is watched by the police.\n\n—\n\n\u200Fهذه المجموعة تحت مراقبة الشرطة.",
      // Omar (ar): the author's right-to-left mark kept; the override in his name shown, not applied.
      "\u200F[U+202E]ramo، التجارة هنا ممنوعة.",
      "Tom, trading here is not allowed.",
      // Kees (nl): not a language of the scenario, so its default.
      "Kees, trading here is not allowed.",
    ]);
    expect(s.lines).toContain(
      "[05-01 18:01] Warden answers [U+202E]ramo's message in group s1: [U+200F][U+202E]ramo، التجارة هنا ممنوعة.",
    );
  });
});
