import { stat } from "node:fs/promises";
import { formatProblem, type Problem } from "../scenario/definition/problems.ts";
import { type CliContext, CliError } from "./context.ts";

/**
 * What `warden scenario lint` and `warden world lint` share: every problem of
 * every file, one line each as `file:line:column: severity: message (hint:
 * …)`, so editors and CI can jump to it, then one summary line; a folder
 * stands for the files of that kind directly in it; exit 1 when any file has
 * an error, while warnings alone pass. Only what a kind of file is differs.
 */
export interface LintedKind {
  /** "scenario", "world": in the messages. */
  noun: string;
  /** The files of this kind directly in a folder, sorted. */
  filesIn(folder: string): Promise<string[]>;
  /** What a folder with none of them is told, e.g. `(looked for *.yaml and *.yml)`. */
  lookedFor: string;
  /** The folder to name instead, e.g. `scenarios/worlds/`. */
  exampleFolder: string;
  lint(file: string): Promise<Problem[]>;
}

export function lintAction(
  ctx: () => CliContext,
  kind: LintedKind,
): (paths: string[]) => Promise<void> {
  return async (paths) => {
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
      for (const item of await expand(kind, path)) {
        if ("problem" in item) {
          print(item.problem);
          continue;
        }
        files++;
        for (const p of await kind.lint(item.file)) print(p);
      }
    }
    c.out(
      `${files} file${files === 1 ? "" : "s"}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
    );
    if (errors > 0) throw new CliError(`${kind.noun} lint found errors`, 1);
  };
}

/** A path as the files to lint: a folder's files of the kind, or the path itself (the linter says why it cannot be read). */
async function expand(
  kind: LintedKind,
  path: string,
): Promise<Array<{ file: string } | { problem: Problem }>> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return [{ file: path }];
  const files = await kind.filesIn(path);
  if (files.length > 0) return files.map((file) => ({ file }));
  return [
    {
      problem: {
        file: path,
        line: 1,
        column: 1,
        severity: "error",
        message: `no ${kind.noun} files in this folder ${kind.lookedFor}`,
        hint: `name the ${kind.noun} files, or the folder that holds them (such as ${kind.exampleFolder})`,
      },
    },
  ];
}
