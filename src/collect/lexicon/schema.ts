import { z } from "zod";

/**
 * The trade lexicon as plain data: what an operator edits for a case.
 *
 * Terms are plain words or phrases, optionally with one `*` at the start or
 * the end of a single word (`cobra*`, `*vuurwerk`) or at the end of a phrase
 * (`single shot*`). Regular expressions are refused on purpose: a lexicon is
 * edited under time pressure by people who are not regex authors, and one
 * catastrophic pattern would stall the collector for every message.
 *
 * Categories name what a term means. A category scores through its entry in
 * `weights` (rule id = category id); `item:*` categories also count as
 * things that can be traded (for "5 cobra's"), and `vocab:*` categories are
 * structural vocabulary (currency words, units, …) that never score alone.
 */

/** Categories the detector reads for structure; they carry no weight of their own. */
export const VOCAB_CATEGORIES = [
  "vocab:currency",
  "vocab:unit",
  "vocab:per-unit",
  "vocab:price-link",
  "vocab:price-cue",
  "vocab:time",
  "vocab:price-word",
  "vocab:price-list",
  "vocab:on-request",
] as const;

/**
 * Rules computed from message structure rather than from term lists.
 * `price-on-request`: a price word (`vocab:price-word`: prijs, price; or
 * `vocab:price-list`: prijslijst, prijzen, menu) next to a hand-off
 * (`handoff:*`) or a request phrase (`vocab:on-request`), as in "pm voor
 * prijzen" or "prijslijst op aanvraag": how an offer reads when it names no
 * price. Only a list on request counts as naming something to trade (see
 * detectTrade): "prijs via dm" is also how one bicycle is sold.
 */
export const STRUCTURAL_RULES = [
  "price",
  "quantity",
  "price+quantity",
  "phone",
  "handle",
  "obfuscation",
  "list",
  "price-on-request",
] as const;

const FORBIDDEN = /[\\()[\]{}|^?<>]/;
const MAX_TERM_LENGTH = 80;

function checkTerm(term: string, ctx: z.RefinementCtx): void {
  const bad = FORBIDDEN.exec(term);
  if (bad) {
    ctx.addIssue({
      code: "custom",
      message: `term "${term}" contains "${bad[0]}": terms are plain words or phrases with an optional * at the start or end; regular expressions are not accepted`,
    });
    return;
  }
  const stars = term.split("*").length - 1;
  if (stars === 0) return;
  const leading = term.startsWith("*");
  const trailing = term.endsWith("*");
  if (stars > 1 || (!leading && !trailing)) {
    ctx.addIssue({
      code: "custom",
      message: `term "${term}": a wildcard * may appear once, at the start or the end of the term`,
    });
    return;
  }
  const literal = term.replace("*", "").trim();
  const words = literal.split(/\s+/);
  if (leading && words.length > 1) {
    ctx.addIssue({
      code: "custom",
      message: `term "${term}": a leading * is only allowed on a single word`,
    });
  }
  const wildWord = (leading ? words[0] : words[words.length - 1]) ?? "";
  if ([...wildWord].length < 3) {
    ctx.addIssue({
      code: "custom",
      message: `term "${term}": the word next to * needs at least 3 characters, otherwise it matches far too much`,
    });
  }
}

const termText = z
  .string()
  .trim()
  .min(1, "a term cannot be empty")
  .max(MAX_TERM_LENGTH, `a term is at most ${MAX_TERM_LENGTH} characters`)
  .superRefine(checkTerm);

const termWeight = z.number().min(0).max(5);

/** A term, either bare (weight 1) or with its own weight (0–5) within its category. */
export const termSchema = z.union([
  termText,
  z.object({ term: termText, weight: termWeight }).strict(),
]);

const categoryId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/,
    'category ids are lowercase words with an optional "kind:" prefix, e.g. item:fireworks',
  );

const ruleId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]*([:+][a-z][a-z0-9-]*)?$/,
    'rule ids are a category id or a structural rule such as "price+quantity"',
  );
const ruleWeight = z.number().min(-10).max(10);
const threshold = z.number().positive().max(100);
const termList = z.array(termSchema).max(5000, "at most 5000 terms per category");

export const lexiconSchema = z
  .object({
    version: z.literal(1),
    /** A message is a trade offer when its score reaches this. */
    threshold,
    /** Rule id → weight. Negative weights are counter-evidence (warnings, police, news). */
    weights: z.record(ruleId, ruleWeight),
    /** Category id → terms. */
    terms: z.record(categoryId, termList),
  })
  .strict()
  .superRefine((lexicon, ctx) => {
    for (const rule of Object.keys(lexicon.weights)) {
      const structural = (STRUCTURAL_RULES as readonly string[]).includes(rule);
      if (!structural && lexicon.terms[rule] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["weights", rule],
          message: `weight for "${rule}", which is neither a term category nor one of ${STRUCTURAL_RULES.join(", ")}`,
        });
      }
    }
    for (const category of Object.keys(lexicon.terms)) {
      if (isVocabCategory(category)) {
        if (!(VOCAB_CATEGORIES as readonly string[]).includes(category)) {
          ctx.addIssue({
            code: "custom",
            path: ["terms", category],
            message: `unknown vocabulary category "${category}"; known: ${VOCAB_CATEGORIES.join(", ")}`,
          });
        }
        continue;
      }
      if (lexicon.weights[category] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["weights", category],
          message: `category "${category}" has terms but no weight; add weights.${category}`,
        });
      }
    }
  });

/** What a case changes on top of a base lexicon. */
export const lexiconOverrideSchema = z
  .object({
    threshold: threshold.optional(),
    weights: z.record(ruleId, ruleWeight).optional(),
    /** Terms to add; a term already present takes the new weight. */
    add: z.record(categoryId, termList).optional(),
    /** Terms to drop (matched case-insensitively); unknown terms are ignored. */
    remove: z.record(categoryId, z.array(termText)).optional(),
  })
  .strict();

export type Lexicon = z.infer<typeof lexiconSchema>;
export type LexiconTerm = z.infer<typeof termSchema>;
export type LexiconOverride = z.infer<typeof lexiconOverrideSchema>;

export function isVocabCategory(category: string): boolean {
  return category.startsWith("vocab:");
}

export function isItemCategory(category: string): boolean {
  return category.startsWith("item:");
}

/** `handoff:*` categories: ways to take a deal elsewhere (an app, a DM). */
export function isHandoffCategory(category: string): boolean {
  return category.startsWith("handoff:");
}

export function termOf(entry: LexiconTerm): { term: string; weight: number } {
  return typeof entry === "string" ? { term: entry, weight: 1 } : entry;
}
