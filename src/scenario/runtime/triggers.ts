import type { z } from "zod";
import { requestApproval } from "../../actions/approvals.ts";
import { approvalNeeded, runAction } from "../../actions/catalog.ts";
import { actionEnv } from "../../actions/context.ts";
import { ALREADY_GONE } from "../../actions/reasons.ts";
import type { ScenarioRef } from "../../audit/entry.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import { collectKeys } from "../../collect/keys.ts";
import { caseOfChat } from "../../store/cases.ts";
import { keys } from "../../store/keys.ts";
import {
  TRIGGER_ACTION_FORMS,
  type TriggerActionForm,
  type TriggerActionFormKind,
  type TriggerFormContext,
} from "../definition/action-forms.ts";
import { actionKind, triggerId } from "../definition/names.ts";
import { compileSafeRegex, type SafeRegex } from "../definition/safe-regex.ts";
import type { Scenario, Trigger, TriggerAction } from "../definition/schema.ts";
import {
  interpolate,
  languageFor,
  renderForGroup,
  renderTemplate,
  type Vars,
} from "../definition/templates.ts";
import { type ConversationStart, type Member, memberName, type ScenarioEvent } from "./events.ts";
import { trackGhost } from "./ghost.ts";
import { globalScenarioKeys, scenarioKeys } from "./keys.ts";
import { type LimitCheck, offenceNumber, withinLimits } from "./limits.ts";
import {
  type EngineDeps,
  failureOf,
  notifyOperators,
  type RunContext,
  recordForRun,
  runContext,
  runVars,
  scopeOf,
} from "./run-context.ts";
import { readDefinition, readRun } from "./run-state.ts";

/**
 * Triggers: what members do, answered while a phase runs. A matching event
 * is checked against the trigger's limits, recorded (`scenario.trigger`, with
 * why it matched), then its actions run in order, each under the key
 * `scn:<run>:<phase>:<trigger>:<update>:<n>`, so a redelivered update does
 * nothing twice. People who hold a role in the case never set off a trigger.
 */

/** What a trigger fired on, for its actions. */
export interface Firing {
  rc: RunContext;
  scenario: Scenario;
  phaseId: string;
  trigger: string;
  /** Unique per firing: the update id, or `ghost-<offer>` for a ghost-ad timer. */
  occasion: string;
  chatId: number;
  member: Member;
  messageId?: number;
  text?: string;
  private: boolean;
  updateIds: number[];
  /** When the member did it (ms). */
  at?: number;
}

const regexCache = new Map<string, SafeRegex>();

