import type { Category, CompiledLexicon, TermEntry, TrieNode } from "./compile.ts";
import {
  HANDLE_FOUND,
  LIST_ON_REQUEST,
  PHONE,
  PRICE,
  PRICE_ON_REQUEST,
  PRICE_QUANTITY,
  QUANTITY,
  readStructure,
  StructureSpans,
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
 * What makes a trade is the goods: "zoek iemand om mee te gamen, dm me" is
 * not a request to buy, and "wasmachine te koop, 120 euro, ophalen, app me"
 * is a second-hand sale however much it reads like an offer. So intent,
 * hand-offs, payment, delivery and trust count only when something these
 * groups trade is named: an item, an emoji code, or a price list offered on
 * request ("pm voor prijzen", "menu in dm"). Structure (a price with a
 * quantity, a phone number) and counter-evidence always count.
 */
const EMOJI_CODE = "emoji-code";

/**
 * An item or emoji code names goods from this term weight up: ❄️ 💊 🧨 do,
 * while 🔥 and 🤍 are how anyone decorates the sale of a phone.
 */
const NAMES_GOODS = 0.4;

/** Items named before a message counts as a stock list. */
const LIST_MIN_ITEMS = 3;

const STRUCTURE_RULES = [
  PRICE,
  QUANTITY,
  PRICE_QUANTITY,
  PHONE,
  HANDLE_FOUND,
  PRICE_ON_REQUEST,
] as const;

function structureRule(
  bit: number,
): "price" | "quantity" | "price+quantity" | "phone" | "handle" | "price-on-request" {
  switch (bit) {
    case PRICE_ON_REQUEST:
      return "price-on-request";
    case PRICE:
      return "price";
    case QUANTITY:
      return "quantity";
    case PRICE_QUANTITY:
      return "price+quantity";
    case PHONE:
      return "phone";
    default:
      return "handle";
  }
}

// Scratch space reused by every call (detection is synchronous).
const tokens = new TokenBuffer();
const tags: number[] = [];
const spans = new StructureSpans();
const itemTerms: string[] = [];
let itemCount = 0;
const firedRules: string[] = [];
const firedWeights: number[] = [];
let firedCount = 0;
let best = new Float64Array(0);

function seenItem(term: string): boolean {
  for (let k = 0; k < itemCount; k++) if (itemTerms[k] === term) return true;
  return false;
}

function fire(rule: string, contribution: number): void {
  // Insertion keeps rules ordered by contribution, ties in firing order.
  let k = firedCount++;
  while (k > 0 && (firedWeights[k - 1] as number) < contribution) {
    firedRules[k] = firedRules[k - 1] as string;
    firedWeights[k] = firedWeights[k - 1] as number;
    k--;
  }
  firedRules[k] = rule;
  firedWeights[k] = contribution;
}

export function detectTrade(text: string, lexicon: CompiledLexicon): TradeVerdict {
  scan(text, tokens);
  const n = tokens.count;
  for (let i = 0; i < n; i++) tags[i] = 0;
  const categories = lexicon.categories;
  if (best.length < categories.length) best = new Float64Array(categories.length);
  best.fill(0, 0, categories.length);
  itemCount = 0;
  firedCount = 0;

  const matches: RuleMatch[] = [];
  let disguised: RuleMatch | undefined;
  let namesGoods = false;

  let i = 0;
  while (i < n) {
    const span = matchAt(lexicon, i);
    if (span === 0) {
      i++;
      continue;
    }
    const end = i + span;
    const start = tokens.start[i] as number;
    const stop = tokens.end[end - 1] as number;
    let hidden = false;
    for (let k = i; k < end; k++)
      if (((tokens.flags[k] as number) & DISGUISED) !== 0) hidden = true;
    let covered = 0;
    for (let f = 0; f < foundCount; f++) {
      const entry = found[f] as TermEntry;
      const category = categories[entry.category] as Category;
      covered |= category.tag;
      if (!category.scores) continue;
      matches.push({ rule: category.id, term: entry.term, start, end: stop });
      if (entry.weight > (best[entry.category] as number)) best[entry.category] = entry.weight;
      if (category.item && !seenItem(entry.term)) itemTerms[itemCount++] = entry.term;
      if ((category.item || category.id === EMOJI_CODE) && entry.weight >= NAMES_GOODS)
        namesGoods = true;
      if (hidden && !disguised)
        disguised = { rule: "obfuscation", term: entry.term, start, end: stop };
    }
    for (let k = i; k < end; k++) tags[k] = covered;
    i = end;
  }

  const structure = readStructure(tokens, tags, spans);

  let score = 0;
  const somethingToTrade = namesGoods || (structure & LIST_ON_REQUEST) !== 0;
  for (let c = 0; c < categories.length; c++) {
    const weight = best[c] as number;
    const category = categories[c] as Category;
    if (weight === 0 || !category.scores) continue;
    if (!somethingToTrade && category.weight > 0 && !category.item && category.id !== EMOJI_CODE)
      continue;
    const contribution = category.weight * weight;
    score += contribution;
    fire(category.id, contribution);
  }
  const weights = lexicon.structural;
  for (const bit of STRUCTURE_RULES) {
    if ((structure & bit) === 0) continue;
    const rule = structureRule(bit);
    score += weights[rule];
    fire(rule, weights[rule]);
  }
  for (let k = 0; k < spans.count; k++) {
    matches.push({
      rule: structureRule(spans.rule[k] as number),
      start: spans.start[k] as number,
      end: spans.end[k] as number,
    });
  }
  if (disguised) {
    score += weights.obfuscation;
    fire("obfuscation", weights.obfuscation);
    matches.push(disguised);
  }
  if (itemCount >= LIST_MIN_ITEMS) {
    score += weights.list;
    fire("list", weights.list);
  }

  const rounded = Math.round(score * 1000) / 1000;
  return {
    trade: rounded >= lexicon.threshold,
    score: rounded,
    rules: firedRules.slice(0, firedCount),
    matches,
  };
}

// The entries of the longest term match found by the last matchAt call.
const found: TermEntry[] = [];
let foundCount = 0;

/**
 * Finds the longest term starting at token `i`; fills `found` with every
 * entry of that length (one token may mean several things, `pillen` is both
 * a drug and a unit) and returns the length in tokens, 0 when nothing matched.
 */
function matchAt(lexicon: CompiledLexicon, i: number): number {
  foundCount = 0;
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
    foundCount = 0;
  }
  found[foundCount++] = entry;
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
