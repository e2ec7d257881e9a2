import type { Message } from "grammy/types";
import { z } from "zod";
import type { AdminRight } from "../base/bot-api-rights.ts";
import { escapeHtml } from "../base/html.ts";
import { UsageError } from "../base/usage-error.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";
import { renderBilingual, WARNING_TEMPLATES, type WarningTemplate } from "./templates.ts";

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
  return {
    ...report(
      op,
      scope,
      steps,
      ok
        ? `${op === "warn" ? "warning" : "announcement"} posted in ${scope.chat.alias}${pin ? " and pinned" : ""}`
        : undefined,
    ),
    ...(messageId !== undefined ? { messageId } : {}),
  };
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

const PIN_RIGHTS: readonly AdminRight[] = ["can_pin_messages"];

/** `… pin` at the end of a command's words: post, then pin. */
function splitPin(words: string[]): { words: string[]; pin: boolean } {
  return words.at(-1) === "pin" ? { words: words.slice(0, -1), pin: true } : { words, pin: false };
}

export const warnAction = defineAction({
  name: "warn",
  op: "warn",
  rights: (args) => (args?.pin ? PIN_RIGHTS : []),
  args: z.strictObject({
    /** A shipped template, rendered in Dutch and English. */
    template: z.enum(WARNING_TEMPLATES).optional(),
    /** Or HTML ready to send (whoever wrote it escaped what people wrote). */
    html: z.string().min(1).max(4096).optional(),
    pin: z.boolean().optional(),
  }),
  approval: { kind: "never" },
  run: (env, scope, args) =>
    warn(env, scope, {
      ...(args.template ? { template: args.template } : {}),
      ...(args.html ? { text: args.html } : {}),
      pin: args.pin ?? false,
    }),
  command: {
    usage: `[${WARNING_TEMPLATES.join("|")}|text] [pin]`,
    describe: "post a warning: a shipped template (Dutch and English) or your text; pin it",
    parse(input) {
      const { words, pin } = splitPin(input.words);
      const first = words[0];
      if (words.length === 1 && (WARNING_TEMPLATES as readonly string[]).includes(first ?? ""))
        return { template: first as WarningTemplate, pin };
      return words.length > 0 ? { html: escapeHtml(words.join(" ")), pin } : { pin };
    },
  },
});

export const announceAction = defineAction({
  name: "announce",
  op: "announce",
  rights: (args) => (args?.pin ? PIN_RIGHTS : []),
  args: z.strictObject({ html: z.string().min(1).max(4096), pin: z.boolean().optional() }),
  approval: { kind: "never" },
  run: (env, scope, args) => announce(env, scope, args.html, args.pin ?? false),
  command: {
    usage: "<text>",
    describe: "post your own text",
    parse(input) {
      if (input.words.length === 0) throw new UsageError("usage: /announce <text>");
      return { html: escapeHtml(input.words.join(" ")) };
    },
  },
});

const MessageId = z.number().int().positive();

export const pinAction = defineAction({
  name: "pin",
  op: "pin",
  rights: () => PIN_RIGHTS,
  args: z.strictObject({ messageId: MessageId }),
  approval: { kind: "never" },
  run: (env, scope, args) => pin(env, scope, args.messageId),
  command: {
    usage: "<message id>",
    describe: "pin a message: reply /pin, or /pin <message id>",
    parse(input) {
      const id = input.replyTo?.messageId ?? Number(input.words[0]);
      if (!Number.isSafeInteger(id) || id <= 0)
        throw new UsageError("usage: reply /pin to a message, or /pin <message id>");
      return { messageId: id };
    },
  },
});

export const unpinAction = defineAction({
  name: "unpin",
  op: "unpin",
  rights: () => PIN_RIGHTS,
  args: z.strictObject({ messageId: MessageId.optional() }),
  approval: { kind: "never" },
  run: (env, scope, args) => unpin(env, scope, args.messageId),
  command: {
    usage: "[message id]",
    describe: "unpin a message, or all",
    parse(input) {
      const raw = input.replyTo?.messageId ?? (input.words[0] ? Number(input.words[0]) : undefined);
      if (raw !== undefined && (!Number.isSafeInteger(raw) || raw <= 0))
        throw new UsageError("usage: /unpin [message id]");
      return raw === undefined ? {} : { messageId: raw };
    },
  },
});
