import type { Actor } from "../../audit/entry.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { scenarioKeys } from "./keys.ts";
import { type EngineDeps, recordForRun, runContext } from "./run-context.ts";
import { readDefinition, readRun, setRun } from "./run-state.ts";
import { stepRef } from "./steps.ts";

/**
 * A supervisor's answer to a run's approve step (the request itself is made
 * by the step, in steps.ts). The answer is recorded with the run's
 * `approvalResult`, once; the caller then moves the run on with `advance`,
 * where the approve step reads it.
 */

export interface ApprovalAnswer {
  caseId: string;
  approvalId: string;
  granted: boolean;
  approver: { userId: number; name: string; actor: Actor };
  updateId: number;
}

export interface ApprovalAnswered {
  /** For the supervisor who pressed the button. */
  text: string;
  /** The request's new text in the control room, when the answer counted. */
  edit?: string;
  runId?: string;
}

/** The pending request, as the approve step stored it. */
interface PendingApproval {
  runId: string;
  /** `<phase>.<step>` of the approve step. */
  where: string;
  requestedBy: number | null;
}

export async function answerApproval(
  deps: EngineDeps,
  answer: ApprovalAnswer,
): Promise<ApprovalAnswered> {
  const key = scenarioKeys.approval(answer.caseId, answer.approvalId);
  const raw = await deps.redis.get(key);
  if (!raw) return { text: "this request was already answered or has expired" };
  const pending = JSON.parse(raw) as PendingApproval;
  // Four eyes: whoever started the run cannot approve its steps.
  if (pending.requestedBy === answer.approver.userId)
    return { text: "a second person must approve: you started this run" };
  const run = await readRun(deps.redis, answer.caseId, pending.runId);
  if (!run || run.status === "finished" || run.status === "aborted")
    return { text: "this run has ended" };
  const rc = await runContext(deps, run);
  const scenario = await readDefinition(deps.redis, run.caseId, run.hash);
  const [phase, step] = pending.where.split(".").map(Number) as [number, number];
  const ref = stepRef(scenario, phase, step);
  try {
    await recordForRun(
      rc,
      ref,
      {
        op: answer.granted ? "approval.grant" : "approval.reject",
        phase: "info",
        actor: answer.approver.actor,
        params: { approval: answer.approvalId, run: run.id },
        update_ids: [answer.updateId],
      },
      {
        preconditions: [{ key, exists: true, message: "this request was already answered" }],
        writes: [
          ["DEL", key],
          ...setRun(run.caseId, run.id, {
            approvalResult: answer.granted ? "granted" : "rejected",
          }),
        ],
      },
    );
  } catch (err) {
    if (err instanceof RecordRefusedError) return { text: err.message };
    throw err;
  }
  const verdict = answer.granted ? "Approved" : "Rejected";
  return {
    runId: run.id,
    text: verdict,
    edit: `${verdict} by ${answer.approver.name}: ${run.scenario} on ${run.alias}, step ${ref}${answer.granted ? " goes on" : " stops (/scenario resume asks again)"}`,
  };
}
