import { randomBytes } from "node:crypto";
import { InlineKeyboard } from "grammy";
import type { Actor, ScenarioRef } from "../audit/entry.ts";
import { RecordRefusedError } from "../audit/record.ts";
import { escapeHtml } from "../base/html.ts";
import {
  type CaseRecord,
  caseClosedMessage,
  chatByAlias,
  getCase,
  getRole,
  type RoleGrant,
  type SeizedChat,
} from "../store/cases.ts";
import { actionKeys } from "../store/keys.ts";
import { actionShapes } from "../store/layout/actions.ts";
import { caseKeysOf } from "../store/scan.ts";
import { type ActionName, isActionName, runAction } from "./catalog.ts";
import type { ActionEnv } from "./context.ts";
import { recordRefusal } from "./refusals.ts";

/**
 * The four-eyes rule. What the catalog says needs approval (and a scenario
 * with destructive steps, before it starts) goes to the case's control room
 * with Approve and Reject buttons. Only a supervisor of the case, in its
 * control room, who is not the requester may answer; an answer is single-use,
 * bound to that request, and expires. Request, answer, refusal and expiry are
 * all in the audit log. A scenario's own `approve:` steps are answered
 * through the same gate (`approverOf`).
 */

/** What an approval lets run: one use of a catalog action, or an operator command (starting a scenario). */
export type ApprovalSubject =
  | { kind: "action"; action: ActionName; args: unknown; scenario?: ScenarioRef }
  | {
      kind: "command";
      command: string;
      args: string[];
      replyTo?: { messageId: number; senderId?: number };
    };

export interface PendingApproval {
  version: 1;
  id: string;
  case: string;
  subject: ApprovalSubject;
  /** The seized chat it acts on, if any (followed by its alias when it runs: the chat may have migrated). */
  chat?: SeizedChat;
  /** The person who asked: an operator, or the one who started the scenario that asks. */
  requester: { userId?: number; name: string; role: string };
  /** On whose behalf it runs once approved: the operator, or the scenario. */
  actor: Actor;
  why: string;
  requestedAt: number;
  expiresAt: number;
  /** The request's idempotency key, so an approved request runs at most once. */
  requestKey: string;
  updateIds: number[];
}

export type ApprovalRequest = Omit<
  PendingApproval,
  "version" | "id" | "case" | "requestedAt" | "expiresAt"
> & { case: CaseRecord };

/** Kept a day past expiry so a late click can be told it expired rather than that it is unknown. */
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

export function approvalKey(caseId: string, id: string): string {
  return actionKeys.approval(caseId, id);
}

export function actorOf(grant: RoleGrant): Actor {
  return { kind: grant.role, id: grant.userId, name: grant.name, role: grant.role };
}

/** `/ban fw1 @x 2h`, or `ban fw1 {"targets":[5]}` for a request a scenario made. */
export function describeSubject(subject: ApprovalSubject, chat?: SeizedChat): string {
  if (subject.kind === "command")
    return [`/${subject.command}`, chat?.alias, ...subject.args].filter(Boolean).join(" ");
  return [subject.action, chat?.alias, JSON.stringify(subject.args)].filter(Boolean).join(" ");
}

export type RequestResult = { requested: true; id: string } | { requested: false; reason: string };

/** Records the request and asks the control room; the caller tells the requester it is waiting. */
export async function requestApproval(
  env: ActionEnv,
  req: ApprovalRequest,
): Promise<RequestResult> {
  const room = req.case.controlRoom;
  if (req.case.status !== "open")
    return { requested: false, reason: caseClosedMessage(req.case.id) };
  if (room === undefined)
    return {
      requested: false,
      reason: `case ${req.case.id} has no control room for a supervisor to approve in: set one with warden control-room set`,
    };
  const id = randomBytes(8).toString("hex");
  const now = (env.now?.() ?? Math.floor(Date.now() / 1000)) * 1000;
  const { case: record, ...rest } = req;
  const pending: PendingApproval = {
    version: 1,
    id,
    case: record.id,
    ...rest,
    requestedAt: now,
    expiresAt: now + env.approvalTtlSeconds * 1000,
  };
  const key = approvalKey(record.id, id);
  await env.audit.record(
    {
      case: record.id,
      actor: req.actor,
      op: "approval.request",
      phase: "info",
      target: req.chat ? { chat_id: req.chat.chatId, alias: req.chat.alias } : {},
      params: {
        approval: id,
        ...(req.subject.kind === "command"
          ? { command: req.subject.command, args: req.subject.args }
          : { action: req.subject.action, args: req.subject.args }),
        why: req.why,
        expires_at: new Date(pending.expiresAt).toISOString(),
      },
      update_ids: req.updateIds,
      ...(req.subject.kind === "action" && req.subject.scenario
        ? { scenario: req.subject.scenario }
        : {}),
    },
    {
      writes: [
        [
          "SET",
          key,
          JSON.stringify(pending),
          "PX",
          env.approvalTtlSeconds * 1000 + KEEP_AFTER_EXPIRY_MS,
        ],
      ],
    },
  );
  const text = [
    `<b>Approval needed</b>: ${escapeHtml(req.requester.name)} asks to run <code>${escapeHtml(describeSubject(req.subject, req.chat))}</code>`,
    escapeHtml(`why approval: ${req.why}`),
    escapeHtml(
      `a supervisor other than the requester may approve within ${Math.round(env.approvalTtlSeconds / 60)} min`,
    ),
  ].join("\n");
  await env.api.sendMessage(room, text, {
    parse_mode: "HTML",
    reply_markup: new InlineKeyboard()
      .text("Approve", `ap:${record.id}:${id}:y`)
      .text("Reject", `ap:${record.id}:${id}:n`),
  });
  return { requested: true, id };
}

