import type { CompiledLexicon, TermEntry, TrieNode } from "./compile.ts";
import {
  HANDLE_FOUND,
  PHONE,
  PRICE,
  PRICE_QUANTITY,
  QUANTITY,
  readStructure,
  type StructureSpan,
} from "./structure.ts";
import { DISGUISED, HANDLE, HARD_GAP, scan, TokenBuffer } from "./tokens.ts";

/**
 * Scores one message as a trade offer (or a request to buy) and says why.
 *
 * The score is a sum of rule weights: each term category that matched adds
 * its weight times the strongest matching term's weight; structure (price,
 * quantity, price with quantity, phone, handle), disguise and a list of
 * several items add theirs; warnings, police talk and news subtract. Every
 * rule fires at most once, so a message cannot talk itself into a trade by
 * repeating one word, and the rule list is the whole explanation.
 */

export interface RuleMatch {
  /** Stable rule id, e.g. `item:fireworks`, `price+quantity`. */
  readonly rule: string;
  /** The lexicon term that matched; absent for structural rules. */
  readonly term?: string;
  /** Offsets into the original message (UTF-16 units), end exclusive. */
  readonly start: number;
  readonly end: number;
}

export interface TradeVerdict {
  readonly trade: boolean;
  /** Rounded to three decimals. */
  readonly score: number;
  /** Rules that fired, strongest contribution first (ties in lexicon order). */
  readonly rules: string[];
  /** Where each rule fired. */
  readonly matches: RuleMatch[];
}

/**
 * "zoek iemand om mee te gamen" is not a request to buy: asking counts only
 * when something tradeable is named (an item or an emoji code).
 */
const BUY = "intent:buy";
const EMOJI_CODE = "emoji-code";

/** Items named before a message counts as a stock list. */
const LIST_MIN_ITEMS = 3;

// Scratch space reused by every call (detection is synchronous).
const tokens = new TokenBuffer();
const tags: number[] = [];
const itemTerms: string[] = [];
let best = new Float64Array(0);

const STRUCTURE_RULES: readonly [
  number,
  "price" | "quantity" | "price+quantity" | "phone" | "handle",
][] = [
  [PRICE, "price"],
  [QUANTITY, "quantity"],
  [PRICE_QUANTITY, "price+quantity"],
  [PHONE, "phone"],
  [HANDLE_FOUND, "handle"],
];

