import { Command } from "commander";
import { scenarioFilesIn } from "../../scenario/definition/library.ts";
import { lintScenarioFile } from "../../scenario/definition/load.ts";
import type { CliContext } from "../context.ts";
import { lintAction } from "../lint-command.ts";

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
    .action(
      lintAction(ctx, {
        noun: "scenario",
        filesIn: scenarioFilesIn,
        lookedFor: "(looked for *.yaml, *.yml and *.ts)",
        exampleFolder: "scenarios/",
        lint: async (file) => (await lintScenarioFile(file)).problems,
      }),
    );
  return scenario;
}
