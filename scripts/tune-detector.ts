import { readFileSync } from "node:fs";
import { compileLexicon } from "../src/collect/detector/compile.ts";
import { detectTrade } from "../src/collect/detector/detect.ts";
import { evaluateDetector, type LabelledMessage } from "../src/collect/detector/evaluate.ts";
import { defaultLexicon } from "../src/collect/lexicon/default.ts";
import { type Lexicon, termOf } from "../src/collect/lexicon/schema.ts";
import { CORPUS, loadCorpus } from "../tests/corpus/corpus.ts";

/**
 * Tuning aid for the shipped lexicon, on the TUNING corpus only.
 *
 *   npx tsx scripts/tune-detector.ts                 mistakes on the tuning corpus
 *   npx tsx scripts/tune-detector.ts --file x.jsonl  mistakes on another labelled file
 *   npx tsx scripts/tune-detector.ts --ablate        what each term is worth: false
 *                                                    positives / negatives added when
 *                                                    it is removed, or "unused"
 *   npx tsx scripts/tune-detector.ts -- "text" …     score and rules of each text
 *
 * It never reads the held-out file on purpose: the held-out figure printed by
 * `npm run bench` is honest only while no rule is written from its mistakes.
 * Write new examples into the tuning corpus instead, and when the held-out
 * text has been looked at, replace it with a freshly written batch.
 */

// Piping into `head` closes stdout early; that is not an error.
process.stdout.on("error", () => process.exit(0));

const args = process.argv.slice(2);
const lexicon = compileLexicon(defaultLexicon);

function load(): LabelledMessage[] {
  const at = args.indexOf("--file");
  if (at < 0) return loadCorpus(CORPUS);
  const path = args[at + 1];
  if (!path) throw new Error("--file needs a path to a JSONL file of {text, trade}");
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as LabelledMessage);
}

function show(text: string): void {
  const v = detectTrade(text, lexicon);
  console.log(v.trade ? "TRADE" : "     ", v.score.toFixed(2), v.rules.join(","), "|", text);
}

function mistakes(messages: LabelledMessage[]): void {
  const r = evaluateDetector(messages, lexicon);
  console.log(
    `precision ${r.precision.toFixed(3)} recall ${r.recall.toFixed(3)}` +
      `  (tp ${r.truePositives} fp ${r.falsePositives} fn ${r.falseNegatives} tn ${r.trueNegatives})`,
  );
  for (const m of r.mistakes) {
    const label = m.message.trade ? "missed     " : "false alarm";
    console.log(label, m.verdict.score.toFixed(2), m.verdict.rules.join(","), "|", m.message.text);
  }
}

function ablate(messages: LabelledMessage[]): void {
  const base = evaluateDetector(messages, lexicon);
  for (const [category, list] of Object.entries(defaultLexicon.terms)) {
    for (const entry of list) {
      const { term } = termOf(entry);
      const terms: Lexicon["terms"] = { ...defaultLexicon.terms };
      terms[category] = list.filter((other) => termOf(other).term !== term);
      const r = evaluateDetector(messages, compileLexicon({ ...defaultLexicon, terms }));
      const fp = r.falsePositives - base.falsePositives;
      const fn = r.falseNegatives - base.falseNegatives;
      const worth =
        fp === 0 && fn === 0
          ? "unused"
          : `without it fp ${fp >= 0 ? "+" : ""}${fp} fn ${fn >= 0 ? "+" : ""}${fn}`;
      console.log(`${category.padEnd(20)} ${term.padEnd(24)} ${worth}`);
    }
  }
}

const dashes = args.indexOf("--");
if (dashes >= 0) for (const text of args.slice(dashes + 1)) show(text);
else if (args.includes("--ablate")) ablate(load());
else mistakes(load());
