import { LexiconError } from "../lexicon/error.ts";
import {
  isHandoffCategory,
  isItemCategory,
  isVocabCategory,
  type Lexicon,
  lexiconSchema,
  STRUCTURAL_RULES,
  termOf,
} from "../lexicon/schema.ts";
import { HANDLE, scan, TokenBuffer } from "./tokens.ts";

/**
 * A lexicon turned into lookup tables once, so that scoring a message is a
 * handful of map lookups per token. Terms are tokenized exactly like
 * messages, which is what makes `cobra's`, `Cobra’s` and `c0bra's` one term.
 */

/** Tag bits a term puts on the tokens it covers; the structure reader uses them. */
export const TAG_CURRENCY = 1;
export const TAG_UNIT = 2;
export const TAG_PER_UNIT = 4;
export const TAG_PRICE_LINK = 8;
export const TAG_PRICE_CUE = 16;
export const TAG_TIME = 32;
export const TAG_ITEM = 64;
/** Part of a scoring term (so a number in `cobra 6` is not a quantity). */
export const TAG_TERM = 128;
/** `prijs`, `price`: a single price. */
export const TAG_PRICE_WORD = 256;
/** `op aanvraag`, `on request`. */
export const TAG_ON_REQUEST = 512;
/** Part of a `handoff:*` term (`pm`, `in dm`, `signal`). */
export const TAG_HANDOFF = 1024;
/** `prijslijst`, `prijzen`, `menu`: the prices of a stock. */
export const TAG_PRICE_LIST = 2048;

const VOCAB_TAGS: Readonly<Record<string, number>> = {
  "vocab:currency": TAG_CURRENCY,
  "vocab:unit": TAG_UNIT,
  "vocab:per-unit": TAG_PER_UNIT,
  "vocab:price-link": TAG_PRICE_LINK,
  "vocab:price-cue": TAG_PRICE_CUE,
  "vocab:time": TAG_TIME,
  "vocab:price-word": TAG_PRICE_WORD,
  "vocab:price-list": TAG_PRICE_LIST,
  "vocab:on-request": TAG_ON_REQUEST,
};

export interface Category {
  readonly id: string;
  /** 0 for vocabulary. */
  readonly weight: number;
  readonly tag: number;
  readonly scores: boolean;
  readonly item: boolean;
}

export interface TermEntry {
  readonly category: number;
  readonly weight: number;
  /** The term as written in the lexicon, for explanations. */
  readonly term: string;
  /** Tokens after the first one, for phrases. */
  readonly rest: readonly string[];
  /** The last token of `rest` is a prefix (`single shot*`). */
  readonly restPrefix: boolean;
}

export interface TrieNode {
  readonly next: Map<number, TrieNode>;
  entries: TermEntry[] | undefined;
}

export interface CompiledLexicon {
  readonly threshold: number;
  readonly categories: readonly Category[];
  /** First token → terms starting with it. */
  readonly exact: ReadonlyMap<string, readonly TermEntry[]>;
  /** `cobra*`: walked forwards over a token's characters. */
  readonly prefixes: TrieNode;
  /** `*vuurwerk`: walked backwards. */
  readonly suffixes: TrieNode;
  readonly structural: Readonly<Record<(typeof STRUCTURAL_RULES)[number], number>>;
}

function node(): TrieNode {
  return { next: new Map(), entries: undefined };
}

function insert(root: TrieNode, key: string, entry: TermEntry, backwards: boolean): void {
  let at = root;
  for (let k = 0; k < key.length; k++) {
    const c = key.charCodeAt(backwards ? key.length - 1 - k : k);
    let child = at.next.get(c);
    if (!child) {
      child = node();
      at.next.set(c, child);
    }
    at = child;
  }
  if (at.entries) at.entries.push(entry);
  else at.entries = [entry];
}

/** Validates (the lexicon may come from an operator) and compiles. */
export function compileLexicon(lexicon: Lexicon): CompiledLexicon {
  const parsed = lexiconSchema.safeParse(lexicon);
  if (!parsed.success) throw LexiconError.fromZod("the lexicon is not valid", parsed.error);
  const valid = parsed.data;

  const categories: Category[] = [];
  const exact = new Map<string, TermEntry[]>();
  const prefixes = node();
  const suffixes = node();
  const tokens = new TokenBuffer();

  for (const [id, terms] of Object.entries(valid.terms)) {
    const vocab = isVocabCategory(id);
    const index = categories.length;
    categories.push({
      id,
      weight: vocab ? 0 : (valid.weights[id] ?? 0),
      tag: vocab
        ? (VOCAB_TAGS[id] ?? 0)
        : TAG_TERM |
          (isItemCategory(id) ? TAG_ITEM : 0) |
          (isHandoffCategory(id) ? TAG_HANDOFF : 0),
      scores: !vocab,
      item: isItemCategory(id),
    });
    for (const raw of terms) {
      const { term, weight } = termOf(raw);
      const leading = term.startsWith("*");
      const trailing = term.endsWith("*");
      scan(term.replace("*", ""), tokens);
      const words: string[] = [];
      for (let k = 0; k < tokens.count; k++) {
        words.push(tokens.kind[k] === HANDLE ? `@${tokens.text[k]}` : (tokens.text[k] as string));
      }
      const first = words[0];
      if (first === undefined) {
        throw new LexiconError(`term "${term}" in ${id} has no letters, digits or emoji`);
      }
      const rest = words.slice(1);
      const entry: TermEntry = {
        category: index,
        weight,
        term,
        rest,
        restPrefix: trailing && rest.length > 0,
      };
      if (leading) insert(suffixes, first, entry, true);
      else if (trailing && rest.length === 0) insert(prefixes, first, entry, false);
      else {
        const list = exact.get(first);
        if (list) list.push(entry);
        else exact.set(first, [entry]);
      }
    }
  }

  const structural = {} as Record<(typeof STRUCTURAL_RULES)[number], number>;
  for (const rule of STRUCTURAL_RULES) structural[rule] = valid.weights[rule] ?? 0;
  return { threshold: valid.threshold, categories, exact, prefixes, suffixes, structural };
}
