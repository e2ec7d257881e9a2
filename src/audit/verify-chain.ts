import {
  type AuditEntry,
  auditEntrySchema,
  GENESIS_PREV,
  isAuditEntry,
  isCanonical,
  tombstoneSchema,
} from "./entry.ts";
import { appendLeafHex, emptyHexFrontier, type HexFrontier, leafHashHex } from "./merkle.ts";
import type { StoredLine } from "./storage.ts";
import { type CheckpointState, checkRootsAt } from "./verify-checkpoints.ts";
import { fail, type Warnings, warn } from "./verify-findings.ts";
import { checkEntryRules, noteTombstone, type RuleState } from "./verify-rules.ts";

/**
 * The in-order checks of a log, one line at a time: each line is where the
 * stream says it is, parses, is canonical, is a sound tombstone or a sound
 * entry of this case with the next seq, chains on the line before, matches the
 * hash the stream holds for it, and obeys the rules that need the lines before
 * it (`verify-rules.ts`); its leaf then joins the tree, which must have each
 * checkpoint's root as it reaches its size. Only the tree's right edge and a
 * few bits per seq are kept, so a log of any length is checked in constant
 * memory.
 */

/** One line to verify: its text, or what Redis holds for it. */
export type LineInput = string | StoredLine;

export interface ChainOptions {
  /** The case the log belongs to; every entry must name it. */
  caseId: string;
  /** How far a timestamp may go back before it is flagged (default 2000 ms). */
  clockToleranceMs?: number;
  /** Called with each entry that passed its checks (undefined for an erased one). */
  onEntry?(entry: AuditEntry | undefined, seq: number, line: string): void;
}

/** What the checks of the lines so far leave for the next. */
export interface Chain {
  opts: ChainOptions;
  rules: RuleState;
  checkpoints: CheckpointState;
  warnings: Warnings;
  toleranceMs: number;
  /** Lines checked: the next line must be seq `count + 1`. */
  count: number;
  /** The leaf hash of the last line: the next entry's `prev`. */
  prev: string;
  tree: HexFrontier;
  /**
   * The latest timestamp so far, as text: the schema fixes its form
   * (YYYY-MM-DDTHH:MM:SS.mmmZ), so text order is time order and only a step
   * back needs parsing.
   */
  lastTs: string;
}

export function newChain(
  opts: ChainOptions,
  rules: RuleState,
  checkpoints: CheckpointState,
  warnings: Warnings,
): Chain {
  return {
    opts,
    rules,
    checkpoints,
    warnings,
    toleranceMs: opts.clockToleranceMs ?? 2000,
    count: 0,
    prev: GENESIS_PREV,
    tree: emptyHexFrontier(),
    lastTs: "",
  };
}

/** Checks the next line; throws `Failed` at the first problem. */
export function checkLine(chain: Chain, item: LineInput): void {
  const expected = chain.count + 1;
  const stored: StoredLine = typeof item === "string" ? { line: item } : item;
  // The stream's id first: where the stream skips or repeats a seq, the payload read is
  // another entry's, and what is wrong with it would misname the damage.
  checkStreamId(stored, expected);
  const line = stored.line;
  if (line === null)
    fail(expected, `the payload of seq ${expected} is missing, and no erasure explains it`);
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    fail(expected, `line ${expected} is not JSON`);
  }
  // Canonical form before the schema: bytes that are not the ones Warden wrote were edited,
  // which says more than which field is now wrong.
  if (!isCanonical(line, raw))
    fail(expected, `line ${expected} is not in canonical form (RFC 8785): it was edited`);
  const leafHex =
    raw !== null && typeof raw === "object" && "erased_by" in raw
      ? checkTombstoneLine(chain, raw, expected, line)
      : checkEntryLine(chain, raw, expected, line);
  // The stream's hash once the line's own checks passed, as it needs the line's leaf (a
  // tombstone's is the one it keeps), and before the next line, whose prev could only say
  // that this entry or the next was changed.
  if (stored.hash !== undefined && stored.hash !== leafHex) {
    fail(
      expected,
      `seq ${expected} does not match the hash the stream holds for it: the entry was altered`,
    );
  }
  acceptLeaf(chain, leafHex);
}

