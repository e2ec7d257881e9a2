import { readdir } from "node:fs/promises";
import { basename, extname, join, relative, resolve } from "node:path";
import { scenarioFilesIn } from "../../scenario/definition/library.ts";
import { lintScenarioFile } from "../../scenario/definition/load.ts";
import type { Problem } from "../../scenario/definition/problems.ts";
import { WORLDS_DIR } from "../rehearsal-world.ts";
import { lintWorldFile } from "../world-lint.ts";

/**
 * What the studio offers to rehearse — the scenarios of the library and the
 * worlds beside them — and their problems before a run starts, each with
 * `file:line:column` as `warden scenario lint` and `warden world lint` give
 * them. The console only names files from these folders: a path typed into a
 * page is never opened.
 */

export interface Choice {
  /** What the API takes: a scenario id, or a world file's name. */
  id: string;
  title: string;
  file: string;
}

export interface Catalogue {
  scenarios: Choice[];
  worlds: Choice[];
}

export async function catalogueOf(scenariosDir: string): Promise<Catalogue> {
  const scenarios: Choice[] = [];
  for (const file of await scenarioFilesIn(scenariosDir)) {
    const { scenario } = await lintScenarioFile(file).catch(() => ({ scenario: undefined }));
    const id = scenario?.id ?? basename(file, extname(file));
    scenarios.push({ id, title: scenario?.title ?? `${id} (does not load)`, file: shown(file) });
  }
  const worlds: Choice[] = [];
  // The library's own worlds first: one of the same name hides the shipped one.
  for (const dir of new Set([join(scenariosDir, "worlds"), WORLDS_DIR])) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
      const id = name.replace(/\.ya?ml$/, "");
      if (worlds.some((w) => w.id === id)) continue;
      worlds.push({ id, title: name, file: join(dir, name) });
    }
  }
  return { scenarios, worlds };
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

/** The world file a name from the catalogue stands for, or undefined. */
export function worldFileOf(catalogue: Catalogue, id: string | undefined): string | undefined {
  if (id === undefined || id === "") return undefined;
  return catalogue.worlds.find((w) => w.id === id)?.file;
}

/** Every problem of the scenario and the world chosen, errors and warnings. */
export async function problemsOf(
  catalogue: Catalogue,
  choice: { scenario: string; world?: string },
): Promise<Problem[]> {
  const scenario = catalogue.scenarios.find((s) => s.id === choice.scenario);
  const problems: Problem[] = [];
  if (!scenario) {
    problems.push({
      file: choice.scenario,
      line: 1,
      column: 1,
      severity: "error",
      message: `there is no scenario "${choice.scenario}" in the library`,
      hint: `choose one of ${catalogue.scenarios.map((s) => s.id).join(", ")}`,
    });
  } else {
    problems.push(...(await lintScenarioFile(resolve(scenario.file))).problems);
  }
  if (choice.world) {
    const world = worldFileOf(catalogue, choice.world);
    if (!world)
      problems.push({
        file: choice.world,
        line: 1,
        column: 1,
        severity: "error",
        message: `there is no world "${choice.world}"`,
        hint: `choose one of ${catalogue.worlds.map((w) => w.id).join(", ")}`,
      });
    else problems.push(...(await lintWorldFile(world)));
  }
  return problems;
}
