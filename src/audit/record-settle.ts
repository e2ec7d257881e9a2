import { isSlotMoving } from "../store/script.ts";
import type { ScriptReply } from "./append-script.ts";
import type { AuditEntry } from "./entry.ts";
import type { CaseState } from "./record-case.ts";
import { type CheckpointSigning, signIfDue } from "./record-checkpoints.ts";
import { AuditUnavailableError, RecordRefusedError, writeFailure } from "./record-errors.ts";
import { type Pending, rejectAll } from "./record-queue.ts";
import type { InFlight } from "./record-send.ts";

/**
 * What becomes of a batch once Redis has answered: its callers get their
 * entries, or their refusal, or the batch is taken back to be appended again
 * from the real head.
 */

/** Refusals an entry may meet before its caller is told to retry the action. */
const MAX_ATTEMPTS = 50;

/**
 * Handles one batch's reply. Returns the entries to append again (the batch,
 * minus any refused for good), or undefined when the batch is settled.
 * `blamed`: whether a refusal counts against the batch's entries, which it
 * does not when an earlier batch in flight was refused first.
 */
export async function settleBatch(
  signing: CheckpointSigning,
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
    // The case's slot is being moved to another master (a Redis Cluster reshard): the script did
    // not run (`sendBatch` checked that no earlier try wrote it), and runs once the move is done.
    // Appended again, as after a conflict.
    if (isSlotMoving(err)) return blamed ? countAttempt(caseId, sent.batch) : sent.batch;
    rejectAll(sent.batch, writeFailure(caseId, err));
    return undefined;
  }
  if (reply[0] === 1) {
    st.ours = sent.tree;
    sent.batch.forEach((p, k) => {
      p.resolve(sent.entries[k] as AuditEntry);
    });
    signIfDue(signing, caseId, st, sent.tree);
    return undefined;
  }
  st.head = undefined;
  const again = takenBack(caseId, sent, reply);
  if (again === undefined || !blamed) return again;
  return countAttempt(caseId, again);
}

/**
 * The entries of a refused batch to append again, after telling the caller
 * whose entry was refused for good; undefined if the whole batch failed.
 */
function takenBack(caseId: string, sent: InFlight, reply: ScriptReply): Pending[] | undefined {
  const why = reply[1];
  const batch = sent.batch;
  if (why === "conflict") {
    // Another writer moved the head, or a batch before this one was refused.
    return batch;
  }
  if (why === "precondition") {
    const first = batch[0] as Pending;
    const pre = first.opts.preconditions ?? [];
    const failed = pre[(reply[2] ?? 1) - 1];
    first.reject(new RecordRefusedError(failed?.message ?? "a precondition did not hold"));
    return batch.slice(1);
  }
  if (why === "closed") {
    const late = batch[(reply[2] ?? 1) - 1];
    if (late) late.late = true;
    return batch;
  }
  rejectAll(
    batch,
    why === "diverged"
      ? new AuditUnavailableError(
          `the audit log of case ${caseId} is damaged: its head says seq ${sent.from.seq} but the stream ends at ${reply[2]}; run \`warden audit verify --case ${caseId}\` and call the case's auditor`,
        )
      : new AuditUnavailableError(
          `could not write to the audit log of case ${caseId} (unexpected reply from the append script: ${String(why)}); the action was not performed`,
        ),
  );
  return undefined;
}

/** Counts a refusal against each entry; one refused too often gives up, so contention cannot hold a caller forever. */
function countAttempt(caseId: string, again: Pending[]): Pending[] {
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
