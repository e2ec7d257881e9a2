import { createHash } from "node:crypto";
import type { ChatMemberAdministrator } from "grammy/types";
import type { Actor } from "../../audit/entry.ts";
import { AuditUnavailableError, RecordRefusedError } from "../../audit/record.ts";
import { formatDuration } from "../../base/duration.ts";
import { escapeHtml } from "../../base/html.ts";
import type { CaseRecord, SeizedChat } from "../../store/cases.ts";
import type { LoadedScenario } from "../definition/load.ts";
import { phaseStepKind } from "../definition/names.ts";
import type { Scenario } from "../definition/schema.ts";
import type { ConversationStart, ScenarioEvent } from "./events.ts";
import { fireGhost } from "./ghost.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import {
  type EngineDeps,
  notifyOperators,
  type RunContext,
  recordForRun,
  runContext,
  scenarioActor,
} from "./run-context.ts";
import { clearRun, type RunState, readDefinition, readRun, setRun } from "./run-state.ts";
import { executeStep, passStep, stepRef } from "./steps.ts";
import { handleEvent, runQueued } from "./triggers.ts";

/**
 * The scenario engine: starts runs, moves them through their phases and
 * steps, and answers members through triggers. It keeps no state of its own
 * beyond a lock per run: everything is in Redis, so a restarted bot picks up
 * every run where its audit log left it, and timers that came due while it
 * was down fire late rather than never.
 *
 * Time comes from `deps.now` (the simulator's clock in a rehearsal), and
 * nothing happens on a timer by itself: `tick()` moves due runs on. Live, the
 * bot calls it every second; rehearsals and tests call it after moving the
 * simulated clock.
 */

export interface StartRequest {
  record: CaseRecord;
  chat: SeizedChat;
  scenarioId: string;
  actor: Actor;
  /** The command's idempotency key: a redelivered or approved command starts one run. */
  requestKey: string;
  updateIds?: number[];
}

export interface ApprovalAnswer {
  caseId: string;
  approvalId: string;
  granted: boolean;
  approver: { userId: number; name: string; actor: Actor };
  updateId: number;
}

export interface ScenarioEngine {
  readonly deps: EngineDeps;
  start(req: StartRequest): Promise<{ ok: boolean; text: string; runId?: string }>;
  control(req: {
    caseId: string;
    chatId: number;
    action: "pause" | "resume" | "skip" | "abort";
    actor: Actor;
    updateIds?: number[];
  }): Promise<string>;
  /** The runs of a case, newest first (active ones, then the last finished). */
  runs(caseId: string, limit?: number): Promise<RunState[]>;
  describe(run: RunState): Promise<string>;
  /** Moves every due run on and fires due timers. Safe to call at any time, from anywhere. */
  tick(): Promise<void>;
  handleEvent(event: ScenarioEvent): Promise<ConversationStart[]>;
  /** Records a supervisor's answer; the caller then moves the run on with `advance`. */
  answerApproval(answer: ApprovalAnswer): Promise<{ text: string; edit?: string; runId?: string }>;
  /** Moves one run on as far as it can go now. */
  advance(caseId: string, runId: string): Promise<void>;
  /** Runs whose queued trigger actions are being worked through right now (rehearsals wait for 0). */
  busy(): number;
  /** The soonest timer of a case's runs (ms), for rehearsals that jump the clock. */
  nextTimer(caseId: string): Promise<number | undefined>;
}

