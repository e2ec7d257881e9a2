import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";

/**
 * The `rehearsal:` section of a world file: what `warden rehearse` needs
 * beyond what the simulator builds — the case, who plays operator and
 * supervisor, the control room, the chats to seize and their aliases, and a
 * script of what members do besides posting in groups (write to the bot,
 * press its buttons, ask to join). The simulator ignores the section.
 */

const Ref = z.string().min(1);

const ScriptEntry = z.union([
  z.strictObject({
    at: z.number().positive(),
    private: Ref,
    text: z.string().min(1).optional(),
    photo: z.boolean().optional(),
  }),
  z.strictObject({ at: z.number().positive(), press: Ref, button: z.string().min(1) }),
  z.strictObject({ at: z.number().positive(), join_request: Ref, from: Ref }),
]);
export type ScriptEntry = z.infer<typeof ScriptEntry>;

export const RehearsalSection = z.strictObject({
  /** Scenarios this world is made for; the first is rehearsed when none is named. */
  scenarios: z.array(z.string()).min(1).optional(),
  case: z
    .strictObject({
      id: z.string().regex(/^[a-z0-9-]{1,40}$/),
      title: z.string().min(1),
      authority: z.string().min(1),
      purpose: z.string().min(1),
    })
    .optional(),
  operator: Ref.optional(),
  supervisor: Ref.optional(),
  control_room: Ref.optional(),
  /** World chat key → alias. */
  seize: z.record(Ref, z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/)).optional(),
  script: z.array(ScriptEntry).default([]),
});
export type RehearsalSection = z.infer<typeof RehearsalSection>;

export const WORLDS_DIR = fileURLToPath(new URL("../../scenarios/worlds/", import.meta.url));
export const DEFAULT_WORLD = join(WORLDS_DIR, "fireworks.yaml");

export function readRehearsalSection(worldText: string, file: string): RehearsalSection {
  const raw = (parse(worldText) as { rehearsal?: unknown } | null)?.rehearsal ?? {};
  const parsed = RehearsalSection.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${file}: the rehearsal: section is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** The shipped world made for a scenario (its rehearsal section names it), or the fireworks world. */
export function worldFor(scenarioId: string | undefined, dir = WORLDS_DIR): string {
  if (!scenarioId) return DEFAULT_WORLD;
  const worlds = readableWorlds(dir);
  const made =
    worlds.find((w) => w.section.scenarios?.[0] === scenarioId) ??
    worlds.find((w) => w.section.scenarios?.includes(scenarioId));
  return made?.file ?? DEFAULT_WORLD;
}

/** The worlds in `dir` whose rehearsal section reads, in name order. */
function readableWorlds(dir: string): Array<{ file: string; section: RehearsalSection }> {
  const worlds: Array<{ file: string; section: RehearsalSection }> = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".yaml"))
    .sort()) {
    const file = join(dir, name);
    try {
      worlds.push({ file, section: readRehearsalSection(readFileSync(file, "utf8"), file) });
    } catch {
      // A broken world is reported when it is used.
    }
  }
  return worlds;
}
