/**
 * The scenario format's JSON Schema is generated from the zod schema the
 * loader uses; the committed scenarios/schema.json must be what the generator
 * writes today, and every shipped scenario must point editors at it and pass
 * the linter without a single warning.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scenarioJsonSchema } from "../../src/scenario/definition/json-schema.ts";
import { createScenarioLibrary } from "../../src/scenario/definition/library.ts";
import { lintScenarioFile } from "../../src/scenario/definition/load.ts";

const dir = fileURLToPath(new URL("../../scenarios/", import.meta.url));
const shipped = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

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

  it("are the three the issue asks for, listed by the library", async () => {
    const listed = await createScenarioLibrary(dir).list();
    expect(listed.map((s) => ("scenario" in s ? s.scenario.id : s.file)).sort()).toEqual([
      "covert-observe",
      "drug-market-deterrence",
      "fireworks-takeover",
    ]);
  });
});
