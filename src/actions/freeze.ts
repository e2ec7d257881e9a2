import type { ChatPermissions } from "grammy/types";
import { type ChatState, chatKeys, type FreezeMode, getChatState } from "./chat-state.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { type ActionReport, report, runStep } from "./run.ts";

/**
 * Freezing changes the chat's default permissions; thawing puts back exactly
 * what was there before the first freeze. Admins are not affected by default
 * permissions, which is why /check lists them as risks.
 */

const ALL_PERMISSIONS = [
  "can_send_messages",
  "can_send_audios",
  "can_send_documents",
  "can_send_photos",
  "can_send_videos",
  "can_send_video_notes",
  "can_send_voice_notes",
  "can_send_polls",
  "can_send_other_messages",
  "can_add_web_page_previews",
  "can_react_to_messages",
  "can_change_info",
  "can_invite_users",
  "can_pin_messages",
  "can_manage_topics",
] as const;

/** Permissions for a freeze mode: `full` allows nothing; `trade` allows plain text only. */
export function freezePermissions(mode: FreezeMode): ChatPermissions {
  const perms = Object.fromEntries(ALL_PERMISSIONS.map((p) => [p, false])) as Record<
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
