import type { Actor } from "../audit/entry.ts";
import type { AuditLog } from "../audit/record.ts";
import {
  type CaseRecord,
  caseIsOpen,
  deleteRole,
  getCase,
  getRole,
  type Role,
  type RoleGrant,
  type SeizedChat,
  writeCase,
  writeChat,
  writeControlRoom,
  writeRole,
} from "../store/cases.ts";
import {
  claimChat,
  claimControlRoom,
  confirmClaim,
  indexCase,
  releaseChat,
  releaseControlRoom,
} from "../store/global-index.ts";
import { assertCaseId, keys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";

/**
 * Changes to the case registry: cases, roles, control rooms, seized chats.
 * Each change is checked, then written together with the audit entry that
 * explains it in one atomic step, so the registry and its log never disagree.
 * Roles change only here, called from the CLI on the server, never from Telegram.
 */

/** Bad input from a person: shown as one line, exit code 2, nothing written. */
export class InputError extends Error {
  override name = "InputError";
}

export interface RegistryDeps {
  redis: Redis;
  audit: AuditLog;
  actor: Actor;
  now?: () => Date;
}

export interface NewCase {
  id: string;
  title: string;
  authority: string;
  purpose: string;
  retentionDays: number;
  /** Acting on more members or messages at once needs a supervisor; absent: the bot's default (20). */
  approvalThreshold?: number;
}

/** Said of any chat that has a role in a case already, without saying which case or what role. */
const NOT_SEIZABLE = (chatId: number) =>
  `chat ${chatId} cannot be seized: it already has a role in a case (seized, or a control room)`;

const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export function parseTelegramId(text: string, what: "user" | "chat"): number {
  const pattern = what === "user" ? /^[1-9]\d{0,15}$/ : /^-?[1-9]\d{0,15}$/;
  const value = Number(text);
  if (!pattern.test(text) || !Number.isSafeInteger(value)) {
    throw new InputError(
      what === "user"
        ? `"${text}" is not a Telegram user id: expected a positive whole number such as 5550001`
        : `"${text}" is not a Telegram chat id: expected a whole number such as -1001234567890`,
    );
  }
  return value;
}

export function parseRetentionDays(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InputError(`retention "${text}" is not a positive whole number of days, e.g. 180`);
  }
  return value;
}

function required(value: string | undefined, what: string): string {
  const trimmed = value?.trim();
  if (!trimmed) throw new InputError(`${what} must not be empty`);
  return trimmed;
}

export async function requireCase(redis: Redis, caseId: string): Promise<CaseRecord> {
  try {
    assertCaseId(caseId);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  const record = await getCase(redis, caseId);
  if (!record) {
    throw new InputError(`unknown case "${caseId}": see \`warden case list\``);
  }
  return record;
}

async function requireOpenCase(redis: Redis, caseId: string): Promise<CaseRecord> {
  const record = await requireCase(redis, caseId);
  if (record.status !== "open") {
    throw new InputError(`case "${caseId}" is closed: it can no longer be changed`);
  }
  return record;
}

export async function createCase(deps: RegistryDeps, input: NewCase): Promise<CaseRecord> {
  try {
    assertCaseId(input.id);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  if (!Number.isSafeInteger(input.retentionDays) || input.retentionDays < 1) {
    throw new InputError(
      `retention "${input.retentionDays}" is not a positive whole number of days`,
    );
  }
  const threshold = input.approvalThreshold;
  if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 0))
    throw new InputError(
      `approval threshold "${threshold}" is not a whole number of members or messages, 0 or more`,
    );
  const record: CaseRecord = {
    id: input.id,
    title: required(input.title, "--title"),
    authority: required(input.authority, "--authority"),
    purpose: required(input.purpose, "--purpose"),
    retentionDays: input.retentionDays,
    ...(threshold !== undefined ? { approvalThreshold: threshold } : {}),
    createdAt: (deps.now?.() ?? new Date()).toISOString(),
    createdBy: describeActor(deps.actor),
    status: "open",
  };
  await deps.audit.record(
    {
      case: record.id,
      actor: deps.actor,
      op: "case.create",
      phase: "info",
      authority: record.authority,
      purpose: record.purpose,
      params: {
        title: record.title,
        retention_days: record.retentionDays,
        ...(threshold !== undefined ? { approval_threshold: threshold } : {}),
      },
    },
    {
      preconditions: [
        {
          key: keys.caseMeta(record.id),
          exists: false,
          message: `case "${record.id}" already exists: choose another id, or see \`warden case show ${record.id}\``,
        },
      ],
      writes: writeCase(record),
    },
  );
  // Listed once recorded: a crash before this is listed by the repair at start.
  await indexCase(deps.redis, record.id);
  return record;
}

export async function closeCase(deps: RegistryDeps, caseId: string): Promise<CaseRecord> {
  const record = await requireOpenCase(deps.redis, caseId);
  const closed: CaseRecord = {
    ...record,
    status: "closed",
    closedAt: (deps.now?.() ?? new Date()).toISOString(),
    closedBy: describeActor(deps.actor),
  };
  await deps.audit.record(
    { case: caseId, actor: deps.actor, op: "case.close", phase: "info" },
    { writes: writeCase(closed) },
  );
  return closed;
}

