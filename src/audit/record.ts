import type { Redis } from "ioredis";
import type { RedisWrite } from "../store/cases.ts";
import { getCase } from "../store/cases.ts";
import { evalAppend, intentTag, type ScriptReply } from "./append-script.ts";
import { checkpointOrigin, type Signer, signCheckpoint } from "./checkpoint.ts";
import { type AuditEntry, type AuditEntryInput, canonicalBytes } from "./entry.ts";
import {
  appendLeafHex,
  cloneHexFrontier,
  type HexFrontier,
  hexFrontierRoot,
  leafHashHex,
} from "./merkle.ts";
import { buildEntry, checkEntry, checkInput, sortedSoftware } from "./record-entry.ts";
import { AuditUnavailableError, RecordRefusedError, writeFailure } from "./record-errors.ts";
import {
  enqueue,
  NO_OPTIONS,
  type Pending,
  type RecordOptions,
  rejectAll,
  takeBatch,
} from "./record-queue.ts";
import { currentSoftware, type Software } from "./software.ts";
import { auditKeys, readHead, type StoredHead } from "./storage.ts";

/**
 * Appends to a case's audit log. One Lua script (`append-script.ts`) checks
 * that the log's head is still the one the new entries chain from, checks the
 * caller's preconditions, adds the entries and applies the state changes they
 * explain: Redis applies all of it or none, and two processes writing the same
 * case keep one chain.
 *
 * Concurrent `record` calls for one case are coalesced into one script call
 * (up to `maxBatch` entries), which is how the log keeps up with bursts; a
 * single call is sent at once, so nobody waits for a batch to fill.
 *
 * Up to `pipelineDepth` script calls per case are in flight at once, each
 * chained on the head the one before it will leave (seq and hash). Redis runs
 * a connection's scripts in order, so while one batch is being written the
 * next is already on its way. If a batch is refused (another writer moved the
 * head, a precondition failed, an intent was already closed), every later
 * batch in flight is refused too, as the head it expects never comes about:
 * they are all taken back and appended again, in order, from the real head.
 */

export { AuditUnavailableError, RecordRefusedError } from "./record-errors.ts";
export type { RecordOptions } from "./record-queue.ts";

export interface AuditLog {
  /** Appends one entry; resolves once Redis has acknowledged it. */
  record(entry: AuditEntryInput, opts?: RecordOptions): Promise<AuditEntry>;
  /** Appends several entries of one or more cases, in order; coalesced like concurrent `record` calls. */
  recordMany(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /**
   * Signs a checkpoint of the case's tree now (if a signer is configured) and
   * stores it; returns the note, or undefined without a signer or entries.
   */
  checkpoint(caseId: string): Promise<string | undefined>;
  /** Waits for pending appends, signs a final checkpoint per case written to, stops the timer. */
  close(): Promise<void>;
  readonly redis: Redis;
  readonly signer: Signer | undefined;
}

export interface AuditLogDeps {
  redis: Redis;
  software?: Software;
  now?: () => number;
  /** Without one the chain and tree still grow; checkpoints start once a key is configured. */
  signer?: Signer;
  /** Sign a checkpoint after this many entries (default 1000). */
  checkpointEvery?: number;
  /** …and at least this often while entries arrive (default 60 s). */
  checkpointIntervalMs?: number;
  /**
   * Most entries per script call (default 250). Larger batches save little:
   * past a few hundred entries the command becomes one string large enough for
   * V8's large-object space, and a burst appended measurably slower at 500.
   */
  maxBatch?: number;
  /** Most script calls in flight per case (default 4); 1 sends one batch at a time. */
  pipelineDepth?: number;
  /** Told when a checkpoint could not be stored; appends go on regardless. */
  onCheckpointError?: (err: Error, caseId: string) => void;
}

const MAX_ATTEMPTS = 50;

/** A batch sent to Redis, whose reply is still to be handled. */
interface InFlight {
  batch: Pending[];
  entries: AuditEntry[];
  /** The tree and head this batch leaves if it is appended. */
  tree: HexFrontier;
  head: StoredHead;
  /** The head it chains from. */
  from: StoredHead;
  reply: Promise<ScriptReply>;
}

interface CaseState {
  queue: Pending[];
  flushing: boolean;
  drained: Promise<void>;
  onDrained?: () => void;
  /**
   * Our cached view of the head, or with batches in flight the head the last
   * of them will leave; dropped whenever another writer may have moved it.
   */
  head?: StoredHead;
  /** The tree as of our own last append: the only state this process signs. */
  ours?: HexFrontier;
  signedSize: number;
  checkpointing: Promise<unknown>;
  authority?: string;
  purpose?: string;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { redis, signer } = deps;
  const software = sortedSoftware(deps.software ?? currentSoftware());
  const now = deps.now ?? Date.now;
  const every = deps.checkpointEvery ?? 1000;
  const maxBatch = deps.maxBatch ?? 250;
  const depth = Math.max(1, deps.pipelineDepth ?? 4);
  const cases = new Map<string, CaseState>();
  let closed = false;

