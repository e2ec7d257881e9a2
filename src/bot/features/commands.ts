import { CommandGroup } from "@grammyjs/commands";
import { type CommandContext, Composer, type Context } from "grammy";
import { actorOf, type RunApprovedCommand, requestApproval } from "../../actions/approvals.ts";
import { addChat } from "../../actions/case-changes.ts";
import { type ActionScope, actionEnv } from "../../actions/context.ts";
import { runStep } from "../../actions/run.ts";
import { escapeHtml } from "../../base/html.ts";
import { UsageError } from "../../base/usage-error.ts";
import { getCase, getRole, type RoleGrant, type SeizedChat } from "../../store/cases.ts";
import {
  type Caller,
  caseOfContext,
  logRefused,
  mayUse,
  neverOperator,
  resolveAlias,
} from "../access.ts";
import { type CommandRun, type CommandSpec, commandActs, type Reply, usage } from "../command.ts";
import type { FeatureDeps } from "../deps.ts";
import type { Feature } from "../feature.ts";
import { splitArgs } from "../parse.ts";
import { COMMANDS } from "./command-specs.ts";

/**
 * Operator commands. Each command is resolved the same way: who sent it, in
 * which case, on which seized chat; then either run, sent for a supervisor's
 * approval, or refused without a word. In a seized chat the command message
 * is deleted first, so members never see it.
 */

/** How a caller's answer reaches them only: in the control room as a reply, from a seized chat privately. */
function replierFor(
  deps: FeatureDeps,
  ctx: Context,
  caller: Pick<Caller, "where" | "case" | "grant">,
): Reply {
  return async (html) => {
    try {
      if (caller.where === "control-room") {
        await deps.api.sendMessage(ctx.chat?.id as number, html, {
          parse_mode: "HTML",
          reply_parameters: {
            message_id: ctx.msg?.message_id as number,
            allow_sending_without_reply: true,
          },
          link_preview_options: { is_disabled: true },
        });
        return;
      }
      try {
        await deps.api.sendMessage(caller.grant.userId, html, {
          parse_mode: "HTML",
          link_preview_options: { is_disabled: true },
        });
      } catch {
        // The operator has not started a private chat with the bot: fall back to the control room.
        if (caller.case.controlRoom !== undefined) {
          await deps.api.sendMessage(
            caller.case.controlRoom,
            `${escapeHtml(caller.grant.name)}: ${html}`,
            { parse_mode: "HTML" },
          );
        }
      }
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, "could not answer an operator");
    }
  };
}

/** Deletes the operator's command message in a seized chat, on the record. */
async function hideCommand(deps: FeatureDeps, ctx: Context, caller: Caller): Promise<void> {
  if (caller.where !== "seized" || !caller.here || !ctx.msg) return;
  const messageId = ctx.msg.message_id;
  await runStep(actionEnv(deps), scopeFor(caller, caller.here, ctx, "hide"), {
    op: "purge",
    step: "hide-command",
    params: { message_ids: [messageId], reason: "operator command" },
    perform: () => deps.api.deleteMessage(caller.here?.chatId as number, messageId),
  });
}

export function scopeFor(
  caller: Caller,
  chat: NonNullable<Caller["here"]>,
  ctx: Context,
  suffix = "",
): ActionScope {
  return {
    case: caller.case,
    chat,
    actor: caller.actor,
    idempotencyKey: `cmd:${ctx.chat?.id}:${ctx.msg?.message_id}${suffix ? `:${suffix}` : ""}`,
    updateIds: [ctx.update.update_id],
  };
}

