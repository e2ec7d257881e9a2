import { advance } from "./advance.ts";
import { type ApprovalAnswer, type ApprovalAnswered, answerApproval } from "./approval-answer.ts";
import { type ControlRequest, control } from "./controls.ts";
import type { ConversationStart, ScenarioEvent } from "./events.ts";
import type { EngineDeps } from "./run-context.ts";
import { createRunLocks } from "./run-lock.ts";
import type { RunState } from "./run-state.ts";
import { type StartRequest, type StartResult, startRun } from "./start.ts";
import { describeRun, listRuns } from "./status.ts";
import { nextTimer, serialTicks, tickOnce } from "./tick.ts";
import { createQueueWorkers, drainQueue } from "./trigger-queue.ts";
import { handleEvent } from "./triggers.ts";

export type { ApprovalAnswer, ApprovalAnswered } from "./approval-answer.ts";
export type { ControlAction, ControlRequest } from "./controls.ts";
export type { StartRequest, StartResult } from "./start.ts";

/**
 * The scenario engine: starts runs, moves them through their phases and
 * steps, and answers members through triggers. It keeps no state of its own
 * beyond a lock per run and a worker per run's trigger queue: everything is
 * in Redis, so a restarted bot picks up every run where its audit log left
 * it, and timers that came due while it was down fire late rather than never.
 *
 * Time comes from `deps.now` (the simulator's clock in a rehearsal), and
 * nothing happens on a timer by itself: `tick()` moves due runs on. Live, the
 * bot calls it every second; rehearsals and tests call it after moving the
 * simulated clock.
 *
 * The work is done by free functions over `deps`, one concept to a file:
 * start.ts, advance.ts (phases and steps), run-end.ts, tick.ts (and timers),
 * trigger-queue.ts, controls.ts (pause, resume, skip, abort),
 * approval-answer.ts, status.ts, run-lock.ts. This file only wires them to
 * one process's locks and workers.
 */
export interface ScenarioEngine {
  readonly deps: EngineDeps;
  start(req: StartRequest): Promise<StartResult>;
  control(req: ControlRequest): Promise<string>;
  /** The runs of a case, newest first (active ones, then the last finished). */
  runs(caseId: string, limit?: number): Promise<RunState[]>;
  describe(run: RunState): Promise<string>;
  /** Moves every due run on and fires due timers. Safe to call at any time, from anywhere. */
  tick(): Promise<void>;
  handleEvent(event: ScenarioEvent): Promise<ConversationStart[]>;
  /** Records a supervisor's answer; the caller then moves the run on with `advance`. */
  answerApproval(answer: ApprovalAnswer): Promise<ApprovalAnswered>;
  /** Moves one run on as far as it can go now. */
  advance(caseId: string, runId: string): Promise<void>;
  /** Runs whose queued trigger actions are being worked through right now (rehearsals wait for 0). */
  busy(): number;
  /** The soonest timer of a case's runs (ms), for rehearsals that jump the clock. */
  nextTimer(caseId: string): Promise<number | undefined>;
}

export function createScenarioEngine(deps: EngineDeps): ScenarioEngine {
  // This process's share of the engine; two engines (two bots in one process) share nothing.
  const locks = createRunLocks();
  const workers = createQueueWorkers();
  return {
    deps,
    start: (req) => startRun(deps, locks, req),
    control: (req) => control(deps, locks, req),
    runs: (caseId, limit) => listRuns(deps, caseId, limit),
    describe: (run) => describeRun(deps, run),
    tick: serialTicks(() => tickOnce(deps, locks, workers)),
    async handleEvent(event) {
      const { starts, queued } = await handleEvent(deps, event);
      // Queued firings run off the update's path: the update is not held up by their replies.
      for (const q of queued) void drainQueue(deps, workers, q.caseId, q.runId);
      return starts;
    },
    answerApproval: (answer) => answerApproval(deps, answer),
    advance: (caseId, runId) => advance(deps, locks, caseId, runId),
    busy: () => workers.size,
    nextTimer: (caseId) => nextTimer(deps, caseId),
  };
}