  const timer =
    signer && (deps.checkpointIntervalMs ?? 60_000) > 0
      ? setInterval(() => {
          for (const [caseId, st] of cases) {
            if (st.ours && st.ours.size > st.signedSize)
              scheduleCheckpoint(caseId, st, cloneHexFrontier(st.ours));
          }
        }, deps.checkpointIntervalMs ?? 60_000)
      : undefined;
  timer?.unref();

  function stateOf(caseId: string): CaseState {
    let st = cases.get(caseId);
    if (!st) {
      st = {
        queue: [],
        flushing: false,
        drained: Promise.resolve(),
        signedSize: 0,
        checkpointing: Promise.resolve(),
      };
      cases.set(caseId, st);
    }
    return st;
  }

  function scheduleCheckpoint(
    caseId: string,
    st: CaseState,
    tree: HexFrontier,
  ): Promise<string | undefined> {
    if (!signer || tree.size === 0) return Promise.resolve(undefined);
    st.signedSize = Math.max(st.signedSize, tree.size);
    const note = signCheckpoint(signer, checkpointOrigin(caseId), tree.size, hexFrontierRoot(tree));
    const stored = storeCheckpoint(redis, caseId, tree.size, note).then(
      () => note,
      (err: Error) => {
        deps.onCheckpointError?.(err, caseId);
        return undefined;
      },
    );
    st.checkpointing = Promise.all([st.checkpointing, stored]);
    return stored;
  }

  async function caseDefaults(caseId: string, st: CaseState, batch: Pending[]): Promise<void> {
    if (st.authority !== undefined) return;
    // Only entries that leave authority or purpose to the case need the case record.
    if (batch.every((p) => p.input.authority !== undefined && p.input.purpose !== undefined))
      return;
    const record = await getCase(redis, caseId);
    if (record) {
      st.authority = record.authority;
      st.purpose = record.purpose;
    }
  }

  /**
   * Builds a batch on the head `st.head` and sends it without waiting for the
   * reply; `st.head` becomes the head the batch will leave. Undefined if
   * nothing was sent (every entry refused, or building failed).
   */
  function send(caseId: string, st: CaseState, batch: Pending[]): InFlight | undefined {
    const from = st.head as StoredHead;
    const live: Pending[] = [];
    const tree = cloneHexFrontier(from.frontier);
    const ts = new Date(now()).toISOString();
    const entries: AuditEntry[] = [];
    const leaves: string[] = [];
    const tags: string[] = [];
    const payloads: string[] = [];
    let prev = from.hash;
    let writes: RedisWrite[];
    try {
      for (const p of batch) {
        // A refused entry takes no place in the chain: the next one chains on the one before.
        const refused = p.checked ? undefined : checkInput(p.input);
        if (refused) {
          p.reject(refused);
          continue;
        }
        p.checked = true;
        const entry = buildEntry(p, st, software, from.seq + live.length + 1, prev, ts);
        const malformed = checkEntry(entry, p, st, software);
        if (malformed) {
          p.reject(malformed);
          continue;
        }
        // Sent as a string: the embedded store (ioredis-mock) would hand a Buffer back as one.
        const bytes = canonicalBytes(entry);
        prev = leafHashHex(bytes);
        appendLeafHex(tree, prev);
        live.push(p);
        entries.push(entry);
        leaves.push(prev);
        tags.push(intentTag(entry));
        payloads.push(bytes);
      }
      if (live.length === 0) return undefined;
      writes = [];
      for (let k = 0; k < live.length; k++) {
        const w = (live[k] as Pending).opts.writes;
        if (w === undefined) continue;
        for (const write of typeof w === "function" ? w(entries[k] as AuditEntry) : w)
          writes.push(write);
      }
    } catch (err) {
      rejectAll(batch, writeFailure(caseId, err));
      return undefined;
    }
    const reply = evalAppend(redis, caseId, {
      from,
      head: { hash: prev, ts, frontier: tree },
      leaves,
      tags,
      payloads,
      preconditions: (live[0] as Pending).opts.preconditions ?? [],
      writes,
    });
    // Handled in order by `settle`; until then a rejection must not count as unhandled.
    reply.catch(() => undefined);
    const head = { seq: from.seq + live.length, hash: prev, ts, frontier: tree };
    st.head = head;
    return { batch: live, entries, tree, head, from, reply };
  }

