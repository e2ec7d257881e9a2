import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { compileLexicon } from "../../collect/detector/compile.ts";
import { detectTrade } from "../../collect/detector/detect.ts";
import { defaultLexicon } from "../../collect/lexicon/default.ts";
import { LexiconError } from "../../collect/lexicon/error.ts";
import { mergeLexicon } from "../../collect/lexicon/merge.ts";
import { parseLexiconOverride } from "../../collect/lexicon/parse.ts";
import type { Lexicon, LexiconOverride } from "../../collect/lexicon/schema.ts";
import { CliError } from "../context.ts";

/**
 * `warden detect [--lexicon FILE] [--case ID] [--explain]`: scores one
 * message per stdin line and prints one JSON verdict per line, in order, so
 * an operator can try a lexicon edit on an export before a case uses it.
 * Streams: memory stays constant however long the input is.
 */

export interface DetectCommandDeps {
  /** Loads a case's lexicon override (from Redis, wired by the CLI). */
  loadCaseLexicon?: (caseId: string) => Promise<LexiconOverride | undefined>;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

interface DetectOptions {
  lexicon?: string;
  case?: string;
  explain?: boolean;
}

export function detectCommand(deps: DetectCommandDeps = {}): Command {
  return new Command("detect")
    .description("score messages (one per stdin line) as trade offers; prints one JSON line each")
    .option("--lexicon <file>", "YAML or JSON lexicon override, merged over the default")
    .option("--case <id>", "merge the case's lexicon override (applied before --lexicon)")
    .option("--explain", "also print where each rule matched")
    .action(async (opts: DetectOptions) => {
      const lexicon = compileLexicon(await resolveLexicon(opts, deps));
      const input = deps.input ?? process.stdin;
      const output = deps.output ?? process.stdout;
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of lines) {
        const verdict = detectTrade(line, lexicon);
        const json = JSON.stringify(
          opts.explain
            ? verdict
            : { trade: verdict.trade, score: verdict.score, rules: verdict.rules },
        );
        if (!output.write(`${json}\n`)) await drained(output);
      }
    });
}

async function resolveLexicon(opts: DetectOptions, deps: DetectCommandDeps): Promise<Lexicon> {
  let lexicon = defaultLexicon;
  try {
    if (opts.case !== undefined) {
      if (!deps.loadCaseLexicon) {
        throw new CliError("--case is not available here: no case store is configured");
      }
      const override = await deps.loadCaseLexicon(opts.case);
      if (override) lexicon = mergeLexicon(lexicon, override);
    }
    if (opts.lexicon !== undefined) {
      let text: string;
      try {
        text = await readFile(opts.lexicon, "utf8");
      } catch (err) {
        throw new CliError(`cannot read lexicon ${opts.lexicon}: ${(err as Error).message}`);
      }
      lexicon = mergeLexicon(lexicon, parseLexiconOverride(text, opts.lexicon));
    }
  } catch (err) {
    if (err instanceof LexiconError) throw new CliError(err.message);
    throw err;
  }
  return lexicon;
}

function drained(output: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => output.once("drain", () => resolve()));
}
