import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { Command } from "commander";
import { formatProblem, type Problem } from "../../scenario/definition/problems.ts";
import { type CliContext, CliError } from "../context.ts";
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
    .action(async (paths: string[]) => {
      const c = ctx();
      let errors = 0;
      let warnings = 0;
      let files = 0;
      const print = (p: Problem) => {
        c.out(formatProblem(p));
        if (p.severity === "error") errors++;
        else warnings++;
      };
      for (const path of paths) {
        for (const item of await expand(path)) {
          if ("problem" in item) {
            print(item.problem);
            continue;
          }
          files++;
          for (const p of await lintWorldFile(item.file)) print(p);
        }
      }
      c.out(
        `${files} file${files === 1 ? "" : "s"}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
      );
      if (errors > 0) throw new CliError("world lint found errors", 1);
    });
  return world;
}

async function expand(path: string): Promise<Array<{ file: string } | { problem: Problem }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return [{ file: path }];
  const names = (await readdir(path)).filter((n) => [".yaml", ".yml"].includes(extname(n))).sort();
  if (names.length > 0) return names.map((n) => ({ file: join(path, n) }));
  return [
    {
      problem: {
        file: path,
        line: 1,
        column: 1,
        severity: "error",
        message: "no world files in this folder (looked for *.yaml and *.yml)",
        hint: "name the world files, or the folder that holds them (such as scenarios/worlds/)",
      },
    },
  ];
}
