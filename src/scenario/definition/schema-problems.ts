import type { z } from "zod";
import { DURATION_HINT } from "../../base/duration.ts";
import { closest, formatPath, type Problem } from "./problems.ts";
import {
  CONVERSATION_STEP_KINDS,
  PHASE_STEP_KINDS,
  STEP_SCHEMAS,
  scenarioSchema,
  TRIGGER_ACTION_KINDS,
} from "./schema.ts";
import { fieldsAt, formsHint, schemaAt, valueAt } from "./schema-walk.ts";
import type { ScenarioSource } from "./source.ts";

/**
 * Checks a file against its format's schema (a scenario's, or a world's) and
 * turns zod's issues into problems an author can act on: an unknown field or
 * action named at its own position with the nearest valid name, a step that
 * matched no kind of step explained by the kind its action key names, and a
 * value that fits none of the forms allowed at its place answered with every
 * one of them, read from the schema (`schema-walk.ts`).
 */

type Issue = z.core.$ZodIssue;

const STEP_META_KEYS = ["id", "note", "next"];

/** Which kinds of step live at a path, for explaining a step that matched no kind. */
function stepKindsAt(
  path: readonly PropertyKey[],
): { kinds: readonly string[]; schemas: Record<string, z.ZodType> } | undefined {
  const p = path.map(String);
  const n = p.length;
  if (n === 4 && p[0] === "phases" && p[2] === "steps")
    return { kinds: PHASE_STEP_KINDS, schemas: STEP_SCHEMAS.phase };
  if (n === 6 && p[0] === "phases" && p[2] === "triggers" && p[4] === "do")
    return { kinds: TRIGGER_ACTION_KINDS, schemas: STEP_SCHEMAS.trigger };
  if (n === 5 && p[0] === "ladders" && p[2] === "rungs")
    return { kinds: TRIGGER_ACTION_KINDS, schemas: STEP_SCHEMAS.trigger };
  if (n === 4 && p[0] === "conversations" && p[2] === "steps")
    return { kinds: CONVERSATION_STEP_KINDS, schemas: STEP_SCHEMAS.conversation };
  return undefined;
}

/** What the structure check needs to know of a format besides its schema. */
export interface StructureRules {
  schema: z.ZodType;
  /** Where editors' JSON Schema of the format is, named in hints. */
  schemaFile: string;
  /** The kinds of step that live at a path (objects with exactly one action key), if any. */
  stepKindsAt?(path: readonly PropertyKey[]):
    | {
        kinds: readonly string[];
        schemas: Record<string, z.ZodType>;
        /** The keys a step has besides its kind (default: id, note, next). */
        meta?: readonly string[];
      }
    | undefined;
}

const SCENARIO_RULES: StructureRules = {
  schema: scenarioSchema,
  schemaFile: "scenarios/schema.json",
  stepKindsAt,
};

export function checkStructure(source: ScenarioSource): Problem[] {
  return structureProblems(source, SCENARIO_RULES);
}

