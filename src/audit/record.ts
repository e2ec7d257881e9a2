import type { Redis } from "../store/redis.ts";
import type { Signer } from "./checkpoint.ts";
import type { AuditEntry, AuditEntryInput } from "./entry.ts";
import { type CaseState, caseStateOf } from "./record-case.ts";
import {
  type CheckpointSigning,
  checkpointNow,
  signUnsigned,
  startCheckpointTimer,
} from "./record-checkpoints.ts";
import { sortedSoftware } from "./record-entry.ts";
import { AuditUnavailableError } from "./record-errors.ts";
import { type PipelineDeps, startFlushing } from "./record-pipeline.ts";
import { enqueue, NO_OPTIONS, type RecordOptions } from "./record-queue.ts";
import { currentSoftware, type Software } from "./software.ts";
import { ACCESS_OPS } from "./unerasable.ts";

export { AuditUnavailableError, RecordRefusedError } from "./record-errors.ts";
export type { RecordOptions } from "./record-queue.ts";

/**
 * Appends to a case's audit log. One Lua script (`append-script.ts`) checks
 * that the log's head is still the one the new entries chain from, checks the
 * caller's preconditions, adds the entries and applies the state changes they
 * explain: Redis applies all of it or none, and two processes writing the same
 * case keep one chain.
 *
 * Concurrent `record` calls for one case are coalesced into one script call
 * (up to `maxBatch` entries, `record-queue.ts`), which is how the log keeps up
 * with bursts; a single call is sent at once, so nobody waits for a batch to
 * fill. Up to `pipelineDepth` script calls per case are in flight at once
 * (`record-pipeline.ts`); checkpoints are signed beside the appends
 * (`record-checkpoints.ts`).
 */

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
  /**
   * The id of the process appending (src/store/process.ts): kept with each intent it opens,
   * so that a process starting beside this one leaves its intents open while it lives.
   */
  writer?: string;
  /** Told when a checkpoint could not be stored; appends go on regardless. */
  onCheckpointError?: (err: Error, caseId: string) => void;
  /**
   * Waits until Redis's replicas hold what was written (REDIS_WAIT_REPLICAS,
   * src/store/replicas.ts). A consultation or disclosure is recorded before
   * the data is shown or handed over; its `record` resolves only after this
   * too, so a failover cannot lose the record of a look that did happen. It
   * rejects when the replicas do not answer in time, and nothing is shown.
   */
  replicated?: () => Promise<void>;
  /**
   * Which entries wait for `replicated`: consultations and disclosures
   * ("access", the default), or every entry ("every-entry": the CLI, where
   * each change is confirmed to a person as done, and is not done until a
   * failover cannot take it back). Outcomes never wait (see `record`).
   */
  replicatedEntries?: "access" | "every-entry";
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { redis, signer } = deps;
  const cases = new Map<string, CaseState>();
  const signing: CheckpointSigning = {
    redis,
    signer,
    every: deps.checkpointEvery ?? 1000,
    onError: deps.onCheckpointError,
  };
  const pipeline: PipelineDeps = {
    redis,
    now: deps.now ?? Date.now,
    software: sortedSoftware(deps.software ?? currentSoftware()),
    ...(deps.writer ? { writer: deps.writer } : {}),
    maxBatch: deps.maxBatch ?? 250,
    depth: Math.max(1, deps.pipelineDepth ?? 4),
    signing,
  };
  const timer = startCheckpointTimer(signing, cases, deps.checkpointIntervalMs ?? 60_000);
  let closed = false;

  function record(input: AuditEntryInput, opts: RecordOptions = NO_OPTIONS): Promise<AuditEntry> {
    if (closed)
      return Promise.reject(
        new AuditUnavailableError("the audit log is closed: Warden is shutting down"),
      );
    const st = caseStateOf(cases, input.case);
    const entry = enqueue(st.queue, input, opts);
    startFlushing(pipeline, input.case, st);
    const { replicated } = deps;
    // Never an outcome: one a failover loses leaves its intent open, which the next start closes
    // as "unknown", so the record never shows less than happened; and what it would hold back
    // (a file written, a call made) has happened already.
    if (!replicated || input.phase === "outcome") return entry;
    if (deps.replicatedEntries !== "every-entry" && !ACCESS_OPS.has(input.op)) return entry;
    return entry.then(async (stored) => {
      await replicated();
      return stored;
    });
  }

  return {
    redis,
    signer,
    record,
    recordMany: (entries) => Promise.all(entries.map((e) => record(e))),
    checkpoint: (caseId) => checkpointNow(signing, caseId, caseStateOf(cases, caseId)),
    async close() {
      if (timer) clearInterval(timer);
      await Promise.all([...cases.values()].map((st) => st.drained));
      closed = true;
      signUnsigned(signing, cases);
      await Promise.all([...cases.values()].map((st) => st.checkpointing));
    },
  };
}
