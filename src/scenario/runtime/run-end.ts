import type { Actor } from "../../audit/entry.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { escapeHtml } from "../../base/html.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import { notifyOperators, type RunContext, recordForRun, scenarioActor } from "./run-context.ts";
import { setRun } from "./run-state.ts";

/**
 * How a run stops: it finishes (its last phase is done), is aborted (by an
 * operator), or fails (a step failed; an operator resumes, skips or aborts
 * it). Each is one audit entry and one atomic write.
 */

/** What ending a run needs: its state, its chat, and Redis and the log (no Telegram). */
export type EndingRun = Pick<RunContext, "run" | "chat"> & {
  deps: Pick<RunContext["deps"], "redis" | "audit" | "now">;
};

/** Ends a run, once: a second end (a tick racing an abort) finds it gone from the active runs and does nothing. */
export async function endRun(
  rc: EndingRun,
  status: "finished" | "aborted",
  op: string,
  actor: Actor,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const { run, deps } = rc;
  try {
    await recordForRun(
      rc,
      op === "scenario.finish" ? "finish" : "abort",
      { op, phase: "info", actor, params: { run: run.id, ...extra } },
      {
        preconditions: [
          {
            key: scenarioKeys.active(run.caseId),
            field: String(run.chatId),
            exists: true,
            message: "run already ended",
          },
        ],
        writes: [
          ...setRun(run.caseId, run.id, { status, endedAt: deps.now() }),
          ["HDEL", scenarioKeys.active(run.caseId), String(run.chatId)],
          ["ZREM", scenarioKeys.timers(run.caseId), `run:${run.id}`],
        ],
      },
    );
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
  // The tick visits only cases with an active run.
  if ((await deps.redis.hlen(scenarioKeys.active(run.caseId))) === 0)
    await deps.redis.srem(globalScenarioKeys.cases(), run.caseId);
}

/** The actor of what Warden does by itself because a case was closed. */
export const CASE_CLOSED_ACTOR = { kind: "system", name: "case close" } as const;

/** Aborts a run because its case was closed: nothing more happens in it. */
export function abortForClosedCase(rc: EndingRun): Promise<void> {
  return endRun(rc, "aborted", "scenario.abort", CASE_CLOSED_ACTOR, { reason: "case closed" });
}

export async function finishRun(rc: RunContext): Promise<void> {
  await endRun(rc, "finished", "scenario.finish", scenarioActor(rc.run));
}

/** Stops a run at a failed step and tells the operators what they can do about it. */
export async function failRun(
  rc: RunContext,
  ref: string,
  reason: string,
  missingRight?: string,
): Promise<void> {
  const { run, deps } = rc;
  await recordForRun(
    rc,
    ref,
    {
      op: "scenario.fail",
      phase: "info",
      params: { run: run.id, reason, ...(missingRight ? { missing_right: missingRight } : {}) },
    },
    { writes: setRun(run.caseId, run.id, { status: "failed", reason }) },
  );
  // The failure is on the record either way; a control room that cannot be told is only logged.
  await notifyOperators(
    rc,
    ref,
    `scn:${run.id}:fail:${ref}#${run.attempt}`,
    escapeHtml(
      `step ${ref} failed: ${reason}. /scenario resume ${run.alias} tries it again; /scenario skip ${run.alias} goes on without it (say, once you have checked it was done after all); /scenario abort ${run.alias} ends the run.`,
    ),
  ).catch((err: Error) =>
    deps.logger.error({ err: err.message }, "could not tell the operators a step failed"),
  );
}
