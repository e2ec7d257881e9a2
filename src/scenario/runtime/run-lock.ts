/**
 * One advance per run at a time in this process. Advancing reads the run,
 * acts, and writes the next step; two at once (the tick and an operator's
 * /scenario resume, say) would both act on the step they read. The audit
 * log's preconditions keep a second process from recording a step twice;
 * this keeps one process from even trying.
 */

/** Run id → the advance in progress (or last queued) for it. */
export type RunLocks = Map<string, Promise<void>>;

export function createRunLocks(): RunLocks {
  return new Map();
}

/** Runs `body` once every earlier body for the run has settled, whether it succeeded or not. */
export function withRunLock(
  locks: RunLocks,
  runId: string,
  body: () => Promise<void>,
): Promise<void> {
  const previous = locks.get(runId) ?? Promise.resolve();
  const next = previous.then(body, body);
  const settled = next.catch(() => undefined);
  locks.set(runId, settled);
  // The last one out removes the entry, so the map holds only runs being advanced.
  void settled.then(() => {
    if (locks.get(runId) === settled) locks.delete(runId);
  });
  return next;
}
