import type { Context } from "grammy";
import { actionEnv } from "../actions/context.ts";
import { recordRefusal } from "../actions/refusals.ts";
import type { Actor } from "../audit/entry.ts";
import { type CaseRecord, getRole, type RoleGrant, type SeizedChat } from "../store/cases.ts";
import { keys } from "../store/keys.ts";
import { trackedHgets } from "../store/tracked-reads.ts";
import type { FeatureDeps } from "./deps.ts";

/**
 * Who may act, and where. Commands count only from users holding a role in
 * the case of the chat they are given in: its control room or one of its
 * seized chats. Anonymous admins (GroupAnonymousBot) and posts as a channel
 * are never operators. Anyone else gets no reply at all, so nothing tells them
 * Warden is there; the attempt is logged as `refused` in the case's audit log.
 */

export const GROUP_ANONYMOUS_BOT = 1087968824;
export const CHANNEL_BOT = 136817688;

export type Where = "control-room" | "seized";

export interface Caller {
  case: CaseRecord;
  where: Where;
  /** The seized chat the command was given in, when `where` is `seized`. */
  here?: SeizedChat;
  grant: RoleGrant;
  actor: Actor;
}

const RANK = { auditor: 0, operator: 1, supervisor: 2 } as const;

/** Operators act; supervisors act and approve; auditors only read. */
export function mayUse(
  role: RoleGrant["role"],
  needed: "auditor" | "operator" | "supervisor",
): boolean {
  if (needed === "auditor") return true;
  return RANK[role] >= RANK[needed];
}

/**
 * The case behind the chat a message came from, whether it is a control room
 * or a seized chat, and the role the sender holds there. Every command pays
 * for this, so the five hash fields are read through tracked reads
 * (src/store/tracked-reads.ts): from memory until Redis says one of the
 * hashes changed — a role removed with `warden operator remove` in another
 * process is forgotten here as Redis applies it, so access stays fail-closed —
 * and in two pipelined round trips when not tracked.
 */
export async function caseOfContext(
  deps: FeatureDeps,
  chatId: number,
  userId?: number,
): Promise<{ case: CaseRecord; where: Where; here?: SeizedChat; grant?: RoleGrant } | undefined> {
  const [seizedCase, roomCase] = await trackedHgets(deps.redis, [
    [keys.chatIndex(), String(chatId)],
    [keys.controlRoomIndex(), String(chatId)],
  ]);
  if (seizedCase && roomCase) {
    // Written before a chat could hold only one role: act in neither case rather than guess.
    deps.logger.error(
      { chat: chatId, seized_for: seizedCase, control_room_of: roomCase },
      "a chat is both a seized chat and a control room: Warden ignores it until one role is removed",
    );
    return undefined;
  }
  const caseId = seizedCase ?? roomCase;
  if (!caseId) return undefined;
  const [meta, chat, role] = await trackedHgets(deps.redis, [
    [keys.caseMeta(caseId), "record"],
    [keys.caseChats(caseId), String(chatId)],
    [keys.caseRoles(caseId), String(userId ?? 0)],
  ]);
  if (!meta) return undefined;
  const record = JSON.parse(meta) as CaseRecord;
  const grant = role ? (JSON.parse(role) as RoleGrant) : undefined;
  if (seizedCase && chat)
    return {
      case: record,
      where: "seized",
      here: JSON.parse(chat) as SeizedChat,
      ...(grant ? { grant } : {}),
    };
  if (roomCase) return { case: record, where: "control-room", ...(grant ? { grant } : {}) };
  return undefined;
}

/** Why a sender can never be an operator, or undefined when they might be. */
export function neverOperator(ctx: Context): string | undefined {
  const msg = ctx.msg;
  if (msg?.sender_chat)
    return msg.from?.id === GROUP_ANONYMOUS_BOT ? "anonymous admin" : "posted as a channel";
  if (!ctx.from) return "no sender";
  if (ctx.from.id === GROUP_ANONYMOUS_BOT) return "anonymous admin";
  if (ctx.from.id === CHANNEL_BOT) return "posted as a channel";
  if (ctx.from.is_bot) return "a bot";
  return undefined;
}

/**
 * Logs a refused attempt in the case's audit log, counted per person and hour
 * so nobody can flood the log (src/actions/refusals.ts). Never tells the
 * sender anything.
 */
export async function logRefused(
  deps: FeatureDeps,
  record: CaseRecord,
  ctx: Context,
  reason: string,
  command: string,
): Promise<void> {
  await recordRefusal(actionEnv(deps), {
    case: record.id,
    actor: {
      kind: "member",
      ...(ctx.from
        ? {
            id: ctx.from.id,
            name: [ctx.from.first_name, ctx.from.last_name].filter(Boolean).join(" "),
          }
        : {}),
    },
    op: `command.${command}`,
    target: { ...(ctx.chat ? { chat_id: ctx.chat.id } : {}) },
    params: {
      reason,
      ...(ctx.msg?.sender_chat ? { sender_chat_id: ctx.msg.sender_chat.id } : {}),
      ...(ctx.msg?.author_signature ? { author_signature: ctx.msg.author_signature } : {}),
    },
    update_ids: [ctx.update.update_id],
  });
}

/** Resolves an alias (control room) to a seized chat of the same case. */
export async function resolveAlias(
  deps: FeatureDeps,
  record: CaseRecord,
  alias: string,
): Promise<SeizedChat | undefined> {
  // Given with nearly every command in the control room: tracked, as caseOfContext.
  const [chatId] = await trackedHgets(deps.redis, [
    [keys.caseAliases(record.id), alias.toLowerCase()],
  ]);
  if (chatId === null || chatId === undefined) return undefined;
  const [raw] = await trackedHgets(deps.redis, [[keys.caseChats(record.id), chatId]]);
  return raw ? (JSON.parse(raw) as SeizedChat) : undefined;
}

export async function roleOf(
  deps: FeatureDeps,
  record: CaseRecord,
  userId: number,
): Promise<RoleGrant | undefined> {
  return getRole(deps.redis, record.id, userId);
}
