import type { Api } from "grammy";
import type { Logger } from "pino";
import { type ActionScope, actionEnv } from "../../actions/context.ts";
import { type ActionReport, runStep, type StepReport } from "../../actions/run.ts";
import type { Actor, AuditEntry, AuditEntryInput } from "../../audit/entry.ts";
import type { AuditLog, RecordOptions } from "../../audit/record.ts";
import { escapeHtml } from "../../base/html.ts";
import { type CaseRecord, chatByAlias, getCase, type SeizedChat } from "../../store/cases.ts";
import type { Redis } from "../../store/redis.ts";
import type { ScenarioLibrary } from "../definition/library.ts";
import type { Vars } from "../definition/templates.ts";
import type { SyntheticUpdate } from "./events.ts";
import type { RunState } from "./run-state.ts";

/**
 * What every part of the engine shares: its dependencies (passed in, never
 * global), and the few helpers that make each thing a run does carry the
 * scenario's id, content hash and step into the audit log.
 */

export interface EngineDeps {
  /** The bot's API client, with retry and throttling installed. */
  api: Api;
  redis: Redis;
  audit: AuditLog;
  logger: Logger;
  /** Milliseconds since the epoch: the simulator's clock in rehearsals. */
  now: () => number;
  /** The bot's own user id, once known. */
  botId: () => number | undefined;
  /** The bot's approval threshold and request lifetime (`ActionEnv`), defaults when absent. */
  approvalThreshold?: number;
  approvalTtlSeconds?: number;
  library: ScenarioLibrary;
  /**
   * Hands a synthetic update (a conversation to start elsewhere, a question
   * that timed out) to the bot, which runs it through its middleware in that
   * chat's order. Without it, conversations cannot time out or start from a
   * join request.
   */
  deliver?: (update: SyntheticUpdate) => Promise<void>;
  /**
   * With several processes on one Redis: the case leases that let one process
   * at a time move a case's runs and timers on (case-lease.ts). Without them
   * (one process, rehearsals) this process moves every run.
   */
  leases?: CaseLeases;
  /** Waits for replicas to hold the intent before a step's Telegram call (`ActionEnv.replicated`). */
  replicated?: () => Promise<void>;
}

/** See case-lease.ts. */
export interface CaseLeases {
  /** This process's token for the case's runs, taking the lease when it is free; undefined while another process holds it. */
  hold(caseId: string): Promise<number | undefined>;
  /** Cases whose lease this process holds now. */
  held(): string[];
  /** Gives up every lease held (a stopping process), so another process takes over at once. */
  release(): Promise<void>;
}

export interface RunContext {
  deps: EngineDeps;
  run: RunState;
  record: CaseRecord;
  chat: SeizedChat;
}

export function scenarioActor(run: RunState): Actor {
  return { kind: "scenario", name: run.scenario };
}

/** Loads what acting on a run's chat needs; the alias is followed, so a migrated chat is found. */
export async function runContext(deps: EngineDeps, run: RunState): Promise<RunContext> {
  const record = await getCase(deps.redis, run.caseId);
  if (!record) throw new Error(`case ${run.caseId} no longer exists`);
  const chat = (await chatByAlias(deps.redis, run.caseId, run.alias)) ?? {
    chatId: run.chatId,
    alias: run.alias,
    addedAt: "",
    addedBy: "",
  };
  return { deps, run, record, chat };
}

export function scopeOf(
  rc: RunContext,
  step: string,
  idempotencyKey: string,
  updateIds?: number[],
): ActionScope {
  return {
    case: rc.record,
    chat: rc.chat,
    actor: scenarioActor(rc.run),
    idempotencyKey,
    ...(updateIds?.length ? { updateIds } : {}),
    scenario: { id: rc.run.scenario, hash: rc.run.hash, step },
  };
}

/** Appends an entry on the run's behalf: its case, actor, chat and scenario reference filled in. */
export function recordForRun(
  rc: Pick<RunContext, "run" | "chat"> & { deps: Pick<EngineDeps, "audit"> },
  step: string,
  entry: Omit<AuditEntryInput, "case" | "actor" | "scenario"> & { actor?: Actor },
  opts?: RecordOptions,
): Promise<AuditEntry> {
  return rc.deps.audit.record(
    {
      case: rc.run.caseId,
      actor: entry.actor ?? scenarioActor(rc.run),
      target: { chat_id: rc.chat.chatId, alias: rc.chat.alias },
      ...entry,
      scenario: { id: rc.run.scenario, hash: rc.run.hash, step },
    },
    opts,
  );
}

/** The variables every template of a run can use. */
export function runVars(rc: RunContext, extra: Vars = {}): Vars {
  return {
    case: rc.record.authority,
    group: rc.run.groupTitle ?? rc.chat.alias,
    alias: rc.chat.alias,
    scenario: rc.run.title,
    ...extra,
  };
}

/** A line to the control room, on the record and at most once per key. */
export async function notifyOperators(
  rc: RunContext,
  step: string,
  key: string,
  text: string,
  replyMarkup?: object,
): Promise<StepReport> {
  const room = rc.record.controlRoom;
  if (room === undefined)
    return {
      step: "notify",
      status: "failed",
      repeated: false,
      reason: `case ${rc.record.id} has no control room: set one with warden control-room set`,
    };
  const html = `<b>${escapeHtml(rc.run.scenario)}</b> · ${escapeHtml(rc.chat.alias)}: ${text}`;
  return runStep(actionEnv(rc.deps), scopeOf(rc, step, key), {
    op: "notify",
    step: "send",
    target: { chat_id: room },
    params: { text: html.slice(0, 500) },
    perform: () =>
      rc.deps.api.sendMessage(room, html, {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        ...(replyMarkup ? { reply_markup: replyMarkup as never } : {}),
      }),
    detail: (m) => ({ message_id: m.message_id }),
  });
}

/** The first failure of an action, as one line; undefined when it went well. */
export function failureOf(report: ActionReport | StepReport): string | undefined {
  if ("summary" in report) {
    if (report.ok) return undefined;
    const failed = report.steps.find((s) => s.status !== "done");
    return failed?.reason ?? report.summary;
  }
  return report.status === "done" ? undefined : (report.reason ?? report.status);
}
