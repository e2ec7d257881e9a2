/**
 * The scenario format's JSON Schema is generated from the zod schema the
 * loader uses; the committed scenarios/schema.json must be what the generator
 * writes today, and every shipped scenario must point editors at it and pass
 * the linter without a single warning. Scenarios an author adds to the folder
 * are checked (and rehearsed) by authors.test.ts, not held to these.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scenarioJsonSchema } from "../../src/scenario/definition/json-schema.ts";
import { createScenarioLibrary } from "../../src/scenario/definition/library.ts";
import { lintScenarioFile } from "../../src/scenario/definition/load.ts";

const dir = fileURLToPath(new URL("../../scenarios/", import.meta.url));
/** The scenarios Warden ships, each with a test of its own. */
const shipped = ["covert-observe.yaml", "drug-market-deterrence.yaml", "fireworks-takeover.yaml"];

describe("scenarios/schema.json", () => {
  it("is what scripts/generate-scenario-schema.ts writes from the zod schema", () => {
    const committed = readFileSync(join(dir, "schema.json"), "utf8");
    expect(committed, "run: npx tsx scripts/generate-scenario-schema.ts").toBe(
      scenarioJsonSchema(),
    );
  });

  it("describes steps, triggers and conversations so editors can complete them", () => {
    const schema = JSON.parse(scenarioJsonSchema()) as Record<string, unknown>;
    const text = JSON.stringify(schema);
    for (const word of [
      "lockdown",
      "ghost_ad",
      "join_request",
      "on_timeout",
      "chat_limit",
      "reset_after",
    ])
      expect(text).toContain(word);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("shipped scenarios", () => {
  it.each(shipped)("%s points editors at the schema and lints clean", async (name) => {
    const text = readFileSync(join(dir, name), "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema.json");
    const { problems, scenario } = await lintScenarioFile(join(dir, name));
    expect(problems).toEqual([]);
    expect(scenario?.id).toBe(name.replace(/\.yaml$/, ""));
  });

  it("are in the folder and listed by the library, with whatever else an author put there", async () => {
    const listed = await createScenarioLibrary(dir).list();
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(shipped));
    expect(listed.map((s) => ("scenario" in s ? s.scenario.id : s.file))).toEqual(
      expect.arrayContaining(shipped.map((f) => f.replace(/\.yaml$/, ""))),
    );
  });
});
