import { casePrefix, GLOBAL_PREFIX } from "./prefix.ts";
import { compilePattern, type HoleValues, type KeyShape } from "./shape.ts";

/**
 * Key builders made from declared shapes: `chat:<chat>:msgs` (case scope)
 * becomes `(caseId: string, chat: number) => string`, its arguments typed
 * from the holes in the order they appear. The recorder builds keys for
 * every update, so a builder is a closure over the pattern's literals that
 * only concatenates.
 */

type Builder<S> = S extends { scope: "global"; pattern: infer P extends string }
  ? (...holes: HoleValues<P>) => string
  : S extends { pattern: infer P extends string }
    ? (caseId: string, ...holes: HoleValues<P>) => string
    : never;

export type Builders<G> = { readonly [K in keyof G]: Builder<G[K]> };

/** The parts after `warden:{<case>}:` of a group's case keys (what the recorder's script completes). */
export type Parts<G> = {
  readonly [K in keyof G as G[K] extends { scope: "case" } ? K : never]: G[K] extends {
    pattern: infer P extends string;
  }
    ? (...holes: HoleValues<P>) => string
    : never;
};

type Values = readonly (string | number)[];

/** Concatenates the literals with the hole values between them. */
function joiner(pattern: string): (values: Values) => string {
  const { literals } = compilePattern(pattern);
  const [first, ...rest] = literals as [string, ...string[]];
  return (values) => {
    let s = first;
    for (let i = 0; i < rest.length; i++) s += values[i] + (rest[i] as string);
    return s;
  };
}

function partBuilder(pattern: string): (...holes: Values) => string {
  const { literals } = compilePattern(pattern);
  if (literals.length === 1) {
    const [a] = literals as [string];
    return () => a;
  }
  if (literals.length === 2) {
    const [a, b] = literals as [string, string];
    return (x) => a + x + b;
  }
  const join = joiner(pattern);
  return (...holes) => join(holes);
}

function keyBuilder(shape: KeyShape): (...args: Values) => string {
  const part = partBuilder(shape.pattern);
  if (shape.scope === "global") return (...holes) => GLOBAL_PREFIX + part(...holes);
  // Most case keys have no hole or one: built without a rest array (the recorder builds many).
  const { literals } = compilePattern(shape.pattern);
  if (literals.length === 1) {
    const [a] = literals as [string];
    return (caseId) => casePrefix(caseId as string) + a;
  }
  if (literals.length === 2) {
    const [a, b] = literals as [string, string];
    return (caseId, x) => casePrefix(caseId as string) + a + x + b;
  }
  return (caseId, ...holes) => casePrefix(caseId as string) + part(...holes);
}

/** One builder per shape of the group, under the shape's name. */
export function buildersOf<G extends Record<string, KeyShape>>(group: G): Builders<G> {
  const out: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(group)) out[name] = keyBuilder(shape);
  return out as Builders<G>;
}

/** One part builder per case-scoped shape of the group. */
export function partsOf<G extends Record<string, KeyShape>>(group: G): Parts<G> {
  const out: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(group))
    if (shape.scope === "case") out[name] = partBuilder(shape.pattern);
  return out as Parts<G>;
}

/** A pattern with its holes filled from `values` (for code that walks shapes as data). */
export function fillPattern(
  pattern: string,
  values: Readonly<Record<string, string | number>>,
): string {
  const { holes } = compilePattern(pattern);
  return joiner(pattern)(
    holes.map((hole) => {
      const value = values[hole];
      if (value === undefined)
        throw new Error(`the pattern "${pattern}" needs a value for <${hole}>`);
      return value;
    }),
  );
}

/** The key of a shape with its holes filled from `values` (case shapes need the case id). */
export function buildKey(
  shape: KeyShape,
  caseId: string | undefined,
  values: Readonly<Record<string, string | number>> = {},
): string {
  const part = fillPattern(shape.pattern, values);
  if (shape.scope === "global") return GLOBAL_PREFIX + part;
  if (caseId === undefined) throw new Error(`the key pattern "${shape.pattern}" belongs to a case`);
  return casePrefix(caseId) + part;
}
