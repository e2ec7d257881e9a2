/** The trade lexicon: its schema, the shipped default, case overrides. */
export { defaultLexicon } from "./default.ts";
export { LexiconError } from "./error.ts";
export { mergeLexicon } from "./merge.ts";
export { parseLexiconOverride } from "./parse.ts";
export {
  type Lexicon,
  type LexiconOverride,
  type LexiconTerm,
  lexiconOverrideSchema,
  lexiconSchema,
} from "./schema.ts";
