import type { ChatMemberAdministrator } from "grammy/types";
import { freeze, thaw } from "../../actions/freeze.ts";
import { lockdown } from "../../actions/lockdown.ts";
import { ban, restrict } from "../../actions/members.ts";
import { purge } from "../../actions/purge.ts";
import { release } from "../../actions/release.ts";
import { type ActionReport, runStep } from "../../actions/run.ts";
import { pin, warn } from "../../actions/warn.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { formatDuration, parseDurationMs } from "../../base/duration.ts";
import { userIdByUsername } from "../../collect/queries.ts";
import type { Precondition, RedisWrite } from "../../store/cases.ts";
import { phaseStepId, phaseStepKind } from "../definition/names.ts";
import type { PhaseStep, Scenario } from "../definition/schema.ts";
import { escapeHtml, interpolate, renderForGroup } from "../definition/templates.ts";
import { DEFAULT_TIMEZONE, untilMs } from "../definition/time.ts";
import { scenarioKeys } from "./keys.ts";
import {
  actionEnvOf,
  failureOf,
  missingRightOf,
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

function fromReport(report: ActionReport): StepOutcome {
  const reason = failureOf(report);
  if (!reason) return DONE;
  const missingRight = missingRightOf(report);
  return { kind: "failed", reason, ...(missingRight ? { missingRight } : {}) };
}

async function resolveUsers(rc: RunContext, users: Array<number | string>): Promise<number[]> {
  const ids: number[] = [];
  for (const user of users) {
    if (typeof user === "number") ids.push(user);
    else {
      const id = await userIdByUsername(rc.deps.redis, rc.run.caseId, user);
      if (id === undefined)
        throw new Error(
          `${user} has not been seen in case ${rc.run.caseId}: use their numeric id in the scenario`,
        );
      ids.push(id);
    }
  }
  return ids;
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
  const id = phaseStepId(step, index);
  const kind = phaseStepKind(step);
  const ref = `${p?.id}/${id}`;
  const key = stepKey(rc.run, p?.id ?? String(phase), id);
  const env = actionEnvOf(rc.deps);
  const scope = scopeOf(rc, ref, key);
  const vars = runVars(rc);
  const finish = async (
    outcome: StepOutcome,
    params: Record<string, unknown> = {},
    writes: RedisWrite[] = [],
  ) => {
    if (outcome.kind === "done")
      await completeStep(rc, scenario, phase, index, { kind, ...params }, writes);
    return outcome;
  };

  switch (kind) {
    case "warn":
    case "announce": {
      const args = "warn" in step ? step.warn : "announce" in step ? step.announce : "";
      const template = typeof args === "string" ? args : args.template;
      const pinIt = typeof args === "object" && args.pin === true;
      const html = renderForGroup(scenario, template, vars);
      const report = await warn(env, scope, { text: html, pin: pinIt });
      const sent = report.steps[0];
      const messageId =
        (sent?.value as { message_id?: number } | undefined)?.message_id ??
        (sent?.detail?.message_id as number | undefined);
      const writes: RedisWrite[] =
        messageId !== undefined
          ? [["HSET", scenarioKeys.posted(rc.run.caseId, rc.run.id), id, messageId]]
          : [];
      return finish(fromReport(report), { template, message_id: messageId }, writes);
    }
    case "pin": {
      if (!("pin" in step)) return DONE;
      const raw = await rc.deps.redis.hget(
        scenarioKeys.posted(rc.run.caseId, rc.run.id),
        step.pin.step,
      );
      if (!raw) return { kind: "failed", reason: `step ${step.pin.step} posted no message to pin` };
      return finish(fromReport(await pin(env, scope, Number(raw))), { message_id: Number(raw) });
    }
    case "freeze":
      if (!("freeze" in step)) return DONE;
      return finish(fromReport(await freeze(env, scope, step.freeze)), { mode: step.freeze });
    case "thaw": {
      const report = await thaw(env, scope);
      // Nothing to restore is not a failure of the scenario: the chat is as it should be.
      if (!report.ok && report.steps.length === 0) return finish(DONE, { note: report.summary });
      return finish(fromReport(report));
    }
    case "lockdown": {
      if (!("lockdown" in step)) return DONE;
      const opts = step.lockdown === true ? {} : step.lockdown;
      const report = await lockdown(env, scope, {
        ...(opts.title ? { title: interpolate(opts.title, vars, false) } : {}),
        ...(opts.description ? { description: interpolate(opts.description, vars, false) } : {}),
        ...(opts.photo === false ? { noPhoto: true } : {}),
      });
      return finish(fromReport(report));
    }
    case "restrict":
    case "ban": {
      const spec = "restrict" in step ? step.restrict : "ban" in step ? step.ban : undefined;
      if (!spec) return DONE;
      const until = spec.for
        ? Math.floor((rc.deps.now() + parseDurationMs(spec.for)) / 1000)
        : undefined;
      for (const userId of await resolveUsers(rc, spec.users)) {
        const memberScope = { ...scope, idempotencyKey: `${key}:${userId}` };
        const opts = until === undefined ? {} : { untilDate: until };
        const report =
          kind === "ban"
            ? await ban(env, memberScope, userId, opts)
            : await restrict(env, memberScope, userId, opts);
        const outcome = fromReport(report);
        if (outcome.kind !== "done") return outcome;
      }
      return finish(DONE, { users: spec.users, for: spec.for ?? "forever" });
    }
    case "purge": {
      if (!("purge" in step)) return DONE;
      const selection =
        "last" in step.purge
          ? { last: step.purge.last }
          : { senderId: (await resolveUsers(rc, [step.purge.from]))[0] as number };
      const report = await purge(env, scope, selection);
      // Messages older than 48 hours or never seen are reported, not a failure of the step.
      const failed = report.steps.find((s) => s.status !== "done");
      if (failed) return { kind: "failed", reason: failed.reason ?? "deletion failed" };
      return finish(DONE, {
        deleted: report.deleted.length,
        captured: report.captured.length,
        too_old: report.tooOld.length,
      });
    }
    case "release":
      return finish(fromReport(await release(env, scope)));
    case "wait":
    case "until":
      return timed(rc, scenario, phase, index, step);
    case "approve":
      return approveStep(rc, scenario, phase, index, step);
    case "notify": {
      if (!("notify" in step)) return DONE;
      const report = await notifyOperators(rc, ref, key, interpolate(step.notify, vars));
      const reason = failureOf(report);
      return finish(reason ? { kind: "failed", reason } : DONE);
    }
    case "snapshot":
      return finish(await snapshot(rc, ref, key));
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

async function approveStep(
  rc: RunContext,
  scenario: Scenario,
  phase: number,
  index: number,
  step: PhaseStep,
): Promise<StepOutcome> {
  if (!("approve" in step)) return DONE;
  const spec = typeof step.approve === "string" ? { reason: step.approve } : step.approve;
  const where = `${phase}.${index}`;
  const ref = stepRef(scenario, phase, index);
  const key = stepKey(
    rc.run,
    scenario.phases[phase]?.id ?? String(phase),
    phaseStepId(step, index),
  );
  if (rc.run.approvalStep === where && rc.run.approvalResult) {
    const result = rc.run.approvalResult;
    if (result === "granted") {
      await completeStep(rc, scenario, phase, index, { kind: "approve", result });
      return DONE;
    }
    if (result === "expired" && spec.on_timeout === "continue") {
      await completeStep(rc, scenario, phase, index, { kind: "approve", result });
      return DONE;
    }
    return {
      kind: "failed",
      reason:
        result === "rejected" ? "a supervisor rejected the approval" : "nobody approved in time",
    };
  }
  if (rc.run.approvalStep === where && rc.run.approvalId) {
    // Waiting: an answer or the deadline moves the run on.
    if (rc.run.wakeAt !== undefined && rc.deps.now() >= rc.run.wakeAt) {
      await expireApproval(rc, ref, rc.run.approvalId);
      return approveStep(rc, scenario, phase, index, step);
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
  const env = actionEnvOf(rc.deps);
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
