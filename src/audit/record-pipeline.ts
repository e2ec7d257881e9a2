import { type CaseState, loadCaseDefaults } from "./record-case.ts";
import type { CheckpointSigning } from "./record-checkpoints.ts";
import { writeFailure } from "./record-errors.ts";
import { type Pending, rejectAll, takeBatch } from "./record-queue.ts";
import { type InFlight, type SendDeps, sendBatch } from "./record-send.ts";
import { settleBatch } from "./record-settle.ts";
import { readHead } from "./storage.ts";

/**
 * Appending a case's queue in pipelined batches. Up to `depth` script calls
 * are in flight at once, each chained on the head the one before it will
 * leave (seq and hash): Redis runs a connection's scripts in order, so while
 * one batch is being written the next is already on its way. If a batch is
 * refused (another writer moved the head, a precondition failed, an intent was
 * already closed), every later batch in flight is refused too, as the head it
 * expects never comes about: they are all taken back and appended again, in
 * order, from the real head.
 */

export interface PipelineDeps extends SendDeps {
  signing: CheckpointSigning;
  /** Most entries per script call. */
  maxBatch: number;
  /** Most script calls in flight per case. */
  depth: number;
}

/**
 * Starts appending the case's queue on the next microtask, unless that is
 * already under way: calls made until then join the first batch, so a
 * single call is sent at once and nobody waits for a batch to fill.
 */
export function startFlushing(deps: PipelineDeps, caseId: string, st: CaseState): void {
  if (st.flushing) return;
  st.flushing = true;
  st.drained = new Promise<void>((resolve) => {
    st.onDrained = resolve;
  });
  queueMicrotask(() => {
    void flush(deps, caseId, st);
  });
}

/** Appends the queue until it is empty and nothing is in flight. */
async function flush(deps: PipelineDeps, caseId: string, st: CaseState): Promise<void> {
  const inFlight: InFlight[] = [];
  while (st.queue.length > 0 || inFlight.length > 0) {
    // Fill the pipeline; without a known head, first let what is in flight land, as the
    // head it leaves is the only one to chain on.
    while (st.queue.length > 0 && inFlight.length < deps.depth) {
      if (!st.head && inFlight.length > 0) break;
      const batch = takeBatch(st.queue, deps.maxBatch);
      try {
        await loadCaseDefaults(deps.redis, caseId, st, batch);
        st.head ??= await readHead(deps.redis, caseId);
      } catch (err) {
        rejectAll(batch, writeFailure(caseId, err));
        continue;
      }
      const sent = sendBatch(deps, caseId, st, batch);
      if (sent) inFlight.push(sent);
    }
    const next = inFlight.shift();
    if (!next) continue;
    const again = await settleBatch(deps.signing, caseId, st, next, true);
    if (again !== undefined) await takeBack(deps.signing, caseId, st, inFlight, again);
  }
  st.flushing = false;
  st.onDrained?.();
}

/**
 * After a refused batch: every later batch in flight chained on it, so they
 * are refused too (or, if it was in fact written, land after it). Whatever is
 * refused goes back to the front of the queue, in order, with `again` first.
 */
async function takeBack(
  signing: CheckpointSigning,
  caseId: string,
  st: CaseState,
  inFlight: InFlight[],
  again: Pending[],
): Promise<void> {
  for (const later of inFlight.splice(0)) {
    const back = await settleBatch(signing, caseId, st, later, false);
    if (back) again.push(...back);
  }
  st.head = undefined;
  st.queue.unshift(...again);
}
