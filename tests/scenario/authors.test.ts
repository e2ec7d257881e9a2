/**
 * Whatever is in scenarios/ — the shipped scenarios and any an author adds
 * there, as the guide says to — is linted here with the world it is
 * rehearsed in, and every scenario besides the shipped ones (which have
 * tests of their own) is rehearsed to its end: adding a scenario to the
 * folder adds it to the tests instead of failing one that expects exactly
 * the shipped three. TypeScript scenarios are included when
 * WARDEN_TS_SCENARIOS=1 (otherwise Warden does not load them at all).
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { rehearseScenario } from "../../src/cli/rehearsal.ts";
import { chooseWorld } from "../../src/cli/rehearsal-world.ts";
import { lintWorldFile } from "../../src/cli/world-lint.ts";
import {
  createScenarioLibrary,
  isScenarioFileName,
} from "../../src/scenario/definition/library.ts";
import { lintScenarioFile } from "../../src/scenario/definition/load.ts";
import { formatProblem, type Problem } from "../../src/scenario/definition/problems.ts";
import { typeScriptAllowed } from "../../src/scenario/definition/typescript-gate.ts";
import { freshRedisUrl } from "../helpers/redis.ts";

const dir = fileURLToPath(new URL("../../scenarios/", import.meta.url));
const files = readdirSync(dir)
  .filter(isScenarioFileName)
  .filter((n) => !n.endsWith(".ts") || typeScriptAllowed())
  .sort();
/** Rehearsed by fireworks.test.ts, drug-market.test.ts and covert.test.ts. */
const SHIPPED = ["covert-observe.yaml", "drug-market-deterrence.yaml", "fireworks-takeover.yaml"];
const authors = files.filter((n) => !SHIPPED.includes(n));

const errors = (problems: Problem[]) =>
  problems.filter((p) => p.severity === "error").map(formatProblem);

describe("the scenarios in scenarios/", () => {
  it.each(files)(
    "%s lints without errors, and so does the world it is rehearsed in",
    async (name) => {
      const file = join(dir, name);
      const { problems, scenario } = await lintScenarioFile(file);
      expect(errors(problems)).toEqual([]);
      const world = chooseWorld({ scenario: { ...(scenario as { id: string }), file } });
      expect(errors(await lintWorldFile(world.path)), world.path).toEqual([]);
    },
  );

  it("are every one listed by the library operators start them from", async () => {
    const listed = await createScenarioLibrary(dir).list();
    expect(listed.map((s) => basename(s.file)).sort()).toEqual(files);
    expect(listed.filter((s) => "error" in s).map((s) => s.file)).toEqual([]);
  });

  for (const name of authors)
    it(`rehearses ${name}, an author's, to its end with a verified audit log`, async () => {
      const lines: string[] = [];
      const result = await rehearseScenario({
        scenario: join(dir, name),
        fast: true,
        rateLimits: false,
        redisUrl: await freshRedisUrl(),
        dataDir: mkdtempSync(join(tmpdir(), "warden-authors-")),
        logger: pino({ level: "silent" }),
        out: (line) => lines.push(line),
      });
      expect(result, lines.join("\n")).toMatchObject({
        ok: true,
        verified: true,
        runStatus: "finished",
      });
    }, 180_000);
});
