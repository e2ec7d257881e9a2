import { stat } from "node:fs/promises";
import { Command } from "commander";
import { scenarioFilesIn } from "../../scenario/definition/library.ts";
import { lintScenarioFile } from "../../scenario/definition/load.ts";
import { formatProblem, type Problem } from "../../scenario/definition/problems.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden scenario lint <files or folders…>`: every problem of every file,
 * one line each as `file:line:column: severity: message (hint: …)`, so
 * editors and CI can jump to it, then one summary line. A folder stands for
 * the scenario files directly in it (`*.yaml`, `*.yml`, `*.ts`; its
 * sub-folders, such as `worlds/`, are not scenarios). Exits 1 when any file
 * has an error; warnings alone pass. A TypeScript file is imported (its code
 * run) only with WARDEN_TS_SCENARIOS=1; without it, it is an error saying so.
 */
export function scenarioCommand(ctx: () => CliContext): Command {
  const scenario = new Command("scenario").description("check scenario files");
  scenario
    .command("lint")
    .description(
      "report every problem in scenario files or folders of them (YAML, or TypeScript with WARDEN_TS_SCENARIOS=1) with file:line:column",
    )
    .argument("<paths...>", "scenario files, or folders whose scenario files to check")
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
          for (const p of (await lintScenarioFile(item.file)).problems) print(p);
        }
      }
      c.out(
        `${files} file${files === 1 ? "" : "s"}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
      );
      if (errors > 0) throw new CliError("scenario lint found errors", 1);
    });
  return scenario;
}

/** A path as the files to lint: a folder's scenario files, or the path itself (the linter says why it cannot be read). */
async function expand(path: string): Promise<Array<{ file: string } | { problem: Problem }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return [{ file: path }];
  const files = await scenarioFilesIn(path);
  if (files.length > 0) return files.map((file) => ({ file }));
  return [
    {
      problem: {
        file: path,
        line: 1,
        column: 1,
        severity: "error",
        message: "no scenario files in this folder (looked for *.yaml, *.yml and *.ts)",
        hint: "name the scenario files, or the folder that holds them (such as scenarios/)",
      },
    },
  ];
}
