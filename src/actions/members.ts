import type { ChatPermissions } from "grammy/types";
import type { ActionEnv, ActionScope } from "./context.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";

/**
 * Actions on one member: restrict, ban, unban, kick. A negative id is a
 * channel posting in the group (`sender_chat`), which Telegram bans with
 * banChatSenderChat instead.
 */

const MUTED: ChatPermissions = {
  can_send_messages: false,
  can_send_audios: false,
  can_send_documents: false,
  can_send_photos: false,
  can_send_videos: false,
  can_send_video_notes: false,
  can_send_voice_notes: false,
  can_send_polls: false,
  can_send_other_messages: false,
  can_add_web_page_previews: false,
  can_change_info: false,
  can_invite_users: false,
  can_pin_messages: false,
  can_manage_topics: false,
};

/**
 * Telegram treats an until_date under 30 seconds or over 366 days from now as
 * forever. Returns what will really happen, so the operator can be told.
 */
export function effectiveUntil(
  untilDate: number | undefined,
  now: number,
): { untilDate: number; forever: boolean } {
  if (untilDate === undefined || untilDate === 0) return { untilDate: 0, forever: true };
  const delta = untilDate - now;
  if (delta < 30 || delta > 366 * 86400) return { untilDate, forever: true };
  return { untilDate, forever: false };
}

function nowSeconds(env: ActionEnv): number {
  return env.now?.() ?? Math.floor(Date.now() / 1000);
}

function untilText(until: { untilDate: number; forever: boolean }): string {
  return until.forever
    ? "for good"
    : `until ${new Date(until.untilDate * 1000).toISOString().replace(".000Z", "Z")}`;
}

export async function restrict(
  env: ActionEnv,
  scope: ActionScope,
  userId: number,
  opts: { untilDate?: number; permissions?: ChatPermissions } = {},
): Promise<ActionReport> {
  const until = effectiveUntil(opts.untilDate, nowSeconds(env));
  const permissions = opts.permissions ?? MUTED;
  const step = await runStep(env, scope, {
    op: "restrict",
    step: "restrict",
    target: { chat_id: scope.chat.chatId, alias: scope.chat.alias, user_ids: [userId] },
    params: { permissions, until_date: until.untilDate, forever: until.forever },
    perform: () =>
      env.api.restrictChatMember(scope.chat.chatId, userId, permissions, {
        use_independent_chat_permissions: true,
        ...(until.untilDate ? { until_date: until.untilDate } : {}),
      }),
  });
  return report(
    "restrict",
    scope,
    [step],
    step.status === "done"
      ? `${userId} is restricted in ${scope.chat.alias} ${untilText(until)}`
      : undefined,
  );
}

export async function ban(
  env: ActionEnv,
  scope: ActionScope,
  targetId: number,
  opts: { untilDate?: number; revokeMessages?: boolean } = {},
): Promise<ActionReport> {
  const target = { chat_id: scope.chat.chatId, alias: scope.chat.alias, user_ids: [targetId] };
  if (targetId < 0) {
    const step = await runStep(env, scope, {
      op: "ban",
      step: "ban-sender-chat",
      target,
      params: { sender_chat_id: targetId },
      perform: () => env.api.banChatSenderChat(scope.chat.chatId, targetId),
    });
    return report(
      "ban",
      scope,
      [step],
      step.status === "done"
        ? `channel ${targetId} can no longer post in ${scope.chat.alias}`
        : undefined,
    );
  }
  const until = effectiveUntil(opts.untilDate, nowSeconds(env));
  const step = await runStep(env, scope, {
    op: "ban",
    step: "ban",
    target,
    params: {
      until_date: until.untilDate,
      forever: until.forever,
      revoke_messages: opts.revokeMessages ?? false,
    },
    perform: () =>
      env.api.banChatMember(scope.chat.chatId, targetId, {
        ...(until.untilDate ? { until_date: until.untilDate } : {}),
        ...(opts.revokeMessages ? { revoke_messages: true } : {}),
      }),
  });
  return report(
    "ban",
    scope,
    [step],
    step.status === "done"
      ? `${targetId} is banned from ${scope.chat.alias} ${untilText(until)}`
      : undefined,
  );
}

export async function unban(
  env: ActionEnv,
  scope: ActionScope,
  targetId: number,
): Promise<ActionReport> {
  const target = { chat_id: scope.chat.chatId, alias: scope.chat.alias, user_ids: [targetId] };
  const step = await runStep(env, scope, {
    op: "unban",
    step: targetId < 0 ? "unban-sender-chat" : "unban",
    target,
    perform: () =>
      targetId < 0
        ? env.api.unbanChatSenderChat(scope.chat.chatId, targetId)
        : // only_if_banned: never remove a member who is still in the chat.
          env.api.unbanChatMember(scope.chat.chatId, targetId, { only_if_banned: true }),
  });
  return report(
    "unban",
    scope,
    [step],
    step.status === "done" ? `${targetId} is unbanned in ${scope.chat.alias}` : undefined,
  );
}

/** Removes a member without banning: ban, then unban, so they may rejoin by link. */
export async function kick(
  env: ActionEnv,
  scope: ActionScope,
  userId: number,
): Promise<ActionReport> {
  const target = { chat_id: scope.chat.chatId, alias: scope.chat.alias, user_ids: [userId] };
  const steps: StepReport[] = [];
  const banned = await runStep(env, scope, {
    op: "kick",
    step: "ban",
    target,
    perform: () => env.api.banChatMember(scope.chat.chatId, userId),
  });
  steps.push(banned);
  if (banned.status === "done") {
    steps.push(
      await runStep(env, scope, {
        op: "kick",
        step: "unban",
        target,
        perform: () => env.api.unbanChatMember(scope.chat.chatId, userId, { only_if_banned: true }),
      }),
    );
  }
  return report(
    "kick",
    scope,
    steps,
    steps.every((s) => s.status === "done")
      ? `${userId} was removed from ${scope.chat.alias}`
      : undefined,
  );
}
