import type { ChatMember, ChatMemberAdministrator } from "grammy/types";
import { ACTION_NAMES, type ActionName, rightsOf as rightsNeeded } from "./catalog.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import { explainFailure } from "./reasons.ts";

/**
 * Pre-flight: what the bot can do in a seized chat, and what could undo the
 * takeover. Reads only; nothing changes, so nothing goes to the audit log
 * beyond the caller's own entry.
 */

export interface CheckReport {
  alias: string;
  chatId: number;
  ok: boolean;
  title?: string;
  type?: string;
  public?: boolean;
  memberCount?: number;
  linkedChatId?: number;
  botStatus?: string;
  /** Set for a forum (topics on): whether the bot may close and reopen its topics. */
  manageTopics?: boolean;
  /** Action → rights it needs that the bot lacks. */
  missing: Partial<Record<ActionName, string[]>>;
  otherAdmins: Array<{
    id: number;
    name: string;
    status: string;
    rights: string[];
    isBot: boolean;
  }>;
  warnings: string[];
}

const DANGEROUS_RIGHTS = [
  "can_promote_members",
  "can_restrict_members",
  "can_change_info",
  "can_invite_users",
  "can_delete_messages",
];

function rightsOf(member: ChatMember): string[] {
  if (member.status === "creator") return ["(owner: every right)"];
  if (member.status !== "administrator") return [];
  return Object.entries(member)
    .filter(([k, v]) => k.startsWith("can_") && v === true)
    .map(([k]) => k);
}

export async function check(env: ActionEnv, scope: ActionScope): Promise<CheckReport> {
  const { chatId, alias } = scope.chat;
  const result: CheckReport = {
    alias,
    chatId,
    ok: false,
    missing: {},
    otherAdmins: [],
    warnings: [],
  };
  try {
    const botId = env.botId ?? (await env.api.getMe()).id;
    // getChatAdministrators includes the calling bot itself (only other bots are left out), so it
    // also tells the bot's own rights; absent from it, the bot is not an admin.
    const [chat, admins, count] = await Promise.all([
      env.api.getChat(chatId),
      env.api.getChatAdministrators(chatId),
      env.api.getChatMemberCount(chatId),
    ]);
    const botMember = admins.find((a) => a.user.id === botId);
    result.title = chat.title;
    result.type = chat.type;
    result.public = chat.username !== undefined;
    result.memberCount = count;
    if (chat.linked_chat_id !== undefined) result.linkedChatId = chat.linked_chat_id;
    result.botStatus = botMember?.status ?? "not an admin";

    const botRights =
      botMember?.status === "administrator" ? (botMember as ChatMemberAdministrator) : undefined;
    for (const action of ACTION_NAMES) {
      const lacking = rightsNeeded(action).filter(
        (r) => !botRights || (botRights as unknown as Record<string, unknown>)[r] !== true,
      );
      if (lacking.length) result.missing[action] = lacking;
    }
    if ("is_forum" in chat && chat.is_forum === true) {
      // Only a forum's lockdown and release need it, so the catalog's rights do not list it.
      result.manageTopics = botRights?.can_manage_topics === true;
      if (botRights && !result.manageTopics) {
        result.missing.lockdown = [...(result.missing.lockdown ?? []), "can_manage_topics"];
        result.missing.release = [...(result.missing.release ?? []), "can_manage_topics"];
      }
    }
    if (!botRights)
      result.warnings.push(
        `the bot is not an admin of ${alias} (status ${result.botStatus}): ask the owner account to promote it`,
      );
    for (const [action, lacking] of Object.entries(result.missing)) {
      if (botRights)
        result.warnings.push(`${action} will fail: the bot lacks ${lacking.join(", ")}`);
    }
    for (const admin of admins) {
      if (admin.user.id === botId) continue;
      const rights = rightsOf(admin);
      const name =
        [admin.user.first_name, admin.user.last_name].filter(Boolean).join(" ") +
        (admin.user.username ? ` (@${admin.user.username})` : "");
      result.otherAdmins.push({
        id: admin.user.id,
        name,
        status: admin.status,
        rights,
        isBot: admin.user.is_bot,
      });
      const risky =
        admin.status === "creator" ? ["owner"] : rights.filter((r) => DANGEROUS_RIGHTS.includes(r));
      if (risky.length)
        result.warnings.push(
          `${name} (${admin.user.id}) could undo the takeover: ${risky.join(", ")}`,
        );
    }
    if (result.public)
      result.warnings.push(
        `${alias} is public (@${chat.username}): anyone can find and join it; lockdown cannot change that, the owner account can`,
      );
    if (chat.type === "group")
      result.warnings.push(
        `${alias} is a basic group: Telegram upgrades it to a supergroup on some changes, and Warden follows the new id`,
      );
    if (result.linkedChatId !== undefined)
      result.warnings.push(
        `${alias} is linked to channel ${result.linkedChatId}: posts there appear in the group`,
      );
    result.ok = botRights !== undefined && Object.keys(result.missing).length === 0;
  } catch (err) {
    result.warnings.push(explainFailure(err, alias).reason);
  }
  return result;
}

export function formatCheck(report: CheckReport): string[] {
  const lines = [
    `${report.alias} (${report.chatId}) ${report.title ? `“${report.title}”` : ""} ${report.ok ? "ready" : "NOT ready"}`.trim(),
  ];
  if (report.memberCount !== undefined)
    lines.push(
      `members: ${report.memberCount}; ${report.public ? "public" : "private"} ${report.type ?? ""}`.trim(),
    );
  if (report.botStatus) lines.push(`bot: ${report.botStatus}`);
  if (report.manageTopics !== undefined)
    lines.push(
      report.manageTopics
        ? "forum: the bot has can_manage_topics (lockdown can close the topics, release reopen them)"
        : "forum: the bot lacks can_manage_topics, so lockdown cannot close the topics: ask the owner account to grant “Manage topics”",
    );
  for (const admin of report.otherAdmins) {
    lines.push(
      `admin: ${admin.name} (${admin.id}) ${admin.status}${admin.isBot ? " [bot]" : ""}: ${admin.rights.join(", ") || "no rights"}`,
    );
  }
  for (const w of report.warnings) lines.push(`⚠️ ${w}`);
  return lines;
}
