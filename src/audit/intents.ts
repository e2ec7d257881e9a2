import type { AuditEntry, AuditEntryInput, Result } from "./entry.ts";
import { type AuditLog, AuditUnavailableError, RecordRefusedError } from "./record.ts";
import { auditKeys } from "./storage.ts";

/**
 * Write-ahead logging for actions with effects outside Warden (Telegram calls).
 * The intent is in the log, acknowledged by Redis, before the action starts; the
 * outcome follows with the intent's seq. A crash in between leaves an open
 * intent, which the next start closes as "unknown" instead of forgetting it.
 */

export type IntentInput = Omit<AuditEntryInput, "phase" | "result" | "intent_seq">;

/** How an outcome is reported: Telegram's answer, plus any detail worth keeping. */
export interface OutcomeReport {
  result: Result;
  params?: Record<string, unknown>;
}

/** What a failed call reports: Telegram's error_code and description where the error carries them. */
export function failureResult(err: unknown): Result {
  const e = err as { error_code?: unknown; description?: unknown; message?: unknown };
  const description =
    typeof e?.description === "string"
      ? e.description
      : typeof e?.message === "string"
        ? e.message
        : String(err);
  return typeof e?.error_code === "number"
    ? { ok: false, error_code: e.error_code, description }
    : { ok: false, description };
}

function outcomeOf(intent: AuditEntry, report: OutcomeReport): AuditEntryInput {
  return {
    case: intent.case,
    actor: intent.actor,
    op: intent.op,
    phase: "outcome",
    intent_seq: intent.seq,
    result: report.result,
    ...(intent.target && { target: intent.target }),
    ...(report.params && { params: report.params }),
    ...(intent.scenario && { scenario: intent.scenario }),
    ...(intent.update_ids && { update_ids: intent.update_ids }),
    ...(intent.justification && { justification: intent.justification }),
    ...(intent.recipients && { recipients: intent.recipients }),
    authority: intent.authority,
    purpose: intent.purpose,
  };
}

/**
 * Logs the intent, then performs the action, then logs its outcome. If the
 * intent cannot be logged, `perform` is never called and the log's error
 * (`AuditUnavailableError` or `RecordRefusedError`) reaches the caller. If the
 * action throws, the failure is logged as the outcome and the error rethrown.
 */
export async function performAudited<T>(
  log: AuditLog,
  intent: IntentInput,
  perform: () => Promise<T>,
  describeOutcome: (value: T) => OutcomeReport = () => ({ result: { ok: true } }),
): Promise<T> {
  const logged = await log.record({ ...intent, phase: "intent" });
  let value: T;
  try {
    value = await perform();
  } catch (err) {
    await recordOutcome(log, logged, { result: failureResult(err) }, false);
    throw err;
  }
  await recordOutcome(log, logged, describeOutcome(value), true);
  return value;
}

async function recordOutcome(
  log: AuditLog,
  intent: AuditEntry,
  report: OutcomeReport,
  performed: boolean,
) {
  try {
    await log.record(outcomeOf(intent, report));
  } catch (err) {
    throw new AuditUnavailableError(
      `${intent.op} ${performed ? "was performed" : "failed"}, but its outcome could not be logged (${(err as Error).message}); intent seq ${intent.seq} stays open and is closed as unknown at the next start`,
    );
  }
}

/** An intent found without outcome, as closed by `closeDanglingIntents`. */
export interface DanglingIntent {
  /** The intent as logged; undefined if its payload has since been erased. */
  intent: AuditEntry | undefined;
  intentSeq: number;
  /** The outcome entry that now closes it. */
  outcome: AuditEntry;
}

/** Whether the process that logged an intent is still running (see src/store/process.ts). */
export type WriterAlive = (writer: string) => Promise<boolean>;

/**
 * Closes the intents of the case still waiting for their outcome with
 * `{ ok: "unknown" }`, and returns them so operators can be told to check in
 * Telegram what happened. An intent names the process that logged it; with
 * `alive`, the intents of processes still running are left open (a replica
 * beside this one is acting on them), and only those of processes that are
 * gone — or that name none, logged by an older Warden or a command — are
 * closed. Without `alive` every open intent is closed: call it so only when
 * no other process writes to the case. Two processes closing at once close
 * each intent once.
 */
export async function closeDanglingIntents(
  log: AuditLog,
  caseId: string,
  alive?: WriterAlive,
): Promise<DanglingIntent[]> {
  const openKey = auditKeys.openIntents(caseId);
  const open = await log.redis.hgetall(openKey);
  const seqs: number[] = [];
  for (const [field, value] of Object.entries(open)) {
    const seq = Number(field);
    if (!Number.isSafeInteger(seq)) continue;
    const space = value.indexOf(" ");
    const writer = space >= 0 ? value.slice(space + 1) : "";
    if (writer && alive && (await alive(writer))) continue;
    seqs.push(seq);
  }
  seqs.sort((a, b) => a - b);
  if (seqs.length === 0) return [];
  const payloads = await log.redis.hmget(auditKeys.payloads(caseId), ...seqs.map(String));
  const closed: DanglingIntent[] = [];
  for (const [k, intentSeq] of seqs.entries()) {
    const raw = payloads[k];
    const parsed = raw ? (JSON.parse(raw) as AuditEntry | { erased_by: number }) : undefined;
    const intent = parsed && !("erased_by" in parsed) ? parsed : undefined;
    let outcome: AuditEntry;
    try {
      outcome = await log.record(
        {
          case: caseId,
          actor: { kind: "system", name: "warden" },
          op: intent?.op ?? "unknown",
          phase: "outcome",
          intent_seq: intentSeq,
          ...(intent?.target && { target: intent.target }),
          // A consultation's or disclosure's outcome needs the why and the who, as its intent had.
          ...(intent?.justification !== undefined && { justification: intent.justification }),
          ...(intent?.recipients !== undefined && { recipients: intent.recipients }),
          result: {
            ok: "unknown",
            description:
              "Warden stopped before the outcome was logged: check in Telegram whether the action took effect",
          },
        },
        {
          // Another process closing it at the same moment: it is closed once.
          preconditions: [
            { key: openKey, field: String(intentSeq), exists: true, message: CLOSED_ELSEWHERE },
          ],
        },
      );
    } catch (err) {
      if (err instanceof RecordRefusedError && err.message === CLOSED_ELSEWHERE) continue;
      throw err;
    }
    closed.push({ intent, intentSeq, outcome });
  }
  return closed;
}

const CLOSED_ELSEWHERE = "the intent was closed meanwhile";
