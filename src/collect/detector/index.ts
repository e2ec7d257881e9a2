/**
 * The trade-offer detector: compile a lexicon once, then score messages.
 * Everything else in this folder is machinery behind these.
 */
export { type CompiledLexicon, compileLexicon } from "./compile.ts";
export { detectTrade, type RuleMatch, type TradeVerdict } from "./detect.ts";
export { type Evaluation, evaluateDetector, type LabelledMessage } from "./evaluate.ts";
