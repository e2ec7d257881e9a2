/**
 * The derived Bot API description (`bot-api.json`, produced by
 * `scripts/derive-bot-api-spec.ts`). It tells the simulator which methods
 * exist, which parameters they take and what they return, and tells the
 * validator what every type looks like.
 */
import { readFileSync } from "node:fs";

export interface SpecField {
  name: string;
  /** Alternatives such as `Integer`, `String`, `Array of MessageEntity`, `ChatPermissions`. */
  types: string[];
  required: boolean;
  /** Fixed value of a discriminator field (`status` of ChatMemberOwner is always "creator"). */
  const?: string;
}

export interface SpecMethod {
  fields: SpecField[];
  returns: string[];
}

export type SpecType = { fields: SpecField[]; subtypes?: undefined } | { subtypes: string[] };

export interface BotApiSpec {
  version: string;
  methods: Record<string, SpecMethod>;
  types: Record<string, SpecType>;
}

let loaded: BotApiSpec | undefined;

export function botApiSpec(): BotApiSpec {
  loaded ??= JSON.parse(
    readFileSync(new URL("./bot-api.json", import.meta.url), "utf8"),
  ) as BotApiSpec;
  return loaded;
}

let byLowerName: Map<string, string> | undefined;

/** Bot API method names are case-insensitive; this maps any casing to the canonical one. */
export function canonicalMethodName(name: string): string | undefined {
  if (!byLowerName) {
    byLowerName = new Map(Object.keys(botApiSpec().methods).map((m) => [m.toLowerCase(), m]));
  }
  return byLowerName.get(name.toLowerCase());
}