function regexFor(pattern: string): SafeRegex {
  let re = regexCache.get(pattern);
  if (!re) {
    re = compileSafeRegex(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

function normalise(text: string): string {
  return ` ${text.toLowerCase().normalize("NFKC").replace(/\s+/g, " ")} `;
}

/** Whether a trigger's condition holds for an event (limits aside). */
export function matches(trigger: Trigger, event: ScenarioEvent): boolean {
  switch (trigger.on) {
    case "trade_offer":
      return (
        event.kind === "message" &&
        event.message?.offer !== undefined &&
        (trigger.min_score === undefined || event.message.offer.score >= trigger.min_score)
      );
    case "message": {
      if (event.kind !== "message" || !event.message?.text) return false;
      const text = event.message.text;
      if (trigger.keywords) {
        const hay = normalise(text);
        if (trigger.keywords.some((k) => hay.includes(normalise(k).slice(0, -1)))) return true;
      }
      return trigger.regex !== undefined && regexFor(trigger.regex).test(text);
    }
    case "join":
    case "leave":
    case "join_request":
    case "private_message":
      return event.kind === trigger.on;
    case "ghost_ad":
      return false;
  }
}

/** The runs an event concerns: the run of its group, or for a private message the member's case's. */
async function runsFor(
  deps: EngineDeps,
  event: ScenarioEvent,
): Promise<Array<{ caseId: string; runId: string }>> {
  if (event.kind !== "private_message") {
    const caseId = event.caseId ?? (await caseOfChat(deps.redis, event.chatId));
    if (!caseId) return [];
    const runId = await deps.redis.hget(scenarioKeys.active(caseId), String(event.chatId));
    return runId ? [{ caseId, runId }] : [];
  }
  const caseIds = await deps.redis.smembers(globalScenarioKeys.cases());
  const seen: Array<{ caseId: string; runId: string }> = [];
  const other: Array<{ caseId: string; runId: string }> = [];
  for (const caseId of caseIds.sort()) {
    const runIds = Object.values(await deps.redis.hgetall(scenarioKeys.active(caseId)));
    const known = await deps.redis.exists(collectKeys.member(caseId, event.member.id));
    for (const runId of runIds.sort()) (known ? seen : other).push({ caseId, runId });
  }
  // A member seen in a seized group is answered by that group's run; someone unseen by any run that listens.
  return [...seen, ...other];
}

/** A firing as kept in its run's queue until its actions have run. */
export interface QueuedFiring {
  phase: number;
  trigger: number;
  occasion: string;
  chatId: number;
  member: Member;
  messageId?: number;
  text?: string;
  private: boolean;
  updateIds: number[];
  at?: number;
}

/** Whether a trigger can start a conversation (directly or through a ladder): then it must act in the update's own context. */
function startsConversation(scenario: Scenario, trigger: Trigger): boolean {
  const direct = (actions: TriggerAction[]) => actions.some((a) => "start" in a);
  return trigger.do.some(
    (a) =>
      "start" in a ||
      ("ladder" in a && (scenario.ladders?.[a.ladder]?.rungs ?? []).some((rung) => direct(rung))),
  );
}

export interface HandledEvent {
  /** Conversations to start in the update's context. */
  starts: ConversationStart[];
  /** Runs whose queue got a firing: their actions run off the update's path. */
  queued: Array<{ caseId: string; runId: string }>;
}

/**
 * Handles one event for every run it concerns. A trigger's firing is
 * recorded at once (with why it matched) and, unless it starts a
 * conversation, queued in its run's Redis list in the same atomic step: its
 * actions (replies, notifications, restrictions) then run in order off the
 * update's path, so a reply waiting for Telegram's flood limits does not hold
 * up the group's other updates, and a crash loses nothing queued.
 */
export async function handleEvent(deps: EngineDeps, event: ScenarioEvent): Promise<HandledEvent> {
  const starts: ConversationStart[] = [];
  const queued: HandledEvent["queued"] = [];
  for (const { caseId, runId } of await runsFor(deps, event)) {
    const run = await readRun(deps.redis, caseId, runId);
    if (run?.status !== "running") continue;
    const scenario = await readDefinition(deps.redis, caseId, run.hash);
    const phase = scenario.phases[run.phase];
    if (!phase) continue;
    const triggers = phase.triggers ?? [];
    if (triggers.length === 0) continue;
    if (event.member.id === deps.botId()) continue;
    if (await deps.redis.hexists(keys.caseRoles(caseId), String(event.member.id))) continue;
    const rc = await runContext(deps, run);
    if (event.kind === "message" && triggers.some((t) => t.on === "ghost_ad")) {
      await trackGhost(rc, scenario, run.phase, event);
    }
    for (const [index, trigger] of triggers.entries()) {
      if (!matches(trigger, event)) continue;
      const id = triggerId(trigger, index);
      const limits: LimitCheck[] = [];
      if (trigger.limit)
        limits.push({
          key: scenarioKeys.limit(caseId, runId, `${phase.id}:${id}`, `m${event.member.id}`),
          ...trigger.limit,
        });
      if (trigger.chat_limit)
        limits.push({
          key: scenarioKeys.limit(caseId, runId, `${phase.id}:${id}`, "chat"),
          ...trigger.chat_limit,
        });
      const at = Math.min(event.at ?? deps.now(), deps.now());
      if (!(await withinLimits(deps.redis, limits, at, String(event.updateId)))) continue;
      const firing: Firing = {
        rc,
        scenario,
        phaseId: phase.id,
        trigger: id,
        occasion: String(event.updateId),
        chatId: event.chatId,
        member: event.member,
        ...(event.message ? { messageId: event.message.id, text: event.message.text } : {}),
        private: event.kind === "private_message",
        updateIds: [event.updateId],
        at,
      };
      const why = event.message?.offer
        ? { score: event.message.offer.score, rules: event.message.offer.rules }
        : {};
      if (startsConversation(scenario, trigger)) {
        await recordFiring(firing, trigger, why);
        starts.push(...(await runActions(firing, trigger.do, "")));
      } else {
        const { rc: _rc, scenario: _s, phaseId: _p, trigger: _t, ...rest } = firing;
        await recordFiring(firing, trigger, why, { ...rest, phase: run.phase, trigger: index });
        if (!queued.some((q) => q.runId === runId)) queued.push({ caseId, runId });
      }
      if (event.kind === "private_message" && starts.length > 0) break;
    }
    // A private message is answered by one run only.
    if (event.kind === "private_message" && starts.length > 0) break;
  }
  return { starts, queued };
}

/** Runs the actions of the firing at the head of a run's queue (which the caller then removes). */
export async function runQueued(deps: EngineDeps, caseId: string, raw: string): Promise<void> {
  const q = JSON.parse(raw) as QueuedFiring & { run: string };
  const run = await readRun(deps.redis, caseId, q.run);
  if (!run || run.status === "finished" || run.status === "aborted") return;
  const scenario = await readDefinition(deps.redis, caseId, run.hash);
  const phase = scenario.phases[q.phase];
  const trigger = phase?.triggers?.[q.trigger];
  if (!phase || !trigger) return;
  const { phase: _phase, trigger: _trigger, run: _run, ...rest } = q;
  await runActions(
    {
      ...rest,
      rc: await runContext(deps, run),
      scenario,
      phaseId: phase.id,
      trigger: triggerId(trigger, q.trigger),
    },
    trigger.do,
    "",
  );
}

/** `scenario.trigger`: why a trigger fired, once per occasion; queued for its actions when `queue` is given. */
export async function recordFiring(
  f: Firing,
  trigger: Trigger,
  why: Record<string, unknown>,
  queue?: QueuedFiring,
): Promise<void> {
  const ref = `${f.phaseId}/${f.trigger}`;
  const marker = scenarioKeys.done(f.rc.run.caseId, f.rc.run.id, `trigger:${ref}:${f.occasion}`);
  try {
    await recordForRun(
      f.rc,
      ref,
      {
        op: "scenario.trigger",
        phase: "info",
        target: {
          chat_id: f.chatId,
          ...(f.private ? {} : { alias: f.rc.chat.alias }),
          user_ids: [f.member.id],
        },
        params: {
          run: f.rc.run.id,
          on: trigger.on,
          ...(f.messageId !== undefined ? { message_id: f.messageId } : {}),
          ...why,
        },
        update_ids: f.updateIds,
      },
      {
        preconditions: [{ key: marker, exists: false, message: "already recorded" }],
        writes: [
          ["SET", marker, "1", "PX", 30 * 86_400_000],
          ...(queue
            ? [
                [
                  "RPUSH",
                  scenarioKeys.queue(f.rc.run.caseId, f.rc.run.id),
                  JSON.stringify({ run: f.rc.run.id, ...queue }),
                ] as const,
              ]
            : []),
        ],
      },
    );
  } catch (err) {
    if (!(err instanceof RecordRefusedError)) throw err;
  }
}

function varsOf(f: Firing, extra: Vars = {}): Vars {
  return runVars(f.rc, {
    member: memberName(f.member),
    member_id: f.member.id,
    username: f.member.username ? `@${f.member.username}` : memberName(f.member),
    ...(f.text !== undefined
      ? { text: f.text.length > 200 ? `${f.text.slice(0, 200)}…` : f.text }
      : {}),
    ...extra,
  });
}

/** What a trigger action's YAML needs from the firing to become an action's arguments. */
function formContext(f: Firing, vars: Vars): TriggerFormContext {
  return {
    chatId: f.chatId,
    memberId: f.member.id,
    ...(f.messageId !== undefined ? { messageId: f.messageId } : {}),
    private: f.private,
    renderForMember(template) {
      const language = languageFor(f.scenario, f.member.languageCode);
      return { html: renderTemplate(f.scenario, template, language, vars), language };
    },
    renderForGroup: (template) => renderForGroup(f.scenario, template, vars),
  };
}

/**
 * A trigger action that is a catalog action. When the catalog says this use
 * needs a supervisor (more members than the case's threshold), it is not run
 * but sent for approval like an operator's command, as the person who started
 * the run: the approved action then runs under this firing's key.
 */
async function catalogAction(
  f: Firing,
  name: TriggerActionFormKind,
  value: unknown,
  key: string,
  vars: Vars,
): Promise<string | undefined> {
  const env = actionEnv(f.rc.deps);
  const ref = `${f.phaseId}/${f.trigger}`;
  const scope = scopeOf(f.rc, ref, key, f.updateIds);
  const form = TRIGGER_ACTION_FORMS[name] as unknown as TriggerActionForm<typeof name, z.ZodType>;
  const args = form.args(value, formContext(f, vars));
  if (args === undefined) return undefined;
  const why = await approvalNeeded(env, scope, name, args, "in-an-approved-scenario");
  if (why) {
    const starter = f.rc.run.startedBy;
    const requested = await requestApproval(env, {
      case: f.rc.record,
      chat: f.rc.chat,
      subject: { kind: "action", action: name, args, scenario: scope.scenario as ScenarioRef },
      requester: {
        ...(starter.id !== undefined ? { userId: starter.id } : {}),
        name: `${starter.name ?? "an operator"} (scenario ${f.rc.run.scenario})`,
        role: starter.role ?? starter.kind,
      },
      actor: scope.actor,
      why,
      requestKey: key,
      updateIds: f.updateIds,
    });
    return requested.requested ? undefined : `${name} needs approval, but ${requested.reason}`;
  }
  const report = await runAction(env, scope, name, args);
  const failed = report.steps.find((s) => s.status !== "done");
  // A message gone already (the trade guard, an admin, the member) leaves nothing to do.
  if (!failed || failed.reason === ALREADY_GONE) return undefined;
  return failed.reason ?? report.summary;
}

function isCatalogTriggerAction(kind: string): kind is TriggerActionFormKind {
  return Object.hasOwn(TRIGGER_ACTION_FORMS, kind);
}

/** Runs a list of trigger actions (a trigger's or a ladder rung's) in order. */
export async function runActions(
  f: Firing,
  actions: TriggerAction[],
  prefix: string,
  extra: Vars = {},
): Promise<ConversationStart[]> {
  const starts: ConversationStart[] = [];
  const ref = `${f.phaseId}/${f.trigger}`;
  let vars = varsOf(f, extra);
  for (const [i, action] of actions.entries()) {
    const key = `scn:${f.rc.run.id}:${f.phaseId}:${f.trigger}:${f.occasion}:${prefix}${i}`;
    const kind = actionKind(action);
    let failure: string | undefined;
    try {
      if (isCatalogTriggerAction(kind)) {
        failure = await catalogAction(
          f,
          kind,
          (action as Record<string, unknown>)[kind],
          key,
          vars,
        );
      } else if ("notify" in action) {
        failure = failureOf(
          await notifyOperators(f.rc, ref, key, interpolate(action.notify, vars)),
        );
      } else if ("start" in action) {
        const convo = f.scenario.conversations?.[action.start];
        if (!convo) continue;
        const where = convo.where ?? "private";
        starts.push({
          caseId: f.rc.run.caseId,
          runId: f.rc.run.id,
          name: action.start,
          chatId: where === "private" ? f.member.id : f.chatId,
          userId: f.member.id,
          ...(where === "reply" && f.messageId !== undefined ? { replyTo: f.messageId } : {}),
          language: languageFor(f.scenario, f.member.languageCode),
          member: f.member,
          nonce: f.occasion,
          origin: ref,
        });
      } else if ("ladder" in action) {
        const ladder = f.scenario.ladders?.[action.ladder];
        if (!ladder) continue;
        const offence = await offenceNumber(
          f.rc.deps.redis,
          scenarioKeys.ladder(f.rc.run.caseId, f.rc.run.id, action.ladder, f.member.id),
          f.at ?? f.rc.deps.now(),
          f.occasion,
          ladder.reset_after,
        );
        const rung = ladder.rungs[Math.min(offence, ladder.rungs.length) - 1] ?? [];
        starts.push(...(await runActions(f, rung, `${prefix}${i}.`, { ...extra, count: offence })));
        // The actions after the ladder know which offence this was.
        vars = { ...vars, count: offence };
      }
    } catch (err) {
      failure = (err as Error).message;
    }
    if (failure)
      f.rc.deps.logger.warn(
        { case: f.rc.run.caseId, run: f.rc.run.id, trigger: ref, action: kind, reason: failure },
        "a scenario trigger's action failed",
      );
  }
  return starts;
}
