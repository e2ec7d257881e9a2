import type { Message } from "grammy/types";
import { z } from "zod";
import type { AdminRight } from "../base/bot-api-rights.ts";
import { escapeHtml } from "../base/html.ts";
import { UsageError } from "../base/usage-error.ts";
import { GENERAL_TOPIC_ID, knownTopics } from "../collect/topics.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";
import { renderBilingual, WARNING_TEMPLATES, type WarningTemplate } from "./templates.ts";
import { namedTopic } from "./topics.ts";

/** Sends a message to the seized chat and optionally pins it: the shared core of warn and announce. */
async function post(
  env: ActionEnv,
  scope: ActionScope,
  op: "warn" | "announce",
  html: string,
  params: Record<string, unknown>,
  pin: boolean,
  topics: readonly ForumTopicTarget[] = [],
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
  // In a forum the message above went to General; the topics asked for get their own copy.
  for (const topic of topics) {
    const copy = await runStep<Message.TextMessage>(env, scope, {
      op,
      step: `send topic ${topic.id}`,
      params: { ...params, message_thread_id: topic.id, topic: topic.name },
      perform: () =>
        env.api.sendMessage(chatId, html, {
          parse_mode: "HTML",
          link_preview_options: { is_disabled: true },
          message_thread_id: topic.id,
        }),
      detail: (m) => ({ message_id: m.message_id }),
    });
    steps.push(copy);
    const copyId = copy.value?.message_id ?? (copy.detail?.message_id as number | undefined);
    if (pin && copy.status === "done" && copyId !== undefined)
      steps.push(
        await runStep(env, scope, {
          op: "pin",
          step: `pin topic ${topic.id}`,
          params: { message_id: copyId, message_thread_id: topic.id },
          perform: () => env.api.pinChatMessage(chatId, copyId, { disable_notification: false }),
        }),
      );
  }
  const ok = steps.every((s) => s.status === "done");
  const where = topics.length
    ? ` (General and ${topics.length} topic${topics.length === 1 ? "" : "s"})`
    : "";
  return {
    ...report(
      op,
      scope,
      steps,
      ok
        ? `${op === "warn" ? "warning" : "announcement"} posted in ${scope.chat.alias}${where}${pin ? " and pinned" : ""}`
        : undefined,
    ),
    ...(messageId !== undefined ? { messageId } : {}),
  };
}

/** A forum topic a warning is posted in besides General. */
export interface ForumTopicTarget {
  id: number;
  name: string;
}

/**
 * The topics a warning goes to besides General: the one named by title, or
 * every topic Warden has seen (and not seen deleted). An unknown title is an
 * error the operator can act on, before anything is posted.
 */
export async function topicTargets(
  env: ActionEnv,
  scope: ActionScope,
  opts: { topic?: string; allTopics?: boolean },
): Promise<ForumTopicTarget[]> {
  if (!opts.topic && !opts.allTopics) return [];
  if (opts.allTopics) {
    const known = await knownTopics(env.redis, scope.case.id, scope.chat.chatId);
    return known.filter((t) => !t.deleted).map((t) => ({ id: t.id, name: t.name }));
  }
  const found = await namedTopic(env, scope, opts.topic as string);
  return found.id === GENERAL_TOPIC_ID ? [] : [{ id: found.id, name: found.name }];
}

export interface WarnOptions {
  /** A template name (`takeover`, `trade`, `freeze`, `release`), rendered in Dutch and English. */
  template?: string;
  /** Or the operator's own text (HTML-escaped by the caller). */
  text?: string;
  pin?: boolean;
  /** In a forum: also post (and pin) in this topic, named by title. */
  topic?: string;
  /** In a forum: also post (and pin) in every topic Warden has seen. */
  allTopics?: boolean;
}

export async function warn(
  env: ActionEnv,
  scope: ActionScope,
  opts: WarnOptions,
): Promise<ActionReport> {
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
    await topicTargets(env, scope, opts),
  );
}

export async function announce(
  env: ActionEnv,
  scope: ActionScope,
  html: string,
  pin = false,
  where: { topic?: string; allTopics?: boolean } = {},
): Promise<ActionReport> {
  return post(
    env,
    scope,
    "announce",
    html,
    { text: html },
    pin,
    await topicTargets(env, scope, where),
  );
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

/**
 * `pin` and `all-topics` at the end of a command's words, in either order:
 * post, then pin; in a forum, post in every topic Warden has seen as well.
 */
function splitFlags(words: string[]): { words: string[]; pin: boolean; allTopics: boolean } {
  const flags = { pin: false, allTopics: false };
  let end = words.length;
  for (; end > 0; end--) {
    const word = words[end - 1];
    if (word !== "pin" && word !== "all-topics") break;
    const flag = word === "pin" ? "pin" : "allTopics";
    if (flags[flag]) throw new UsageError(`${WARN_USAGE}: "${word}" is given twice`);
    flags[flag] = true;
  }
  // A flag typed first would be posted to the members as text.
  if (end > 1 && (words[0] === "pin" || words[0] === "all-topics"))
    throw new UsageError(`${WARN_USAGE}: "${words[0]}" goes after the warning, not before it`);
  return { words: words.slice(0, end), ...flags };
}

const WARN_USAGE = `usage: /warn [${WARNING_TEMPLATES.join("|")}|text] [pin] [all-topics]`;

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
    /** In a forum: also in this topic, by title. */
    topic: z.string().min(1).max(128).optional(),
    /** In a forum: also in every topic Warden has seen. */
    allTopics: z.boolean().optional(),
  }),
  approval: { kind: "never" },
  run: (env, scope, args) =>
    warn(env, scope, {
      ...(args.template ? { template: args.template } : {}),
      ...(args.html ? { text: args.html } : {}),
      pin: args.pin ?? false,
      ...(args.topic ? { topic: args.topic } : {}),
      ...(args.allTopics ? { allTopics: true } : {}),
    }),
  command: {
    usage: `[${WARNING_TEMPLATES.join("|")}|text] [pin] [all-topics]`,
    describe:
      "post a warning: a shipped template (Dutch and English) or your text; pin it; in a forum, in every topic too",
    parse(input) {
      const { words, pin, allTopics } = splitFlags(input.words);
      const flags = { pin, ...(allTopics ? { allTopics } : {}) };
      const first = words[0];
      if (words.length === 1 && (WARNING_TEMPLATES as readonly string[]).includes(first ?? ""))
        return { template: first as WarningTemplate, ...flags };
      return words.length > 0 ? { html: escapeHtml(words.join(" ")), ...flags } : flags;
    },
  },
});

export const announceAction = defineAction({
  name: "announce",
  op: "announce",
  rights: (args) => (args?.pin ? PIN_RIGHTS : []),
  args: z.strictObject({
    html: z.string().min(1).max(4096),
    pin: z.boolean().optional(),
    topic: z.string().min(1).max(128).optional(),
    allTopics: z.boolean().optional(),
  }),
  approval: { kind: "never" },
  run: (env, scope, args) =>
    announce(env, scope, args.html, args.pin ?? false, {
      ...(args.topic ? { topic: args.topic } : {}),
      ...(args.allTopics ? { allTopics: true } : {}),
    }),
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
