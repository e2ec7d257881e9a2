import type { RedisWrite } from "../store/cases.ts";
import type { Redis } from "../store/redis.ts";
import { isSlotMoving } from "../store/script.ts";
import { evalAppend, intentTag, type ScriptReply } from "./append-script.ts";
import { type AuditEntry, canonicalBytes } from "./entry.ts";
import { appendLeafHex, cloneHexFrontier, type HexFrontier, leafHashHex } from "./merkle.ts";
import type { CaseState } from "./record-case.ts";
import {
  buildEntry,
  type CaseDefaults,
  checkEntry,
  checkInput,
  type SortedSoftware,
} from "./record-entry.ts";
import { writeFailure } from "./record-errors.ts";
import { type Pending, rejectAll } from "./record-queue.ts";
import { auditKeys, type StoredHead } from "./storage.ts";

/**
 * Turning a batch of `record` calls into entries chained on the head this
 * process expects, and sending them to Redis without waiting for the reply:
 * the next batch is built on the head this one will leave.
 */

export interface SendDeps {
  redis: Redis;
  now: () => number;
  software: SortedSoftware;
  /** The process appending (src/store/process.ts), kept with its open intents. */
  writer?: string;
}

/** A batch sent to Redis, whose reply is still to be handled. */
export interface InFlight {
  batch: Pending[];
  entries: AuditEntry[];
  /** The tree and head this batch leaves if it is appended. */
  tree: HexFrontier;
  head: StoredHead;
  /** The head it chains from. */
  from: StoredHead;
  reply: Promise<ScriptReply>;
}

/** The entries of a batch that took a place in the chain, with what the script gets for each. */
interface Placed {
  live: Pending[];
  entries: AuditEntry[];
  leaves: string[];
  tags: string[];
  payloads: string[];
  /** The tree with the batch's leaves appended. */
  tree: HexFrontier;
}

/**
 * Builds a batch on the head `st.head` and sends it without waiting for the
 * reply; `st.head` becomes the head the batch will leave. Undefined if
 * nothing was sent (every entry refused, or building failed).
 */
export function sendBatch(
  deps: SendDeps,
  caseId: string,
  st: CaseState,
  batch: Pending[],
): InFlight | undefined {
  const from = st.head as StoredHead;
  const ts = new Date(deps.now()).toISOString();
  let placed: Placed;
  let writes: RedisWrite[];
  try {
    placed = placeEntries(batch, st, deps.software, from, ts, deps.writer);
    if (placed.live.length === 0) return undefined;
    writes = writesOf(placed);
  } catch (err) {
    rejectAll(batch, writeFailure(caseId, err));
    return undefined;
  }
  const { live, entries, leaves, tree } = placed;
  const hash = leaves[leaves.length - 1] as string;
  const reply = evalAppend(deps.redis, caseId, {
    from,
    head: { hash, ts, frontier: tree },
    leaves,
    tags: placed.tags,
    payloads: placed.payloads,
    preconditions: (live[0] as Pending).opts.preconditions ?? [],
    writes,
  }).catch((err: unknown) => unlessWritten(deps.redis, caseId, from.seq + live.length, hash, err));
  // Handled in order by `settleBatch`; until then a rejection must not count as unhandled.
  reply.catch(() => undefined);
  const head = { seq: from.seq + live.length, hash, ts, frontier: tree };
  st.head = head;
  return { batch: live, entries, tree, head, from, reply };
}

/**
 * A batch refused while its case's slot moved is appended again
 * (`settleBatch`) — unless it was written after all: ioredis reports only the
 * last of its tries, and an earlier one may have been cut off (a connection
 * lost) after Redis ran the script. The batch's last entry, at its seq with
 * its leaf hash, says which: found, the batch counts as appended.
 */
async function unlessWritten(
  redis: Redis,
  caseId: string,
  lastSeq: number,
  lastLeaf: string,
  err: unknown,
): Promise<ScriptReply> {
  if (!isSlotMoving(err)) throw err;
  let found: [string, string[]][];
  try {
    found = await redis.xrange(auditKeys.stream(caseId), `0-${lastSeq}`, `0-${lastSeq}`);
  } catch (readErr) {
    // Not known either way: not appended again, the caller is told it failed.
    throw new Error(
      `${(err as Error).message}; whether the batch was written could not be read (${(readErr as Error).message})`,
    );
  }
  const fields = found[0]?.[1];
  if (fields?.[0] === "h" && fields[1] === lastLeaf) return [1, "ok"];
  throw err;
}

/**
 * Builds each call's entry on the one before it, from the head `from`.
 * A refused call is rejected and takes no place in the chain: the next entry
 * chains on the one before it.
 */
function placeEntries(
  batch: readonly Pending[],
  defaults: CaseDefaults,
  software: SortedSoftware,
  from: StoredHead,
  ts: string,
  writer: string | undefined,
): Placed {
  const placed: Placed = {
    live: [],
    entries: [],
    leaves: [],
    tags: [],
    payloads: [],
    tree: cloneHexFrontier(from.frontier),
  };
  let prev = from.hash;
  for (const p of batch) {
    const refused = p.checked ? undefined : checkInput(p.input);
    if (refused) {
      p.reject(refused);
      continue;
    }
    p.checked = true;
    const entry = buildEntry(p, defaults, software, from.seq + placed.live.length + 1, prev, ts);
    const malformed = checkEntry(entry, p, defaults, software);
    if (malformed) {
      p.reject(malformed);
      continue;
    }
    // Sent as a string: the embedded store (ioredis-mock) would hand a Buffer back as one.
    const bytes = canonicalBytes(entry);
    prev = leafHashHex(bytes);
    appendLeafHex(placed.tree, prev);
    placed.live.push(p);
    placed.entries.push(entry);
    placed.leaves.push(prev);
    placed.tags.push(intentTag(entry, writer));
    placed.payloads.push(bytes);
  }
  return placed;
}

/** The state changes of the placed entries, in order; a function gets its entry as stored. */
function writesOf(placed: Placed): RedisWrite[] {
  const writes: RedisWrite[] = [];
  for (let k = 0; k < placed.live.length; k++) {
    const w = (placed.live[k] as Pending).opts.writes;
    if (w === undefined) continue;
    for (const write of typeof w === "function" ? w(placed.entries[k] as AuditEntry) : w)
      writes.push(write);
  }
  return writes;
}