/** Who pressed a button, where. */
export interface Presser {
  userId: number;
  name: string;
  chatId: number | undefined;
  updateId: number;
}

export type ApproverCheck =
  | { ok: true; record: CaseRecord; grant: RoleGrant }
  | { ok: false; record?: CaseRecord; grant?: RoleGrant; reason: string };

/**
 * The approval gate, the same for every approval in Warden: a supervisor of
 * the case, pressing in the case's control room. (That they are not the
 * requester is checked against the request.)
 */
export async function approverOf(
  env: ActionEnv,
  caseId: string,
  presser: Presser,
): Promise<ApproverCheck> {
  const record = await getCase(env.redis, caseId);
  if (!record) return { ok: false, reason: "no such case" };
  const grant = await getRole(env.redis, caseId, presser.userId);
  if (!grant) return { ok: false, record, reason: "holds no role in the case" };
  if (record.status !== "open")
    return { ok: false, record, grant, reason: caseClosedMessage(caseId) };
  if (grant.role !== "supervisor")
    return { ok: false, record, grant, reason: `role ${grant.role} may not approve` };
  if (record.controlRoom !== presser.chatId)
    return { ok: false, record, grant, reason: "answered outside the case's control room" };
  return { ok: true, record, grant };
}

/**
 * A refused answer, in the case's log: who pressed, as the log knows them, and
 * why it counted for nothing; counted per person and hour (refusals.ts).
 */
export async function recordRefusedAnswer(
  env: ActionEnv,
  caseId: string,
  presser: Presser,
  grant: RoleGrant | undefined,
  approvalId: string,
  reason: string,
): Promise<void> {
  await recordRefusal(env, {
    case: caseId,
    actor: grant ? actorOf(grant) : { kind: "member", id: presser.userId, name: presser.name },
    op: "approval.answer",
    params: { approval: approvalId, reason },
    update_ids: [presser.updateId],
  });
}

/** What the bot tells the presser and shows in the control room. */
export interface AnswerResult {
  /** The callback query's answer ("" for nothing at all). */
  toast: string;
  alert: boolean;
  /** The request message's new text, when it changed. */
  edit?: string;
  /**
   * For a granted request: runs it and returns what it did, for the control
   * room. Separate so the presser is answered before a long action runs.
   */
  run?: () => Promise<string>;
}

/** Runs an approved command (one the catalog does not describe); given by the bot. */
export type RunApprovedCommand = (
  pending: PendingApproval & { subject: Extract<ApprovalSubject, { kind: "command" }> },
  record: CaseRecord,
  approver: RoleGrant,
) => Promise<string>;

function parsePending(raw: string): PendingApproval {
  const stored = JSON.parse(raw) as Partial<PendingApproval> & {
    command?: string;
    args?: string[];
    updateId?: number;
    replyTo?: { messageId: number; senderId?: number };
  };
  if (stored.version === 1) return stored as PendingApproval;
  // Written before approvals carried a version: always an operator's command.
  const requester = stored.requester as PendingApproval["requester"];
  return {
    version: 1,
    id: stored.id as string,
    case: stored.case as string,
    subject: {
      kind: "command",
      command: stored.command as string,
      args: stored.args ?? [],
      ...(stored.replyTo ? { replyTo: stored.replyTo } : {}),
    },
    ...(stored.chat ? { chat: stored.chat } : {}),
    requester,
    actor: { kind: requester.role as Actor["kind"], id: requester.userId, name: requester.name },
    why: "",
    requestedAt: stored.requestedAt as number,
    expiresAt: stored.expiresAt as number,
    requestKey: stored.requestKey as string,
    updateIds: stored.updateId !== undefined ? [stored.updateId] : [],
  };
}

/**
 * A supervisor's answer to a request: checked at the gate, refused when the
 * request is gone, answered, expired or their own; otherwise recorded and
 * removed in one atomic step (so two clicks count once), and when granted
 * the request runs as the person (or scenario) who asked, under the request's
 * own idempotency key.
 */
