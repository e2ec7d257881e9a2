import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadedScenario, loadScenarioFile, ScenarioError } from "./load.ts";
import { type ScenarioReadOptions, typeScriptAllowed } from "./typescript-gate.ts";

/**
 * The scenarios operators can start: the YAML and TypeScript files of one
 * directory (the shipped `scenarios/` by default). Files are linted when
 * loaded and reloaded when they change; a broken file is reported, never
 * half-run. TypeScript files are listed as not loaded unless TypeScript
 * scenarios are on (decided once, when the library is made).
 */

export const SHIPPED_SCENARIOS = fileURLToPath(new URL("../../../scenarios/", import.meta.url));

const EXTENSIONS = new Set([".yaml", ".yml", ".ts"]);

/** Whether a file name is one a scenario library reads: YAML or TypeScript, not a declaration file. */
export function isScenarioFileName(name: string): boolean {
  return EXTENSIONS.has(extname(name)) && !name.endsWith(".d.ts");
}

/** The scenario files directly in `dir` (not in its sub-folders), in name order. */
export async function scenarioFilesIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter(isScenarioFileName)
    .sort()
    .map((n) => join(dir, n));
}

export interface ScenarioLibrary {
  readonly dir: string;
  /** Every scenario in the directory; broken files are listed with their problems. */
  list(): Promise<Array<LoadedScenario | { file: string; error: ScenarioError }>>;
  /** The scenario with this id; throws with what is available when there is none. */
  get(id: string): Promise<LoadedScenario>;
}

export function createScenarioLibrary(
  dir = SHIPPED_SCENARIOS,
  opts: ScenarioReadOptions = {},
): ScenarioLibrary {
  const read = { typescript: typeScriptAllowed(opts) };
  const cache = new Map<string, { mtimeMs: number; loaded: LoadedScenario | ScenarioError }>();

  async function load(file: string): Promise<LoadedScenario | ScenarioError> {
    const { mtimeMs } = await stat(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.loaded;
    let loaded: LoadedScenario | ScenarioError;
    try {
      loaded = await loadScenarioFile(file, read);
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      loaded = err;
    }
    cache.set(file, { mtimeMs, loaded });
    return loaded;
  }

  return {
    dir,
    async list() {
      const out: Array<LoadedScenario | { file: string; error: ScenarioError }> = [];
      for (const file of await scenarioFilesIn(dir)) {
        const loaded = await load(file);
        out.push(loaded instanceof ScenarioError ? { file, error: loaded } : loaded);
      }
      return out;
    },
    async get(id) {
      const all = await this.list();
      const found = all.find((s) => "scenario" in s && s.scenario.id === id);
      if (found && "scenario" in found) return found;
      const broken = all.find((s) => "error" in s && s.file.includes(id));
      if (broken && "error" in broken) throw broken.error;
      const ids = all.filter((s) => "scenario" in s).map((s) => (s as LoadedScenario).scenario.id);
      throw new Error(
        `no scenario "${id}" in ${dir}: choose one of ${ids.join(", ") || "(none)"}; /scenario list shows them`,
      );
    },
  };
}
