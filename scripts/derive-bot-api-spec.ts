/**
 * Derives the machine-readable part of the Bot API description into
 * `src/sim/spec/bot-api.json`: method and type names, field names, field
 * types, required flags, return types and union subtypes. Description prose
 * is dropped; the only fact taken from it is the constant value of
 * discriminator fields (`always "creator"`), which the response validator
 * needs to tell the members of a union apart.
 *
 * The simulator and its tests read only the derived file, never the shared
 * source, so the project stays self-contained at run and test time.
 *
 * Usage: npx tsx scripts/derive-bot-api-spec.ts [source.json] [target.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface SourceField {
  name: string;
  types: string[];
  required: boolean;
  description?: string;
}
interface SourceEntry {
  fields?: SourceField[];
  subtypes?: string[];
  returns?: string[];
}
interface SourceSpec {
  version: string;
  release_date?: string;
  methods: Record<string, SourceEntry>;
  types: Record<string, SourceEntry>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = process.argv[2] ?? resolve(root, "../shared/telegram-bot-api/api.json");
const target = process.argv[3] ?? resolve(root, "src/sim/spec/bot-api.json");

/** `always "creator"` in a description marks a discriminator constant. */
function constantOf(field: SourceField): string | undefined {
  const match = /\balways [“"]([^”"]+)[”"]/.exec(field.description ?? "");
  return match?.[1];
}

function deriveFields(fields: SourceField[]) {
  return fields.map((field) => {
    const constant = constantOf(field);
    return {
      name: field.name,
      types: field.types,
      required: field.required,
      ...(constant === undefined ? {} : { const: constant }),
    };
  });
}

function deriveEntry(entry: SourceEntry) {
  if (entry.subtypes) return { subtypes: entry.subtypes };
  return {
    fields: deriveFields(entry.fields ?? []),
    ...(entry.returns ? { returns: entry.returns } : {}),
  };
}

function sortedMap<T>(record: Record<string, T>, map: (value: T) => unknown) {
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, map(record[key] as T)]),
  );
}

const spec = JSON.parse(readFileSync(source, "utf8")) as SourceSpec;
const derived = {
  version: spec.version,
  release_date: spec.release_date,
  methods: sortedMap(spec.methods, deriveEntry),
  types: sortedMap(spec.types, deriveEntry),
};
writeFileSync(target, `${JSON.stringify(derived, null, 1)}\n`);
console.log(
  `derived ${Object.keys(derived.methods).length} methods and ${Object.keys(derived.types).length} types (${spec.version}) into ${target}`,
);
