import { parse as parseYaml } from "yaml";
import { LexiconError } from "./error.ts";
import { type LexiconOverride, lexiconOverrideSchema } from "./schema.ts";

/**
 * Reads a lexicon override from YAML or JSON text (JSON is valid YAML).
 * `source` names the file in error messages.
 */
export function parseLexiconOverride(text: string, source: string): LexiconOverride {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new LexiconError(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const result = lexiconOverrideSchema.safeParse(data ?? {});
  if (!result.success) {
    throw LexiconError.fromZod(`${source}: not a valid lexicon override`, result.error);
  }
  return result.data;
}
