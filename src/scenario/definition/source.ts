import { readFile, stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseDocument,
} from "yaml";
import type { Position, Problem } from "./problems.ts";
import { typeScriptLocator } from "./ts-positions.ts";
import { type ScenarioReadOptions, TYPESCRIPT_OFF, typeScriptAllowed } from "./typescript-gate.ts";

/**
 * Reading a scenario file, YAML or TypeScript, into a plain object plus a way
 * to turn a path inside it (`phases[0].steps[2]`) back into a line and
 * column, so every problem can name its place.
 */

/** Scenarios are hand-written plans; anything bigger is a mistake or an attack on the parser. */
export const MAX_SCENARIO_BYTES = 256 * 1024;
/** YAML aliases can expand exponentially ("billion laughs"); a scenario needs few if any. */
const MAX_ALIASES = 50;

export interface ScenarioSource {
  file: string;
  format: "yaml" | "ts";
  /** The parsed value, before validation; undefined when it could not be read at all. */
  raw: unknown;
  /** Where a path is; `key: true` points at the field name instead of its value. */
  locate(path: readonly PropertyKey[], opts?: { key?: boolean }): Position;
  /** Problems that stopped or marred reading (syntax errors, size). */
  problems: Problem[];
}

/**
 * Reads and parses a scenario file. A TypeScript one is imported only when
 * TypeScript scenarios are on (see typescript-gate.ts); otherwise it is
 * reported without being opened.
 */
export async function readScenarioSource(
  file: string,
  opts: ScenarioReadOptions = {},
): Promise<ScenarioSource> {
  const format: ScenarioSource["format"] = [".ts", ".mts"].includes(extname(file)) ? "ts" : "yaml";
  const fail = (message: string, hint: string, at: Position = { line: 1, column: 1 }) => ({
    file,
    format,
    raw: undefined,
    locate: () => at,
    problems: [{ file, ...at, severity: "error" as const, message, hint }],
  });
  if (format === "ts" && !typeScriptAllowed(opts))
    return fail(TYPESCRIPT_OFF.message, TYPESCRIPT_OFF.hint);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    return fail(
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      "check the path",
    );
  }
  if (size > MAX_SCENARIO_BYTES)
    return fail(
      `file is ${size} bytes; a scenario may be at most ${MAX_SCENARIO_BYTES}`,
      "split it, or move long texts into fewer templates",
    );
  const text = await readFile(file, "utf8");
  if (format === "ts") return readTypeScript(file, text);
  return readYaml(file, text);
}

export function readYaml(file: string, text: string): ScenarioSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: Problem[] = [];
  for (const error of doc.errors) {
    problems.push({
      file,
      ...at(error.pos[0]),
      severity: "error",
      message: `YAML: ${error.message.split("\n")[0]}`,
      hint:
        error.code === "DUPLICATE_KEY"
          ? "each field may appear once; remove or rename the repeated one"
          : "fix the YAML syntax (indentation, quotes, a missing colon)",
    });
  }
  let raw: unknown;
  if (problems.length === 0) {
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      problems.push({
        file,
        line: 1,
        column: 1,
        severity: "error",
        message: `YAML: ${(err as Error).message}`,
        hint: "write the values out instead of expanding aliases",
      });
    }
  }
  return {
    file,
    format: "yaml",
    raw,
    problems,
    locate(path, opts = {}) {
      let node: Node | null | undefined = doc.contents;
      let last: Node | null | undefined = node;
      let keyNode: Node | undefined;
      for (const segment of path) {
        keyNode = undefined;
        if (isMap(node)) {
          const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
          if (!pair) break;
          keyNode = pair.key as Node;
          node = pair.value as Node | null;
        } else if (isSeq(node) && typeof segment === "number") {
          node = node.items[segment] as Node | undefined;
        } else break;
        if (!node) break;
        last = node;
      }
      const target = opts.key && keyNode ? keyNode : (node ?? keyNode ?? last);
      const range = (target as ParsedNode | undefined)?.range;
      return range ? at(range[0]) : { line: 1, column: 1 };
    },
  };
}

async function readTypeScript(file: string, text: string): Promise<ScenarioSource> {
  const problems: Problem[] = [];
  let raw: unknown;
  try {
    const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    raw = mod.default;
    if (raw === undefined)
      problems.push({
        file,
        line: 1,
        column: 1,
        severity: "error",
        message: "the module has no default export",
        hint: "end it with `export default defineScenario({ … })`",
      });
  } catch (err) {
    problems.push({
      file,
      line: 1,
      column: 1,
      severity: "error",
      message: `cannot load the module: ${(err as Error).message.split("\n")[0]}`,
      hint: "run `npx tsc --noEmit` to see what is wrong",
    });
  }
  return { file, format: "ts", raw, problems, locate: await typeScriptLocator(text) };
}
