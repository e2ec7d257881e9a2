import { AuditUnavailableError } from "../../audit/record.ts";
import { leasedDeps } from "./case-lease.ts";
import { scenarioKeys } from "./keys.ts";
import type { EngineDeps } from "./run-context.ts";
import { runQueued } from "./triggers.ts";

/**
 * A run's queue of trigger firings (see `handleEvent` in triggers.ts) is
 * worked through off the update's path, one firing at a time and in order,
 * removing each only once its actions ran: they are idempotent, so one
 * interrupted by a crash is simply run again. One worker per run.
 */

/** Run id → the worker draining its queue now. */
export type QueueWorkers = Map<string, Promise<void>>;

export function createQueueWorkers(): QueueWorkers {
  return new Map();
}

/** Drains a run's queue; a call while a worker runs waits for it, then drains what came meanwhile. */
export function drainQueue(
  deps: EngineDeps,
  workers: QueueWorkers,
  caseId: string,
  runId: string,
): Promise<void> {
  const running = workers.get(runId);
  if (running) return running.then(() => drainQueue(deps, workers, caseId, runId));
  const settled = leasedDeps(deps, caseId)
    // Another process holds the case's lease: its tick drains the queue.
    .then((leased) => (leased ? workThrough(leased, caseId, runId) : undefined))
    .catch((err: Error) =>
      deps.logger.warn({ case: caseId, run: runId, err: err.message }, "trigger queue paused"),
    )
    .finally(() => {
      if (workers.get(runId) === settled) workers.delete(runId);
    });
  workers.set(runId, settled);
  return settled;
}

async function workThrough(deps: EngineDeps, caseId: string, runId: string): Promise<void> {
  const key = scenarioKeys.queue(caseId, runId);
  for (;;) {
    const head = await deps.redis.lindex(key, 0);
    if (head === null) return;
    try {
      await runQueued(deps, caseId, head);
    } catch (err) {
      // Left queued: the worker stops, and the next tick tries again once the log is back.
      if (err instanceof AuditUnavailableError) throw err;
      // Anything else would fail again: it is logged and dropped, so one bad firing holds up no other.
      deps.logger.error(
        { case: caseId, run: runId, err: (err as Error).message },
        "a queued trigger firing failed",
      );
    }
    // Only if it is still the head: a process that lost the lease while running it must not pop the
    // next firing, which the new holder has not run.
    await deps.redis.eval(POP_IF_HEAD, 1, key, head);
  }
}

const POP_IF_HEAD = `if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then return redis.call('LPOP', KEYS[1]) end
return false`;
