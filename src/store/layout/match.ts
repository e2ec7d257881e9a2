import { CASE_ID_PATTERN, casePrefix, GLOBAL_PREFIX } from "./prefix.ts";
import { type DeclaredShape, SHAPES } from "./registry.ts";
import {
  compilePattern,
  type HoleName,
  type HoleNames,
  isNumericHole,
  type KeyShape,
  patternRegexSource,
  type ValueOf,
} from "./shape.ts";

/**
 * Keys read back: which declared shape a key found in Redis is (the key scan
 * that keeps the layout honest), the holes of a key of a known shape, and the
 * SCAN pattern for every key of a shape in a case.
 */

export type HoleRecord<P extends string> = {
  [N in HoleNames<P>]: N extends HoleName ? ValueOf<N> : never;
};

/** `warden:{<case>}:` with the case id captured; the global prefix holds nothing a regex treats specially. */
const CASE_PREFIX_SOURCE = `warden:\\{(${CASE_ID_PATTERN.source.slice(1, -1)})\\}:`;

const compiled = new Map<KeyShape, RegExp>();

function regexOf(shape: KeyShape): RegExp {
  let regex = compiled.get(shape);
  if (!regex) {
    const prefix = shape.scope === "case" ? CASE_PREFIX_SOURCE : GLOBAL_PREFIX;
    regex = new RegExp(`^${prefix}${patternRegexSource(shape.pattern)}$`);
    compiled.set(shape, regex);
  }
  return regex;
}

/** The holes of `pattern` from a match whose first hole is capture group `first`. */
function valuesOf(
  pattern: string,
  match: RegExpExecArray,
  first: number,
): Record<string, string | number> {
  const values: Record<string, string | number> = {};
  compilePattern(pattern).holes.forEach((hole, i) => {
    const raw = match[first + i] as string;
    values[hole] = isNumericHole(hole) ? Number(raw) : raw;
  });
  return values;
}

/** Case keys capture the case id first. */
const firstHole = (shape: KeyShape) => (shape.scope === "case" ? 2 : 1);

/** The holes of `key` if it is a key of `shape`, otherwise undefined. */
export function holesOfKey<S extends KeyShape>(
  shape: S,
  key: string,
): HoleRecord<S["pattern"]> | undefined {
  const match = regexOf(shape).exec(key);
  return match
    ? (valuesOf(shape.pattern, match, firstHole(shape)) as HoleRecord<S["pattern"]>)
    : undefined;
}

/** The declared shape `key` is, with its case and holes; undefined for a key no shape declares. */
export function shapeOfKey(
  key: string,
): { shape: DeclaredShape; caseId?: string; holes: Record<string, string | number> } | undefined {
  for (const shape of SHAPES) {
    const match = regexOf(shape).exec(key);
    if (match)
      return {
        shape,
        ...(shape.scope === "case" ? { caseId: match[1] as string } : {}),
        holes: valuesOf(shape.pattern, match, firstHole(shape)),
      };
  }
  return undefined;
}

/** A SCAN `MATCH` pattern for every key of a case-scoped shape in one case: each hole is `*`. */
export function keyGlob(shape: KeyShape & { scope: "case" }, caseId: string): string {
  const { literals } = compilePattern(shape.pattern);
  return casePrefix(caseId) + literals.map(globEscape).join("*");
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** The holes of `text` (a hash field, say) if it fits `pattern`, otherwise undefined. */
export function holesOfPattern(
  pattern: string,
  text: string,
): Record<string, string | number> | undefined {
  const match = new RegExp(`^${patternRegexSource(pattern)}$`).exec(text);
  return match ? valuesOf(pattern, match, 1) : undefined;
}
