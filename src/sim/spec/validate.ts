/**
 * Structural validation of JSON values against the derived Bot API types:
 * required fields present, no fields the type does not declare, primitive
 * JSON types right, arrays walked element by element, and unions (ChatMember,
 * MessageOrigin, MaybeInaccessibleMessage, …) resolved by their discriminator
 * constant or, when they have none, by the first subtype that fits.
 *
 * The conformance tests use it on every response, and the server can run it
 * on its own answers (`selfCheck`) so that a simulator bug surfaces as a loud
 * failure instead of a bot quietly learning the wrong shape.
 */
import { type BotApiSpec, botApiSpec, type SpecField } from "./spec.ts";

export interface Violation {
  path: string;
  message: string;
}

export interface Validator {
  /** Checks `value` against one of the alternatives (e.g. `["Message", "Boolean"]`). */
  check(types: string[], value: unknown, path?: string): Violation[];
  /** Checks a method's `result` against the return type the spec declares. */
  checkResult(method: string, result: unknown): Violation[];
}

const ARRAY_PREFIX = "Array of ";

export function createValidator(spec: BotApiSpec = botApiSpec()): Validator {
  function checkOne(type: string, value: unknown, path: string): Violation[] {
    if (type.startsWith(ARRAY_PREFIX)) {
      if (!Array.isArray(value)) return [{ path, message: `expected ${type}` }];
      const inner = type.slice(ARRAY_PREFIX.length);
      return value.flatMap((item, i) => checkOne(inner, item, `${path}[${i}]`));
    }
    switch (type) {
      case "Integer":
        return Number.isInteger(value) ? [] : [{ path, message: "expected Integer" }];
      case "Float":
        return typeof value === "number" ? [] : [{ path, message: "expected Float" }];
      case "String":
        return typeof value === "string" ? [] : [{ path, message: "expected String" }];
      case "Boolean":
        return typeof value === "boolean" ? [] : [{ path, message: "expected Boolean" }];
      case "True":
        return value === true ? [] : [{ path, message: "expected True" }];
      case "InputFile":
        return [{ path, message: "InputFile never appears in a response" }];
    }
    const declared = spec.types[type];
    if (!declared) return [{ path, message: `unknown type ${type}` }];
    if (declared.subtypes) return checkUnion(type, declared.subtypes, value, path);
    return checkObject(type, declared.fields, value, path);
  }

  function checkObject(
    type: string,
    fields: SpecField[],
    value: unknown,
    path: string,
  ): Violation[] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return [{ path, message: `expected ${type} object` }];
    }
    const record = value as Record<string, unknown>;
    const out: Violation[] = [];
    const known = new Set<string>();
    for (const field of fields) {
      known.add(field.name);
      const fieldPath = `${path}.${field.name}`;
      const fieldValue = record[field.name];
      if (fieldValue === undefined) {
        if (field.required) out.push({ path: fieldPath, message: `missing in ${type}` });
        continue;
      }
      if (field.const !== undefined && fieldValue !== field.const) {
        out.push({ path: fieldPath, message: `expected "${field.const}"` });
        continue;
      }
      out.push(...check(field.types, fieldValue, fieldPath));
    }
    for (const key of Object.keys(record)) {
      if (!known.has(key)) out.push({ path: `${path}.${key}`, message: `not a field of ${type}` });
    }
    return out;
  }

  function discriminatorMatches(subtype: string, value: Record<string, unknown>): boolean | null {
    const declared = spec.types[subtype];
    if (!declared || declared.subtypes) return null;
    const consts = declared.fields.filter((f) => f.const !== undefined);
    if (consts.length === 0) return null;
    return consts.every((f) => value[f.name] === f.const);
  }

  function checkUnion(type: string, subtypes: string[], value: unknown, path: string): Violation[] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return [{ path, message: `expected ${type} object` }];
    }
    const record = value as Record<string, unknown>;
    const byDiscriminator = subtypes.filter((s) => discriminatorMatches(s, record) === true);
    if (byDiscriminator.length === 1) return checkOne(byDiscriminator[0] as string, value, path);
    const undiscriminated = subtypes.filter((s) => discriminatorMatches(s, record) === null);
    const candidates = byDiscriminator.length > 1 ? byDiscriminator : undiscriminated;
    if (candidates.length === 0) return [{ path, message: `no ${type} subtype matches` }];
    let best: Violation[] | undefined;
    for (const candidate of candidates) {
      const violations = checkOne(candidate, value, path);
      if (violations.length === 0) return [];
      if (!best || violations.length < best.length) best = violations;
    }
    return best ?? [];
  }

  function check(types: string[], value: unknown, path = "result"): Violation[] {
    if (types.length === 1) return checkOne(types[0] as string, value, path);
    let best: Violation[] | undefined;
    for (const type of types) {
      const violations = checkOne(type, value, path);
      if (violations.length === 0) return [];
      if (!best || violations.length < best.length) best = violations;
    }
    return best ?? [{ path, message: "no type given" }];
  }

  return {
    check,
    checkResult(method, result) {
      const declared = spec.methods[method];
      if (!declared) return [{ path: "result", message: `unknown method ${method}` }];
      return check(declared.returns, result, "result");
    },
  };
}
