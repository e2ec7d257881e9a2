import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { lintSource } from "./lint.ts";
import { formatProblem, type Problem } from "./problems.ts";
import type { Scenario } from "./schema.ts";
import { readScenarioSource } from "./source.ts";
import type { ScenarioReadOptions } from "./typescript-gate.ts";

/**
 * A scenario ready to run: validated and linted, with the content hash that
 * goes into every audit entry it causes. The hash is taken over the
 * canonical JSON of the validated scenario, so the YAML and TypeScript forms
 * of one scenario have the same hash, and formatting or comments do not
 * change it.
 */

export interface LoadedScenario {
  scenario: Scenario;
  /** SHA-256 of the canonical JSON, hex. */
  hash: string;
  file: string;
  /** Warnings the linter found (errors stop loading). */
  warnings: Problem[];
}

export class ScenarioError extends Error {
  override name = "ScenarioError";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map(formatProblem).join("\n")}\nrun \`warden scenario lint ${file}\` after fixing them`,
    );
  }
}

export function scenarioHash(scenario: Scenario): string {
  return createHash("sha256")
    .update(canonicalize(scenario) ?? "")
    .digest("hex");
}

/** Every problem of a file; a TypeScript one is imported only when allowed (typescript-gate.ts). */
export async function lintScenarioFile(
  file: string,
  opts: ScenarioReadOptions = {},
): Promise<{ problems: Problem[]; scenario?: Scenario }> {
  return lintSource(await readScenarioSource(file, opts));
}

export async function loadScenarioFile(
  file: string,
  opts: ScenarioReadOptions = {},
): Promise<LoadedScenario> {
  const { problems, scenario } = await lintScenarioFile(file, opts);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0 || !scenario)
    throw new ScenarioError(file, errors.length ? errors : problems);
  return {
    scenario,
    hash: scenarioHash(scenario),
    file,
    warnings: problems.filter((p) => p.severity === "warning"),
  };
}
