import { mkdirSync } from "node:fs";
import { open, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseCheckpoint } from "./checkpoint.ts";
import { checkCosignatures } from "./cosignature.ts";
import { canonicalBytes } from "./entry.ts";
import type { Verifier } from "./note-keys.ts";

/**
 * A witness's own record of what it cosigned, in a directory only the
 * witness holds (`--state DIR`), never the operators' server:
 *
 *   history.jsonl           append-only, one line per cosignature: origin, size,
 *                           root, time, the cosigned note, and the size and root
 *                           it was proved consistent with
 *   latest/<origin>         the last cosigned checkpoint of each log, as a note
 *                           (what an auditor passes to `verify --checkpoint`)
 *   lock                    while a witness run holds the directory
 *
 * The last line per origin is the witness's memory: it refuses a smaller tree
 * and any tree not provably an extension of it. Every line is checked against
 * the witness's key when the directory is opened, so a damaged or edited
 * record stops the witness rather than letting it forget. A line is written
 * and flushed to disk before the cosignature is handed out.
 */

/** One checkpoint the witness cosigned. */
export interface WitnessedCheckpoint {
  origin: string;
  size: number;
  /** Base64, as in the checkpoint. */
  root: string;
  /** When it was cosigned (POSIX seconds): the cosignature's timestamp. */
  time: number;
  /** The checkpoint with the witness's cosignature line. */
  note: string;
  /** The cosigned checkpoint it was proved to extend; absent for the first of a log. */
  previous?: { size: number; root: string };
}

/** The state directory cannot be used; the message says what to do. */
export class WitnessStateError extends Error {
  override name = "WitnessStateError";
}

export interface WitnessState {
  readonly dir: string;
  /** The last checkpoint cosigned for `origin`. */
  latest(origin: string): WitnessedCheckpoint | undefined;
  /** Appends to the history (flushed to disk) and updates `latest/`; only then may the cosignature go out. */
  record(entry: WitnessedCheckpoint): Promise<void>;
  /** Releases the directory for the next run. */
  close(): Promise<void>;
}

/** The file under `latest/` for an origin (an origin holds slashes). */
export function latestFile(dir: string, origin: string): string {
  return join(dir, "latest", encodeURIComponent(origin));
}

async function takeLock(dir: string): Promise<string> {
  const lock = join(dir, "lock");
  try {
    const handle = await open(lock, "wx", 0o600);
    await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
    await handle.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = (await readFile(lock, "utf8").catch(() => "")).trim();
    throw new WitnessStateError(
      `${lock} exists (${holder || "no holder written"}): another witness run holds ${dir}; wait for it, or remove the file if no witness is running`,
    );
  }
  return lock;
}

/** Why line `n` of the history cannot be believed, or undefined. */
function problemWith(
  entry: WitnessedCheckpoint,
  witness: Verifier,
  before: WitnessedCheckpoint | undefined,
): string | undefined {
  let cp: ReturnType<typeof parseCheckpoint>;
  try {
    cp = parseCheckpoint(entry.note);
  } catch (err) {
    return `its note is not a checkpoint (${(err as Error).message})`;
  }
  if (
    cp.origin !== entry.origin ||
    cp.size !== entry.size ||
    cp.root.toString("base64") !== entry.root
  )
    return "its note is not the checkpoint the line names";
  const { cosigned, problem } = checkCosignatures(cp, [witness]);
  if (problem) return problem;
  if (!cosigned.some((c) => c.time === entry.time))
    return `it carries no cosignature by ${witness.name} (${witness.keyId.toString("hex")}) at its time: it was written with another key`;
  if (
    before &&
    (entry.size < before.size || (entry.size === before.size && entry.root !== before.root))
  )
    return `it goes back from size ${before.size} to ${entry.size}, or forks at one size`;
  return undefined;
}

async function readHistory(
  path: string,
  witness: Verifier,
): Promise<Map<string, WitnessedCheckpoint>> {
  const latest = new Map<string, WitnessedCheckpoint>();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return latest;
    throw err;
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const [i, line] of lines.entries()) {
    let entry: WitnessedCheckpoint | undefined;
    try {
      entry = JSON.parse(line) as WitnessedCheckpoint;
    } catch {
      entry = undefined;
    }
    const problem = entry
      ? problemWith(entry, witness, latest.get(entry.origin))
      : "it is not JSON";
    if (!entry || problem) {
      throw new WitnessStateError(
        `${path} line ${i + 1} cannot be believed: ${problem}. The witness's record is what stops it cosigning a rewritten log: restore the directory from its backup before witnessing again`,
      );
    }
    latest.set(entry.origin, entry);
  }
  return latest;
}

/** Appends one line and flushes it to disk. */
async function appendDurably(path: string, line: string): Promise<void> {
  const handle = await open(path, "a", 0o600);
  try {
    await handle.writeFile(line);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens (creating if need be) the state directory of the witness whose key
 * `witness` verifies, takes its lock and reads its history.
 */
export async function openWitnessState(dir: string, witness: Verifier): Promise<WitnessState> {
  mkdirSync(join(dir, "latest"), { recursive: true, mode: 0o700 });
  const lock = await takeLock(dir);
  const history = join(dir, "history.jsonl");
  let latest: Map<string, WitnessedCheckpoint>;
  try {
    latest = await readHistory(history, witness);
  } catch (err) {
    await unlink(lock);
    throw err;
  }
  return {
    dir,
    latest: (origin) => latest.get(origin),
    async record(entry) {
      await appendDurably(history, `${canonicalBytes(entry)}\n`);
      latest.set(entry.origin, entry);
      const file = latestFile(dir, entry.origin);
      await writeFile(`${file}.tmp`, entry.note, { mode: 0o644 });
      await rename(`${file}.tmp`, file);
    },
    async close() {
      await unlink(lock);
    },
  };
}
