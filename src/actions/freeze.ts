import type { ChatPermissions } from "grammy/types";
import { z } from "zod";
import { CHAT_PERMISSIONS } from "../base/bot-api-rights.ts";
import { UsageError } from "../base/usage-error.ts";
import { type ChatState, chatKeys, type FreezeMode, getChatState } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { defineAction } from "./definition.ts";
import { type ActionReport, report, runStep } from "./run.ts";

/**
 * Freezing changes the chat's default permissions; thawing puts back exactly
 * what was there before the first freeze. Admins are not affected by default
 * permissions, which is why /check lists them as risks.
 */

/** Permissions for a freeze mode: `full` allows nothing; `trade` allows plain text only. */
export function freezePermissions(mode: FreezeMode): ChatPermissions {
  const perms = Object.fromEntries(CHAT_PERMISSIONS.map((p) => [p, false])) as Record<
    string,
    boolean
  >;
  if (mode === "trade") perms.can_send_messages = true;
  return perms as ChatPermissions;
}

export async function freeze(
  env: ActionEnv,
  scope: ActionScope,
  mode: FreezeMode,
): Promise<ActionReport> {
  const { chatId } = scope.chat;
  const stateKey = chatKeys.state(scope.case.id, chatId);
  const state: ChatState = await getChatState(env.redis, scope.case.id, chatId);
  const steps = [];
  // Only the first freeze saves: a second freeze must not save the frozen set as "original".
  if (!state.savedPermissions) {
    const read = await runStep(env, scope, {
      op: "freeze",
      step: "read-permissions",
      perform: async () => (await env.api.getChat(chatId)).permissions ?? {},
      detail: (permissions) => ({ permissions }),
      onSuccess: (permissions) => [
        ["HSETNX", stateKey, "savedPermissions", JSON.stringify(permissions)],
      ],
    });
    steps.push(read);
    if (read.status !== "done") return report("freeze", scope, steps);
  }
  const permissions = freezePermissions(mode);
  const set = await runStep(env, scope, {
    op: "freeze",
    step: "set-permissions",
    params: { mode, permissions },
    perform: () =>
      env.api.setChatPermissions(chatId, permissions, { use_independent_chat_permissions: true }),
    onSuccess: () => [["HSET", stateKey, "frozen", mode]],
  });
  steps.push(set);
  return report(
    "freeze",
    scope,
    steps,
    set.status === "done"
      ? `${scope.chat.alias} is frozen (${mode === "full" ? "nobody can post" : "text only"})`
      : undefined,
  );
}

export async function thaw(env: ActionEnv, scope: ActionScope): Promise<ActionReport> {
  const { chatId } = scope.chat;
  const stateKey = chatKeys.state(scope.case.id, chatId);
  const state = await getChatState(env.redis, scope.case.id, chatId);
  if (!state.savedPermissions) {
    return {
      op: "thaw",
      alias: scope.chat.alias,
      ok: false,
      nothingToDo: true,
      steps: [],
      summary: `${scope.chat.alias} is not frozen: nothing to restore`,
    };
  }
  const permissions = state.savedPermissions as ChatPermissions;
  const set = await runStep(env, scope, {
    op: "thaw",
    step: "restore-permissions",
    params: { permissions },
    perform: () =>
      env.api.setChatPermissions(chatId, permissions, { use_independent_chat_permissions: true }),
    onSuccess: () => [["HDEL", stateKey, "frozen", "savedPermissions"]],
  });
  return report(
    "thaw",
    scope,
    [set],
    set.status === "done"
      ? `${scope.chat.alias} is thawed: the permissions from before the freeze are back`
      : undefined,
  );
}

export const freezeAction = defineAction({
  name: "freeze",
  op: "freeze",
  rights: () => ["can_restrict_members"],
  args: z.strictObject({ mode: z.enum(["full", "trade"]) }),
  approval: { kind: "never" },
  run: (env, scope, args) => freeze(env, scope, args.mode),
  command: {
    usage: "[full|trade]",
    describe: "stop trading: full (nobody posts) or trade (text only)",
    parse({ words }) {
      const mode = words[0] ?? "full";
      if (words.length > 1 || (mode !== "full" && mode !== "trade"))
        throw new UsageError("usage: /freeze [full|trade]");
      return { mode: mode as FreezeMode };
    },
  },
});

export const thawAction = defineAction({
  name: "thaw",
  op: "thaw",
  rights: () => ["can_restrict_members"],
  args: z.strictObject({}),
  approval: { kind: "never" },
  run: (env, scope) => thaw(env, scope),
  command: {
    usage: "",
    describe: "restore the permissions from before the freeze",
    parse: () => ({}),
  },
});