/** Checks a parsed file against a format's schema; every issue becomes a problem at its place. */
export function structureProblems(
  source: Pick<ScenarioSource, "file" | "raw" | "locate">,
  rules: StructureRules,
): Problem[] {
  const result = rules.schema.safeParse(source.raw);
  if (result.success) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (path: readonly PropertyKey[], message: string, hint: string, key = false) => {
    const at = source.locate(path, { key });
    const id = `${at.line}:${at.column}:${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    problems.push({
      file: source.file,
      ...at,
      severity: "error",
      message,
      hint,
      path: formatPath(path),
    });
  };
  const explainer = { raw: source.raw, add, rules };
  for (const issue of result.error.issues) explain(issue, [], explainer);
  return problems;
}

type Add = (path: readonly PropertyKey[], message: string, hint: string, key?: boolean) => void;

interface Explainer {
  raw: unknown;
  add: Add;
  rules: StructureRules;
}

/** The forms the schema allows at a path, as a hint; undefined when it cannot tell. */
function formsHintAt(path: readonly PropertyKey[], on: Explainer): string | undefined {
  const schema = schemaAt(on.rules.schema, path, on.raw);
  return schema ? formsHint(schema) : undefined;
}

function explain(issue: Issue, prefix: readonly PropertyKey[], on: Explainer): void {
  const { raw, add } = on;
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = fieldsAt(on.rules.schema, path, raw);
      for (const key of issue.keys) {
        const guess = known ? closest(key, known) : undefined;
        add(
          [...path, key],
          `unknown field "${key}"`,
          guess
            ? `did you mean "${guess}"?`
            : known
              ? `allowed here: ${known.join(", ")}`
              : "remove it",
          true,
        );
      }
      return;
    }
    case "invalid_union": {
      const kinds = on.rules.stepKindsAt?.(path);
      const value = valueAt(raw, path);
      if (kinds && value !== null && typeof value === "object" && !Array.isArray(value)) {
        const present = kinds.kinds.filter((k) => k in value);
        if (present.length === 0) {
          const meta = kinds.meta ?? STEP_META_KEYS;
          const keys = Object.keys(value).filter((k) => !meta.includes(k));
          const first = keys[0];
          if (first === undefined) {
            add(path, "this step has no action", `add one of: ${kinds.kinds.join(", ")}`);
            return;
          }
          const guess = closest(first, kinds.kinds);
          add(
            [...path, first],
            `unknown action "${first}"`,
            guess ? `did you mean "${guess}"?` : `use one of: ${kinds.kinds.join(", ")}`,
            true,
          );
          return;
        }
        if (present.length > 1) {
          add(
            [...path, present[1] as string],
            `a step does one thing; this one has ${present.join(" and ")}`,
            "split it into separate steps",
            true,
          );
          return;
        }
        const schema = kinds.schemas[present[0] as string];
        const again = schema?.safeParse(value);
        if (again && !again.success) {
          for (const inner of again.error.issues) explain(inner, path, on);
          return;
        }
      }
      // Another union (a duration or "forever", a template or an object…): when one branch took
      // the value's shape and failed inside it, or failed only a check of its own (a duration's
      // format), that branch's complaint; when none did, every form the value may take.
      const tried = issue.errors.filter((b) => b.length > 0);
      const best = tried.sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
      if (best && (depth(best) >= 10 || best.every((i) => CHECKS.has(i.code)))) {
        for (const inner of best) explain(inner, path, on);
        return;
      }
      add(
        path,
        `${describe(value)} is not allowed here`,
        formsHintAt(path, on) ?? `see ${on.rules.schemaFile} for what is allowed here`,
      );
      return;
    }
    case "invalid_type": {
      const value = valueAt(raw, path);
      const forms = formsHintAt(path, on);
      if (value === undefined) {
        const field = path.at(-1);
        add(
          path.slice(0, -1),
          `missing field "${String(field)}"`,
          `add ${String(field)}: (${forms ? forms.replace(/^write /, "") : issue.expected})`,
        );
        return;
      }
      add(
        path,
        `expected ${issue.expected}, got ${describe(value)}`,
        forms ?? "change the value's type",
      );
      return;
    }
    case "invalid_format": {
      const value = valueAt(raw, path);
      if (issue.message === "bad duration") {
        add(path, `bad duration ${JSON.stringify(value)}`, DURATION_HINT);
        return;
      }
      if (issue.message.startsWith("Invalid")) {
        // zod's own words ("Invalid string: must match pattern …"): say what may stand here instead.
        add(
          path,
          `${JSON.stringify(value)} is not in a form allowed here`,
          formsHintAt(path, on) ?? `see ${on.rules.schemaFile} for the format`,
        );
        return;
      }
      add(
        path,
        `${JSON.stringify(value)}: ${issue.message}`,
        `see ${on.rules.schemaFile} for the format`,
      );
      return;
    }
    case "invalid_value": {
      const value = valueAt(raw, path);
      const words = issue.values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      const starting = typeof value === "string" ? words.filter((w) => w.startsWith(value)) : [];
      const guess =
        starting.length === 1
          ? starting[0]
          : typeof value === "string" && value.length > 3
            ? closest(value, words)
            : undefined;
      // A long list (the language codes) is described rather than listed.
      const about =
        words.length > 12 ? schemaAt(on.rules.schema, path, raw)?.description : undefined;
      const listed = about
        ? `${about.replace(/\.$/, "")} (all ${words.length} in ${on.rules.schemaFile})`
        : words.length > 12
          ? `one of ${words.length}, such as ${words.slice(0, 8).join(", ")} (see ${on.rules.schemaFile})`
          : `one of: ${words.join(", ")}`;
      add(
        path,
        `${JSON.stringify(value)} is not allowed here`,
        guess ? `did you mean ${guess}? (${listed})` : about ? listed : `use ${listed}`,
      );
      return;
    }
    case "too_small":
    case "too_big":
      if (issue.message === "bad duration") {
        add(path, `bad duration ${JSON.stringify(valueAt(raw, path))}`, DURATION_HINT);
        return;
      }
      add(path, sizeMessage(issue), "adjust the value or the number of items");
      return;
    default:
      add(path, issue.message, `see ${on.rules.schemaFile}`);
  }
}

/** A size limit in words: "at least 2 items", "at most 200 characters". */
function sizeMessage(issue: Issue & { code: "too_small" | "too_big" }): string {
  const limit = issue.code === "too_small" ? issue.minimum : issue.maximum;
  const bound = issue.code === "too_small" ? "at least" : "at most";
  switch (issue.origin) {
    case "array":
    case "set":
      return `${issue.code === "too_small" ? "too few" : "too many"} items: ${bound} ${limit}`;
    case "string":
      return `${issue.code === "too_small" ? "too short" : "too long"}: ${bound} ${limit} character${Number(limit) === 1 ? "" : "s"}`;
    case "number":
    case "int":
      return `${issue.code === "too_small" ? "too small" : "too large"}: ${bound} ${limit}`;
    default:
      return issue.message;
  }
}

/** Issues of a value that had the right type but failed a check of it (a pattern, a length). */
const CHECKS = new Set<string>(["invalid_format", "too_small", "too_big", "not_multiple_of"]);

/** How far a union's branch got: deeper paths first, then specific complaints over "wrong type". */
function depth(issues: readonly Issue[]): number {
  const rank = (i: Issue) => (i.code === "invalid_value" ? 0 : i.code === "invalid_type" ? 1 : 2);
  return Math.max(...issues.map((i) => i.path.length * 10 + rank(i)));
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