/** What the stream id says about a line read from Redis. */
function checkStreamId(stored: StoredLine, expected: number): void {
  if (stored.seq === undefined) return;
  if (Number.isNaN(stored.seq))
    fail(expected, `stream id ${stored.id} is not of the form 0-<seq>: an entry was inserted`);
  if (stored.seq > expected)
    fail(expected, `seq ${expected} is missing: the stream goes on with seq ${stored.seq}`);
  if (stored.seq < expected)
    fail(expected, `seq ${stored.seq} appears again where seq ${expected} was expected`);
}

/** Checks an erasure tombstone at `expected`; returns the leaf it keeps. */
function checkTombstoneLine(chain: Chain, raw: object, expected: number, line: string): string {
  const t = tombstoneSchema.safeParse(raw);
  if (!t.success) fail(expected, `line ${expected} is a malformed erasure tombstone`);
  if (t.data.seq !== expected)
    fail(expected, `tombstone for seq ${t.data.seq} found where seq ${expected} was expected`);
  if (t.data.erased_by <= expected)
    fail(expected, `seq ${expected} claims to be erased by an earlier entry (${t.data.erased_by})`);
  noteTombstone(chain.rules, expected, t.data.erased_by);
  chain.opts.onEntry?.(undefined, expected, line);
  return t.data.leaf;
}

/** Checks an entry at `expected`; returns its leaf hash. */
function checkEntryLine(chain: Chain, raw: unknown, expected: number, line: string): string {
  // The compiled schema answers yes or no; only a refusal pays for zod's messages.
  if (!isAuditEntry(raw)) {
    const issue = auditEntrySchema.safeParse(raw).error?.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "entry";
    fail(
      expected,
      `seq ${expected} does not match the entry schema at ${where}: ${issue?.message ?? "refused"}`,
    );
  }
  const entry = raw;
  // Seq and case before the chain: an entry deleted, inserted or brought in from another
  // case also breaks the chain, but these name what happened.
  if (entry.seq !== expected) {
    fail(
      expected,
      `expected seq ${expected}, found seq ${entry.seq}: an entry was deleted, inserted or moved`,
    );
  }
  if (entry.case !== chain.opts.caseId)
    fail(expected, `seq ${expected} belongs to case "${entry.case}", not "${chain.opts.caseId}"`);
  // The chain before the rules: they judge this entry by the ones before it, so an entry
  // before it that was changed is reported as such, not as whatever this one then breaks.
  if (entry.prev !== chain.prev) {
    if (expected === 1)
      fail(1, "seq 1 does not start the chain (its prev is not the genesis hash)");
    fail(
      expected - 1,
      `seq ${expected - 1} does not hash to the prev recorded by seq ${expected}: seq ${expected - 1} (or seq ${expected}) was changed`,
    );
  }
  const leafHex = leafHashHex(line);
  checkClock(chain, expected, entry.ts);
  checkEntryRules(chain.rules, entry, chain.warnings);
  chain.opts.onEntry?.(entry, expected, line);
  return leafHex;
}

/** Warns when `ts` goes back further than the tolerance from the latest timestamp so far. */
export function checkClock(chain: Chain, seq: number, ts: string): void {
  if (ts >= chain.lastTs) {
    chain.lastTs = ts;
    return;
  }
  const back = Date.parse(chain.lastTs) - Date.parse(ts);
  const tolerance = chain.toleranceMs;
  if (back > tolerance) {
    warn(
      chain.warnings,
      seq,
      `timestamp goes back ${back} ms (more than ${tolerance} ms) from the entry before: check the server clocks`,
    );
  }
}

/** Adds the leaf of the line just checked to the chain and the tree, and compares checkpoints. */
export function acceptLeaf(chain: Chain, leafHex: string): void {
  appendLeafHex(chain.tree, leafHex);
  chain.prev = leafHex;
  chain.count++;
  checkRootsAt(chain.checkpoints, chain.tree, chain.count);
}
