import type { ChatPermissions } from "grammy/types";
import { z } from "zod";
import { CHAT_PERMISSIONS } from "../base/bot-api-rights.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { type ApprovalPolicy, defineAction } from "./definition.ts";
import { MemberRef, membersOfCommand, resolveMembers } from "./members-named.ts";
import { type ActionReport, report, runStep, type StepReport } from "./run.ts";

/**
 * Actions on one member: restrict, ban, unban, kick. A negative id is a
 * channel posting in the group (`sender_chat`), which Telegram bans with
 * banChatSenderChat instead.
 */

/** Muted: every permission Telegram knows, off. */
const MUTED = Object.fromEntries(CHAT_PERMISSIONS.map((p) => [p, false])) as ChatPermissions;

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

/**
 * Runs a one-member action for each member named, each under its own
 * idempotency key (`<request>:<member id>`), so a repeated request repeats
 * nothing and one member's failure does not hide the others' results.
 */
async function forEachMember(
  env: ActionEnv,
  scope: ActionScope,
  op: string,
  refs: readonly MemberRef[],
  act: (scope: ActionScope, id: number) => Promise<ActionReport>,
): Promise<ActionReport> {
  const reports: ActionReport[] = [];
  for (const id of await resolveMembers(env, scope.case.id, refs))
    reports.push(await act({ ...scope, idempotencyKey: `${scope.idempotencyKey}:${id}` }, id));
  return {
    op,
    alias: scope.chat.alias,
    ok: reports.every((r) => r.ok),
    steps: reports.flatMap((r) => r.steps),
    summary: reports.map((r) => r.summary).join("\n"),
  };
}

/** Telegram treats a restriction under 30 s or over 366 days as forever; operators are told so. */
export function durationNote(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  if (seconds < 30) return "Telegram treats less than 30 seconds as forever";
  if (seconds > 366 * 86400) return "Telegram treats more than 366 days as forever";
  return undefined;
}

function withNote(report: ActionReport, seconds: number | undefined): ActionReport {
  const note = durationNote(seconds);
  return {
    ...report,
    summary: note ? `${report.summary}\n(${note})` : report.summary,
  };
}

const Targets = z.array(MemberRef).min(1).max(1000);
const TimedTargets = z.strictObject({
  targets: Targets,
  /** How long; absent means for good. */
  seconds: z.number().int().positive().optional(),
});

/** More members than the case's threshold need a second person, whichever path names them. */
function countTargets(what: string): ApprovalPolicy<{ targets: MemberRef[] }> {
  return { kind: "above-threshold", what, count: (_env, _scope, args) => args.targets.length };
}

function untilOf(env: ActionEnv, seconds: number | undefined): { untilDate?: number } {
  return seconds === undefined ? {} : { untilDate: nowSeconds(env) + seconds };
}

/** Restrict and ban: members named, for a while or for good, counted against the threshold. */
function timedMemberAction(
  name: "restrict" | "ban",
  what: string,
  act: (
    env: ActionEnv,
    scope: ActionScope,
    id: number,
    opts: { untilDate?: number },
  ) => Promise<ActionReport>,
  command: { usage: string; describe: string },
) {
  return defineAction({
    name,
    op: name,
    rights: () => ["can_restrict_members"],
    args: TimedTargets,
    approval: countTargets(what),
    run: async (env, scope, { targets, seconds }) =>
      withNote(
        await forEachMember(env, scope, name, targets, (s, id) =>
          act(env, s, id, untilOf(env, seconds)),
        ),
        seconds,
      ),
    command: { ...command, parse: (input) => membersOfCommand(input, true) },
  });
}

export const restrictAction = timedMemberAction("restrict", "restricting", restrict, {
  usage: "<@user|id…> [30s|10m|2h|7d]",
  describe: "mute members, for a while or for good (or reply)",
});

export const banAction = timedMemberAction("ban", "banning", ban, {
  usage: "<@user|id…> [duration]",
  describe: "ban members or channels, for a while or for good (or reply)",
});

export const unbanAction = defineAction({
  name: "unban",
  op: "unban",
  rights: () => ["can_restrict_members"],
  args: z.strictObject({ targets: Targets }),
  approval: { kind: "never" },
  run: (env, scope, { targets }) =>
    forEachMember(env, scope, "unban", targets, (s, id) => unban(env, s, id)),
  command: {
    usage: "<@user|id…>",
    describe: "lift a ban",
    parse: (input) => ({ targets: membersOfCommand(input, false).targets }),
  },
});

export const kickAction = defineAction({
  name: "kick",
  op: "kick",
  rights: () => ["can_restrict_members"],
  args: z.strictObject({ targets: Targets }),
  approval: countTargets("removing"),
  run: (env, scope, { targets }) =>
    forEachMember(env, scope, "kick", targets, (s, id) => kick(env, s, id)),
  command: {
    usage: "<@user|id…>",
    describe: "remove members without a ban",
    parse: (input) => ({ targets: membersOfCommand(input, false).targets }),
  },
});
