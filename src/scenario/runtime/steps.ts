import type { ChatMemberAdministrator } from "grammy/types";
import type { z } from "zod";
import { approvalNeeded, runAction } from "../../actions/catalog.ts";
import { actionEnv } from "../../actions/context.ts";
import { type ActionReport, runStep } from "../../actions/run.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { formatDuration, parseDurationMs } from "../../base/duration.ts";
import { escapeHtml } from "../../base/html.ts";
import type { Precondition, RedisWrite } from "../../store/cases.ts";
import {
  PHASE_ACTION_FORMS,
  type PhaseActionForm,
  type PhaseActionKind,
  type PhaseFormContext,
} from "../definition/action-forms.ts";
import { actionOfStep } from "../definition/action-use.ts";
import { phaseStepId, phaseStepKind } from "../definition/names.ts";
import type { OwnPhaseStepKind, PhaseStep, Scenario } from "../definition/schema.ts";
import { interpolate, renderForGroup } from "../definition/templates.ts";
import { DEFAULT_TIMEZONE, untilMs } from "../definition/time.ts";
import { scenarioKeys } from "./keys.ts";
import { membersRestrictedByRun } from "./restricted.ts";
import {
  failureOf,
  notifyOperators,
  type RunContext,
  recordForRun,
  runVars,
  scopeOf,
} from "./run-context.ts";
import { clearRun, type RunState, setRun, stepKey } from "./run-state.ts";

/**
 * One phase step, run durably. Actions run under the idempotency key
 * `scn:<run>:<phase>:<step>`, so a step interrupted by a crash is finished,
 * never repeated; then the step's completion and the move to the next step
 * are one audit entry and one atomic write, recorded once.
 */

export type StepOutcome =
  | { kind: "done" }
  | { kind: "blocked" }
  | { kind: "failed"; reason: string; missingRight?: string };

const DONE: StepOutcome = { kind: "done" };
const BLOCKED: StepOutcome = { kind: "blocked" };

export function stepRef(scenario: Scenario, phase: number, step: number): string {
  const p = scenario.phases[phase];
  const s = p?.steps?.[step];
  return `${p?.id ?? phase}/${s ? phaseStepId(s, step) : step}`;
}

/**
 * What moves a run past one of its steps, once: a marker that refuses a second
 * time, the next step, and the step's timer and approval forgotten. Shared by
 * a step that completed and one an operator skipped.
 */
export function passStep(
  run: RunState,
  ref: string,
  step: number,
  now: number,
): { precondition: Precondition; writes: RedisWrite[] } {
  const marker = scenarioKeys.done(run.caseId, run.id, `step:${ref}`);
  return {
    precondition: { key: marker, exists: false, message: "step already completed" },
    writes: [
      ["SET", marker, String(now)],
      ...setRun(run.caseId, run.id, { step: step + 1 }),
      ...clearRun(run.caseId, run.id, [
        "wakeAt",
        "wakeStep",
        "approvalId",
        "approvalStep",
        "approvalResult",
      ]),
      ["ZREM", scenarioKeys.timers(run.caseId), `run:${run.id}`],
    ],
  };
}

