import type { z } from "zod";
import { requestApproval } from "../../actions/approvals.ts";
import { approvalNeeded, runAction } from "../../actions/catalog.ts";
import { actionEnv } from "../../actions/context.ts";
import { ALREADY_GONE } from "../../actions/reasons.ts";
import type { ScenarioRef } from "../../audit/entry.ts";
import { RecordRefusedError } from "../../audit/record.ts";
import {
  TRIGGER_ACTION_FORMS,
  type TriggerActionForm,
  type TriggerActionFormKind,
  type TriggerFormContext,
} from "../definition/action-forms.ts";
import { actionKind } from "../definition/names.ts";
import type { Scenario, Trigger, TriggerAction } from "../definition/schema.ts";
import {
  interpolate,
  languageFor,
  renderForGroup,
  renderTemplate,
  type Vars,
} from "../definition/templates.ts";
import { LeaseLostError } from "./case-lease.ts";
import { type ConversationStart, type Member, memberName } from "./events.ts";
import { scenarioKeys } from "./keys.ts";
import { offenceNumber } from "./limits.ts";
import {
  failureOf,
  notifyOperators,
  type RunContext,
  recordForRun,
  runVars,
  scopeOf,
} from "./run-context.ts";

/**
 * A trigger's firing, carried out: recorded once (`scenario.trigger`, with
 * why it matched), then its actions run in order, each under the key
 * `scn:<run>:<phase>:<trigger>:<occasion>:<n>`, so a redelivered update or a
 * resumed queue does nothing twice. Catalog actions go through the catalog
 * (its approval rule included); notify, start and ladder are the scenario's
 * own.
 */

/** What a trigger fired on, for its actions. */
interface FiredBy {
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

export interface Firing extends FiredBy {
  rc: RunContext;
  scenario: Scenario;
  phaseId: string;
  trigger: string;
}

/** A firing as kept in its run's queue until its actions have run: the phase and trigger by index. */
export interface QueuedFiring extends FiredBy {
  phase: number;
  trigger: number;
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
      // This process lost the case's lease: the firing stays queued, for the new holder to run.
      if (err instanceof LeaseLostError) throw err;
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
