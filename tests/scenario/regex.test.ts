/**
 * Members' text meets scenario authors' regular expressions on every message
 * of a seized group, so a pattern must never be able to stall the bot. The
 * patterns run on RE2 (linear time, whatever the pattern and the text), and
 * `warden scenario lint` refuses, at the pattern's place and with what to
 * write instead, what RE2 cannot run.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lintScenarioFile, loadScenarioFile } from "../../src/scenario/definition/load.ts";
import type { Trigger } from "../../src/scenario/definition/schema.ts";
import { accept } from "../../src/scenario/runtime/conversation.ts";
import type { ScenarioEvent } from "../../src/scenario/runtime/events.ts";
import { matches } from "../../src/scenario/runtime/triggers.ts";

const scratch = mkdtempSync(join(tmpdir(), "warden-regex-"));

/** A scenario with one message trigger per pattern and a conversation asking for the last one. */
function scenarioWith(name: string, patterns: string[]): string {
  const quoted = (p: string) => `'${p.replaceAll("'", "''")}'`;
  const lines = [
    `id: ${name}`,
    "title: regexes",
    "version: 1",
    "languages: [en]",
    "rights: []",
    "templates:",
    '  q: { en: "Which?" }',
    "conversations:",
    "  talk:",
    "    steps:",
    `      - ask: { template: q, expect: { regex: ${quoted(patterns.at(-1) ?? "x")} }, timeout: 5m }`,
    "phases:",
    "  - id: one",
    "    steps:",
    "      - wait: 1h",
    "    triggers:",
    ...patterns.flatMap((p) => [
      "      - on: message",
      `        regex: ${quoted(p)}`,
      "        do: [{ start: talk }]",
    ]),
  ];
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

function message(text: string): ScenarioEvent {
  return {
    kind: "message",
    chatId: -100123,
    updateId: 1,
    member: { id: 7, firstName: "M" },
    message: { id: 1, text, media: false, command: false },
  };
}

async function loadTriggers(name: string, patterns: string[]) {
  const loaded = await loadScenarioFile(scenarioWith(name, patterns));
  const triggers = loaded.scenario.phases[0]?.triggers ?? [];
  return { scenario: loaded.scenario, triggers: triggers as Trigger[] };
}

describe("patterns run in linear time", () => {
  it("matches exponential-backtracking shapes against a 10 kB message correctly", async () => {
    const { scenario, triggers } = await loadTriggers("redos", ["(a?){23}b", "(?:a?){24}b"]);
    expect(triggers).toHaveLength(2);
    const flood = "a".repeat(10_240);
    for (const trigger of triggers) {
      // The shape that took a backtracking engine seconds per character: no b, no match.
      expect(matches(trigger, message(flood)), trigger.regex).toBe(false);
      // The same flood ending in b matches, at the very end of the text.
      expect(matches(trigger, message(`${flood}b`)), trigger.regex).toBe(true);
      // Case-insensitive, as before.
      expect(matches(trigger, message(`${flood.toUpperCase()}B`)), trigger.regex).toBe(true);
    }
    const ask = scenario.conversations?.talk?.steps[0];
    if (!ask || !("ask" in ask)) throw new Error("the fixture lost its question");
    expect(accept(ask.ask.expect, flood, scenario, "en")).toBeUndefined();
    expect(accept(ask.ask.expect, "xxaab", scenario, "en")).toBe("xxaab");
  });

  it("accepts nested quantifiers and alternations, which RE2 runs without backtracking", async () => {
    const patterns = ["(a+)+$", "(x|xy)+z", "^.*.*.*.*.*x$", "^(\\w+\\s?)*$"];
    const { triggers } = await loadTriggers("nested", patterns);
    const [plus, alt, stars, words] = triggers as [Trigger, Trigger, Trigger, Trigger];
    expect(matches(plus, message(`${"a".repeat(5000)}!`))).toBe(false);
    expect(matches(plus, message("aaaa"))).toBe(true);
    expect(matches(alt, message(`${"xy".repeat(3000)}!`))).toBe(false);
    expect(matches(alt, message("xyxyxz"))).toBe(true);
    expect(matches(stars, message(`${"y".repeat(4000)}!`))).toBe(false);
    expect(matches(stars, message("yyyx"))).toBe(true);
    expect(matches(words, message(`${"word ".repeat(2000)}!`))).toBe(false);
    expect(matches(words, message("word word word"))).toBe(true);
  });

  it("folds case beyond ASCII and reads the whole message", async () => {
    const { triggers } = await loadTriggers("fold", ["\\bcafé", "cobra\\s*6\\s*€?\\d+"]);
    const [cafe, cobra] = triggers as [Trigger, Trigger];
    expect(matches(cafe, message("naar het CAFÉ toe"))).toBe(true);
    expect(matches(cafe, message("decafé"))).toBe(false);
    expect(matches(cobra, message(`${"x ".repeat(3000)}Cobra 6 €25`))).toBe(true);
  });
});

describe("what RE2 cannot run is refused by the linter", () => {
  const cases: Array<[string, RegExp, RegExp]> = [
    ["(\\w+) \\1", /back-reference/, /write the repeated text out/],
    ["(?<w>\\w+) \\k<w>", /back-reference/, /write the repeated text out/],
    ["cobra(?=s)", /lookahead/, /RE2 has no lookahead: match the text itself, or use keywords:/],
    ["cobra(?!s)", /lookahead/, /RE2 has no lookahead/],
    ["(?<=te koop )cobra", /lookbehind/, /RE2 has no lookbehind/],
    ["(?<!niet )cobra", /lookbehind/, /RE2 has no lookbehind/],
    ["a++b", /possessive/, /drop the last \+, writing \+ for \+\+/],
    ["caf\\u00e9", /\\u/, /\\x\{00e9\}/],
    ["x{1001}", /repeat/, /at most 1000/],
    ["(cobra", /missing closing \)/, /bracket/],
  ];

  it("names the construct at the pattern's line and column, with what to write instead", async () => {
    const file = scenarioWith(
      "refused",
      cases.map(([pattern]) => pattern),
    );
    const { problems } = await lintScenarioFile(file);
    const regexProblems = problems.filter((p) => p.path?.endsWith("regex"));
    // Each trigger's pattern (line 18 + 3 per trigger, column 16) and the conversation's (line 11).
    cases.forEach(([pattern, message, hint], i) => {
      const found = regexProblems.find((p) => p.line === 18 + 3 * i && p.column === 16);
      expect(found, `${pattern}\nall: ${JSON.stringify(problems, null, 1)}`).toBeDefined();
      expect(found?.severity).toBe("error");
      expect(found?.message, pattern).toMatch(message);
      expect(found?.hint, pattern).toMatch(hint);
    });
    const ask = regexProblems.find((p) => p.line === 11);
    expect(ask?.message).toMatch(/missing closing \)/);
    expect(ask?.path).toBe("conversations.talk.steps[0].ask.expect.regex");
    expect(regexProblems).toHaveLength(cases.length + 1);
  });

  it("refuses overlong patterns and patterns that compile to too large a program", async () => {
    const long = `(?:${Array.from({ length: 60 }, (_, i) => `w${i}`).join("|")})`;
    const big = "(?:\\w?){250}\\w{250}x";
    const { problems } = await lintScenarioFile(scenarioWith("big", [long, big, "ok"]));
    expect(problems.find((p) => p.line === 18)?.message).toMatch(/at most 200/);
    expect(problems.find((p) => p.line === 21)?.message).toMatch(/instructions/);
    expect(problems.find((p) => p.line === 21)?.hint).toMatch(/\+ or \*/);
    expect(problems.filter((p) => p.severity === "error")).toHaveLength(2);
  });
});
