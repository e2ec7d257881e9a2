import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { formatProblem, type Problem } from "../scenario/definition/problems.ts";
import { SHIPPED_WORLDS, worldFileOf } from "../scenario/definition/world-ref.ts";
import { RehearsalSection, type ScriptEntry } from "./world-file.ts";
import { lintWorldText } from "./world-lint.ts";

/**
 * The world a rehearsal plays in, and its `rehearsal:` section: what
 * `warden rehearse` needs beyond what the simulator builds — the case, who
 * plays operator and supervisor, the control room, the chats to seize and
 * their aliases, and a script of what members do besides posting in groups
 * (write to the bot, press its buttons, ask to join). The simulator ignores
 * the section. The whole world is linted (`world-lint.ts`) before anything
 * starts; a broken one stops the rehearsal with the linter's lines.
 *
 * Which world: the one given with --world, else the one the scenario names
 * (`world:`), else a shipped world whose rehearsal section lists the
 * scenario, else the fireworks world; the transcript says which and why.
 */

export { RehearsalSection, type ScriptEntry };

export const WORLDS_DIR = SHIPPED_WORLDS;
export const DEFAULT_WORLD = join(WORLDS_DIR, "fireworks.yaml");

/** A world with problems that stop a rehearsal. */
export class WorldError extends Error {
  override name = "WorldError";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `${file} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map(formatProblem).join("\n")}\nrun \`warden world lint ${file}\` after fixing them`,
    );
  }
}

/** The world's rehearsal section, once the whole world lints without errors (else a WorldError). */
export function readRehearsalSection(worldText: string, file: string): RehearsalSection {
  const errors = lintWorldText(file, worldText).filter((p) => p.severity === "error");
  if (errors.length > 0) throw new WorldError(file, errors);
  const raw = (parse(worldText) as { rehearsal?: unknown } | null)?.rehearsal ?? {};
  return RehearsalSection.parse(raw);
}

/** A world file read and linted for a rehearsal: its text and rehearsal section, or a WorldError. */
export function loadRehearsalWorld(file: string): { text: string; section: RehearsalSection } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new WorldError(file, [
      {
        file,
        line: 1,
        column: 1,
        severity: "error",
        message: `cannot read the world: ${why}`,
        hint: `check the path; the shipped worlds are in ${displayPath(WORLDS_DIR)}`,
      },
    ]);
  }
  return { text, section: readRehearsalSection(text, file) };
}

/** Which world, and why, in words for the transcript. */
export interface WorldChoice {
  path: string;
  why: string;
}

/**
 * The world a scenario is rehearsed in: the one given (--world), the one it
 * names (`world:`), a shipped world made for it, or the default.
 */
export function chooseWorld(opts: {
  given?: string;
  scenario?: { id: string; file: string; world?: string };
  dir?: string;
}): WorldChoice {
  if (opts.given) return { path: opts.given, why: "given with --world" };
  const scenario = opts.scenario;
  if (!scenario)
    return {
      path: DEFAULT_WORLD,
      why: "it is the default world, and no scenario was named: the first its rehearsal section lists is rehearsed",
    };
  if (scenario.world !== undefined) {
    const named = worldFileOf(scenario.file, scenario.world);
    if (named) return { path: named, why: `${scenario.id} names it (world: ${scenario.world})` };
    // The linter refuses such a scenario; say so rather than quietly choose another.
    throw new Error(
      `${scenario.file}: world: ${scenario.world} names no world file; run \`warden scenario lint ${scenario.file}\``,
    );
  }
  const worlds = readableWorlds(opts.dir ?? WORLDS_DIR);
  const made =
    worlds.find((w) => w.scenarios[0] === scenario.id) ??
    worlds.find((w) => w.scenarios.includes(scenario.id));
  if (made)
    return {
      path: made.file,
      why: `its rehearsal section lists ${scenario.id}; add world: to the scenario to choose another`,
    };
  return {
    path: DEFAULT_WORLD,
    why: `the default world: ${scenario.id} names no world and no world lists it; add world: <name> to the scenario (worlds are in ${displayPath(WORLDS_DIR)})`,
  };
}

/**
 * The transcript's first lines: which world, what it is (its title and
 * description, or the seized chat's title), and why it was chosen.
 */
export function describeWorld(choice: WorldChoice, worldText: string): string[] {
  const world = (parse(worldText) ?? {}) as {
    title?: unknown;
    description?: unknown;
    chats?: Array<{ key?: unknown; title?: unknown }>;
    rehearsal?: { seize?: Record<string, unknown> };
  };
  const seized = Object.keys(world.rehearsal?.seize ?? {})[0];
  const chat =
    world.chats?.find((c) => c.key === seized || c.title === seized) ??
    world.chats?.find((c) => c !== undefined);
  const title = typeof world.title === "string" ? world.title : undefined;
  const description =
    typeof world.description === "string" ? world.description.trim().split("\n")[0] : undefined;
  const about =
    clip([title, description].filter(Boolean).join(" — "), 160) ||
    (typeof chat?.title === "string" ? `the group “${chat.title}”` : "");
  return [
    `world: ${displayPath(choice.path)}${about ? ` (${about})` : ""}`,
    `  chosen because ${choice.why}`,
  ];
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A path as people read it: relative to where they are when it is under it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel && !rel.startsWith("..") ? rel : resolve(path);
}

/** The worlds in `dir` and the scenarios their rehearsal sections list, in name order. */
function readableWorlds(dir: string): Array<{ file: string; scenarios: string[] }> {
  const worlds: Array<{ file: string; scenarios: string[] }> = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return worlds;
  }
  for (const name of names.filter((n) => n.endsWith(".yaml")).sort()) {
    const file = join(dir, name);
    try {
      const raw = parse(readFileSync(file, "utf8")) as { rehearsal?: { scenarios?: unknown } };
      const listed = raw?.rehearsal?.scenarios;
      worlds.push({
        file,
        scenarios: Array.isArray(listed) ? listed.filter((s) => typeof s === "string") : [],
      });
    } catch {
      // A broken world is reported when it is used.
    }
  }
  return worlds;
}