export async function addRole(
  deps: RegistryDeps,
  caseId: string,
  grant: { userId: number; role: Role; name: string },
): Promise<RoleGrant> {
  await requireOpenCase(deps.redis, caseId);
  const name = required(grant.name, "--name");
  const existing = await getRole(deps.redis, caseId, grant.userId);
  if (existing) {
    throw new InputError(
      `user ${grant.userId} already holds the role ${existing.role} in case "${caseId}": remove it first to change it`,
    );
  }
  const full: RoleGrant = {
    userId: grant.userId,
    role: grant.role,
    name,
    grantedAt: (deps.now?.() ?? new Date()).toISOString(),
    grantedBy: describeActor(deps.actor),
  };
  await deps.audit.record(
    {
      case: caseId,
      actor: deps.actor,
      op: "role.add",
      phase: "info",
      target: { user_ids: [grant.userId] },
      params: { role: grant.role, name },
    },
    {
      preconditions: [
        {
          key: keys.caseRoles(caseId),
          field: String(grant.userId),
          exists: false,
          message: `user ${grant.userId} already holds a role in case "${caseId}"`,
        },
      ],
      writes: writeRole(caseId, full),
    },
  );
  return full;
}

export async function removeRole(
  deps: RegistryDeps,
  caseId: string,
  userId: number,
): Promise<RoleGrant> {
  await requireCase(deps.redis, caseId);
  const existing = await getRole(deps.redis, caseId, userId);
  if (!existing) {
    throw new InputError(
      `user ${userId} holds no role in case "${caseId}": see \`warden operator list ${caseId}\``,
    );
  }
  await deps.audit.record(
    {
      case: caseId,
      actor: deps.actor,
      op: "role.remove",
      phase: "info",
      target: { user_ids: [userId] },
      params: { role: existing.role },
    },
    {
      preconditions: [
        {
          key: keys.caseRoles(caseId),
          field: String(userId),
          exists: true,
          message: `user ${userId} holds no role`,
        },
      ],
      writes: deleteRole(caseId, userId),
    },
  );
  return existing;
}

export async function addChat(
  deps: RegistryDeps,
  caseId: string,
  chat: { chatId: number; alias: string },
): Promise<SeizedChat> {
  await requireOpenCase(deps.redis, caseId);
  if (!ALIAS_PATTERN.test(chat.alias)) {
    throw new InputError(
      `alias "${chat.alias}" is not valid: use 1-32 lower-case letters, digits, _ or -, starting with a letter, e.g. fw1`,
    );
  }
  if (chat.chatId > 0)
    throw new InputError(
      `chat ${chat.chatId} is a person's private chat: only groups, supergroups and channels (negative ids) can be seized`,
    );
  if ((await deps.redis.hget(keys.caseAliases(caseId), chat.alias)) !== null)
    throw new InputError(
      `alias "${chat.alias}" is already used in case "${caseId}": choose another`,
    );
  // Claimed in the global index first, so no other case can take it meanwhile; recorded in the
  // case after. A crash between the two leaves a claim the repair at start releases.
  const refused = await claimChat(deps.redis, caseId, chat.chatId);
  if (refused === "this-case")
    throw new InputError(`chat ${chat.chatId} is already seized for case "${caseId}"`);
  // Another case's chats are not named: a chat has one role in one case, and nothing more is said.
  if (refused === "taken") throw new InputError(NOT_SEIZABLE(chat.chatId));
  const record: SeizedChat = {
    chatId: chat.chatId,
    alias: chat.alias,
    addedAt: (deps.now?.() ?? new Date()).toISOString(),
    addedBy: describeActor(deps.actor),
  };
  await deps.audit
    .record(
      {
        case: caseId,
        actor: deps.actor,
        op: "chat.add",
        phase: "info",
        target: { chat_id: chat.chatId, alias: chat.alias },
      },
      {
        preconditions: [
          {
            key: keys.caseAliases(caseId),
            field: chat.alias,
            exists: false,
            message: `alias "${chat.alias}" is already used in case "${caseId}": choose another`,
          },
          caseIsOpen(caseId),
        ],
        writes: writeChat(caseId, record),
      },
    )
    .catch(async (err: unknown) => {
      await releaseChat(deps.redis, caseId, chat.chatId);
      throw err;
    });
  await confirmClaim(deps.redis, "chat", caseId, chat.chatId);
  return record;
}

export async function setControlRoom(
  deps: RegistryDeps,
  caseId: string,
  chatId: number,
): Promise<CaseRecord> {
  const record = await requireOpenCase(deps.redis, caseId);
  if (record.controlRoom === chatId) return record;
  if (chatId > 0)
    throw new InputError(
      `chat ${chatId} is a person's private chat: a control room is a group of the case's officers (negative id)`,
    );
  // Claimed in the global index first, recorded in the case, then the old room given up; the
  // repair at start puts right what a crash between the steps leaves.
  if ((await claimControlRoom(deps.redis, caseId, chatId)) !== undefined)
    throw new InputError(
      `chat ${chatId} already has a role in a case (a seized chat or another control room): a control room must be a chat of its own`,
    );
  await deps.audit
    .record(
      {
        case: caseId,
        actor: deps.actor,
        op: "config",
        phase: "info",
        target: { chat_id: chatId },
        params: { control_room: chatId, previous: record.controlRoom ?? null },
      },
      { preconditions: [caseIsOpen(caseId)], writes: writeControlRoom(record, chatId) },
    )
    .catch(async (err: unknown) => {
      await releaseControlRoom(deps.redis, caseId, chatId);
      throw err;
    });
  await confirmClaim(deps.redis, "control-room", caseId, chatId);
  if (record.controlRoom !== undefined)
    await releaseControlRoom(deps.redis, caseId, record.controlRoom);
  return { ...record, controlRoom: chatId };
}

function describeActor(actor: Actor): string {
  return actor.name ?? (actor.id !== undefined ? String(actor.id) : actor.kind);
}
