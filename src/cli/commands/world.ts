import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { Command } from "commander";
import type { CliContext } from "../context.ts";
import { lintAction } from "../lint-command.ts";
import { lintWorldFile } from "../world-lint.ts";

/**
 * `warden world lint <files or folders…>`: every problem of a world file
 * (`scenarios/worlds/*.yaml`) as `file:line:column: severity: message
 * (hint: …)` — its fields, the people, chats and labels it names, its times,
 * its rehearsal section — and one summary line. A folder stands for the
 * `*.yaml` and `*.yml` files directly in it. Exits 1 on any error; these are
 * the checks `warden rehearse` makes before it starts.
 */
export function worldCommand(ctx: () => CliContext): Command {
  const world = new Command("world").description("check world files (what a rehearsal plays in)");
  world
    .command("lint")
    .description(
      "report every problem in world files or folders of them with file:line:column, as warden rehearse checks them",
    )
    .argument("<paths...>", "world files, or folders whose world files to check")
    .action(
      lintAction(ctx, {
        noun: "world",
        filesIn: async (folder) =>
          (await readdir(folder))
            .filter((n) => [".yaml", ".yml"].includes(extname(n)))
            .sort()
            .map((n) => join(folder, n)),
        lookedFor: "(looked for *.yaml and *.yml)",
        exampleFolder: "scenarios/worlds/",
        lint: lintWorldFile,
      }),
    );
  return world;
}
