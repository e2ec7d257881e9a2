import { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";
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
  const read = await readCapped(file, SCENARIO_FILE);
  if ("problem" in read) return fail(read.problem.message, read.problem.hint);
  const { text } = read;
  if (format === "ts") return readTypeScript(file, text);
  return readYaml(file, text);
}

/** What kind of file is read, for the messages about files that cannot be. */
export interface FileKind {
  /** "a scenario", "a world". */
  what: string;
  maxBytes: number;
  /** What to do about a file over the cap. */
  tooBig: string;
}

const SCENARIO_FILE: FileKind = {
  what: "a scenario",
  maxBytes: MAX_SCENARIO_BYTES,
  tooBig: "split it, or move long texts into fewer templates",
};

/**
 * A YAML (or JSON) file of another kind, such as a world, read as carefully as
 * a scenario: a plain file only, never more than its cap, aliases capped, and
 * every syntax error at its line and column.
 */
export async function readYamlSource(file: string, kind: FileKind): Promise<ScenarioSource> {
  const read = await readCapped(file, kind);
  if ("problem" in read)
    return {
      file,
      format: "yaml",
      raw: undefined,
      locate: () => ({ line: 1, column: 1 }),
      problems: [{ file, line: 1, column: 1, severity: "error", ...read.problem }],
    };
  return readYaml(file, read.text);
}

/**
 * The file's text, or why not. What `stat` says is not trusted: a FIFO or a
 * device reports size 0 and never ends, and a file can grow after it was
 * looked at. So the file is opened without blocking (a FIFO would otherwise
 * wait for a writer), refused unless the handle is a regular file, and read
 * through that handle for at most one byte more than the cap.
 */
async function readCapped(
  file: string,
  kind: FileKind,
): Promise<{ text: string } | { problem: { message: string; hint: string } }> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    return cannotRead(err);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      return {
        problem: {
          message: `not a regular file (${kindOf(info)}): ${kind.what} is read from a plain file only`,
          hint: `copy ${kind.what.replace(/^an? /, "the ")} into a file and lint or load that`,
        },
      };
    const buffer = Buffer.alloc(kind.maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > kind.maxBytes)
      return {
        problem: {
          message: `file is larger than ${kind.maxBytes} bytes; ${kind.what} may be at most ${kind.maxBytes}`,
          hint: kind.tooBig,
        },
      };
    return { text: buffer.toString("utf8", 0, length) };
  } catch (err) {
    return cannotRead(err);
  } finally {
    await handle.close();
  }
}

function cannotRead(err: unknown): { problem: { message: string; hint: string } } {
  const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return { problem: { message: `cannot read the file: ${why}`, hint: "check the path" } };
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a file";
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