async function handle(
  deps: FeatureDeps,
  spec: CommandSpec,
  ctx: CommandContext<Context>,
): Promise<void> {
  const chatId = ctx.chat.id;
  let args = splitArgs(ctx.match);

  // /seize names its case, because the chat is not bound to one yet.
  const located =
    spec.name === "seize"
      ? await locateForSeize(deps, args)
      : await caseOfContext(deps, chatId, ctx.from?.id);
  if (!located) return; // Not a chat of any case: stay silent.
  const refusal = neverOperator(ctx);
  if (refusal) return logRefused(deps, located.case, ctx, refusal, spec.name);
  const grant =
    located.grant ?? (await getRole(deps.redis, located.case.id, ctx.from?.id as number));
  if (!grant) return logRefused(deps, located.case, ctx, "holds no role in the case", spec.name);
  if (!mayUse(grant.role, spec.role))
    return logRefused(
      deps,
      located.case,
      ctx,
      `role ${grant.role} may not use /${spec.name}`,
      spec.name,
    );
  if (located.case.status !== "open" && commandActs(spec, args)) {
    return logRefused(deps, located.case, ctx, "case is closed", spec.name);
  }
  const caller: Caller = {
    case: located.case,
    where: located.where,
    grant,
    actor: actorOf(grant),
    ...(located.here ? { here: located.here } : {}),
  };
  const reply = replierFor(deps, ctx, caller);
  await hideCommand(deps, ctx, caller);

  try {
    if (spec.name === "seize") {
      await seize(deps, ctx, caller, args, reply);
      return;
    }
    // The target chat: where the command was given, or in the control room the alias it names.
    let chat = caller.here;
    if (spec.needsChat) {
      if (caller.where === "control-room") {
        const alias = args[0];
        if (!alias) throw new UsageError(`usage: ${usage(spec, "control-room")}`);
        chat = await resolveAlias(deps, caller.case, alias);
        if (!chat)
          throw new UsageError(
            `unknown chat "${alias}" in case ${caller.case.id}: /status lists the seized chats`,
          );
        args = args.slice(1);
      }
    }
    const replied = ctx.msg.reply_to_message;
    const replyTo = replied
      ? {
          messageId: replied.message_id,
          ...(replied.sender_chat || replied.from
            ? { senderId: (replied.sender_chat?.id ?? replied.from?.id) as number }
            : {}),
        }
      : undefined;
    const run: CommandRun = {
      deps,
      caller,
      args,
      reply,
      requestKey: `cmd:${chatId}:${ctx.msg.message_id}`,
      updateIds: [ctx.update.update_id],
      ...(replyTo ? { replyTo } : {}),
      ...(chat ? { chat, scope: scopeFor(caller, chat, ctx) } : {}),
    };
    const approval = spec.needsApproval ? await spec.needsApproval(run) : undefined;
    if (approval) {
      const requested = await requestApproval(actionEnv(deps), {
        case: caller.case,
        subject:
          approval.subject.kind === "command" && replyTo
            ? { ...approval.subject, replyTo }
            : approval.subject,
        ...(chat ? { chat } : {}),
        requester: {
          userId: caller.grant.userId,
          name: caller.grant.name,
          role: caller.grant.role,
        },
        actor: caller.actor,
        why: approval.why,
        requestKey: `cmd:${chatId}:${ctx.msg.message_id}`,
        updateIds: [ctx.update.update_id],
      });
      if (!requested.requested)
        await reply(
          escapeHtml(`/${spec.name} needs a supervisor's approval, but ${requested.reason}`),
        );
      else if (caller.where !== "control-room")
        await reply(
          escapeHtml(`/${spec.name} is waiting for a supervisor's approval in the control room`),
        );
      return;
    }
    await spec.run(run);
  } catch (err) {
    if (err instanceof UsageError) await reply(escapeHtml(err.message));
    else {
      deps.logger.error({ command: spec.name, err }, "command failed");
      await reply(escapeHtml(`/${spec.name} failed: ${(err as Error).message}`));
    }
  }
}

async function locateForSeize(deps: FeatureDeps, args: string[]) {
  const caseId = args[0];
  if (!caseId || !/^[a-z0-9-]+$/.test(caseId)) return undefined;
  const record = await getCase(deps.redis, caseId).catch(() => undefined);
  if (!record) return undefined;
  return {
    case: record,
    where: "seized" as const,
    here: undefined as SeizedChat | undefined,
    grant: undefined as RoleGrant | undefined,
  };
}