export function createScenarioEngine(deps: EngineDeps): ScenarioEngine {
  const locks = new Map<string, Promise<void>>();
  const draining = new Map<string, Promise<void>>();

  /**
   * Works through a run's queue of trigger firings, one at a time and in
   * order, removing each only once its actions ran (they are idempotent, so
   * one interrupted by a crash is simply run again). One worker per run.
   */
  function drain(caseId: string, runId: string): Promise<void> {
    const running = draining.get(runId);
    if (running) return running.then(() => drain(caseId, runId));
    const key = scenarioKeys.queue(caseId, runId);
    const work = (async () => {
      for (;;) {
        const head = await deps.redis.lindex(key, 0);
        if (head === null) return;
        try {
          await runQueued(deps, caseId, head);
        } catch (err) {
          if (err instanceof AuditUnavailableError) throw err; // left queued; the next tick tries again
          deps.logger.error(
            { case: caseId, run: runId, err: (err as Error).message },
            "a queued trigger firing failed",
          );
        }
        await deps.redis.lpop(key);
      }
    })();
    const settled = work
      .catch((err: Error) =>
        deps.logger.warn({ case: caseId, run: runId, err: err.message }, "trigger queue paused"),
      )
      .finally(() => {
        if (draining.get(runId) === settled) draining.delete(runId);
      });
    draining.set(runId, settled);
    return settled;
  }

  /** One advance per run at a time in this process; callers wait for the one in progress, then run. */
  function locked(runId: string, body: () => Promise<void>): Promise<void> {
    const previous = locks.get(runId) ?? Promise.resolve();
    const next = previous.then(body, body);
    const settled = next.catch(() => undefined);
    locks.set(runId, settled);
    void settled.then(() => {
      if (locks.get(runId) === settled) locks.delete(runId);
    });
    return next;
  }

  async function advance(caseId: string, runId: string): Promise<void> {
    return locked(runId, async () => {
      for (let guard = 0; guard < 1000; guard++) {
        const run = await readRun(deps.redis, caseId, runId);
        if (run?.status !== "running") return;
        const here = `${run.phase}.${run.step}`;
        const answered = run.approvalStep === here && run.approvalResult !== undefined;
        if (
          !answered &&
          run.wakeStep === here &&
          run.wakeAt !== undefined &&
          deps.now() < run.wakeAt
        )
          return;
        if (run.approvalStep === here && !run.approvalResult && run.wakeAt === undefined) return;
        const scenario = await readDefinition(deps.redis, caseId, run.hash);
        const rc = await runContext(deps, run);
        const phase = scenario.phases[run.phase];
        if (!phase) {
          await finish(rc);
          return;
        }
        if (run.step >= (phase.steps ?? []).length) {
          await nextPhase(rc, scenario);
          continue;
        }
        let outcome: Awaited<ReturnType<typeof executeStep>>;
        try {
          outcome = await executeStep(rc, scenario, run.phase, run.step);
        } catch (err) {
          if (err instanceof AuditUnavailableError) {
            deps.logger.warn(
              { case: caseId, run: runId, err: err.message },
              "scenario step waits for the audit log",
            );
            return;
          }
          outcome = { kind: "failed", reason: (err as Error).message };
        }
        if (outcome.kind === "blocked") return;
        if (outcome.kind === "failed") {
          await fail(
            rc,
            stepRef(scenario, run.phase, run.step),
            outcome.reason,
            outcome.missingRight,
          );
          return;
        }
      }
      deps.logger.error({ case: caseId, run: runId }, "scenario did not settle after 1000 steps");
    });
  }

  async function nextPhase(rc: RunContext, scenario: Scenario): Promise<void> {
    const { run } = rc;
    const from = scenario.phases[run.phase];
    const to = scenario.phases[run.phase + 1];
    if (!to) {
      await finish(rc);
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

  async function endRun(
    rc: RunContext,
    status: "finished" | "aborted",
    op: string,
    actor: Actor,
    extra: Record<string, unknown> = {},
  ) {
    const { run } = rc;
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
    if ((await deps.redis.hlen(scenarioKeys.active(run.caseId))) === 0)
      await deps.redis.srem(globalScenarioKeys.cases(), run.caseId);
  }

  async function finish(rc: RunContext): Promise<void> {
    await endRun(rc, "finished", "scenario.finish", scenarioActor(rc.run));
  }

  async function fail(
    rc: RunContext,
    ref: string,
    reason: string,
    missingRight?: string,
  ): Promise<void> {
    const { run } = rc;
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

  async function start(req: StartRequest): Promise<{ ok: boolean; text: string; runId?: string }> {
    let loaded: LoadedScenario;
    try {
      loaded = await deps.library.get(req.scenarioId);
    } catch (err) {
      return { ok: false, text: (err as Error).message };
    }
    const { scenario, hash } = loaded;
    const caseId = req.record.id;
    const existing = await deps.redis.hget(scenarioKeys.active(caseId), String(req.chat.chatId));
    const runId = `${req.chat.alias}-${createHash("sha256").update(`${caseId}|${req.requestKey}`).digest("hex").slice(0, 8)}`;
    if (existing === runId) {
      const run = await readRun(deps.redis, caseId, runId);
      return { ok: true, runId, text: run ? await describe(run) : `run ${runId} started earlier` };
    }
    if (existing) {
      const other = await readRun(deps.redis, caseId, existing);
      return {
        ok: false,
        text: `${req.chat.alias} already runs ${other?.scenario ?? "a scenario"} (run ${existing}, ${other?.status ?? "unknown"}): /scenario abort ${req.chat.alias} first`,
      };
    }
    // The bot must hold every right the scenario declares, or it would fail halfway.
    const botId = deps.botId() ?? (await deps.api.getMe()).id;
    let title: string | undefined;
    let missing: string[];
    try {
      const [member, chat] = await Promise.all([
        deps.api.getChatMember(req.chat.chatId, botId),
        deps.api.getChat(req.chat.chatId),
      ]);
      title = "title" in chat ? chat.title : undefined;
      const rights =
        member.status === "administrator" ? (member as ChatMemberAdministrator) : undefined;
      missing =
        member.status === "creator"
          ? []
          : scenario.rights.filter(
              (r) => (rights as Record<string, unknown> | undefined)?.[r] !== true,
            );
    } catch (err) {
      return {
        ok: false,
        text: `could not read the bot's rights in ${req.chat.alias}: ${(err as Error).message}`,
      };
    }
    const scenarioRef = { id: scenario.id, hash, step: "start" };
    if (missing.length > 0) {
      await deps.audit.record({
        case: caseId,
        actor: req.actor,
        op: "scenario.start",
        phase: "refused",
        target: { chat_id: req.chat.chatId, alias: req.chat.alias },
        params: { reason: "missing admin rights", missing },
        scenario: scenarioRef,
        ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
      });
      return {
        ok: false,
        text: `${scenario.id} was not started: the bot lacks ${missing.join(", ")} in ${req.chat.alias}; ask the owner account to grant ${missing.length === 1 ? "it" : "them"}, then start again`,
      };
    }
    const now = deps.now();
    const run: RunState = {
      id: runId,
      caseId,
      scenario: scenario.id,
      hash,
      title: scenario.title,
      chatId: req.chat.chatId,
      alias: req.chat.alias,
      ...(title ? { groupTitle: title } : {}),
      status: "running",
      phase: 0,
      step: 0,
      attempt: 0,
      startedAt: now,
      startedBy: req.actor,
    };
    try {
      await deps.audit.record(
        {
          case: caseId,
          actor: req.actor,
          op: "scenario.start",
          phase: "info",
          target: { chat_id: req.chat.chatId, alias: req.chat.alias },
          params: {
            run: runId,
            title: scenario.title,
            version: scenario.version,
            phases: scenario.phases.map((p) => p.id),
          },
          scenario: scenarioRef,
          ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
        },
        {
          preconditions: [
            {
              key: scenarioKeys.run(caseId, runId),
              exists: false,
              message: "this run was started already",
            },
            {
              key: scenarioKeys.active(caseId),
              field: String(req.chat.chatId),
              exists: false,
              message: `${req.chat.alias} already runs a scenario: /scenario abort ${req.chat.alias} first`,
            },
          ],
          writes: [
            ["SET", scenarioKeys.definition(caseId, hash), JSON.stringify(scenario)],
            ...setRun(caseId, runId, run),
            ["HSET", scenarioKeys.active(caseId), String(req.chat.chatId), runId],
            ["ZADD", scenarioKeys.runs(caseId), now, runId],
            ["SADD", globalScenarioKeys.cases(), caseId],
          ],
        },
      );
    } catch (err) {
      if (err instanceof RecordRefusedError) return { ok: false, text: err.message };
      throw err;
    }
    await advance(caseId, runId);
    const after = await readRun(deps.redis, caseId, runId);
    return {
      ok: after?.status !== "failed",
      runId,
      text: `started ${scenario.id} v${scenario.version} (${hash.slice(0, 12)}) on ${req.chat.alias} as run ${runId}\n${after ? await describe(after) : ""}`,
    };
  }

  async function control(req: Parameters<ScenarioEngine["control"]>[0]): Promise<string> {
    const runId = await deps.redis.hget(scenarioKeys.active(req.caseId), String(req.chatId));
    const run = runId ? await readRun(deps.redis, req.caseId, runId) : undefined;
    if (!run) return "no scenario runs there: /scenario start <id> <alias> starts one";
    const rc = await runContext(deps, run);
    const scenario = await readDefinition(deps.redis, run.caseId, run.hash);
    const ref = stepRef(scenario, run.phase, run.step);
    const now = deps.now();
    const entry = (op: string, params: Record<string, unknown> = {}) => ({
      op,
      phase: "info" as const,
      actor: req.actor,
      params: { run: run.id, ...params },
      ...(req.updateIds?.length ? { update_ids: req.updateIds } : {}),
    });
    const from = {
      key: scenarioKeys.run(run.caseId, run.id),
      field: "status",
      exists: true,
      message: "run changed meanwhile; try again",
    };
    switch (req.action) {
      case "pause": {
        if (run.status !== "running") return `run ${run.id} is ${run.status}, not running`;
        await recordForRun(rc, ref, entry("scenario.pause"), {
          preconditions: [from],
          writes: setRun(run.caseId, run.id, { status: "paused", pausedAt: now }),
        });
        return `${run.scenario} on ${run.alias} is paused at ${ref}; /scenario resume ${run.alias} goes on`;
      }
      case "resume": {
        if (run.status !== "paused" && run.status !== "failed")
          return `run ${run.id} is ${run.status}: only a paused or failed run can be resumed`;
        const fields: Partial<RunState> = { status: "running" };
        const writes = [];
        if (run.status === "paused" && run.wakeAt !== undefined && run.pausedAt !== undefined) {
          // The time spent paused does not count against a wait.
          fields.wakeAt = run.wakeAt + (now - run.pausedAt);
          writes.push([
            "ZADD",
            scenarioKeys.timers(run.caseId),
            fields.wakeAt,
            `run:${run.id}`,
          ] as const);
        }
        const clear: Array<keyof RunState> = ["pausedAt", "reason"];
        if (run.status === "failed") {
          fields.attempt = run.attempt + 1;
          clear.push("approvalId", "approvalStep", "approvalResult");
        }
        await recordForRun(rc, ref, entry("scenario.resume", { retry: run.status === "failed" }), {
          preconditions: [from],
          writes: [
            ...setRun(run.caseId, run.id, fields),
            ...clearRun(run.caseId, run.id, clear),
            ...writes,
          ],
        });
        await advance(run.caseId, run.id);
        const after = await readRun(deps.redis, run.caseId, run.id);
        return after ? await describe(after) : "resumed";
      }
      case "skip": {
        // For a step whose outcome is unknown (the bot stopped while Telegram was asked), retrying
        // could do it twice: the operator checks the chat and goes on without it instead.
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
            preconditions: [from, passed.precondition],
            writes: [
              ...passed.writes,
              ...setRun(run.caseId, run.id, { status: "running" }),
              ...clearRun(run.caseId, run.id, ["reason", "pausedAt"]),
            ],
          },
        );
        await advance(run.caseId, run.id);
        const after = await readRun(deps.redis, run.caseId, run.id);
        return `skipped ${ref}${after ? `\n${await describe(after)}` : ""}`;
      }
      case "abort": {
        if (run.status === "finished" || run.status === "aborted")
          return `run ${run.id} has already ended`;
        await endRun(rc, "aborted", "scenario.abort", req.actor, { at: ref });
        return `${run.scenario} on ${run.alias} is aborted at ${ref}; nothing more will happen (conversations under way end at their next step)`;
      }
    }
  }

  async function runs(caseId: string, limit = 10): Promise<RunState[]> {
    const active = new Set(Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId))));
    const recent = await deps.redis.zrevrange(scenarioKeys.runs(caseId), 0, limit - 1);
    const ids = [...active, ...recent.filter((id) => !active.has(id))].slice(
      0,
      Math.max(limit, active.size),
    );
    const out: RunState[] = [];
    for (const id of ids) {
      const run = await readRun(deps.redis, caseId, id);
      if (run) out.push(run);
    }
    return out;
  }

  async function describe(run: RunState): Promise<string> {
    const scenario = await readDefinition(deps.redis, run.caseId, run.hash);
    const phase = scenario.phases[run.phase];
    const ref = stepRef(scenario, run.phase, run.step);
    const now = deps.now();
    let state: string = run.status;
    if (run.status === "running") {
      if (run.approvalId && !run.approvalResult)
        state = `waiting for a supervisor's approval at ${ref}`;
      else if (run.wakeAt !== undefined && run.wakeAt > now)
        state = `at ${ref}, waiting until ${new Date(run.wakeAt).toISOString().slice(0, 16)}Z (in ${formatDuration(run.wakeAt - now)})`;
      else state = `running at ${ref}`;
    } else if (run.status === "paused") state = `paused at ${ref}`;
    else if (run.status === "failed")
      state = `failed at ${ref}: ${run.reason ?? "see the audit log"}`;
    return [
      `${run.alias}: ${run.scenario} v${scenario.version} (${run.hash.slice(0, 12)}), run ${run.id}`,
      `  ${state}`,
      phase && run.status !== "finished" && run.status !== "aborted"
        ? `  phase ${run.phase + 1}/${scenario.phases.length} ${phase.id}${(phase.triggers ?? []).length ? `, triggers: ${(phase.triggers ?? []).map((t) => t.id ?? t.on).join(", ")}` : ""}`
        : undefined,
      `  started ${new Date(run.startedAt).toISOString().slice(0, 16)}Z by ${run.startedBy.name ?? run.startedBy.kind}`,
    ]
      .filter(Boolean)
      .join("\n");
  }

  let ticking: Promise<void> | undefined;
  async function tickOnce(): Promise<void> {
    const now = deps.now();
    for (const caseId of await deps.redis.smembers(globalScenarioKeys.cases())) {
      for (const runId of Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId)))) {
        try {
          if ((await deps.redis.llen(scenarioKeys.queue(caseId, runId))) > 0)
            await drain(caseId, runId);
          await advance(caseId, runId);
        } catch (err) {
          deps.logger.error(
            { case: caseId, run: runId, err: (err as Error).message },
            "could not move a scenario on",
          );
        }
      }
      const due = await deps.redis.zrangebyscore(
        scenarioKeys.timers(caseId),
        "-inf",
        now,
        "LIMIT",
        0,
        500,
      );
      for (const timer of due) {
        try {
          if (timer.startsWith("ghost:")) await fireGhost(deps, caseId, timer);
          else if (timer.startsWith("convo:")) {
            const [, chat, user, ask] = timer.split(":");
            if (deps.deliver && ask) {
              await deps.deliver({
                update_id: -1,
                warden_scenario: {
                  kind: "timeout",
                  chat_id: Number(chat),
                  user_id: Number(user),
                  ask,
                },
              });
              await deps.redis.zrem(scenarioKeys.timers(caseId), timer);
            }
          } else if (timer.startsWith("run:")) {
            // Handled by advance above; a timer whose run ended is dropped.
            const run = await readRun(deps.redis, caseId, timer.slice(4));
            if (!run || run.status === "finished" || run.status === "aborted")
              await deps.redis.zrem(scenarioKeys.timers(caseId), timer);
          }
        } catch (err) {
          deps.logger.error(
            { case: caseId, timer, err: (err as Error).message },
            "a scenario timer failed; it will be tried again",
          );
        }
      }
    }
  }

  return {
    deps,
    start,
    control,
    runs,
    describe,
    tick() {
      // Overlapping calls share one pass, then run one more so nothing due at the call is missed.
      const run = (ticking ?? Promise.resolve()).then(tickOnce, tickOnce);
      ticking = run.catch(() => undefined);
      return run;
    },
    async handleEvent(event) {
      const { starts, queued } = await handleEvent(deps, event);
      for (const q of queued) void drain(q.caseId, q.runId);
      return starts;
    },
    busy: () => draining.size,
    advance,
    async answerApproval(answer) {
      const key = scenarioKeys.approval(answer.caseId, answer.approvalId);
      const raw = await deps.redis.get(key);
      if (!raw) return { text: "this request was already answered or has expired" };
      const pending = JSON.parse(raw) as {
        runId: string;
        where: string;
        requestedBy: number | null;
      };
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
      return {
        runId: run.id,
        text: answer.granted ? "Approved" : "Rejected",
        edit: `${answer.granted ? "Approved" : "Rejected"} by ${answer.approver.name}: ${run.scenario} on ${run.alias}, step ${ref}${answer.granted ? " goes on" : " stops (/scenario resume asks again)"}`,
      };
    },
    async nextTimer(caseId) {
      const first = await deps.redis.zrange(scenarioKeys.timers(caseId), 0, 0, "WITHSCORES");
      return first[1] === undefined ? undefined : Number(first[1]);
    },
  };
}
