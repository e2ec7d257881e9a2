import { randomBytes } from "node:crypto";
import { Composer, type Context, InlineKeyboard } from "grammy";
import { getCase, getRole, type SeizedChat } from "../../store/cases.ts";
import { botKeys } from "../../store/keys.ts";
import { actorOf, type Caller } from "../access.ts";
import type { FeatureDeps } from "../deps.ts";
import { escapeHtml } from "../html.ts";
import type { CommandSpec } from "./command-specs.ts";

/**
 * The four-eyes rule for destructive commands. The request goes to the
 * control room with Approve and Reject buttons; only a supervisor of the case
 * who is not the requester may answer; an answer is single-use, bound to that
 * request, and expires. Request, answer and expiry are all in the audit log.
 */

interface PendingApproval {
  id: string;
  case: string;
  command: string;
  args: string[];
  chat?: SeizedChat;
  requester: { userId: number; name: string; role: string };
  requestedAt: number;
  expiresAt: number;
  updateId: number;
  /** The idempotency key of the original command, so an approved command runs at most once. */
  requestKey: string;
  replyTo?: { messageId: number; senderId?: number };
}

function approvalKey(caseId: string, id: string): string {
  return botKeys.approval(caseId, id);
}

export interface ApprovalRequest {
  caller: Caller;
  spec: CommandSpec;
  chat: SeizedChat | undefined;
  args: string[];
  replyTo: { messageId: number; senderId?: number } | undefined;
  updateId: number;
  requestKey: string;
  why: string;
}

export async function requestApproval(
  deps: FeatureDeps,
  req: ApprovalRequest,
  reply: (html: string) => Promise<void>,
): Promise<void> {
  const room = req.caller.case.controlRoom;
  if (room === undefined) {
    await reply(
      escapeHtml(
        `/${req.spec.name} needs a supervisor's approval, but case ${req.caller.case.id} has no control room: set one with warden control-room set`,
      ),
    );
    return;
  }
  const id = randomBytes(8).toString("hex");
  const now = deps.now();
  const pending: PendingApproval = {
    id,
    case: req.caller.case.id,
    command: req.spec.name,
    args: req.args,
    ...(req.chat ? { chat: req.chat } : {}),
    requester: {
      userId: req.caller.grant.userId,
      name: req.caller.grant.name,
      role: req.caller.grant.role,
    },
    requestedAt: now,
    expiresAt: now + deps.approvalTtlSeconds * 1000,
    updateId: req.updateId,
    requestKey: req.requestKey,
    ...(req.replyTo ? { replyTo: req.replyTo } : {}),
  };
  const key = approvalKey(pending.case, id);
  await deps.audit.record(
    {
      case: pending.case,
      actor: req.caller.actor,
      op: "approval.request",
      phase: "info",
      target: req.chat ? { chat_id: req.chat.chatId, alias: req.chat.alias } : {},
      params: {
        approval: id,
        command: req.spec.name,
        args: req.args,
        why: req.why,
        expires_at: new Date(pending.expiresAt).toISOString(),
      },
      update_ids: [req.updateId],
    },
    // Kept a day past expiry so a late click can be told it expired rather than that it is unknown.
    {
      writes: [
        ["SET", key, JSON.stringify(pending), "PX", deps.approvalTtlSeconds * 1000 + 86_400_000],
      ],
    },
  );
  const text = [
    `<b>Approval needed</b>: ${escapeHtml(req.caller.grant.name)} asks to run <code>/${escapeHtml([req.spec.name, req.chat?.alias, ...req.args].filter(Boolean).join(" "))}</code>`,
    escapeHtml(`why approval: ${req.why}`),
    escapeHtml(
      `a supervisor other than the requester may approve within ${Math.round(deps.approvalTtlSeconds / 60)} min`,
    ),
  ].join("\n");
  await deps.api.sendMessage(room, text, {
    parse_mode: "HTML",
    reply_markup: new InlineKeyboard()
      .text("Approve", `ap:${pending.case}:${id}:y`)
      .text("Reject", `ap:${pending.case}:${id}:n`),
  });
  if (req.caller.where !== "control-room")
    await reply(
      escapeHtml(`/${req.spec.name} is waiting for a supervisor's approval in the control room`),
    );
}