  /**
   * Handles one batch's reply. Returns the entries to append again (the batch,
   * minus any refused for good), or undefined when the batch is settled.
   * `blamed`: whether a refusal counts against the batch's entries, which it
   * does not when an earlier batch in flight was refused first.
   */
  async function settle(
    caseId: string,
    st: CaseState,
    sent: InFlight,
    blamed: boolean,
  ): Promise<Pending[] | undefined> {
    let reply: ScriptReply;
    try {
      reply = await sent.reply;
    } catch (err) {
      st.head = undefined;
      rejectAll(sent.batch, writeFailure(caseId, err));
      return undefined;
    }
    if (reply[0] === 1) {
      st.ours = sent.tree;
      sent.batch.forEach((p, k) => {
        p.resolve(sent.entries[k] as AuditEntry);
      });
      if (signer && sent.tree.size - st.signedSize >= every) {
        try {
          scheduleCheckpoint(caseId, st, cloneHexFrontier(sent.tree));
        } catch (err) {
          // Appends never wait for (or fail with) a checkpoint.
          deps.onCheckpointError?.(err as Error, caseId);
        }
      }
      return undefined;
    }
    st.head = undefined;
    const why = reply[1];
    let again = sent.batch;
    if (why === "conflict") {
      // Another writer moved the head, or a batch before this one was refused.
    } else if (why === "precondition") {
      const first = again[0] as Pending;
      const pre = first.opts.preconditions ?? [];
      const failed = pre[(reply[2] ?? 1) - 1];
      first.reject(new RecordRefusedError(failed?.message ?? "a precondition did not hold"));
      again = again.slice(1);
    } else if (why === "closed") {
      const late = again[(reply[2] ?? 1) - 1];
      if (late) late.late = true;
    } else {
      const failure =
        why === "diverged"
          ? new AuditUnavailableError(
              `the audit log of case ${caseId} is damaged: its head says seq ${sent.from.seq} but the stream ends at ${reply[2]}; run \`warden audit verify --case ${caseId}\` and call the case's auditor`,
            )
          : new AuditUnavailableError(
              `could not write to the audit log of case ${caseId} (unexpected reply from the append script: ${String(why)}); the action was not performed`,
            );
      for (const p of again) p.reject(failure);
      return undefined;
    }
    if (!blamed) return again;
    const kept: Pending[] = [];
    for (const p of again) {
      p.attempts++;
      if (p.attempts < MAX_ATTEMPTS) kept.push(p);
      else
        p.reject(
          new AuditUnavailableError(
            `could not append to the audit log of case ${caseId}: too much contention from other writers; retry the action`,
          ),
        );
    }
    return kept;
  }

  async function flush(caseId: string, st: CaseState): Promise<void> {
    const inFlight: InFlight[] = [];
    while (st.queue.length > 0 || inFlight.length > 0) {
      // Fill the pipeline; without a known head, first let what is in flight land.
      while (st.queue.length > 0 && inFlight.length < depth) {
        if (!st.head && inFlight.length > 0) break;
        const batch = takeBatch(st.queue, maxBatch);
        try {
          await caseDefaults(caseId, st, batch);
          st.head ??= await readHead(redis, caseId);
        } catch (err) {
          rejectAll(batch, writeFailure(caseId, err));
          continue;
        }
        const sent = send(caseId, st, batch);
        if (sent) inFlight.push(sent);
      }
      const next = inFlight.shift();
      if (!next) continue;
      const again = await settle(caseId, st, next, true);
      if (again === undefined) continue;
      // Every later batch chained on this one: they are refused too (or, if this one
      // was in fact written, land after it). Take back whatever is refused, in order.
      const retry = again;
      for (const later of inFlight.splice(0)) {
        const back = await settle(caseId, st, later, false);
        if (back) retry.push(...back);
      }
      st.head = undefined;
      st.queue.unshift(...retry);
    }
    st.flushing = false;
    st.onDrained?.();
  }

  function record(input: AuditEntryInput, opts: RecordOptions = NO_OPTIONS): Promise<AuditEntry> {
    if (closed)
      return Promise.reject(
        new AuditUnavailableError("the audit log is closed: Warden is shutting down"),
      );
    const st = stateOf(input.case);
    const promise = enqueue(st.queue, input, opts);
    if (!st.flushing) {
      st.flushing = true;
      st.drained = new Promise<void>((resolve) => {
        st.onDrained = resolve;
      });
      queueMicrotask(() => {
        void flush(input.case, st);
      });
    }
    return promise;
  }

  return {
    redis,
    signer,
    record,
    recordMany: (entries) => Promise.all(entries.map((e) => record(e))),
    async checkpoint(caseId) {
      const st = stateOf(caseId);
      await st.drained;
      const tree = st.ours ?? (await readHead(redis, caseId)).frontier;
      const note = await scheduleCheckpoint(caseId, st, cloneHexFrontier(tree));
      await st.checkpointing;
      return note;
    },
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all([...cases.values()].map((st) => st.drained));
      closed = true;
      for (const [caseId, st] of cases) {
        if (st.ours && st.ours.size > st.signedSize)
          scheduleCheckpoint(caseId, st, cloneHexFrontier(st.ours));
      }
      await Promise.all([...cases.values()].map((st) => st.checkpointing));
    },
  };
}

/** Stores a signed note; a checkpoint for an equal or larger size stored by another writer wins. */
async function storeCheckpoint(
  redis: Redis,
  caseId: string,
  size: number,
  note: string,
): Promise<void> {
  try {
    await redis.xadd(auditKeys.checkpoints(caseId), `0-${size}`, "n", note);
  } catch (err) {
    if (/equal or smaller/i.test((err as Error).message)) return;
    throw err;
  }
}
