import { readdirSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A scenario's `world:`: the world `warden rehearse` plays it in. A name
 * (`drug-market`) is a file in the `worlds/` folder next to the scenario, or
 * in the shipped `scenarios/worlds/`; a path ending in `.yaml` is relative
 * to the scenario file.
 */

export const SHIPPED_WORLDS = fileURLToPath(new URL("../../../scenarios/worlds/", import.meta.url));

const WORLD_EXTENSIONS = [".yaml", ".yml"];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where a scenario's `world:` may be, in the order they are tried. */
export function worldCandidates(scenarioFile: string, world: string): string[] {
  const here = dirname(resolve(scenarioFile));
  if (WORLD_EXTENSIONS.includes(extname(world))) return [resolve(here, world)];
  return [
    ...new Set([join(here, "worlds", `${world}.yaml`), join(SHIPPED_WORLDS, `${world}.yaml`)]),
  ];
}

/** The world file a scenario names, or undefined when there is none. */
export function worldFileOf(scenarioFile: string, world: string): string | undefined {
  return worldCandidates(scenarioFile, world).find(isFile);
}

/** The names of the worlds a scenario could name: those next to it and the shipped ones. */
export function worldNames(scenarioFile: string): string[] {
  const names = new Set<string>();
  for (const dir of [join(dirname(resolve(scenarioFile)), "worlds"), SHIPPED_WORLDS]) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of entries)
      if (extname(name) === ".yaml" && isFile(join(dir, name))) names.add(name.slice(0, -5));
  }
  return [...names].sort();
}
