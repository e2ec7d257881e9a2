import type { Message } from "grammy/types";
import { z } from "zod";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { type ActionReport, report, runStep } from "./run.ts";

/**
 * Answers one member: a reply to their message in the seized group, or a
 * message in their private chat with the bot. The text is HTML whose
 * member-written parts the caller escaped (a scenario's rendered template).
 */

const ReplyArgs = z.strictObject({
  /** The seized group, or the member's private chat (whose id is the member's). */
  chatId: z.number().int(),
  userId: z.number().int().positive(),
  html: z.string().min(1).max(4096),
  /** The member's message to reply to, if any. */
  replyTo: z.number().int().positive().optional(),
  /** For the audit log: which template, in which language. */
  template: z.string().optional(),
  language: z.string().optional(),
});
type ReplyArgs = z.infer<typeof ReplyArgs>;

async function reply(env: ActionEnv, scope: ActionScope, args: ReplyArgs): Promise<ActionReport> {
  const inGroup = args.chatId === scope.chat.chatId;
  const sent = await runStep<Message.TextMessage>(env, scope, {
    op: "reply",
    step: "send",
    target: {
      chat_id: args.chatId,
      user_ids: [args.userId],
      ...(inGroup ? { alias: scope.chat.alias } : {}),
    },
    params: {
      ...(args.template !== undefined ? { template: args.template } : {}),
      ...(args.language !== undefined ? { language: args.language } : {}),
      ...(args.replyTo !== undefined ? { reply_to: args.replyTo } : {}),
    },
    perform: () =>
      env.api.sendMessage(args.chatId, args.html, {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        ...(args.replyTo !== undefined
          ? { reply_parameters: { message_id: args.replyTo, allow_sending_without_reply: true } }
          : {}),
      }),
    detail: (m) => ({ message_id: m.message_id }),
  });
  const messageId = sent.value?.message_id ?? (sent.detail?.message_id as number | undefined);
  return {
    ...report("reply", scope, [sent]),
    ...(messageId !== undefined ? { messageId } : {}),
  };
}

export const replyAction = defineAction({
  name: "reply",
  op: "reply",
  rights: () => [],
  args: ReplyArgs,
  approval: { kind: "never" },
  run: reply,
});
