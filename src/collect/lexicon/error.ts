import { z } from "zod";

/** A lexicon or override that cannot be used, with every problem spelled out. */
export class LexiconError extends Error {
  override readonly name = "LexiconError";

  static fromZod(what: string, error: z.ZodError): LexiconError {
    return new LexiconError(`${what}:\n${z.prettifyError(error)}`);
  }
}
