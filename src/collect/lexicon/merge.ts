import { LexiconError } from "./error.ts";
import {
  type Lexicon,
  type LexiconOverride,
  type LexiconTerm,
  lexiconSchema,
  termOf,
} from "./schema.ts";

/**
 * Applies a case's override to a base lexicon: removals first, then
 * additions, so an override can both drop a default term and re-add it with
 * another weight. The result is validated again, because an override may add
 * a category without giving it a weight.
 *
 * Removing a term the base does not have is not an error: a case override
 * must keep working when the shipped default drops a term later.
 */
export function mergeLexicon(base: Lexicon, override: LexiconOverride): Lexicon {
  const terms: Record<string, LexiconTerm[]> = {};
  for (const [category, list] of Object.entries(base.terms)) terms[category] = [...list];

  for (const [category, list] of Object.entries(override.remove ?? {})) {
    const drop = new Set(list.map(termKey));
    const current = terms[category];
    if (current) terms[category] = current.filter((t) => !drop.has(termKey(termOf(t).term)));
  }
  for (const [category, list] of Object.entries(override.add ?? {})) {
    const added = new Set(list.map((t) => termKey(termOf(t).term)));
    const kept = (terms[category] ?? []).filter((t) => !added.has(termKey(termOf(t).term)));
    terms[category] = [...kept, ...list];
  }

  const merged = lexiconSchema.safeParse({
    version: base.version,
    threshold: override.threshold ?? base.threshold,
    weights: { ...base.weights, ...override.weights },
    terms,
  });
  if (!merged.success) throw LexiconError.fromZod("the merged lexicon is not valid", merged.error);
  return merged.data;
}

function termKey(term: string): string {
  return term.normalize("NFKC").trim().toLowerCase();
}
