/**
 * How an append fails, as the caller sees it. The two kinds ask different
 * things of the person behind the action: a refusal says what to change, an
 * unavailable log says that nothing was done and it may be tried again.
 */

/** A mutation's precondition did not hold; nothing was written. The message says what to do. */
export class RecordRefusedError extends Error {
  override name = "RecordRefusedError";
}

/** The log could not be appended to (Redis down, chain contention); the guarded action must not run. */
export class AuditUnavailableError extends Error {
  override name = "AuditUnavailableError";
}

/** Redis (or building the batch) failed: the entries were not appended, so the action must not run. */
export function writeFailure(caseId: string, err: unknown): AuditUnavailableError {
  return new AuditUnavailableError(
    `could not write to the audit log of case ${caseId} (${(err as Error).message}); the action was not performed`,
  );
}
