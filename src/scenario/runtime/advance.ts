import { AuditUnavailableError, RecordRefusedError } from "../../audit/record.ts";
import type { Scenario } from "../definition/schema.ts";
import { leasedDeps } from "./case-lease.ts";
import { scenarioKeys } from "./keys.ts";
import { type EngineDeps, type RunContext, recordForRun, runContext } from "./run-context.ts";
import { abortForClosedCase, failRun, finishRun } from "./run-end.ts";
import { type RunLocks, withRunLock } from "./run-lock.ts";
import { type RunState, readDefinition, readRun, setRun } from "./run-state.ts";
import { executeStep, type StepOutcome, stepRef } from "./steps.ts";

/**
 * Moving a run on: step after step, phase after phase, until it has to wait
 * (a wait or until step not yet due, an approval not yet answered), fails, or
 * ends. Each pass reads the run afresh from Redis, so what a step wrote (and
 * what an operator changed meanwhile) is what the next pass acts on.
 */

/** A bound on passes, so a scenario that never settles is logged instead of looping for ever. */
const MAX_PASSES = 1000;

/** Moves one run on as far as it can go now. */
export function advance(
  deps: EngineDeps,
  locks: RunLocks,
  caseId: string,
  runId: string,
): Promise<void> {
  return withRunLock(locks, runId, async () => {
    // With several processes, only the holder of the case's lease moves its runs (case-lease.ts).
    const leased = await leasedDeps(deps, caseId);
    if (!leased) return;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      if ((await advanceOnce(leased, caseId, runId)) === "settled") return;
    }
    deps.logger.error({ case: caseId, run: runId }, "scenario did not settle after 1000 steps");
  });
}

/** One pass: a step run, or a phase ended. `settled` when the run has to wait or has stopped. */
async function advanceOnce(
  deps: EngineDeps,
  caseId: string,
  runId: string,
): Promise<"settled" | "again"> {
  const run = await readRun(deps.redis, caseId, runId);
  if (run?.status !== "running" || waiting(deps, run)) return "settled";
  const scenario = await readDefinition(deps.redis, caseId, run.hash);
  const rc = await runContext(deps, run);
  if (rc.record.status !== "open") {
    // Closing a case aborts its runs; one the close left behind (a crash between the two) ends here.
    await abortForClosedCase(rc);
    return "settled";
  }
  const phase = scenario.phases[run.phase];
  if (!phase) {
    await finishRun(rc);
    return "settled";
  }
  if (run.step >= (phase.steps ?? []).length) {
    await nextPhase(rc, scenario);
    return "again";
  }
  let outcome: StepOutcome;
  try {
    outcome = await executeStep(rc, scenario, run.phase, run.step);
  } catch (err) {
    if (err instanceof AuditUnavailableError) {
      // Nothing can be recorded: the step stays where it is, and a later tick runs it again.
      deps.logger.warn(
        { case: caseId, run: runId, err: err.message },
        "scenario step waits for the audit log",
      );
      return "settled";
    }
    outcome = { kind: "failed", reason: (err as Error).message };
  }
  if (outcome.kind === "blocked") return "settled";
  if (outcome.kind === "failed") {
    await failRun(rc, stepRef(scenario, run.phase, run.step), outcome.reason, outcome.missingRight);
    return "settled";
  }
  return "again";
}

/**
 * Whether the run's current step waits and nothing has changed for it: its
 * deadline is still ahead (unless a supervisor has answered meanwhile), or
 * its approval is unanswered and has no deadline. Then there is no need to
 * load the scenario at all.
 */
function waiting(deps: EngineDeps, run: RunState): boolean {
  const here = `${run.phase}.${run.step}`;
  const answered = run.approvalStep === here && run.approvalResult !== undefined;
  if (!answered && run.wakeStep === here && run.wakeAt !== undefined && deps.now() < run.wakeAt)
    return true;
  return run.approvalStep === here && !run.approvalResult && run.wakeAt === undefined;
}

/** Ends the current phase and starts the next, once; the last phase ends the run. */
async function nextPhase(rc: RunContext, scenario: Scenario): Promise<void> {
  const { run } = rc;
  const from = scenario.phases[run.phase];
  const to = scenario.phases[run.phase + 1];
  if (!to) {
    await finishRun(rc);
    return;
  }
  const marker = scenarioKeys.done(run.caseId, run.id, `phase:${run.phase}`);
  try {
    await recordForRun(
      rc,
      `${to.id}/start`,
      {
        op: "scenario.phase",
        phase: "info",
        params: { run: run.id, from: from?.id ?? null, to: to.id },
      },
      {
        preconditions: [{ key: marker, exists: false, message: "phase already ended" }],
        writes: [
          ["SET", marker, "1"],
          ...setRun(run.caseId, run.id, { phase: run.phase + 1, step: 0 }),
        ],
      },
    );
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
}
