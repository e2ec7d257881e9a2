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
import type { ScenarioSource } from "./source.ts";

/**
 * Checks a scenario against the schema and turns zod's issues into problems
 * a scenario author can act on: an unknown field or action named at its own
 * position with the nearest valid name, and a step that matched no kind of
 * step explained by the kind its action key names.
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

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const segment of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[segment];
  }
  return v;
}

export function checkStructure(source: ScenarioSource): Problem[] {
  const result = scenarioSchema.safeParse(source.raw);
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
  for (const issue of result.error.issues) explain(issue, [], source.raw, add);
  return problems;
}

type Add = (path: readonly PropertyKey[], message: string, hint: string, key?: boolean) => void;

function explain(issue: Issue, prefix: readonly PropertyKey[], raw: unknown, add: Add): void {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case "unrecognized_keys": {
      const here = valueAt(raw, path);
      const known = knownKeys(path);
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
      void here;
      return;
    }
    case "invalid_union": {
      const kinds = stepKindsAt(path);
      const value = valueAt(raw, path);
      if (kinds && value !== null && typeof value === "object" && !Array.isArray(value)) {
        const present = kinds.kinds.filter((k) => k in value);
        if (present.length === 0) {
          const keys = Object.keys(value).filter((k) => !STEP_META_KEYS.includes(k));
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
          for (const inner of again.error.issues) explain(inner, path, raw, add);
          return;
        }
      }
      // Another union (a duration or "forever", a template or an object…): the branch that got furthest.
      const branches = issue.errors.filter((b) => b.length > 0);
      const best = branches.sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
      if (best && (depth(best) >= 10 || best.every((i) => i.code !== "invalid_value"))) {
        for (const inner of best) explain(inner, path, raw, add);
        return;
      }
      add(path, describeUnion(issue, value), "see scenarios/schema.json for what is allowed here");
      return;
    }
    case "invalid_type": {
      const value = valueAt(raw, path);
      if (value === undefined) {
        const field = path.at(-1);
        add(
          path.slice(0, -1),
          `missing field "${String(field)}"`,
          `add ${String(field)}: (${issue.expected})`,
        );
        return;
      }
      add(path, `expected ${issue.expected}, got ${describe(value)}`, "change the value's type");
      return;
    }
    case "invalid_format": {
      const value = valueAt(raw, path);
      if (issue.message === "bad duration") {
        add(path, `bad duration ${JSON.stringify(value)}`, DURATION_HINT);
        return;
      }
      add(
        path,
        `${JSON.stringify(value)}: ${issue.message}`,
        "see scenarios/schema.json for the format",
      );
      return;
    }
    case "invalid_value":
      add(
        path,
        `${JSON.stringify(valueAt(raw, path))} is not allowed here`,
        `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      );
      return;
    case "too_small":
    case "too_big":
      if (issue.message === "bad duration") {
        add(path, `bad duration ${JSON.stringify(valueAt(raw, path))}`, DURATION_HINT);
        return;
      }
      add(path, issue.message, "adjust the value or the number of items");
      return;
    default:
      add(path, issue.message, "see scenarios/schema.json");
  }
}

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

function describeUnion(issue: Issue & { code: "invalid_union" }, value: unknown): string {
  void issue;
  return `${describe(value)} is not valid here`;
}

/** The fields an object at a path may have, for "did you mean" on unknown fields. */
function knownKeys(path: readonly PropertyKey[]): string[] | undefined {
  const p = path.map(String);
  const n = p.length;
  if (n === 0)
    return [
      "id",
      "title",
      "description",
      "version",
      "languages",
      "default_language",
      "timezone",
      "rights",
      "templates",
      "conversations",
      "ladders",
      "phases",
    ];
  if (n === 2 && p[0] === "phases") return ["id", "title", "steps", "triggers"];
  if (n === 4 && p[0] === "phases" && p[2] === "triggers")
    return ["id", "on", "keywords", "regex", "min_score", "after", "limit", "chat_limit", "do"];
  if (n === 4 && p[0] === "phases" && p[2] === "steps") return [...PHASE_STEP_KINDS, "id", "note"];
  if (n === 4 && p[0] === "conversations" && p[2] === "steps")
    return [...CONVERSATION_STEP_KINDS, "id", "next"];
  if (n === 5 && p[0] === "conversations" && p[4] === "ask")
    return ["template", "expect", "timeout", "on_timeout", "record"];
  if (n === 2 && p[0] === "conversations") return ["where", "steps"];
  if (n === 2 && p[0] === "ladders") return ["reset_after", "rungs"];
  if (n === 2 && p[0] === "templates") return ["nl", "en"];
  if (n === 5 && p[0] === "phases" && p[2] === "steps") {
    const byKind: Record<string, string[]> = {
      warn: ["template", "pin"],
      announce: ["template", "pin"],
      lockdown: ["title", "description", "photo"],
      approve: ["reason", "timeout", "on_timeout"],
      restrict: ["users", "for"],
      ban: ["users", "for"],
      purge: ["last", "from"],
      pin: ["step"],
    };
    return byKind[p[4] as string];
  }
  if (n === 5 && p[0] === "phases" && p[2] === "triggers") return ["count", "per"];
  if (n === 5 && p[0] === "conversations" && p[4] === "branch") return ["on", "cases", "default"];
  return undefined;
}
