import type { Verifier } from "./checkpoint.ts";
import {
  ACTOR_KINDS,
  type AuditEntry,
  auditEntrySchema,
  GENESIS_PREV,
  isAuditEntry,
  isCanonical,
  PHASES,
  tombstoneSchema,
} from "./entry.ts";
import { appendLeafHex, emptyHexFrontier, hexFrontierRoot, leafHashHex } from "./merkle.ts";
import type { StoredLine } from "./storage.ts";
import {
  checkNoneBeyond,
  checkRootsAt,
  newCheckpointState,
  readCheckpoints,
  warnUnsigned,
} from "./verify-checkpoints.ts";
import {
  warn as addWarning,
  Failed,
  type Finding,
  fail,
  newWarnings,
  summariseWarnings,
} from "./verify-findings.ts";
import {
  CODES,
  ENTRY,
  KIND_MASK,
  type LineFacts,
  NUMS,
  PREV_OK,
  ROLE_CODES,
  TOMBSTONE,
} from "./verify-lines.ts";
import { defaultThreads, LinePool } from "./verify-pool.ts";

export type { Finding } from "./verify-findings.ts";

/**
 * The verifier auditors run. It reads a log once, front to back, holding only
 * the tree's right edge and a few bits per entry, so a log of any length is
 * checked in constant memory; the same function checks a live log in Redis and
 * an exported bundle, which differ only in where the lines come from.
 *
 * It stops at the first failure, because after one everything else is suspect,
 * and names the seq where the log stops being trustworthy.
 *
 * A long log is checked by more than one thread: past `parallelFrom` lines,
 * worker threads parse, check and hash batches of lines (`verify-lines.ts`,
 * `verify-pool.ts`) while this thread runs the checks that need the lines in
 * order. A line the workers find anything unusual about is checked here the
 * one-thread way, so the findings and their words are the same either way.
 */

export interface VerifyOptions {
  /** The case the log belongs to; every entry must name it, checkpoints must be for it. */
  caseId: string;
  /** Signed notes stored with the log or shipped in the bundle. */
  checkpoints?: readonly string[];
  /** Keys trusted to sign checkpoints. None: signatures are not checked, which is a warning. */
  verifiers?: readonly Verifier[];
  /** A checkpoint the auditor kept from an earlier export: the log must still extend it. */
  heldCheckpoint?: string;
  /** How far a timestamp may go back before it is flagged (default 2000 ms). */
  clockToleranceMs?: number;
  /** What Redis says the head is: the last entry must match it. */
  head?: { seq: number; hash: string };
  /** XINFO STREAM counters: entries added must equal entries held. */
  counters?: { length: number; entriesAdded: number };
  /** Called with each intact entry (undefined for an erased one), e.g. to build a report. */
  onEntry?(entry: AuditEntry | undefined, seq: number, line: string): void;
  /** Worker threads for the per-line checks of a long log; 0: none. Default min(cores − 1, 3), at least 1. */
  threads?: number;
  /**
   * Lines checked in this thread before worker threads join in (default
   * `PARALLEL_FROM`): a shorter log is done before workers would have started.
   */
  parallelFrom?: number;
}

/** Below this many lines, a log is verified in the calling thread only. */
export const PARALLEL_FROM = 20_000;
/** Lines per batch handed to a worker. */
const BATCH_LINES = 2048;

export interface VerifyReport {
  /** Everything checked held; warnings may still need a look. */
  ok: boolean;
  /** The first failure; verification stopped there. */
  failure?: Finding;
  warnings: Finding[];
  /** Entries read (erased ones included). */
  entries: number;
  erased: number;
  /** The largest tree size covered by a checkpoint whose signature was checked. */
  signedSize: number;
  /** Root hash (hex) of the tree of all entries read. */
  root: string;
}

const INTENT = PHASES.indexOf("intent");
const OUTCOME = PHASES.indexOf("outcome");
const REFUSED = PHASES.indexOf("refused");
const MEMBER = ACTOR_KINDS.indexOf("member");
/** Actor kinds whose role the history must show, by code. */
const ROLE_KINDS: (string | undefined)[] = ACTOR_KINDS.map((k) =>
  k === "operator" || k === "supervisor" || k === "auditor" ? k : undefined,
);