export type ExecuteApproved = (pending: {
  caseId: string;
  command: string;
  args: string[];
  chat?: SeizedChat;
  requester: PendingApproval["requester"];
  approver: { userId: number; name: string };
  requestKey: string;
  replyTo?: { messageId: number; senderId?: number };
  updateIds: number[];
}) => Promise<string>;

export function approvalsFeature(deps: FeatureDeps, execute: ExecuteApproved): Composer<Context> {
  const composer = new Composer<Context>();
  composer.callbackQuery(/^ap:([a-z0-9-]+):([0-9a-f]{16}):([yn])$/, async (ctx) => {
    const [, caseId, id, answer] = ctx.match as RegExpMatchArray as [
      string,
      string,
      string,
      "y" | "n",
    ];
    const record = await getCase(deps.redis, caseId);
    // Clicks that do not come from a supervisor get a neutral answer and change nothing.
    const grant = record ? await getRole(deps.redis, caseId, ctx.from.id) : undefined;
    if (!record || !grant || grant.role !== "supervisor" || record.controlRoom !== ctx.chat?.id) {
      if (record) {
        await deps.audit.record({
          case: caseId,
          actor: { kind: "member", id: ctx.from.id, name: ctx.from.first_name },
          op: "approval.answer",
          phase: "refused",
          params: {
            approval: id,
            reason: grant ? `role ${grant.role} may not approve` : "holds no role in the case",
          },
          update_ids: [ctx.update.update_id],
        });
      }
      await ctx.answerCallbackQuery({ text: "Only a supervisor of this case can answer." });
      return;
    }
    const key = approvalKey(caseId, id);
    const raw = await deps.redis.get(key);
    const pending = raw ? (JSON.parse(raw) as PendingApproval) : undefined;
    const refuse = async (reason: string) => {
      await deps.audit.record({
        case: caseId,
        actor: actorOf(grant),
        op: "approval.answer",
        phase: "refused",
        params: { approval: id, reason },
        update_ids: [ctx.update.update_id],
      });
      await ctx.answerCallbackQuery({ text: reason, show_alert: true });
    };
    if (!pending || pending.command === "(answered)")
      return refuse("this request was already answered");
    if (pending.requester.userId === ctx.from.id)
      return refuse("a second person must approve: you made this request");
    if (deps.now() > pending.expiresAt) {
      await deps.redis.del(key);
      await ctx
        .editMessageText(
          `Request expired: /${pending.command} by ${pending.requester.name} was not run.`,
        )
        .catch(() => undefined);
      return refuse("this request has expired; ask again");
    }
    // Single use: the answer is recorded only if the request is still there, and it is removed in the same step.
    try {
      await deps.audit.record(
        {
          case: caseId,
          actor: actorOf(grant),
          op: answer === "y" ? "approval.grant" : "approval.reject",
          phase: "info",
          target: pending.chat ? { chat_id: pending.chat.chatId, alias: pending.chat.alias } : {},
          params: {
            approval: id,
            command: pending.command,
            args: pending.args,
            requester: pending.requester.userId,
          },
          update_ids: [ctx.update.update_id],
        },
        {
          preconditions: [{ key, exists: true, message: "this request was already answered" }],
          writes: [["DEL", key]],
        },
      );
    } catch (err) {
      return refuse((err as Error).message);
    }
    await ctx.answerCallbackQuery({ text: answer === "y" ? "Approved" : "Rejected" });
    if (answer === "n") {
      await ctx
        .editMessageText(
          `Rejected by ${grant.name}: /${pending.command} by ${pending.requester.name} was not run.`,
        )
        .catch(() => undefined);
      return;
    }
    await ctx
      .editMessageText(
        `Approved by ${grant.name}: running /${pending.command} for ${pending.requester.name}…`,
      )
      .catch(() => undefined);
    const summary = await execute({
      caseId,
      command: pending.command,
      args: pending.args,
      ...(pending.chat ? { chat: pending.chat } : {}),
      requester: pending.requester,
      approver: { userId: grant.userId, name: grant.name },
      requestKey: pending.requestKey,
      ...(pending.replyTo ? { replyTo: pending.replyTo } : {}),
      updateIds: [pending.updateId, ctx.update.update_id],
    });
    await deps.api.sendMessage(record.controlRoom as number, summary, { parse_mode: "HTML" });
  });
  return composer;
}
