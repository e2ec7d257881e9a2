import { dirname, extname, resolve } from "node:path";
import { createScenarioLibrary, SHIPPED_SCENARIOS } from "../../scenario/definition/library.ts";
import { loadScenarioFile } from "../../scenario/definition/load.ts";
import {
  chooseWorld,
  describeWorld,
  loadRehearsalWorld,
  type RehearsalSection,
} from "../rehearsal-world.ts";

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
  /** The transcript's first lines: which world, what it is, and why it was chosen. */
  worldLines: string[];
}

const SCENARIO_EXTENSIONS = new Set([".yaml", ".yml", ".ts"]);

export async function chooseRehearsal(opts: {
  /** A scenario id (in scenariosDir) or the path of a scenario file; default: the world's first. */
  scenario?: string;
  worldPath?: string;
  scenariosDir?: string;
}): Promise<RehearsalChoice> {
  const chosen = await resolveScenario(opts.scenario, opts.scenariosDir ?? SHIPPED_SCENARIOS);
  const library = createScenarioLibrary(chosen.dir);
  // A scenario named is loaded first: it may name its world (world:).
  const named = chosen.id ? await library.get(chosen.id) : undefined;
  const world = chooseWorld({
    ...(opts.worldPath ? { given: opts.worldPath } : {}),
    ...(named ? { scenario: { ...named.scenario, file: named.file } } : {}),
  });
  const worldPath = world.path;
  const { text: worldText, section } = loadRehearsalWorld(worldPath);
  const scenarioId = chosen.id ?? section.scenarios?.[0] ?? "fireworks-takeover";
  // Refuse a broken scenario before anything starts.
  await library.get(scenarioId);
  const worldLines = describeWorld(world, worldText);
  return { scenariosDir: chosen.dir, scenarioId, worldPath, worldText, section, worldLines };
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
