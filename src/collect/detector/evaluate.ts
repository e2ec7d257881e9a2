import type { CompiledLexicon } from "./compile.ts";
import { detectTrade, type TradeVerdict } from "./detect.ts";

/** One labelled message. */
export interface LabelledMessage {
  readonly text: string;
  readonly trade: boolean;
}

export interface Evaluation {
  readonly precision: number;
  readonly recall: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly trueNegatives: number;
  /** Messages the detector got wrong, with its verdict, for tuning a case lexicon. */
  readonly mistakes: { message: LabelledMessage; verdict: TradeVerdict }[];
}

/**
 * Precision and recall of the detector on labelled messages: how an
 * operator checks that a case's lexicon edits help rather than hurt.
 */
export function evaluateDetector(
  messages: readonly LabelledMessage[],
  lexicon: CompiledLexicon,
): Evaluation {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const mistakes: Evaluation["mistakes"] = [];
  for (const message of messages) {
    const verdict = detectTrade(message.text, lexicon);
    if (verdict.trade && message.trade) tp++;
    else if (verdict.trade) fp++;
    else if (message.trade) fn++;
    else tn++;
    if (verdict.trade !== message.trade) mistakes.push({ message, verdict });
  }
  return {
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    trueNegatives: tn,
    mistakes,
  };
}
