import { Command } from "commander";
import { lintScenarioFile } from "../../scenario/definition/load.ts";
import { formatProblem } from "../../scenario/definition/problems.ts";
import { type CliContext, CliError } from "../context.ts";

/**
 * `warden scenario lint <files…>`: every problem of every file, one line each
 * as `file:line:column: severity: message (hint: …)`, so editors and CI can
 * jump to it. Exits 1 when any file has an error; warnings alone pass. A
 * TypeScript file is imported (its code run) only with WARDEN_TS_SCENARIOS=1;
 * without it, it is an error saying so.
 */
export function scenarioCommand(ctx: () => CliContext): Command {
  const scenario = new Command("scenario").description("check scenario files");
  scenario
    .command("lint")
    .description(
      "report every problem in scenario files (YAML, or TypeScript with WARDEN_TS_SCENARIOS=1) with file:line:column",
    )
    .argument("<files...>", "scenario files")
    .action(async (files: string[]) => {
      const c = ctx();
      let errors = 0;
      let warnings = 0;
      for (const file of files) {
        const { problems } = await lintScenarioFile(file);
        for (const p of problems) {
          c.out(formatProblem(p));
          if (p.severity === "error") errors++;
          else warnings++;
        }
      }
      c.out(
        `${files.length} file${files.length === 1 ? "" : "s"}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
      );
      if (errors > 0) throw new CliError("scenario lint found errors", 1);
    });
  return scenario;
}
