import { collectKeys } from "../../store/keys.ts";
import type { Redis } from "../../store/redis.ts";
import { parseLexiconOverride } from "./parse.ts";
import type { LexiconOverride } from "./schema.ts";

/** Where a case's lexicon override lives: operators' edits over the shipped default. */
export function caseLexiconKey(caseId: string): string {
  return collectKeys.lexicon(caseId);
}

/** The case's lexicon override, or undefined when the case uses the shipped default. */
export async function loadCaseLexicon(
  redis: Redis,
  caseId: string,
): Promise<LexiconOverride | undefined> {
  const raw = await redis.get(caseLexiconKey(caseId));
  return raw ? parseLexiconOverride(raw, `the lexicon of case ${caseId}`) : undefined;
}
