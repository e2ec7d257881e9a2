import type { Redis } from "ioredis";
import type { Verifier } from "./checkpoint.ts";
import {
  auditKeys,
  readCheckpointNotes,
  readHeadPosition,
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
  } = {},
): Promise<VerifyReport> {
  const [checkpoints, head, counters] = await Promise.all([
    readCheckpointNotes(redis, caseId),
    readHeadPosition(redis, caseId),
    streamCounters(redis, caseId),
  ]);
  const report = await verifyEntries(readStoredLines(redis, caseId), {
    caseId,
    checkpoints,
    verifiers: opts.verifiers,
    heldCheckpoint: opts.heldCheckpoint,
    clockToleranceMs: opts.clockToleranceMs,
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