/** Grows as needed; one bit per seq keeps intent bookkeeping small for millions of entries. */
class BitSet {
  private bytes = new Uint8Array(1024);
  has(i: number): boolean {
    return ((this.bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }
  add(i: number): void {
    const at = i >> 3;
    if (at >= this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + 1));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[at] = (this.bytes[at] ?? 0) | (1 << (i & 7));
  }
}

/** Expands an erase entry's `params.ranges` ([[from, to], …]) or `params.seqs`. */
export function erasedSeqsOf(entry: AuditEntry): number[] {
  const out: number[] = [];
  const ranges = entry.params?.ranges;
  if (Array.isArray(ranges)) {
    for (const r of ranges) {
      if (Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) {
        for (let s = r[0] as number; s <= (r[1] as number); s++) out.push(s);
      }
    }
  }
  const seqs = entry.params?.seqs;
  if (Array.isArray(seqs)) for (const s of seqs) if (Number.isSafeInteger(s)) out.push(s as number);
  return out;
}

/** One line to verify: its text, or what Redis holds for it. */
export type LineInput = string | StoredLine;

/**
 * Lines in log order, one by one or in batches (arrays): a batch saves an
 * `await` per line, see `readLineBatches`.
 */
export type LineSource =
  | AsyncIterable<LineInput | readonly LineInput[]>
  | Iterable<LineInput | readonly LineInput[]>;

export async function verifyEntries(lines: LineSource, opts: VerifyOptions): Promise<VerifyReport> {
  const warnings = newWarnings();
  const warn = (seq: number | undefined, message: string) => addWarning(warnings, seq, message);
  const tolerance = opts.clockToleranceMs ?? 2000;
  const tree = emptyHexFrontier();
  let prev = GENESIS_PREV;
  // The latest timestamp so far, as text: the schema fixes its form (YYYY-MM-DDTHH:MM:SS.mmmZ),
  // so text order is time order and only a step back needs parsing.
  let lastTs = "";
  let count = 0;
  let erasedCount = 0;
  const intents = new BitSet();
  const closed = new BitSet();
  const erased = new BitSet();
  const claimed = new BitSet();
  const tombstonesBy = new Map<number, number>();
  const roles = new Map<number, string>();
  const checkpoints = newCheckpointState();
  let pool: LinePool<LineInput> | undefined;

  try {
    // Checkpoints before the first line: see `readCheckpoints`.
    readCheckpoints(checkpoints, opts, warnings);

    /** Checks one line, in order; throws `Failed` at the first problem. */
    const step = (item: LineInput): void => {
      const expected = count + 1;
      const stored: StoredLine = typeof item === "string" ? { line: item } : item;
      if (stored.seq !== undefined) {
        if (Number.isNaN(stored.seq))
          fail(
            expected,
            `stream id ${stored.id} is not of the form 0-<seq>: an entry was inserted`,
          );
        if (stored.seq > expected)
          fail(expected, `seq ${expected} is missing: the stream goes on with seq ${stored.seq}`);
        if (stored.seq < expected)
          fail(expected, `seq ${stored.seq} appears again where seq ${expected} was expected`);
      }
      const line = stored.line;
      if (line === null)
        fail(expected, `the payload of seq ${expected} is missing, and no erasure explains it`);
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        fail(expected, `line ${expected} is not JSON`);
      }
      if (!isCanonical(line, raw))
        fail(expected, `line ${expected} is not in canonical form (RFC 8785): it was edited`);
      let leafHex: string;
      if (raw !== null && typeof raw === "object" && "erased_by" in raw) {
        const t = tombstoneSchema.safeParse(raw);
        if (!t.success) fail(expected, `line ${expected} is a malformed erasure tombstone`);
        if (t.data.seq !== expected)
          fail(
            expected,
            `tombstone for seq ${t.data.seq} found where seq ${expected} was expected`,
          );
        if (t.data.erased_by <= expected)
          fail(
            expected,
            `seq ${expected} claims to be erased by an earlier entry (${t.data.erased_by})`,
          );
        leafHex = t.data.leaf;
        erased.add(expected);
        erasedCount++;
        tombstonesBy.set(t.data.erased_by, (tombstonesBy.get(t.data.erased_by) ?? 0) + 1);
        opts.onEntry?.(undefined, expected, line);
      } else {
        // The compiled schema answers yes or no; only a refusal pays for zod's messages.
        if (!isAuditEntry(raw)) {
          const parsed = auditEntrySchema.safeParse(raw);
          const issue = parsed.error?.issues[0];
          const where = issue?.path.length ? issue.path.join(".") : "entry";
          fail(
            expected,
            `seq ${expected} does not match the entry schema at ${where}: ${issue?.message ?? "refused"}`,
          );
        }
        const entry = raw;
        if (entry.seq !== expected) {
          fail(
            expected,
            `expected seq ${expected}, found seq ${entry.seq}: an entry was deleted, inserted or moved`,
          );
        }
        if (entry.case !== opts.caseId)
          fail(expected, `seq ${expected} belongs to case "${entry.case}", not "${opts.caseId}"`);
        if (entry.prev !== prev) {
          if (expected === 1)
            fail(1, "seq 1 does not start the chain (its prev is not the genesis hash)");
          fail(
            expected - 1,
            `seq ${expected - 1} does not hash to the prev recorded by seq ${expected}: seq ${expected - 1} (or seq ${expected}) was changed`,
          );
        }
        leafHex = leafHashHex(line);
        if (entry.ts >= lastTs) lastTs = entry.ts;
        else {
          const back = Date.parse(lastTs) - Date.parse(entry.ts);
          if (back > tolerance) {
            warn(
              expected,
              `timestamp goes back ${back} ms (more than ${tolerance} ms) from the entry before: check the server clocks`,
            );
          }
        }
        checkSemantics(entry);
        opts.onEntry?.(entry, expected, line);
      }
      if (stored.hash !== undefined && stored.hash !== leafHex) {
        fail(
          expected,
          `seq ${expected} does not match the hash the stream holds for it: the entry was altered`,
        );
      }
      settle(leafHex);
    };

    /** Adds the leaf of the line just checked to the chain and the tree, and compares checkpoints. */
    const settle = (leafHex: string): void => {
      appendLeafHex(tree, leafHex);
      prev = leafHex;
      count++;
      checkRootsAt(checkpoints, tree, count);
    };

    /**
     * `step` for line `i` of an analysed batch, on the facts a worker found:
     * false, having changed nothing, unless they show the line sound. Then
     * `step` checks it again from the line itself, so that a failure reads as
     * it always has.
     */
    const stepAnalysed = (
      item: LineInput,
      facts: LineFacts,
      i: number,
      stamps: string[],
    ): boolean => {
      const expected = count + 1;
      const kind = (facts.kinds[i] as number) & KIND_MASK;
      let line: string;
      let storedHash: string | undefined;
      if (typeof item === "string") line = item;
      else {
        if ((item.seq !== undefined && item.seq !== expected) || item.line === null) return false;
        line = item.line;
        storedHash = item.hash;
      }
      const leafHex = facts.leaves.slice(i * 64, i * 64 + 64);
      if (storedHash !== undefined && storedHash !== leafHex) return false;
      if (kind === ENTRY) {
        const prevOk =
          i === 0 ? facts.firstPrev === prev : ((facts.kinds[i] as number) & PREV_OK) !== 0;
        if (!prevOk) return false;
        const phase = facts.codes[i * CODES] as number;
        const actorKind = facts.codes[i * CODES + 1] as number;
        const roleCode = facts.codes[i * CODES + 2] as number;
        const actorId = facts.nums[i * NUMS] as number;
        const intentSeq = facts.nums[i * NUMS + 1] as number;
        // checkSemantics' checks, for an entry that is not role.add, role.remove or erase.
        if (phase !== REFUSED) {
          const roleKind = ROLE_KINDS[actorKind];
          if (roleKind !== undefined) {
            const held = Number.isNaN(actorId) ? undefined : roles.get(actorId);
            if (held !== roleKind) return false;
            if (roleCode !== 0 && ROLE_CODES[roleCode] !== held) return false;
          } else if (actorKind === MEMBER) return false;
        }
        if (
          phase === OUTCOME &&
          ((!intents.has(intentSeq) && !erased.has(intentSeq)) || closed.has(intentSeq))
        )
          return false;
        if (tombstonesBy.size > 0 && tombstonesBy.has(expected)) return false;
        // Sound: what follows only records it.
        const ts = stamps[i] as string;
        if (ts >= lastTs) lastTs = ts;
        else {
          const back = Date.parse(lastTs) - Date.parse(ts);
          if (back > tolerance) {
            warn(
              expected,
              `timestamp goes back ${back} ms (more than ${tolerance} ms) from the entry before: check the server clocks`,
            );
          }
        }
        if (phase === INTENT) intents.add(expected);
        else if (phase === OUTCOME) closed.add(intentSeq);
        opts.onEntry?.(JSON.parse(line) as AuditEntry, expected, line);
      } else if (kind === TOMBSTONE) {
        const seq = facts.nums[i * NUMS] as number;
        const by = facts.nums[i * NUMS + 1] as number;
        if (seq !== expected || by <= expected) return false;
        erased.add(expected);
        erasedCount++;
        tombstonesBy.set(by, (tombstonesBy.get(by) ?? 0) + 1);
        opts.onEntry?.(undefined, expected, line);
      } else return false;
      settle(leafHex);
      return true;
    };

    const threads = opts.threads ?? defaultThreads();
    const parallelFrom = opts.parallelFrom ?? PARALLEL_FROM;
    // Lines taken from the source; past `parallelFrom` they go to `pool` in batches.
    let seen = 0;
    let batch: LineInput[] = [];
    const take = (item: LineInput): boolean => {
      if (!pool) {
        if (seen < parallelFrom || threads <= 0) {
          seen++;
          step(item);
          return false;
        }
        pool = new LinePool(threads, opts.caseId);
      }
      seen++;
      batch.push(item);
      return batch.length >= BATCH_LINES;
    };
    const checkBatch = async (): Promise<void> => {
      const done = await (pool as LinePool<LineInput>).next();
      const facts = done.facts as LineFacts;
      const stamps = facts.ts.split("\n");
      for (let i = 0; i < done.items.length; i++) {
        const item = done.items[i] as LineInput;
        if (!stepAnalysed(item, facts, i, stamps)) step(item);
      }
    };
    const flush = async (): Promise<void> => {
      if (!pool || batch.length === 0) return;
      const items = batch;
      batch = [];
      const texts = items.map((item) => (typeof item === "string" ? item : (item.line ?? "")));
      pool.add(seen - items.length + 1, items, texts);
      // A bounded window: a few batches per worker, and some for this thread to take on.
      while (pool.size > threads * 2 + 4) await checkBatch();
    };

    for await (const item of lines) {
      if (Array.isArray(item)) {
        for (const one of item as readonly LineInput[]) if (take(one)) await flush();
      } else if (take(item as LineInput)) await flush();
    }
    await flush();
    while (pool && pool.size > 0) await checkBatch();

    checkNoneBeyond(checkpoints, count);
    for (const [by, n] of tombstonesBy) {
      fail(
        by,
        `${n} entr${n === 1 ? "y is" : "ies are"} erased by seq ${by}, which is not in the log`,
      );
    }
    if (opts.head && opts.head.seq !== count) {
      fail(
        Math.min(count, opts.head.seq) + 1,
        `the log's head says seq ${opts.head.seq}, but the stream ends at seq ${count}: entries were removed or the head was changed`,
      );
    }
    if (opts.head && count > 0 && opts.head.hash !== prev) {
      fail(
        count,
        `seq ${count} does not match the hash in the log's head: the last entry was altered`,
      );
    }
    if (opts.counters && opts.counters.entriesAdded !== opts.counters.length) {
      fail(
        count + 1,
        `Redis added ${opts.counters.entriesAdded} entries to the stream but it holds ${opts.counters.length}: entries were deleted or trimmed (XDEL, XTRIM or XADD … MAXLEN)`,
      );
    }
    for (let s = 1; s <= count; s++) {
      if (intents.has(s) && !closed.has(s)) {
        warn(
          s,
          `intent seq ${s} has no outcome yet: the action is in flight, or its process crashed and the intent is closed as unknown at the next start`,
        );
      }
    }
    warnUnsigned(checkpoints, opts, count, warnings);
    summariseWarnings(warnings);
    return {
      ok: true,
      warnings: warnings.list,
      entries: count,
      erased: erasedCount,
      signedSize: checkpoints.signedSize,
      root: hexFrontierRoot(tree).toString("hex"),
    };
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    return {
      ok: false,
      failure: err.finding,
      warnings: warnings.list,
      entries: count,
      erased: erasedCount,
      signedSize: checkpoints.signedSize,
      root: hexFrontierRoot(tree).toString("hex"),
    };
  } finally {
    await pool?.close();
  }