/** Marks a step done and moves the run on: one entry, once. */
export async function completeStep(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  step: number,
  params: Record<string, unknown>,
  writes: RedisWrite[] = [],
): Promise<void> {
  const ref = stepRef(scenario, phase, step);
  const passed = passStep(rc.run, ref, step, rc.deps.now());
  try {
    await recordForRun(
      rc,
      ref,
      { op: "scenario.step", phase: "info", params: { run: rc.run.id, ...params } },
      { preconditions: [passed.precondition], writes: [...passed.writes, ...writes] },
    );
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
}

/** What a phase step's YAML needs from the run to become an action's arguments. */
function formContext(rc: RunContext, scenario: Scenario): PhaseFormContext {
  const vars = runVars(rc);
  return {
    renderForGroup: (template) => renderForGroup(scenario, template, vars),
    fill: (text) => interpolate(text, vars, false),
    async posted(stepId) {
      const raw = await rc.deps.redis.hget(scenarioKeys.posted(rc.run.caseId, rc.run.id), stepId);
      return raw ? Number(raw) : undefined;
    },
    ownTemplate: (name) => scenario.templates?.[name] !== undefined,
    restrictedByRun: () => membersRestrictedByRun(rc.deps.redis, rc.run),
  };
}

/** Whether an action's report means its step is done: every Telegram call of it went through. */
function stepOutcomeOf(report: ActionReport): StepOutcome {
  const failed = report.steps.find((s) => s.status !== "done");
  if (!failed) return DONE;
  return {
    kind: "failed",
    reason: failed.reason ?? report.summary,
    ...(failed.missingRight ? { missingRight: failed.missingRight } : {}),
  };
}

/**
 * A step that runs a catalog action: its YAML becomes the action's
 * arguments, the catalog says whether a supervisor must approve this use
 * (then the run waits for one, as at an `approve:` step), and the action runs
 * under the step's idempotency key.
 */
async function actionStep(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
  name: PhaseActionKind,
  step: PhaseStep,
): Promise<StepOutcome> {
  const id = phaseStepId(step, index);
  const ref = stepRef(scenario, phase, index);
  const key = stepKey(rc.run, scenario.phases[phase]?.id ?? String(phase), id);
  const env = actionEnv(rc.deps);
  const scope = scopeOf(rc, ref, key);
  const form = PHASE_ACTION_FORMS[name] as unknown as PhaseActionForm<typeof name, z.ZodType>;
  const value = (step as Record<string, unknown>)[name];
  const args = await form.args(value, formContext(rc, scenario));
  const why = await approvalNeeded(env, scope, name, args, "in-an-approved-scenario");
  if (why) {
    const gate = await awaitApproval(rc, scenario, phase, index, { reason: why });
    if (gate !== "granted" && gate !== "timed-out") return gate;
    if (gate === "timed-out") return { kind: "failed", reason: "nobody approved in time" };
  }
  const report = await runAction(env, scope, name, args);
  if (report.nothingToDo) {
    // Nothing to do (thawing a chat that is not frozen) is not a failure: the chat is as it should be.
    await completeStep(rc, scenario, phase, index, { kind: name, note: report.summary });
    return DONE;
  }
  const outcome = stepOutcomeOf(report);
  if (outcome.kind !== "done") return outcome;
  const writes: RedisWrite[] =
    report.messageId !== undefined
      ? [["HSET", scenarioKeys.posted(rc.run.caseId, rc.run.id), id, report.messageId]]
      : [];
  await completeStep(
    rc,
    scenario,
    phase,
    index,
    {
      kind: name,
      ...form.record?.(value),
      ...report.detail,
      ...(report.messageId !== undefined ? { message_id: report.messageId } : {}),
    },
    writes,
  );
  return DONE;
}

/** Runs (or resumes) the step the run is at. */
export async function executeStep(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
): Promise<StepOutcome> {
  const p = scenario.phases[phase];
  const step = p?.steps?.[index] as PhaseStep;
  const action = actionOfStep(step);
  if (action) return actionStep(rc, scenario, phase, index, action, step);
  const kind = phaseStepKind(step) as OwnPhaseStepKind;
  const ref = `${p?.id}/${phaseStepId(step, index)}`;
  const key = stepKey(rc.run, p?.id ?? String(phase), phaseStepId(step, index));
  switch (kind) {
    case "wait":
    case "until":
      return timed(rc, scenario, phase, index, step);
    case "approve":
      return approveStep(rc, scenario, phase, index, step);
    case "notify": {
      if (!("notify" in step)) return DONE;
      const report = await notifyOperators(rc, ref, key, interpolate(step.notify, runVars(rc)));
      const reason = failureOf(report);
      if (reason) return { kind: "failed", reason };
      await completeStep(rc, scenario, phase, index, { kind });
      return DONE;
    }
    case "snapshot": {
      const outcome = await snapshot(rc, ref, key);
      if (outcome.kind === "done") await completeStep(rc, scenario, phase, index, { kind });
      return outcome;
    }
    default:
      return kind satisfies never;
  }
}

/** `wait` and `until`: the deadline is written once, with its entry; the tick wakes the run when it has passed. */
async function timed(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
  step: PhaseStep,
): Promise<StepOutcome> {
  const where = `${phase}.${index}`;
  const ref = stepRef(scenario, phase, index);
  let wakeAt = rc.run.wakeStep === where ? rc.run.wakeAt : undefined;
  if (wakeAt === undefined) {
    const now = rc.deps.now();
    wakeAt =
      "wait" in step
        ? now + parseDurationMs(step.wait)
        : "until" in step
          ? untilMs(step.until, now, scenario.timezone ?? DEFAULT_TIMEZONE)
          : now;
    const marker = scenarioKeys.done(rc.run.caseId, rc.run.id, `wait:${ref}`);
    try {
      await recordForRun(
        rc,
        ref,
        {
          op: "scenario.wait",
          phase: "info",
          params: {
            run: rc.run.id,
            until: new Date(wakeAt).toISOString(),
            ...("wait" in step ? { wait: step.wait } : {}),
          },
        },
        {
          preconditions: [{ key: marker, exists: false, message: "wait already started" }],
          writes: [
            ["SET", marker, String(wakeAt)],
            ...setRun(rc.run.caseId, rc.run.id, { wakeAt, wakeStep: where }),
            ["ZADD", scenarioKeys.timers(rc.run.caseId), wakeAt, `run:${rc.run.id}`],
          ],
        },
      );
    } catch (err) {
      if (!(err instanceof RecordRefusedError)) throw err;
      // Started before a restart: the deadline written then stands.
      const stored = await rc.deps.redis.get(marker);
      wakeAt = Number(stored ?? wakeAt);
    }
    rc.run.wakeAt = wakeAt;
    rc.run.wakeStep = where;
  }
  if (rc.deps.now() < wakeAt) return BLOCKED;
  const late = rc.deps.now() - wakeAt;
  await completeStep(rc, scenario, phase, index, {
    kind: "wait" in step ? "wait" : "until",
    woke_at: new Date(rc.deps.now()).toISOString(),
    ...(late >= 60_000 ? { late: formatDuration(late) } : {}),
  });
  return DONE;
}

/** The run's approval request: deterministic per run, step and attempt. */
export function approvalIdOf(runId: string, where: string, attempt: number): string {
  let h = 2166136261;
  for (const c of `${runId}:${where}:${attempt}`)
    h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `${runId.slice(-8)}${h.toString(16).padStart(8, "0")}`;
}

/** An `approve:` step: the run goes on once a supervisor approves (or, if it says so, when nobody did in time). */
async function approveStep(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
  step: PhaseStep,
): Promise<StepOutcome> {
  if (!("approve" in step)) return DONE;
  const spec = typeof step.approve === "string" ? { reason: step.approve } : step.approve;
  const gate = await awaitApproval(rc, scenario, phase, index, spec);
  if (gate === "granted" || (gate === "timed-out" && spec.on_timeout === "continue")) {
    await completeStep(rc, scenario, phase, index, {
      kind: "approve",
      result: gate === "granted" ? "granted" : "expired",
    });
    return DONE;
  }
  return gate === "timed-out" ? { kind: "failed", reason: "nobody approved in time" } : gate;
}

/**
 * A supervisor's approval for the step the run is at: asked once per attempt
 * (the request's id is derived from the run, step and attempt, so a restart
 * asks nothing twice), waited for, and answered through the same gate as
 * every approval (`src/actions/approvals.ts`). "granted" and "timed-out" are
 * for the caller to act on; a rejection is the step's failure.
 */
async function awaitApproval(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
  spec: { reason: string; timeout?: string },
): Promise<"granted" | "timed-out" | StepOutcome> {
  const step = scenario.phases[phase]?.steps?.[index] as PhaseStep;
  const where = `${phase}.${index}`;
  const ref = stepRef(scenario, phase, index);
  const key = stepKey(
    rc.run,
    scenario.phases[phase]?.id ?? String(phase),
    phaseStepId(step, index),
  );
  if (rc.run.approvalStep === where && rc.run.approvalResult) {
    const result = rc.run.approvalResult;
    if (result === "granted") return "granted";
    if (result === "expired") return "timed-out";
    return { kind: "failed", reason: "a supervisor rejected the approval" };
  }
  if (rc.run.approvalStep === where && rc.run.approvalId) {
    // Waiting: an answer or the deadline moves the run on.
    if (rc.run.wakeAt !== undefined && rc.deps.now() >= rc.run.wakeAt) {
      await expireApproval(rc, ref, rc.run.approvalId);
      return awaitApproval(rc, scenario, phase, index, spec);
    }
    return BLOCKED;
  }
  const approvalId = approvalIdOf(rc.run.id, where, rc.run.attempt);
  const expiresAt = spec.timeout ? rc.deps.now() + parseDurationMs(spec.timeout) : undefined;
  const text = [
    `<b>Approval needed</b> for step ${escapeHtml(ref)}: ${escapeHtml(spec.reason)}`,
    escapeHtml(
      `a supervisor other than the one who started the run may approve${spec.timeout ? ` within ${spec.timeout}` : ""}`,
    ),
  ].join("\n");
  const sent = await notifyOperators(rc, ref, `${key}:request`, text, {
    inline_keyboard: [
      [
        { text: "Approve", callback_data: `sa:${rc.run.caseId}:${approvalId}:y` },
        { text: "Reject", callback_data: `sa:${rc.run.caseId}:${approvalId}:n` },
      ],
    ],
  });
  const failure = failureOf(sent);
  if (failure) return { kind: "failed", reason: `could not ask for approval: ${failure}` };
  const marker = scenarioKeys.done(rc.run.caseId, rc.run.id, `approve:${ref}#${rc.run.attempt}`);
  try {
    await recordForRun(
      rc,
      ref,
      {
        op: "approval.request",
        phase: "info",
        params: {
          approval: approvalId,
          run: rc.run.id,
          why: spec.reason,
          ...(expiresAt ? { expires_at: new Date(expiresAt).toISOString() } : {}),
        },
      },
      {
        preconditions: [{ key: marker, exists: false, message: "approval already requested" }],
        writes: [
          ["SET", marker, approvalId],
          [
            "SET",
            scenarioKeys.approval(rc.run.caseId, approvalId),
            JSON.stringify({ runId: rc.run.id, where, requestedBy: rc.run.startedBy.id ?? null }),
          ],
          ...setRun(rc.run.caseId, rc.run.id, {
            approvalId,
            approvalStep: where,
            ...(expiresAt ? { wakeAt: expiresAt, wakeStep: where } : {}),
          }),
          ...(expiresAt
            ? [
                [
                  "ZADD",
                  scenarioKeys.timers(rc.run.caseId),
                  expiresAt,
                  `run:${rc.run.id}`,
                ] as RedisWrite,
              ]
            : []),
        ],
      },
    );
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
  return BLOCKED;
}

async function expireApproval(rc: RunContext, ref: string, approvalId: string): Promise<void> {
  const key = scenarioKeys.approval(rc.run.caseId, approvalId);
  try {
    await recordForRun(
      rc,
      ref,
      { op: "approval.expire", phase: "info", params: { approval: approvalId, run: rc.run.id } },
      {
        preconditions: [{ key, exists: true, message: "already answered" }],
        writes: [["DEL", key], ...setRun(rc.run.caseId, rc.run.id, { approvalResult: "expired" })],
      },
    );
    rc.run.approvalResult = "expired";
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
    const fresh = await rc.deps.redis.hget(
      scenarioKeys.run(rc.run.caseId, rc.run.id),
      "approvalResult",
    );
    if (fresh) rc.run.approvalResult = fresh as "granted" | "rejected" | "expired";
  }
}

/** Admins and member count, read and recorded (once: a repeat returns the stored result). */
async function snapshot(rc: RunContext, ref: string, key: string): Promise<StepOutcome> {
  const env = actionEnv(rc.deps);
  const chatId = rc.chat.chatId;
  const read = await runStep(env, scopeOf(rc, ref, key), {
    op: "scenario.snapshot",
    step: "read",
    params: {},
    perform: async () => {
      const [admins, count] = await Promise.all([
        rc.deps.api.getChatAdministrators(chatId),
        rc.deps.api.getChatMemberCount(chatId),
      ]);
      return { admins, count };
    },
    detail: ({ admins, count }) => ({
      member_count: count,
      admins: admins.map((a) => ({
        id: a.user.id,
        status: a.status,
        ...(a.user.username ? { username: a.user.username } : {}),
        is_bot: a.user.is_bot,
        rights:
          a.status === "creator"
            ? ["owner"]
            : Object.entries(a as ChatMemberAdministrator)
                .filter(([k, v]) => k.startsWith("can_") && v === true)
                .map(([k]) => k),
      })),
    }),
  });
  if (read.status !== "done")
    return { kind: "failed", reason: read.reason ?? "could not read the chat" };
  return DONE;
}
