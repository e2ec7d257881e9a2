/**
 * The layering rule of `src/`, checked over the source text: every import
 * points down the chain `cli → bot → scenario → actions → collect → audit →
 * store → base`, `scenario/definition` never imports `scenario/runtime`, and
 * `src/sim` (Telegram's stand-in) imports nothing of Warden's, while only
 * `cli` imports the simulator. Biome's `noImportCycles` refuses rings; this
 * refuses imports that point the wrong way, which a ring-free graph can still
 * have.
 *
 * Usage: npx tsx scripts/check-layers.ts   (exit 1 and one line per wrong import)
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Lowest first: a layer may import its own and those before it. */
export const LAYERS = [
  "base",
  "store",
  "audit",
  "collect",
  "actions",
  "scenario",
  "bot",
  "cli",
] as const;

export interface SourceFile {
  /** Path relative to the repository, with `/`: `src/bot/features/commands.ts`. */
  path: string;
  text: string;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?\sfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function layerOf(path: string): string | undefined {
  const [top, area] = path.split("/");
  return top === "src" ? area : undefined;
}

function rank(layer: string): number {
  return (LAYERS as readonly string[]).indexOf(layer);
}

/** Every import of `file` that breaks the rule, as `file: imports target (why)`. */
export function violationsOf(file: SourceFile): string[] {
  const from = layerOf(file.path);
  if (!from) return [];
  const problems: string[] = [];
  for (const match of file.text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2];
    if (!spec?.startsWith(".")) continue;
    const target = join(dirname(file.path), spec).split(sep).join("/");
    const to = layerOf(target);
    if (!to) continue;
    const say = (why: string) => problems.push(`${file.path}: imports ${target} (${why})`);
    if (from === "sim") {
      if (to !== "sim") say("the simulator imports nothing of Warden's");
      continue;
    }
    if (to === "sim") {
      if (from !== "cli") say("only the CLI starts the simulator");
      continue;
    }
    if (rank(from) < 0 || rank(to) < 0) {
      say(`${rank(from) < 0 ? from : to} is not a layer of src/: add it to LAYERS`);
      continue;
    }
    if (rank(to) > rank(from))
      say(`${from} is below ${to}: imports point down ${LAYERS.toReversed().join(" → ")}`);
    if (
      file.path.startsWith("src/scenario/definition/") &&
      target.startsWith("src/scenario/runtime/")
    )
      say("a scenario's definition does not depend on how it runs");
  }
  return problems;
}

/** Every `.ts` file under `src/`. */
export function sourceFiles(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts"))
        out.push({
          path: relative(root, full).split(sep).join("/"),
          text: readFileSync(full, "utf8"),
        });
    }
  };
  walk(join(root, "src"));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = sourceFiles(root).flatMap(violationsOf);
  for (const p of problems) console.log(p);
  process.exit(problems.length > 0 ? 1 : 0);
}
