/**
 * `warden scenario lint`: every problem of a scenario file, each at its exact
 * line and column with a hint, for YAML and TypeScript alike; hostile input
 * (huge files, alias bombs, broken syntax, regexes RE2 cannot run) is refused
 * with a position rather than hanging or crashing the linter.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  lintScenarioFile,
  loadScenarioFile,
  ScenarioError,
} from "../../src/scenario/definition/load.ts";
import { formatProblem } from "../../src/scenario/definition/problems.ts";
import { compileSafeRegex, regexProblem } from "../../src/scenario/definition/safe-regex.ts";
import { MAX_SCENARIO_BYTES } from "../../src/scenario/definition/source.ts";
import { runWarden } from "../helpers/cli.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "warden-lint-"));
function write(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

async function problemsOf(file: string, opts: { typescript?: boolean } = {}) {
  const { problems } = await lintScenarioFile(file, opts);
  return problems.map((p) => ({
    at: `${p.line}:${p.column}`,
    severity: p.severity,
    message: p.message,
    hint: p.hint,
  }));
}

describe("positions in YAML", () => {
  it("reports every problem of a broken file at its line and column, with a hint", async () => {
    const problems = await problemsOf(fixture("broken.yaml"));
    const expected: Array<[string, RegExp, RegExp]> = [
      ["7:1", /unknown field "colour"/, /allowed here: id, title/],
      ["10:5", /template "hello" has no English \(en\) text/, /add en:/],
      ["10:9", /unknown variable \{membr\}/, /did you mean \{member\}/],
      ["18:9", /a conversation question without a timeout/, /add timeout:/],
      ["21:9", /step orphan of conversation talk can never be reached/, /point a next:/],
      ["23:9", /loops through loop without asking anything/, /put an ask: in the loop/],
      ["29:9", /unknown action "frobnicate"/, /use one of: warn, announce/],
      ["30:9", /unknown action "wiat"/, /did you mean "wait"/],
      ["31:15", /bad duration "3x"/, /30s, 10m, 2h, 3d/],
      ["32:9", /needs the admin right can_restrict_members/, /add can_restrict_members to rights:/],
      ["33:45", /unknown field "colour"/, /allowed here: template, pin/],
      ["34:15", /unknown template "nowhere"/, /define it under templates:/],
      ["35:28", /expected string, got number 42/, /write a text/],
      ["38:16", /lookahead `\(\?=`/, /RE2 has no lookahead/],
      ["41:20", /unknown template "missing"/, /define it under templates:/],
      ["42:18", /bad duration "soon"/, /30s, 10m/],
    ];
    for (const [at, message, hint] of expected) {
      const found = problems.find((p) => p.at === at && message.test(p.message));
      expect(found, `${at} ${message}\nall: ${JSON.stringify(problems, null, 1)}`).toBeDefined();
      expect(found?.hint).toMatch(hint);
    }
    expect(problems).toHaveLength(expected.length);
  });

  it("refuses malformed YAML and duplicate keys with their positions", async () => {
    const file = write("syntax.yaml", 'id: x\ntitle: "unterminated\nversion: 1\n');
    const [problem] = await problemsOf(file);
    expect(problem?.message).toMatch(/^YAML:/);
    expect(problem?.at).toBe("4:1");
    const dup = await problemsOf(write("dup.yaml", "id: a\nid: b\n"));
    expect(dup[0]).toMatchObject({
      at: "2:1",
      hint: expect.stringMatching(/each field may appear once/),
    });
  });

  it("refuses wrong types and missing fields", async () => {
    const file = write(
      "types.yaml",
      "id: Not A Slug\ntitle: x\nversion: one\nlanguages: [nl]\nrights: []\nphases: []\n",
    );
    const problems = await problemsOf(file);
    expect(problems.map((p) => p.at)).toEqual(["1:5", "3:10", "6:9"]);
    expect(problems[1]?.message).toBe('expected number, got string "one"');
    const missing = await problemsOf(
      write(
        "missing.yaml",
        "title: x\nversion: 1\nlanguages: [nl]\nrights: []\nphases: [{id: a}]\n",
      ),
    );
    expect(missing[0]).toMatchObject({ at: "1:1", message: 'missing field "id"' });
  });

  it("names the values allowed where a value fits none of them", async () => {
    const file = write(
      "forms.yaml",
      [
        "id: forms",
        "title: x",
        "version: one",
        "languages: [nl]",
        "rights: [can_restrict_members, can_change_info, can_invite_users]",
        'templates: { q: { nl: "Vraag?" } }',
        "conversations:",
        "  talk:",
        "    steps:",
        "      - ask: { template: q, expect: free text, timeout: 1h }",
        "phases:",
        "  - id: a",
        "    steps:",
        "      - freeze: half",
        "      - restrict: { users: [bob] }",
        "      - lockdown: yes please",
        "    triggers:",
        "      - on: private",
        "        do: [{ start: talk }]",
      ].join("\n"),
    );
    const problems = await problemsOf(file);
    const at = (where: string) => problems.find((p) => p.at === where);
    expect(at("3:10")).toMatchObject({
      message: 'expected number, got string "one"',
      hint: "write a whole number",
    });
    expect(at("10:37")).toMatchObject({
      message: 'string "free text" is not allowed here',
      hint: "write anything, or {choices: […]}, or {regex: …}",
    });
    expect(at("14:17")).toMatchObject({ hint: "use one of: full, trade" });
    expect(at("15:29")).toMatchObject({
      message: '"bob" is not in a form allowed here',
      hint: "write a whole number, or an @username",
    });
    expect(at("16:19")?.hint).toBe(
      "write true, or {title: …, description: …, photo: true|false, hide_general: true|false}",
    );
    expect(at("18:13")?.hint).toMatch(/^did you mean private_message\?/);
    const cli = await runWarden(["scenario", "lint", file]);
    expect(cli.stdout).toContain(
      `${file}:10:37: error: string "free text" is not allowed here (hint: write anything, or {choices: […]}, or {regex: …})`,
    );
  });

  it("reports an error once, without warnings or errors about what the broken part referred to", async () => {
    const file = write(
      "follow-on.yaml",
      [
        "id: follow-on",
        "title: x",
        "version: one",
        "languages: [nl]",
        "rights: [can_restrict_member]",
        "templates:",
        '  q: { nl: "Wat was u?" }',
        "  bye: { nl: 42 }",
        '  choice-buyer: { nl: "Koper" }',
        '  choice-seller: { nl: "Verkoper" }',
        "conversations:",
        "  one-question:",
        "    steps:",
        "      - id: role",
        "        ask: { template: q, expect: { choices: [buyer, seller] }, timeout: soon, record: role }",
        "      - branch: { on: role, cases: { buyer: thanks }, default: thanks }",
        "      - id: thanks",
        "        say: bye",
        "phases:",
        "  - id: a",
        "    steps:",
        "      - freeze: full",
        "      - warn: bye",
        "      - wait: 1d",
        "      - warn: nowhere",
        "    triggers:",
        "      - on: private",
        "        do: [{ start: one-question }]",
      ].join("\n"),
    );
    const problems = await problemsOf(file);
    expect(problems.map((p) => `${p.at} ${p.severity}: ${p.message}`)).toEqual([
      '3:10 error: expected number, got string "one"',
      '5:10 error: "can_restrict_member" is not allowed here',
      "8:14 error: expected string, got number 42",
      '15:76 error: bad duration "soon"',
      '25:15 error: unknown template "nowhere"',
      '27:13 error: "private" is not allowed here',
    ]);
    expect(problems[1]?.hint).toMatch(/^did you mean can_restrict_members\?/);
    const cli = await runWarden(["scenario", "lint", file]);
    expect(cli.stdout).not.toContain("never");
    expect(cli.stdout).toMatch(/^1 file: 6 errors, 0 warnings$/m);
  });

  it("knows which variables have a value where", async () => {
    const file = write(
      "vars.yaml",
      [
        "id: vars",
        "title: x",
        "version: 1",
        "languages: [nl]",
        "rights: []",
        "templates:",
        '  hello: { nl: "Hallo {member}" }',
        "phases:",
        "  - id: a",
        "    steps:",
        "      - warn: hello",
        '      - notify: "{text} was said"',
      ].join("\n"),
    );
    expect(await problemsOf(file)).toEqual([
      expect.objectContaining({
        at: "7:16",
        message: expect.stringMatching(
          /\{member\} has no value in template "hello", which is posted to the whole group/,
        ),
      }),
      expect.objectContaining({
        at: "12:17",
        message: expect.stringMatching(/\{text\} has no value in a phase step's notify/),
      }),
    ]);
  });

  it("caps the size of a file and the expansion of aliases", async () => {
    const huge = write("huge.yaml", `id: huge\ntitle: "${"x".repeat(MAX_SCENARIO_BYTES)}"\n`);
    const [big] = await problemsOf(huge);
    expect(big).toMatchObject({ at: "1:1", message: expect.stringMatching(/at most 262144/) });
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    ].join("\n");
    const [alias] = await problemsOf(write("bomb.yaml", bomb));
    expect(alias?.message).toMatch(/YAML: .*alias/i);
  });
});

describe("files that are not what stat says", () => {
  it("refuses a FIFO at once, however much a writer would send through it", async () => {
    const fifo = join(scratch, "pipe.yaml");
    execFileSync("mkfifo", [fifo]);
    // A writer offering 1 MiB, so a reader that waited for it would get an answer and not hang;
    // one process, killed at the end in case it is still waiting for a reader.
    const writer = spawn(
      process.execPath,
      ["-e", "require('node:fs').writeFileSync(process.argv[1], '#'.repeat(1 << 20))", fifo],
      { stdio: "ignore" },
    );
    try {
      expect(await problemsOf(fifo)).toEqual([
        {
          at: "1:1",
          severity: "error",
          message: "not a regular file (a FIFO): a scenario is read from a plain file only",
          hint: "copy the scenario into a file and lint or load that",
        },
      ]);
    } finally {
      writer.kill();
    }
  });

  it("refuses a device, which stat calls empty", async () => {
    const zero = join(scratch, "zero.yaml");
    symlinkSync("/dev/zero", zero);
    const [problem] = await problemsOf(zero);
    expect(problem?.message).toMatch(/not a regular file \(a character device\)/);
  });

  it("refuses a directory", async () => {
    const dir = join(scratch, "dir.yaml");
    mkdirSync(dir);
    const [problem] = await problemsOf(dir);
    expect(problem?.message).toMatch(/not a regular file \(a directory\)/);
  });
});

describe("positions in TypeScript (turned on, as WARDEN_TS_SCENARIOS=1 does)", () => {
  it("walks the object literal of defineScenario to the value at fault", async () => {
    const problems = await problemsOf(fixture("broken.ts"), { typescript: true });
    expect(problems.map((p) => `${p.at} ${p.message}`)).toEqual([
      '13:23 bad duration "3 days"',
      "13:37 step 2-freeze (freeze) needs the admin right can_restrict_members, which the scenario does not declare",
    ]);
  });

  it("loads a TypeScript scenario to the same object and hash as its YAML form", async () => {
    const ts = await loadScenarioFile(fixture("valid.ts"), { typescript: true });
    const yaml = await loadScenarioFile(fixture("valid.yaml"));
    expect(ts.scenario).toEqual(yaml.scenario);
    expect(ts.hash).toBe(yaml.hash);
    expect(ts.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("regular expressions", () => {
  it("accepts what RE2 runs, nested quantifiers included, and refuses what it cannot", () => {
    for (const pattern of ["(a)\\1", "a(?=b)", "(?<!a)b", "a++", "x{1001}", "("])
      expect(regexProblem(pattern), pattern).toBeDefined();
    for (const pattern of ["\\b(cobra|mortier)s?\\b", "\\d+\\s*euro", "(a+)+$", "(x|xy)+z"])
      expect(regexProblem(pattern), pattern).toBeUndefined();
  });

  it("matches polynomial-backtracking shapes on a long line correctly", () => {
    // Under a backtracking engine this needed a clock; on RE2 it is one pass over the text.
    const re = compileSafeRegex("^.*.*.*.*.*x$");
    expect(re.test(`${"y".repeat(4000)}!`)).toBe(false);
    expect(re.test(`${"y".repeat(4000)}x`)).toBe(true);
    expect(re.test("YYYX")).toBe(true);
  });
});

describe("warden scenario lint", () => {
  it("prints file:line:column lines and exits 1 on errors, 0 on warnings alone", async () => {
    const bad = await runWarden([
      "scenario",
      "lint",
      fixture("broken.yaml"),
      fixture("valid.yaml"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      `${fixture("broken.yaml")}:30:9: error: unknown action "wiat" (hint: did you mean "wait"?)`,
    );
    expect(bad.stdout).toMatch(/2 files: 16 errors, 0 warnings/);
    const shipped = await runWarden([
      "scenario",
      "lint",
      "scenarios/fireworks-takeover.yaml",
      "scenarios/drug-market-deterrence.yaml",
      "scenarios/covert-observe.yaml",
    ]);
    expect(shipped.stdout).toMatch(/3 files: 0 errors, 0 warnings/);
    expect(shipped.code).toBe(0);
  });

  it("lints every scenario file in a folder, with one summary line", async () => {
    const dir = join(scratch, "folder");
    mkdirSync(join(dir, "worlds"), { recursive: true });
    writeFileSync(join(dir, "a.yaml"), readFileSync(fixture("valid.yaml")));
    writeFileSync(join(dir, "b.yml"), "id: b\ntitle: x\nversion: 1\n");
    writeFileSync(join(dir, "README.md"), "# not a scenario\n");
    writeFileSync(join(dir, "schema.json"), "{}\n");
    writeFileSync(join(dir, "worlds", "w.yaml"), "users: []\n");
    const result = await runWarden(["scenario", "lint", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain("EISDIR");
    expect(result.stdout).toContain(`${join(dir, "b.yml")}:1:1: error: missing field "languages"`);
    expect(result.stdout).not.toContain("README.md");
    expect(result.stdout).not.toContain("w.yaml");
    const summaries = result.stdout.split("\n").filter((l) => / files?: \d+ errors?/.test(l));
    expect(summaries).toEqual([expect.stringMatching(/^2 files: [1-9]\d* errors?, 0 warnings$/)]);

    const empty = join(scratch, "empty");
    mkdirSync(empty);
    const none = await runWarden(["scenario", "lint", empty]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(`${empty}:1:1: error: no scenario files in this folder`);
  });

  it("lints the shipped folder, scenarios/, clean", async () => {
    const result = await runWarden(["scenario", "lint", "scenarios/"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^\d+ files: 0 errors, \d+ warnings?$/m);
    expect(result.code).toBe(0);
  });

  it("refuses to load a broken scenario, naming every problem", async () => {
    const error = await loadScenarioFile(fixture("broken.yaml")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).problems.map(formatProblem).join("\n")).toContain(
      ":29:9: error: unknown action",
    );
  });
});
