import { pathToFileURL } from "node:url";
import { compileLexicon } from "../src/collect/detector/compile.ts";
import { detectTrade } from "../src/collect/detector/detect.ts";
import { evaluateDetector } from "../src/collect/detector/evaluate.ts";
import { defaultLexicon } from "../src/collect/lexicon/default.ts";
import { isVocabCategory, termOf } from "../src/collect/lexicon/schema.ts";
import { CORPUS, HOLDOUT, loadCorpus } from "../tests/corpus/corpus.ts";

/**
 * Trade-offer detector throughput and quality, next to the baseline a
 * developer would write by hand: one precompiled case-insensitive RegExp
 * alternation over every positive lexicon term, "trade" when it matches.
 * Goals: detectTrade ≥ 50,000 messages/s on the shipped corpus; precision
 * ≥ 97% and recall ≥ 95% on the held-out corpus.
 *
 *   npx tsx bench/detector.ts        (BENCH_DETECTOR_MESSAGES to resize)
 */

const MESSAGES = Number(process.env.BENCH_DETECTOR_MESSAGES ?? 400_000);
const GOAL = 50_000;
/**
 * Quality goal on the held-out corpus: text no rule was written from. The
 * tuning corpus is printed beside it; a wide gap between the two means the
 * rules learnt the tuning text rather than how offers are written.
 */
const QUALITY_GOAL = { precision: 0.97, recall: 0.95 };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every term of a positive category as one alternation; `*` becomes `\p{L}*`. */
function baselineRegExp(): RegExp {
  const alternatives: string[] = [];
  for (const [category, terms] of Object.entries(defaultLexicon.terms)) {
    if (isVocabCategory(category) || (defaultLexicon.weights[category] ?? 0) <= 0) continue;
    for (const entry of terms) {
      const { term } = termOf(entry);
      alternatives.push(escapeRegExp(term).replace("\\*", "\\p{L}*"));
    }
  }
  return new RegExp(`(?<![\\p{L}\\d])(?:${alternatives.join("|")})(?![\\p{L}\\d])`, "iu");
}

function rate(messages: readonly string[], classify: (text: string) => boolean): number {
  let positives = 0;
  for (let i = 0; i < Math.min(messages.length, 20_000); i++) {
    if (classify(messages[i] as string)) positives++;
  }
  const started = process.hrtime.bigint();
  for (const text of messages) if (classify(text)) positives++;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (positives < 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return messages.length / seconds;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

export async function benchDetector(): Promise<void> {
  const corpus = loadCorpus(CORPUS);
  const holdout = loadCorpus(HOLDOUT);
  const texts = [...corpus, ...holdout].map((m) => m.text);
  const messages: string[] = [];
  while (messages.length < MESSAGES) messages.push(...texts);
  messages.length = MESSAGES;

  const compileStart = process.hrtime.bigint();
  const lexicon = compileLexicon(defaultLexicon);
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
  const baseline = baselineRegExp();

  const detectorRate = rate(messages, (text) => detectTrade(text, lexicon).trade);
  const baselineRate = rate(messages, (text) => baseline.test(text));

  const quality = (name: string, set: typeof corpus, goal?: string) => {
    const ours = evaluateDetector(set, lexicon);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const m of set) {
      const hit = baseline.test(m.text);
      if (hit && m.trade) tp++;
      else if (hit) fp++;
      else if (m.trade) fn++;
    }
    const met = ours.precision >= QUALITY_GOAL.precision && ours.recall >= QUALITY_GOAL.recall;
    console.log(
      `  ${name.padEnd(9)}(${set.length} msgs)  detectTrade precision ${percent(ours.precision)} recall ${percent(ours.recall)}` +
        ` (${ours.falsePositives} false alarms, ${ours.falseNegatives} missed)` +
        `   baseline precision ${percent(tp / (tp + fp))} recall ${percent(tp / (tp + fn))}` +
        (goal ? `   ${goal}: ${met ? "met" : "MISSED"}` : ""),
    );
  };

  console.log(
    `trade detector: ${MESSAGES.toLocaleString("en")} messages (corpus + holdout, repeated)`,
  );
  console.log(`  compileLexicon           ${compileMs.toFixed(1)} ms`);
  console.log(
    `  detectTrade              ${Math.round(detectorRate).toLocaleString("en")} msgs/s  (goal ≥ ${GOAL.toLocaleString("en")}: ${detectorRate >= GOAL ? "met" : "MISSED"})`,
  );
  console.log(`  baseline RegExp          ${Math.round(baselineRate).toLocaleString("en")} msgs/s`);
  quality("tuning", corpus);
  quality(
    "held-out",
    holdout,
    `goal precision ≥ ${percent(QUALITY_GOAL.precision)} recall ≥ ${percent(QUALITY_GOAL.recall)}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchDetector();
}
