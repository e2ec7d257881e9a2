import type { Message } from "grammy/types";
import type { ActionEnv, ActionScope } from "./context.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";
import { renderBilingual } from "./templates.ts";

/** Sends a message to the seized chat and optionally pins it: the shared core of warn and announce. */
async function post(
  env: ActionEnv,
  scope: ActionScope,
  op: "warn" | "announce",
  html: string,
  params: Record<string, unknown>,
  pin: boolean,
): Promise<ActionReport> {
  const chatId = scope.chat.chatId;
  const steps: StepReport[] = [];
  const sent = await runStep<Message.TextMessage>(env, scope, {
    op,
    step: "send",
    params,
    perform: () =>
      env.api.sendMessage(chatId, html, {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
      }),
    detail: (m) => ({ message_id: m.message_id }),
  });
  steps.push(sent);
  const messageId = sent.value?.message_id ?? (sent.detail?.message_id as number | undefined);
  if (pin && sent.status === "done" && messageId !== undefined) {
    steps.push(
      await runStep(env, scope, {
        op: "pin",
        step: "pin",
        params: { message_id: messageId },
        perform: () => env.api.pinChatMessage(chatId, messageId, { disable_notification: false }),
      }),
    );
  }
  const ok = steps.every((s) => s.status === "done");
  return report(
    op,
    scope,
    steps,
    ok
      ? `${op === "warn" ? "warning" : "announcement"} posted in ${scope.chat.alias}${pin ? " and pinned" : ""}`
      : undefined,
  );
}

export interface WarnOptions {
  /** A template name (`takeover`, `trade`, `freeze`, `release`), rendered in Dutch and English. */
  template?: string;
  /** Or the operator's own text (HTML-escaped by the caller). */
  text?: string;
  pin?: boolean;
}

export function warn(env: ActionEnv, scope: ActionScope, opts: WarnOptions): Promise<ActionReport> {
  const template = opts.text === undefined ? (opts.template ?? "takeover") : undefined;
  const html = template
    ? renderBilingual(`warning-${template}`, {
        case: scope.case.authority,
        group: scope.chat.alias,
      })
    : (opts.text as string);
  return post(
    env,
    scope,
    "warn",
    html,
    template ? { template } : { text: opts.text },
    opts.pin ?? false,
  );
}

export function announce(
  env: ActionEnv,
  scope: ActionScope,
  html: string,
  pin = false,
): Promise<ActionReport> {
  return post(env, scope, "announce", html, { text: html }, pin);
}

export async function pin(
  env: ActionEnv,
  scope: ActionScope,
  messageId: number,
): Promise<ActionReport> {
  const step = await runStep(env, scope, {
    op: "pin",
    step: "pin",
    params: { message_id: messageId },
    perform: () =>
      env.api.pinChatMessage(scope.chat.chatId, messageId, { disable_notification: true }),
  });
  return report(
    "pin",
    scope,
    [step],
    step.status === "done" ? `message ${messageId} pinned in ${scope.chat.alias}` : undefined,
  );
}

export async function unpin(
  env: ActionEnv,
  scope: ActionScope,
  messageId?: number,
): Promise<ActionReport> {
  const step = await runStep(env, scope, {
    op: "unpin",
    step: "unpin",
    params: messageId === undefined ? { all: true } : { message_id: messageId },
    perform: () =>
      messageId === undefined
        ? env.api.unpinAllChatMessages(scope.chat.chatId)
        : env.api.unpinChatMessage(scope.chat.chatId, messageId),
  });
  return report("unpin", scope, [step]);
}
