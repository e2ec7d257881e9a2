import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One line of a labelled corpus file. */
export interface CorpusMessage {
  text: string;
  trade: boolean;
  lang: "nl" | "en";
  kind: "offer" | "request" | "chat" | "hard-negative";
}

/** The corpus the detector is tuned on. */
export const CORPUS = "trade-corpus.jsonl";
/** Written before tuning and never tuned on: the honest figure. */
export const HOLDOUT = "trade-corpus-holdout.jsonl";

export function loadCorpus(name: string): CorpusMessage[] {
  const path = fileURLToPath(new URL(name, import.meta.url));
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as CorpusMessage);
}
