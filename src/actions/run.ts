import type { Result, Target } from "../audit/entry.ts";
import { RecordRefusedError } from "../audit/record.ts";
import { caseClosedMessage, caseIsOpen, type RedisWrite } from "../store/cases.ts";
import { actionKeys } from "../store/keys.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { explainFailure } from "./reasons.ts";

/**
 * Runs one Telegram call of an action on the record: the intent is appended
 * (and acknowledged by Redis) before the call, the outcome after it. A step is
 * identified by the request's idempotency key and its name, so it is performed
 * at most once: a redelivered command or a resumed scenario gets the stored
 * result instead of a second call.
 */

export type StepStatus = "done" | "failed" | "unknown";

export interface StepReport<T = unknown> {
  step: string;
  status: StepStatus;
  /** Set when the stored result of an earlier attempt was returned instead of calling Telegram. */
  repeated: boolean;
  /** The call's value, only when it was performed now. */
  value?: T;
  /** What the outcome recorded about the call. */
  detail?: Record<string, unknown>;
  /** For failures: one line an operator can act on. */
  reason?: string;
  missingRight?: string;
  intentSeq?: number;
}

export interface StepSpec<T> {
  op: string;
  step: string;
  target?: Target;
  params?: Record<string, unknown>;
  perform: () => Promise<T>;
  /** What of the call's value goes into the outcome entry. */
  detail?: (value: T) => Record<string, unknown>;
  /** State changes that hold only if the call succeeded: written atomically with the outcome. */
  onSuccess?: (value: T) => RedisWrite[];
  /**
   * State that holds from the moment the call may be made, whatever its
   * outcome: written atomically with the intent (e.g. which messages a delete
   * asked for, so nothing asks again).
   */
  onIntent?: RedisWrite[];
}

interface StoredStep {
  state: "pending" | "done" | "failed";
  intent_seq?: number;
  detail?: Record<string, unknown>;
  reason?: string;
  missingRight?: string;
}

/** How long Warden remembers a step's result for de-duplication (the audit log keeps it for good). */
const REMEMBER_SECONDS = 90 * 24 * 3600;

function stepKey(scope: ActionScope, step: string): string {
  return actionKeys.step(scope.case.id, scope.idempotencyKey, step);
}

