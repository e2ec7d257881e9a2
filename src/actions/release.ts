import type { ChatPermissions } from "grammy/types";
import { z } from "zod";
import { CHAT_PERMISSIONS } from "../base/bot-api-rights.ts";
import { chatKeys, getChatState } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { thaw } from "./freeze.ts";
import { type ActionReport, report, runStep } from "./run.ts";
import { reopenTopics, topicSummary } from "./topics.ts";
import { warn } from "./warn.ts";

/**
 * Ends a takeover: the chat's own permissions come back (if it was frozen),
 * a forum's topics that lockdown closed are reopened (exactly those, and
 * General shown again if lockdown hid it), members are told, and the chat is marked released. Collection stops being
 * an operator's concern but the evidence stays until retention ends.
 *
 * Restrictions and bans put on single members stay: releasing the group is
 * not a pardon. Only when asked to (`unrestrict`: a scenario's
 * `release: {lift_restrictions: true}` names the members its run restricted)
 * are those members' restrictions lifted, each as a step of its own on the
 * record, after the thaw so the permissions they get back are the chat's own.
 */

/**
 * Every permission on: Telegram reads a restriction with nothing taken away as
 * no restriction at all, so the member is an ordinary member again and the
 * chat's default permissions apply to them.
 */
const LIFTED = Object.fromEntries(CHAT_PERMISSIONS.map((p) => [p, true])) as ChatPermissions;

export interface ReleaseOptions {
  /** The members' message (HTML); default: the shipped release warning, in Dutch and English. */
  html?: string;
  /** Members whose restrictions to lift. */
  unrestrict?: readonly number[];
}

export async function release(
  env: ActionEnv,
  scope: ActionScope,
  opts: ReleaseOptions = {},
): Promise<ActionReport> {
  const state = await getChatState(env.redis, scope.case.id, scope.chat.chatId);
  const reports: ActionReport[] = [];
  if (state.savedPermissions)
    reports.push(await thaw(env, { ...scope, idempotencyKey: `${scope.idempotencyKey}:thaw` }));
  // A forum's topics that lockdown closed are reopened before members are told (none otherwise).
  const topicSteps = await reopenTopics(env, scope, "release");
  if (topicSteps.length)
    reports.push(
      report(
        "release",
        scope,
        topicSteps,
        topicSteps.every((s) => s.status === "done") ? "topics reopened" : undefined,
      ),
    );
  const members = [...new Set(opts.unrestrict ?? [])];
  for (const userId of members) reports.push(await unrestrict(env, scope, userId));
  reports.push(
    await warn(
      env,
      { ...scope, idempotencyKey: `${scope.idempotencyKey}:warn` },
      opts.html === undefined ? { template: "release" } : { text: opts.html },
    ),
  );
  const ok = reports.every((r) => r.ok);
  if (ok) await env.redis.hset(chatKeys.state(scope.case.id, scope.chat.chatId), "released", "1");
  const reopened = topicSummary(topicSteps);
  const topics = topicSteps.length
    ? `; General and the topics lockdown closed reopened${reopened ? ` (${reopened})` : ""}`
    : "";
  const lifted = members.length
    ? `; restrictions of ${members.length} member${members.length === 1 ? "" : "s"} lifted`
    : "";
  return {
    op: "release",
    alias: scope.chat.alias,
    ok,
    steps: reports.flatMap((r) => r.steps),
    summary: ok
      ? `${scope.chat.alias} is released${topics}${lifted}`
      : reports.map((r) => r.summary).join("\n"),
    ...(members.length ? { detail: { unrestricted: members } } : {}),
  };
}

/** One member's restriction lifted, under its own key (`<request>:unrestrict:<member>`). */
async function unrestrict(
  env: ActionEnv,
  scope: ActionScope,
  userId: number,
): Promise<ActionReport> {
  const step = await runStep(
    env,
    { ...scope, idempotencyKey: `${scope.idempotencyKey}:unrestrict:${userId}` },
    {
      op: "release",
      step: "unrestrict",
      target: { chat_id: scope.chat.chatId, alias: scope.chat.alias, user_ids: [userId] },
      params: { permissions: LIFTED },
      perform: () =>
        env.api.restrictChatMember(scope.chat.chatId, userId, LIFTED, {
          use_independent_chat_permissions: true,
        }),
    },
  );
  return report(
    "release",
    scope,
    [step],
    step.status === "done" ? `${userId}'s restriction is lifted` : undefined,
  );
}

export const releaseAction = defineAction({
  name: "release",
  op: "release",
  // Thawing and lifting restrictions need it; a chat that was never frozen is released without it.
  rights: () => ["can_restrict_members"],
  args: z.strictObject({
    html: z.string().min(1).max(4096).optional(),
    unrestrict: z.array(z.number().int().positive()).max(10_000).optional(),
  }),
  approval: { kind: "always", why: "release ends the takeover" },
  run: (env, scope, args) => release(env, scope, args),
  command: {
    usage: "",
    describe: "end the takeover: thaw and tell members (restrictions and bans stay)",
    parse: () => ({}),
  },
});
