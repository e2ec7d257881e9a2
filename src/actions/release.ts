import { z } from "zod";
import { chatKeys, getChatState } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { thaw } from "./freeze.ts";
import type { ActionReport } from "./run.ts";
import { warn } from "./warn.ts";

/**
 * Ends a takeover: the chat's own permissions come back (if it was frozen),
 * members are told, and the chat is marked released. Collection stops being
 * an operator's concern but the evidence stays until retention ends.
 */
export async function release(env: ActionEnv, scope: ActionScope): Promise<ActionReport> {
  const state = await getChatState(env.redis, scope.case.id, scope.chat.chatId);
  const reports: ActionReport[] = [];
  if (state.savedPermissions)
    reports.push(await thaw(env, { ...scope, idempotencyKey: `${scope.idempotencyKey}:thaw` }));
  reports.push(
    await warn(
      env,
      { ...scope, idempotencyKey: `${scope.idempotencyKey}:warn` },
      { template: "release" },
    ),
  );
  const ok = reports.every((r) => r.ok);
  if (ok) await env.redis.hset(chatKeys.state(scope.case.id, scope.chat.chatId), "released", "1");
  return {
    op: "release",
    alias: scope.chat.alias,
    ok,
    steps: reports.flatMap((r) => r.steps),
    summary: ok ? `${scope.chat.alias} is released` : reports.map((r) => r.summary).join("\n"),
  };
}

export const releaseAction = defineAction({
  name: "release",
  op: "release",
  // Thawing needs it; a chat that was never frozen is released without it.
  rights: () => ["can_restrict_members"],
  args: z.strictObject({}),
  approval: { kind: "always", why: "release ends the takeover" },
  run: (env, scope) => release(env, scope),
  command: {
    usage: "",
    describe: "end the takeover: thaw and tell members",
    parse: () => ({}),
  },
});
