import type { z } from "zod";
import { DURATION_PATTERN } from "../../base/duration.ts";

/**
 * Reading a zod schema the way an author reads the format: what may stand at
 * a place in the file, and in words. The linter uses it to name the fields
 * an object may have and the forms a value may take ("write anything, or
 * {choices: […]}, or {regex: …}") wherever a value fits none of them, so a
 * hint never says less than the schema knows. Works on any zod schema: the
 * scenario's and the world file's.
 */

type Path = readonly PropertyKey[];

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  keyType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, string | number>;
  checks?: Array<{ _zod: { def: { check: string; format?: string; pattern?: RegExp } } }>;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch"]);

/** The schema under optional, default and the like (and the input side of a pipe). */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(s);
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

function isOptional(schema: z.ZodType): boolean {
  const type = defOf(schema).type;
  return type === "optional" || type === "default" || type === "prefault";
}

/** The branches of a union (nested unions flattened), else the schema itself. */
function branches(schema: z.ZodType): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  return def.type === "union" && def.options ? def.options.flatMap(branches) : [s];
}

/** The branch of a union a value at `next` most likely meant: the object with that key, or the list. */
function choose(schema: z.ZodType, value: unknown, next: PropertyKey): z.ZodType | undefined {
  const options = branches(schema);
  if (typeof next === "number") return options.find((o) => defOf(o).type === "array");
  const objects = options.filter((o) => {
    const def = defOf(o);
    return (def.type === "object" && def.shape && next in def.shape) || def.type === "record";
  });
  if (objects.length <= 1) return objects[0];
  // Several objects have the key: the one that knows most of the value's keys.
  const keys = value && typeof value === "object" ? Object.keys(value) : [];
  const score = (o: z.ZodType) => keys.filter((k) => k in (defOf(o).shape ?? {})).length;
  return [...objects].sort((a, b) => score(b) - score(a))[0];
}

/** The schema of what stands at `path` in `raw`; undefined when the schema says nothing may. */
export function schemaAt(root: z.ZodType, path: Path, raw: unknown): z.ZodType | undefined {
  let schema: z.ZodType | undefined = unwrap(root);
  let value = raw;
  for (const segment of path) {
    if (!schema) return undefined;
    let def = defOf(schema);
    if (def.type === "union") {
      schema = choose(schema, value, segment);
      if (!schema) return undefined;
      def = defOf(schema);
    }
    if (def.type === "object" && typeof segment === "string") schema = def.shape?.[segment];
    else if (def.type === "array" && typeof segment === "number") schema = def.element;
    else if (def.type === "record") schema = def.valueType;
    else return undefined;
    value =
      value !== null && typeof value === "object"
        ? (value as Record<PropertyKey, unknown>)[segment]
        : undefined;
    schema = schema ? unwrap(schema) : undefined;
  }
  return schema;
}

/** The fields an object at `path` may have, or undefined when no object stands there. */
export function fieldsAt(root: z.ZodType, path: Path, raw: unknown): string[] | undefined {
  const schema = schemaAt(root, path, raw);
  if (!schema) return undefined;
  const objects = branches(schema).filter((o) => defOf(o).type === "object");
  if (objects.length === 0) return undefined;
  const value = valueAt(raw, path);
  const keys = value && typeof value === "object" ? Object.keys(value) : [];
  // A union of objects (a step: one object per kind): the one the value's keys point at, else all.
  const meant = objects.filter((o) => keys.some((k) => k in (defOf(o).shape ?? {})));
  const chosen = meant.length === 1 ? meant : objects;
  return [...new Set(chosen.flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
}

export function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const segment of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[segment];
  }
  return v;
}

const DURATION_SOURCE = new RegExp(DURATION_PATTERN).source;

/** One form of a string, in words. */
function stringPhrase(schema: z.ZodType): string {
  const patterns = (defOf(schema).checks ?? [])
    .map((c) => c._zod.def.pattern?.source)
    .filter((p): p is string => p !== undefined);
  if (patterns.includes(DURATION_SOURCE)) return "a duration such as 2h";
  if (patterns.some((p) => p.startsWith("^@"))) return "an @username";
  if (patterns.some((p) => p.startsWith("^[a-z0-9]") || p.startsWith("^[a-z]")))
    return schema.description?.startsWith("A template")
      ? "a template name"
      : "a name (lower-case letters, digits and hyphens)";
  return "a text";
}

/** A short stand-in for a field's value inside an object form: `{template: …, pin: true|false}`. */
function fieldPhrase(schema: z.ZodType): string {
  const forms = branches(schema).map((b) => {
    const def = defOf(b);
    if (def.type === "literal") return (def.values ?? []).map(literalWord).join("|");
    if (def.type === "enum") return Object.values(def.entries ?? {}).join("|");
    if (def.type === "boolean") return "true|false";
    if (def.type === "array") return "[…]";
    if (def.type === "object" || def.type === "record") return "{…}";
    return "…";
  });
  return [...new Set(forms)].join("|");
}

function literalWord(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The forms a value may take, in words, one per branch of a union: `anything`,
 * `{choices: […]}`, `{regex: …}`; `a duration such as 2h`, `forever`.
 */
export function formsOf(schema: z.ZodType): string[] {
  const forms: string[] = [];
  for (const b of branches(schema)) {
    const def = defOf(b);
    switch (def.type) {
      case "literal":
        forms.push(...(def.values ?? []).map(literalWord));
        break;
      case "enum":
        forms.push(...Object.values(def.entries ?? {}).map(String));
        break;
      case "string":
        forms.push(stringPhrase(b));
        break;
      case "number":
        forms.push(
          (def.checks ?? []).some((c) => c._zod.def.format === "safeint")
            ? "a whole number"
            : "a number",
        );
        break;
      case "boolean":
        forms.push("true", "false");
        break;
      case "array":
        forms.push("a list [ … ]");
        break;
      case "record":
        forms.push("a map of names to values { name: … }");
        break;
      case "object": {
        const shape = def.shape ?? {};
        const keys = Object.keys(shape);
        const required = keys.filter((k) => !isOptional(shape[k] as z.ZodType));
        const shown = required.length > 0 ? required : keys;
        const fields = shown.map((k) => `${k}: ${fieldPhrase(shape[k] as z.ZodType)}`);
        const more = keys.length > shown.length ? ", …" : "";
        forms.push(`{${fields.join(", ")}${more}}`);
        break;
      }
      default:
        forms.push("a value");
    }
  }
  return [...new Set(forms)];
}

/** "write anything, or {choices: […]}, or {regex: …}": every form, for a hint. */
export function formsHint(schema: z.ZodType, max = 12): string {
  const forms = formsOf(schema);
  const shown = forms.length > max ? [...forms.slice(0, max), "…"] : forms;
  return `write ${shown.join(", or ")}`;
}
