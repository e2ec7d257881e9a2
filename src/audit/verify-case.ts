import type { Redis } from "../store/redis.ts";
import { mergeNotes, type Verifier } from "./checkpoint.ts";
import { readCosignedNotes } from "./cosignatures.ts";
import { countedLines, type ProgressReport } from "./progress.ts";
import {
  auditKeys,
  readCheckpointNotes,
  readHeadAndTop,
  readStoredLines,
  streamCounters,
} from "./storage.ts";
import { type VerifyReport, verifyEntries } from "./verify.ts";

/**
 * Verifies a case's log where it lives, in Redis. Beyond what a bundle allows,
 * it compares every payload with the leaf hash the stream holds for it, the
 * last entry with the head, and (on a real server) the stream's entries-added
 * counter with its length, which betrays XDEL, XTRIM and XADD … MAXLEN.
 */
export async function verifyCaseLog(
  redis: Redis,
  caseId: string,
  opts: {
    verifiers?: readonly Verifier[];
    heldCheckpoint?: string;
    clockToleranceMs?: number;
    /** Witness keys: the case's cosigned checkpoints are checked with them. */
    witnesses?: readonly Verifier[];
    /** Called as entries are read, for a progress line. */
    progress?: ProgressReport;
  } = {},
): Promise<VerifyReport> {
  // A live log may grow while it is read. Checkpoints are read first: each stored before the head
  // is read covers no more than that head, so a tail cut off behind a rewound head still shows.
  // Cosigned copies are read with them: each is a checkpoint of the log, signed by its key too.
  const checkpoints = mergeNotes([
    ...(await readCheckpointNotes(redis, caseId)),
    ...(await readCosignedNotes(redis, caseId)),
  ]);
  const [{ head, topSeq }, counters] = await Promise.all([
    readHeadAndTop(redis, caseId),
    streamCounters(redis, caseId),
  ]);
  // Where the head and the stream agreed, the log is verified as it stood then; entries appended
  // since lie beyond it and are for the next verify. Where they did not, the whole stream is read,
  // and the entries past the head are reported.
  const stored = readStoredLines(redis, caseId, topSeq === head.seq ? { upTo: head.seq } : {});
  const lines = opts.progress ? countedLines(stored, head.seq, opts.progress) : stored;
  const report = await verifyEntries(lines, {
    caseId,
    checkpoints,
    verifiers: opts.verifiers,
    heldCheckpoint: opts.heldCheckpoint,
    clockToleranceMs: opts.clockToleranceMs,
    witnesses: opts.witnesses,
    head,
    counters,
  });
  if (!counters && report.ok) {
    report.warnings.push({
      message:
        "the stream's entries-added counter was not checked: this Redis has no XINFO (the embedded rehearsal store)",
    });
  }
  return report;
}

/** Whether a case has a log at all: to tell "unknown case" from "empty log". */
export async function hasAuditLog(redis: Redis, caseId: string): Promise<boolean> {
  return (await redis.exists(auditKeys.stream(caseId), auditKeys.head(caseId))) > 0;
}