export function detectTrade(text: string, lexicon: CompiledLexicon): TradeVerdict {
  scan(text, tokens);
  const n = tokens.count;
  for (let i = 0; i < n; i++) tags[i] = 0;
  const categories = lexicon.categories;
  if (best.length < categories.length) best = new Float64Array(categories.length);
  best.fill(0, 0, categories.length);

  const matches: RuleMatch[] = [];
  let disguised: RuleMatch | undefined;
  itemTerms.length = 0;

  let i = 0;
  while (i < n) {
    const span = matchAt(lexicon, i);
    if (span === 0) {
      i++;
      continue;
    }
    const end = i + span;
    let covered = 0;
    let hidden = false;
    for (const entry of found) {
      const category = categories[entry.category];
      if (!category) continue;
      covered |= category.tag;
      if (!category.scores) continue;
      const match: RuleMatch = {
        rule: category.id,
        term: entry.term,
        start: tokens.start[i] as number,
        end: tokens.end[end - 1] as number,
      };
      matches.push(match);
      if (entry.weight > (best[entry.category] as number)) best[entry.category] = entry.weight;
      if (category.id.startsWith("item:") && !itemTerms.includes(entry.term)) {
        itemTerms.push(entry.term);
      }
      for (let k = i; k < end && !hidden; k++)
        hidden = ((tokens.flags[k] as number) & DISGUISED) !== 0;
      if (hidden && !disguised)
        disguised = { rule: "obfuscation", term: entry.term, start: match.start, end: match.end };
    }
    for (let k = i; k < end; k++) tags[k] = covered;
    i = end;
  }

  const spans: StructureSpan[] = [];
  const structure = readStructure(tokens, tags, spans);

  const contributions: [string, number][] = [];
  let score = 0;
  const somethingToBuy = itemTerms.length > 0 || emojiCodeFired(categories);
  for (let c = 0; c < categories.length; c++) {
    const weight = best[c] as number;
    const category = categories[c];
    if (weight === 0 || !category?.scores) continue;
    if (category.id === BUY && !somethingToBuy) continue;
    const contribution = category.weight * weight;
    score += contribution;
    contributions.push([category.id, contribution]);
  }
  const weights = lexicon.structural;
  for (const [bit, rule] of STRUCTURE_RULES) {
    if ((structure & bit) === 0) continue;
    score += weights[rule];
    contributions.push([rule, weights[rule]]);
  }
  for (const span of spans) {
    const rule = STRUCTURE_RULES.find(([bit]) => bit === span.rule)?.[1];
    if (rule) matches.push({ rule, start: span.start, end: span.end });
  }
  if (disguised) {
    score += weights.obfuscation;
    contributions.push(["obfuscation", weights.obfuscation]);
    matches.push(disguised);
  }
  if (itemTerms.length >= LIST_MIN_ITEMS) {
    score += weights.list;
    contributions.push(["list", weights.list]);
  }

  contributions.sort((a, b) => b[1] - a[1]);
  const rounded = Math.round(score * 1000) / 1000;
  return {
    trade: rounded >= lexicon.threshold,
    score: rounded,
    rules: contributions.map(([rule]) => rule),
    matches,
  };
}

function emojiCodeFired(categories: CompiledLexicon["categories"]): boolean {
  for (let c = 0; c < categories.length; c++) {
    if (categories[c]?.id === EMOJI_CODE && (best[c] as number) > 0) return true;
  }
  return false;
}

// The entries of the longest term match found by the last matchAt call.
const found: TermEntry[] = [];

/**
 * Finds the longest term starting at token `i`; fills `found` with every
 * entry of that length (one token may mean several things, `pillen` is both
 * a drug and a unit) and returns the length in tokens, 0 when nothing matched.
 */
function matchAt(lexicon: CompiledLexicon, i: number): number {
  found.length = 0;
  longest = 0;
  const text = tokens.kind[i] === HANDLE ? `@${tokens.text[i]}` : (tokens.text[i] as string);
  const exact = lexicon.exact.get(text);
  if (exact) for (const entry of exact) consider(entry, i);
  walk(lexicon.prefixes, text, false, i);
  walk(lexicon.suffixes, text, true, i);
  return longest;
}

let longest = 0;

function consider(entry: TermEntry, i: number): void {
  const span = phraseLength(entry, i);
  if (span === 0 || span < longest) return;
  if (span > longest) {
    longest = span;
    found.length = 0;
  }
  found.push(entry);
}

/** Considers the entries of every trie node on the path spelled by `text`. */
function walk(root: TrieNode, text: string, backwards: boolean, i: number): void {
  let at: TrieNode | undefined = root;
  const n = text.length;
  for (let k = 0; k < n && at; k++) {
    at = at.next.get(text.charCodeAt(backwards ? n - 1 - k : k));
    if (at?.entries) for (const entry of at.entries) consider(entry, i);
  }
}

function phraseLength(entry: TermEntry, i: number): number {
  const rest = entry.rest;
  if (i + rest.length >= tokens.count) return 0;
  for (let k = 0; k < rest.length; k++) {
    const at = i + 1 + k;
    if (((tokens.flags[at] as number) & HARD_GAP) !== 0) return 0;
    const word = tokens.text[at] as string;
    const want = rest[k] as string;
    const last = k === rest.length - 1;
    if (last && entry.restPrefix ? !word.startsWith(want) : word !== want) return 0;
  }
  return 1 + rest.length;
}