async function seize(
  deps: FeatureDeps,
  ctx: CommandContext<Context>,
  caller: Caller,
  args: string[],
  reply: Reply,
): Promise<void> {
  const chat = ctx.chat;
  if (chat.type === "private")
    throw new UsageError(
      "/seize is given in the group to seize, after making the bot an admin there",
    );
  const alias = (args[1] ?? `chat${String(chat.id).slice(-4)}`).toLowerCase();
  const existing = await caseOfContext(deps, chat.id);
  if (existing?.where === "seized" && existing.case.id === caller.case.id && existing.here) {
    await hideCommand(deps, ctx, { ...caller, where: "seized", here: existing.here });
    await reply(
      escapeHtml(
        `this chat is already seized for case ${caller.case.id} as ${existing.here.alias}`,
      ),
    );
    return;
  }
  if (existing) {
    // Another case's chat, or a control room: nothing is done in it, and nothing about it is said.
    await reply(escapeHtml("this chat cannot be seized: it already has a role in a case"));
    return;
  }
  const here: SeizedChat = {
    chatId: chat.id,
    alias,
    addedAt: new Date(deps.now()).toISOString(),
    addedBy: caller.grant.name,
  };
  // The command message could not be hidden before the chat was bound; it is hidden now, bound or not.
  const hide = () => hideCommand(deps, ctx, { ...caller, where: "seized", here });
  try {
    await addChat({ redis: deps.redis, audit: deps.audit, actor: caller.actor }, caller.case.id, {
      chatId: chat.id,
      alias,
    });
  } catch (err) {
    await hide();
    throw new UsageError((err as Error).message);
  }
  await deps.onChatSeized?.(caller.case.id, chat.id);
  await hide();
  await reply(
    escapeHtml(
      `seized ${(chat as { title?: string }).title ?? chat.id} for case ${caller.case.id} as ${alias}; run /check ${alias} next`,
    ),
  );
}

/**
 * Runs a command a supervisor approved that is not a catalog action
 * (starting a scenario), as the person who asked for it, with the original
 * command's idempotency key: an approval runs it at most once.
 */
export function runApprovedCommand(deps: FeatureDeps): RunApprovedCommand {
  return async (approved, record, approver) => {
    const { subject } = approved;
    const spec = COMMANDS.find((c) => c.name === subject.command);
    const userId = approved.requester.userId;
    const grant = userId !== undefined ? await getRole(deps.redis, record.id, userId) : undefined;
    if (!spec) return escapeHtml(`/${subject.command} could not run: unknown command`);
    if (!grant || !mayUse(grant.role, spec.role))
      return escapeHtml(
        `/${subject.command} was not run: ${approved.requester.name} no longer holds a role that may use it`,
      );
    const caller: Caller = { case: record, where: "control-room", grant, actor: actorOf(grant) };
    const replies: string[] = [];
    const run: CommandRun = {
      deps,
      caller,
      args: subject.args,
      reply: async (html) => {
        replies.push(html);
      },
      requestKey: approved.requestKey,
      updateIds: approved.updateIds,
      ...(subject.replyTo ? { replyTo: subject.replyTo } : {}),
      ...(approved.chat
        ? {
            chat: approved.chat,
            scope: {
              case: record,
              chat: approved.chat,
              actor: caller.actor,
              idempotencyKey: approved.requestKey,
              updateIds: approved.updateIds,
            },
          }
        : {}),
    };
    try {
      await spec.run(run);
    } catch (err) {
      replies.push(escapeHtml(`/${subject.command} failed: ${(err as Error).message}`));
    }
    deps.logger.debug(
      { approver: approver.userId, command: subject.command },
      "approved command ran",
    );
    return replies.join("\n");
  };
}

/** Whether an update can hold a command for the group: a message's text or caption starting with "/". */
export function mayNameCommand(ctx: Context): boolean {
  const msg = ctx.msg;
  return (msg?.text ?? msg?.caption)?.startsWith("/") === true;
}

/** The commands feature, and the command list shown (only) to operators. */
export function commandsFeature(deps: FeatureDeps): {
  feature: Feature;
  group: CommandGroup<Context>;
} {
  const group = new CommandGroup<Context>();
  for (const spec of COMMANDS) {
    group.command(spec.name, spec.description, (ctx) => handle(deps, spec, ctx));
  }
  // The group tries each command's matcher (a RegExp built per call) on every update; almost every
  // update is a member's message that names no command. The group matches only text or a caption
  // that starts with its prefix "/" (its default, matchOnlyAtStart), so nothing else can match.
  return { feature: { wants: mayNameCommand, composer: new Composer<Context>(group) }, group };
}
