import type { Actor } from "../../audit/entry.ts";
import type { Precondition, RedisWrite } from "../../store/cases.ts";
import { phaseStepKind } from "../definition/names.ts";
import type { Scenario } from "../definition/schema.ts";
import { advance } from "./advance.ts";
import { scenarioKeys } from "./keys.ts";
import { type EngineDeps, type RunContext, recordForRun, runContext } from "./run-context.ts";
import { endRun } from "./run-end.ts";
import type { RunLocks } from "./run-lock.ts";
import { clearRun, type RunState, readDefinition, readRun, setRun } from "./run-state.ts";
import { describeRun } from "./status.ts";
import { passStep, stepRef } from "./steps.ts";

/**
 * What operators do to the run on a chat: `/scenario pause`, `resume`, `skip`
 * and `abort`. Each is an audit entry in the operator's name, written only if
 * the run is still as the operator saw it; the answer is a line for them.
 */

export type ControlAction = "pause" | "resume" | "skip" | "abort";

export interface ControlRequest {
  caseId: string;
  chatId: number;
  action: ControlAction;
  actor: Actor;
  updateIds?: number[];
}

/** A control on one run: the run as read, where it is, and how to record the operator's word. */
interface Control {
  deps: EngineDeps;
  locks: RunLocks;
  rc: RunContext;
  run: RunState;
  scenario: Scenario;
  /** The step the run is at, as `<phase>/<step>`. */
  ref: string;
  now: number;
  entry(op: string, params?: Record<string, unknown>): Parameters<typeof recordForRun>[2];
  /** Refuses the write when the run has gone meanwhile. */
  unchanged: Precondition;
}

export async function control(
  deps: EngineDeps,
  locks: RunLocks,
  req: ControlRequest,
): Promise<string> {
  const runId = await deps.redis.hget(scenarioKeys.active(req.caseId), String(req.chatId));
  const run = runId ? await readRun(deps.redis, req.caseId, runId) : undefined;
  if (!run) return "no scenario runs there: /scenario start <id> <alias> starts one";
  const rc = await runContext(deps, run);
  const scenario = await readDefinition(deps.redis, run.caseId, run.hash);
  const c: Control = {
    deps,
    locks,
    rc,
    run,
    scenario,
    ref: stepRef(scenario, run.phase, run.step),
    now: deps.now(),
    entry: (op, params = {}) => ({
      op,
      phase: "info",
      actor: req.actor,
      params: { run: run.id, ...params },
      ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
    }),
    unchanged: {
      key: scenarioKeys.run(run.caseId, run.id),
      field: "status",
      exists: true,
      message: "run changed meanwhile; try again",
    },
  };
  switch (req.action) {
    case "pause":
      return pause(c);
    case "resume":
      return resume(c);
    case "skip":
      return skip(c);
    case "abort":
      return abort(c, req.actor);
  }
}

async function pause({ rc, run, ref, now, entry, unchanged }: Control): Promise<string> {
  if (run.status !== "running") return `run ${run.id} is ${run.status}, not running`;
  await recordForRun(rc, ref, entry("scenario.pause"), {
    preconditions: [unchanged],
    writes: setRun(run.caseId, run.id, { status: "paused", pausedAt: now }),
  });
  return `${run.scenario} on ${run.alias} is paused at ${ref}; /scenario resume ${run.alias} goes on`;
}

/** Goes on after a pause, or tries a failed step again (with a fresh idempotency key and approval). */
async function resume(c: Control): Promise<string> {
  const { rc, run, ref, now, entry, unchanged } = c;
  if (run.status !== "paused" && run.status !== "failed")
    return `run ${run.id} is ${run.status}: only a paused or failed run can be resumed`;
  const fields: Partial<RunState> = { status: "running" };
  const writes: RedisWrite[] = [];
  if (run.status === "paused" && run.wakeAt !== undefined && run.pausedAt !== undefined) {
    // The time spent paused does not count against a wait.
    fields.wakeAt = run.wakeAt + (now - run.pausedAt);
    writes.push(["ZADD", scenarioKeys.timers(run.caseId), fields.wakeAt, `run:${run.id}`]);
  }
  const clear: Array<keyof RunState> = ["pausedAt", "reason"];
  if (run.status === "failed") {
    fields.attempt = run.attempt + 1;
    clear.push("approvalId", "approvalStep", "approvalResult");
  }
  await recordForRun(rc, ref, entry("scenario.resume", { retry: run.status === "failed" }), {
    preconditions: [unchanged],
    writes: [
      ...setRun(run.caseId, run.id, fields),
      ...clearRun(run.caseId, run.id, clear),
      ...writes,
    ],
  });
  return (await movedOn(c)) ?? "resumed";
}

/**
 * Goes on past the failed step without it. For a step whose outcome is
 * unknown (the bot stopped while Telegram was asked), retrying could do it
 * twice: the operator checks the chat and goes on without it instead. An
 * approval is never skipped: that would be approving it.
 */
async function skip(c: Control): Promise<string> {
  const { rc, run, scenario, ref, now, entry, unchanged } = c;
  if (run.status !== "failed")
    return `run ${run.id} is ${run.status}: only the failed step of a failed run can be skipped`;
  const step = scenario.phases[run.phase]?.steps?.[run.step];
  if (!step) return `run ${run.id} failed outside a phase step (${ref}): resume or abort it`;
  if (phaseStepKind(step) === "approve")
    return `step ${ref} is a supervisor's approval: it cannot be skipped, only asked again (/scenario resume ${run.alias})`;
  const passed = passStep(run, ref, run.step, now);
  await recordForRun(
    rc,
    ref,
    entry("scenario.skip", { step: ref, ...(run.reason ? { failure: run.reason } : {}) }),
    {
      preconditions: [unchanged, passed.precondition],
      writes: [
        ...passed.writes,
        ...setRun(run.caseId, run.id, { status: "running" }),
        ...clearRun(run.caseId, run.id, ["reason", "pausedAt"]),
      ],
    },
  );
  const after = await movedOn(c);
  return `skipped ${ref}${after ? `\n${after}` : ""}`;
}

async function abort({ rc, run, ref }: Control, actor: Actor): Promise<string> {
  if (run.status === "finished" || run.status === "aborted")
    return `run ${run.id} has already ended`;
  await endRun(rc, "aborted", "scenario.abort", actor, { at: ref });
  return `${run.scenario} on ${run.alias} is aborted at ${ref}; nothing more will happen (conversations under way end at their next step)`;
}

/** Moves the run on after a resume or skip, and describes where it got to. */
async function movedOn({ deps, locks, run }: Control): Promise<string | undefined> {
  await advance(deps, locks, run.caseId, run.id);
  const after = await readRun(deps.redis, run.caseId, run.id);
  return after ? describeRun(deps, after) : undefined;
}