export async function runStep<T>(
  env: ActionEnv,
  scope: ActionScope,
  spec: StepSpec<T>,
): Promise<StepReport<T>> {
  const key = stepKey(scope, spec.step);
  // Read first, though the intent's precondition checks the same atomically: a repeated step
  // (a redelivered update, a resumed scenario; many at once after a restart) is answered from
  // its stored result, not by a refused append, which would send every later batch of the
  // case's log in flight again.
  const earlier = await env.redis.get(key);
  if (earlier) return fromStored(spec.step, JSON.parse(earlier) as StoredStep);

  const target: Target = spec.target ?? { chat_id: scope.chat.chatId, alias: scope.chat.alias };
  const base = {
    case: scope.case.id,
    actor: scope.actor,
    op: spec.op,
    target,
    ...(scope.updateIds?.length ? { update_ids: scope.updateIds } : {}),
    ...(scope.scenario ? { scenario: scope.scenario } : {}),
  };
  let intentSeq: number;
  try {
    const intent = await env.audit.record(
      { ...base, phase: "intent", params: { step: spec.step, ...spec.params } },
      {
        preconditions: [
          { key, exists: false, message: "already requested" },
          caseIsOpen(scope.case.id),
        ],
        writes: [
          [
            "SET",
            key,
            JSON.stringify({ state: "pending" } satisfies StoredStep),
            "EX",
            REMEMBER_SECONDS,
          ],
          ...(spec.onIntent ?? []),
        ],
      },
    );
    intentSeq = intent.seq;
  } catch (err) {
    if (err instanceof RecordRefusedError && err.message === caseClosedMessage(scope.case.id)) {
      // Closed after the caller loaded the case: nothing was recorded, nothing is done.
      return { step: spec.step, status: "failed", repeated: false, reason: err.message };
    }
    if (err instanceof RecordRefusedError) {
      // Another worker took this step between our read and our append: its stored result, or
      // "unknown" while that attempt has no outcome yet.
      const now = await env.redis.get(key);
      return fromStored(spec.step, now ? (JSON.parse(now) as StoredStep) : { state: "pending" });
    }
    throw err;
  }

  let stored: StoredStep;
  let value: T | undefined;
  let result: Result;
  let stateWrites: RedisWrite[] = [];
  try {
    // Not before replicas hold the intent: a failover must not forget that this call was made.
    await env.replicated?.();
    value = await spec.perform();
    const detail = spec.detail?.(value);
    stored = { state: "done", intent_seq: intentSeq, ...(detail ? { detail } : {}) };
    result = { ok: true, ...(detail ?? {}) };
    stateWrites = spec.onSuccess?.(value) ?? [];
  } catch (err) {
    const failure = explainFailure(err, scope.chat.alias);
    stored = {
      state: "failed",
      intent_seq: intentSeq,
      reason: failure.reason,
      ...(failure.missingRight ? { missingRight: failure.missingRight } : {}),
    };
    result = {
      ok: false,
      description: failure.description,
      ...(failure.error_code !== undefined ? { error_code: failure.error_code } : {}),
    };
  }
  await env.audit.record(
    { ...base, phase: "outcome", intent_seq: intentSeq, params: { step: spec.step }, result },
    { writes: [["SET", key, JSON.stringify(stored), "EX", REMEMBER_SECONDS], ...stateWrites] },
  );
  return {
    ...fromStored(spec.step, stored),
    repeated: false,
    ...(value !== undefined ? { value } : {}),
  };
}

function fromStored<T>(step: string, stored: StoredStep): StepReport<T> {
  const status: StepStatus = stored.state === "pending" ? "unknown" : stored.state;
  return {
    step,
    status,
    repeated: true,
    ...(stored.detail ? { detail: stored.detail } : {}),
    ...(stored.reason ? { reason: stored.reason } : {}),
    ...(stored.missingRight ? { missingRight: stored.missingRight } : {}),
    ...(stored.intent_seq !== undefined ? { intentSeq: stored.intent_seq } : {}),
    ...(stored.state === "pending"
      ? {
          reason:
            "an earlier attempt was interrupted before Telegram answered: check the chat before retrying",
        }
      : {}),
  };
}

/** What an action did, step by step, in a form commands and scenarios both report from. */
export interface ActionReport {
  op: string;
  alias: string;
  ok: boolean;
  steps: StepReport[];
  /** One line for the operator. */
  summary: string;
  /** Set when there was nothing to do (thawing a chat that is not frozen): not done, yet not a failure either. */
  nothingToDo?: boolean;
  /** The message it posted, if any: a scenario's pin step pins it later. */
  messageId?: number;
  /** What a scenario records about it in the step's entry (counts, users). */
  detail?: Record<string, unknown>;
}

export function report(
  op: string,
  scope: ActionScope,
  steps: StepReport[],
  summary?: string,
): ActionReport {
  const failed = steps.filter((s) => s.status !== "done");
  const ok = failed.length === 0;
  const repeated = steps.length > 0 && steps.every((s) => s.repeated);
  const lines = [
    summary ??
      `${op} ${scope.chat.alias}: ${ok ? "done" : "incomplete"}${repeated ? " (already done earlier, not repeated)" : ""}`,
  ];
  if (!ok) {
    const done = steps.filter((s) => s.status === "done").map((s) => s.step);
    if (done.length) lines.push(`done: ${done.join(", ")}`);
    for (const s of failed) lines.push(`not done: ${s.step}: ${s.reason ?? s.status}`);
  }
  return { op, alias: scope.chat.alias, ok, steps, summary: lines.join("\n") };
}
