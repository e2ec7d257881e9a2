import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { createScenarioLibrary, SHIPPED_SCENARIOS } from "../../scenario/definition/library.ts";
import { loadScenarioFile } from "../../scenario/definition/load.ts";
import { type RehearsalSection, readRehearsalSection, worldFor } from "../rehearsal-world.ts";

/**
 * What is rehearsed where: the scenario (an id in a library, or a file whose
 * folder becomes the library) and the world it plays in, with the world's
 * `rehearsal:` section. Everything is read and checked here, before the
 * simulator starts, so a broken scenario or world stops the rehearsal with
 * nothing to clean up.
 */
export interface RehearsalChoice {
  /** The scenario library the bot loads from. */
  scenariosDir: string;
  scenarioId: string;
  worldPath: string;
  worldText: string;
  section: RehearsalSection;
}

const SCENARIO_EXTENSIONS = new Set([".yaml", ".yml", ".ts"]);

export async function chooseRehearsal(opts: {
  /** A scenario id (in scenariosDir) or the path of a scenario file; default: the world's first. */
  scenario?: string;
  worldPath?: string;
  scenariosDir?: string;
}): Promise<RehearsalChoice> {
  const chosen = await resolveScenario(opts.scenario, opts.scenariosDir ?? SHIPPED_SCENARIOS);
  const worldPath = opts.worldPath ?? worldFor(chosen.id);
  const worldText = readFileSync(worldPath, "utf8");
  const section = readRehearsalSection(worldText, worldPath);
  const scenarioId = chosen.id ?? section.scenarios?.[0] ?? "fireworks-takeover";
  // Refuse a broken scenario before anything starts.
  await createScenarioLibrary(chosen.dir).get(scenarioId);
  return { scenariosDir: chosen.dir, scenarioId, worldPath, worldText, section };
}

/** Resolves the scenario argument to a library directory and an id. */
async function resolveScenario(
  arg: string | undefined,
  fallbackDir: string,
): Promise<{ dir: string; id?: string }> {
  if (arg && SCENARIO_EXTENSIONS.has(extname(arg))) {
    const loaded = await loadScenarioFile(arg);
    return { dir: dirname(resolve(arg)), id: loaded.scenario.id };
  }
  return { dir: fallbackDir, ...(arg ? { id: arg } : {}) };
}