export async function answerApproval(
  env: ActionEnv,
  answer: { caseId: string; id: string; granted: boolean; presser: Presser },
  runCommand: RunApprovedCommand,
): Promise<AnswerResult> {
  const { caseId, id, presser } = answer;
  const gate = await approverOf(env, caseId, presser);
  if (!gate.ok) {
    if (gate.record) await recordRefusedAnswer(env, caseId, presser, gate.grant, id, gate.reason);
    // Someone with no role in the case learns nothing, not even that the button means something.
    return { toast: gate.grant ? gate.reason : "", alert: false };
  }
  const { record, grant } = gate;
  const refuse = async (reason: string): Promise<AnswerResult> => {
    await recordRefusedAnswer(env, caseId, presser, grant, id, reason);
    return { toast: reason, alert: true };
  };
  const key = approvalKey(caseId, id);
  const raw = await env.redis.get(key);
  if (!raw) return refuse("this request was already answered");
  const pending = parsePending(raw);
  if (pending.requester.userId === presser.userId)
    return refuse("a second person must approve: you made this request");
  const nowMs = (env.now?.() ?? Math.floor(Date.now() / 1000)) * 1000;
  const what = describeSubject(pending.subject, pending.chat);
  if (nowMs > pending.expiresAt) {
    await env.redis.del(key);
    const result = await refuse("this request has expired; ask again");
    return {
      ...result,
      edit: `Request expired: ${what} by ${pending.requester.name} was not run.`,
    };
  }
  try {
    await env.audit.record(
      {
        case: caseId,
        actor: actorOf(grant),
        op: answer.granted ? "approval.grant" : "approval.reject",
        phase: "info",
        target: pending.chat ? { chat_id: pending.chat.chatId, alias: pending.chat.alias } : {},
        params: {
          approval: id,
          ...(pending.subject.kind === "command"
            ? { command: pending.subject.command }
            : { action: pending.subject.action }),
          args: pending.subject.args,
          ...(pending.requester.userId !== undefined
            ? { requester: pending.requester.userId }
            : {}),
        },
        update_ids: [presser.updateId],
      },
      {
        preconditions: [{ key, exists: true, message: "this request was already answered" }],
        writes: [["DEL", key]],
      },
    );
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (!answer.granted)
    return {
      toast: "Rejected",
      alert: false,
      edit: `Rejected by ${grant.name}: ${what} by ${pending.requester.name} was not run.`,
    };
  return {
    toast: "Approved",
    alert: false,
    edit: `Approved by ${grant.name}: running ${what} for ${pending.requester.name}…`,
    run: async () =>
      `${escapeHtml(`approved by ${grant.name}:`)}\n${await runApproved(env, pending, record, grant, runCommand)}`,
  };
}

async function runApproved(
  env: ActionEnv,
  pending: PendingApproval,
  record: CaseRecord,
  approver: RoleGrant,
  runCommand: RunApprovedCommand,
): Promise<string> {
  const subject = pending.subject;
  if (subject.kind === "command") return runCommand({ ...pending, subject }, record, approver);
  if (!isActionName(subject.action) || !pending.chat)
    return escapeHtml(`${subject.action} could not run: unknown action or chat`);
  if (pending.requester.userId !== undefined && pending.actor.kind !== "scenario") {
    const still = await getRole(env.redis, pending.case, pending.requester.userId);
    if (!still || still.role === "auditor")
      return escapeHtml(
        `${subject.action} was not run: ${pending.requester.name} no longer holds a role that may use it`,
      );
  }
  const chat = (await chatByAlias(env.redis, pending.case, pending.chat.alias)) ?? pending.chat;
  try {
    const report = await runAction(
      env,
      {
        case: record,
        chat,
        actor: pending.actor,
        idempotencyKey: pending.requestKey,
        updateIds: pending.updateIds,
        ...(subject.scenario ? { scenario: subject.scenario } : {}),
      },
      subject.action,
      subject.args as never,
    );
    return escapeHtml(report.summary);
  } catch (err) {
    return escapeHtml(`${subject.action} failed: ${(err as Error).message}`);
  }
}

/**
 * Expires every request still pending in a case that is being closed: each
 * one gets its `approval.expire` entry (with why) and is removed in the same
 * step, so a late click is told it is gone and nothing it asked for runs.
 */
export async function expireApprovalsOfClosedCase(
  env: Pick<ActionEnv, "redis" | "audit">,
  caseId: string,
  actor: Actor,
): Promise<number> {
  let expired = 0;
  for (const { key, holes } of await caseKeysOf(env.redis, actionShapes.approval, caseId)) {
    try {
      await env.audit.record(
        {
          case: caseId,
          actor,
          op: "approval.expire",
          phase: "info",
          params: { approval: holes.approval, reason: "case closed" },
        },
        {
          preconditions: [{ key, exists: true, message: "already answered" }],
          writes: [["DEL", key]],
        },
      );
      expired++;
    } catch (err) {
      if (!(err instanceof RecordRefusedError)) throw err;
    }
  }
  return expired;
}
