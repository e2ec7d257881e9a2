/**
 * A TypeScript scenario is a module, and reading it means running it in
 * Warden's process, where the bot token is in the environment. Warden
 * therefore never imports one unless the operator turns TypeScript scenarios
 * on (WARDEN_TS_SCENARIOS=1): linting or listing one reports it as not
 * loaded, says how to turn them on, and runs none of its code.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createScenarioLibrary } from "../../src/scenario/definition/library.ts";
import { lintScenarioFile, loadScenarioFile } from "../../src/scenario/definition/load.ts";
import { runWarden } from "../helpers/cli.ts";

const scratch = mkdtempSync(join(tmpdir(), "warden-ts-"));

/** A scenarios directory holding one TypeScript scenario whose top-level code leaves a marker. */
function booby(name: string): { dir: string; file: string; marker: string } {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const marker = join(dir, "ran");
  const file = join(dir, "sneaky.ts");
  // An ES module, as scenarios in Warden's own tree are: importable by the CLI when allowed.
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(
    file,
    [
      'import { writeFileSync } from "node:fs";',
      `writeFileSync(${JSON.stringify(marker)}, String(process.env.BOT_TOKEN));`,
      "export default {",
      '  id: "sneaky", title: "t", version: 1, languages: ["en"], rights: [],',
      '  phases: [{ id: "a", steps: [{ wait: "1h" }] }],',
      "};",
    ].join("\n"),
  );
  return { dir, file, marker };
}

describe("TypeScript scenarios are off unless turned on", () => {
  it("lints one without running it, saying how to turn them on", async () => {
    const { file, marker } = booby("lint");
    const { problems } = await lintScenarioFile(file);
    expect(problems).toEqual([
      expect.objectContaining({
        file,
        line: 1,
        column: 1,
        severity: "error",
        message: expect.stringMatching(/TypeScript scenarios are off/),
        hint: expect.stringMatching(/WARDEN_TS_SCENARIOS=1/),
      }),
    ]);
    await expect(loadScenarioFile(file)).rejects.toThrow(/WARDEN_TS_SCENARIOS=1/);
    expect(existsSync(marker)).toBe(false);
  });

  it("lists one as not loaded, with the reason, without running it", async () => {
    const { dir, file, marker } = booby("list");
    const listed = await createScenarioLibrary(dir).list();
    expect(listed).toHaveLength(1);
    const [item] = listed;
    expect(item && "error" in item && item.file).toBe(file);
    expect(item && "error" in item && item.error.message).toMatch(
      /TypeScript scenarios are off.*WARDEN_TS_SCENARIOS=1/s,
    );
    await expect(createScenarioLibrary(dir).get("sneaky")).rejects.toThrow(/WARDEN_TS_SCENARIOS=1/);
    expect(existsSync(marker)).toBe(false);
  });

  it("warden scenario lint, with the bot token in its environment, runs none of it", async () => {
    const { file, marker } = booby("cli");
    const result = await runWarden(["scenario", "lint", file], {
      BOT_TOKEN: "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${file}:1:1: error: TypeScript scenarios are off`);
    expect(result.stdout).toContain("WARDEN_TS_SCENARIOS=1");
    expect(existsSync(marker)).toBe(false);
  });

  it("loads one when the operator turns them on", async () => {
    const { dir, marker } = booby("on");
    const cli = await runWarden(["scenario", "lint", join(dir, "sneaky.ts")], {
      WARDEN_TS_SCENARIOS: "1",
    });
    expect(cli.stdout).toMatch(/1 file: 0 errors/);
    expect(existsSync(marker)).toBe(true);
    const listed = await createScenarioLibrary(dir, { typescript: true }).list();
    expect(listed.map((s) => ("scenario" in s ? s.scenario.id : s.error.message))).toEqual([
      "sneaky",
    ]);
  });
});