  function checkSemantics(entry: AuditEntry): void {
    const { seq } = entry;
    const counts = entry.phase === "info" || entry.phase === "outcome";
    const succeeded = entry.result === undefined || entry.result.ok === true;
    const user = entry.target?.user_ids?.[0];
    if (entry.op === "role.add" && counts && succeeded && user !== undefined) {
      roles.set(user, String(entry.params?.role ?? ""));
    } else if (entry.op === "role.remove" && counts && succeeded && user !== undefined) {
      roles.delete(user);
    }
    const { actor } = entry;
    if (
      (actor.kind === "operator" || actor.kind === "supervisor" || actor.kind === "auditor") &&
      entry.phase !== "refused"
    ) {
      if (actor.id === undefined)
        fail(seq, `seq ${seq}: an ${actor.kind} acted without a Telegram id`);
      const held = roles.get(actor.id);
      if (held !== actor.kind) {
        fail(
          seq,
          `seq ${seq}: user ${actor.id} acted as ${actor.kind} but held ${held ? `the role ${held}` : "no role"} in the case at that time`,
        );
      }
      if (actor.role !== undefined && actor.role !== held) {
        fail(
          seq,
          `seq ${seq}: the entry says user ${actor.id} held ${actor.role}, the role history says ${held}`,
        );
      }
    }
    if (actor.kind === "member" && entry.phase !== "refused") {
      fail(
        seq,
        `seq ${seq}: someone without a role (${actor.id ?? "unknown id"}) appears on a ${entry.phase} entry; only refusals may name them`,
      );
    }
    if (entry.phase === "intent") intents.add(seq);
    if (entry.phase === "outcome") {
      const of = entry.intent_seq as number;
      if (!intents.has(of) && !erased.has(of))
        fail(seq, `seq ${seq} is an outcome of seq ${of}, which is not an intent`);
      if (closed.has(of)) fail(seq, `seq ${seq} is a second outcome of intent seq ${of}`);
      closed.add(of);
    }
    const by = tombstonesBy.get(seq);
    if (entry.op === "erase") {
      let matched = 0;
      for (const s of erasedSeqsOf(entry)) {
        if (s >= seq)
          fail(seq, `erase entry seq ${seq} lists seq ${s}, which is not earlier than itself`);
        if (erased.has(s) && !claimed.has(s)) {
          claimed.add(s);
          matched++;
        } else if (!erased.has(s)) {
          warn(s, `seq ${s} is listed as erased by seq ${seq} but still holds its payload`);
        }
      }
      if (matched !== (by ?? 0)) {
        fail(
          seq,
          `tombstones name seq ${seq} as their erasure, but it lists ${matched} of their ${by ?? 0} entries`,
        );
      }
      tombstonesBy.delete(seq);
    } else if (by !== undefined) {
      fail(
        seq,
        `${by} entries claim to be erased by seq ${seq}, which is a ${entry.op}, not an erase`,
      );
    }
  }
}
