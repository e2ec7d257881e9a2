/**
 * The one place that knows Warden's Redis key layout.
 *
 * Every key of a case starts with `warden:{<caseId>}:`. The braces are a Redis
 * Cluster hash tag: all of a case's keys hash to one slot, so a single MULTI or
 * Lua script may touch any of them, today on one server and later on a cluster.
 * Keys that belong to no case start with `warden:global:`.
 */

/** Case ids are slugs: they appear inside keys and file names, so no braces, colons or spaces. */
export const CASE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export function assertCaseId(caseId: string): void {
  if (!CASE_ID_PATTERN.test(caseId)) {
    throw new Error(
      `case id "${caseId}" is not a slug: use 1-64 lower-case letters, digits and inner hyphens, e.g. op-fw`,
    );
  }
}

/** The case id checked last: the recorder builds many keys of one case per update. */
let lastChecked = "";

function caseKey(caseId: string, suffix: string): string {
  if (caseId !== lastChecked) {
    assertCaseId(caseId);
    lastChecked = caseId;
  }
  return `warden:{${caseId}}:${suffix}`;
}

export const keys = {
  /** Set of every case id. */
  caseIndex: () => "warden:global:cases",
  /** Hash chat id → case id: a chat is seized for at most one case. */
  chatIndex: () => "warden:global:chats",
  /** Hash control-room chat id → case id. */
  controlRoomIndex: () => "warden:global:control-rooms",

  /** Hash: the case record (title, authority, purpose, retention, status, control room…). */
  caseMeta: (caseId: string) => caseKey(caseId, "meta"),
  /** Hash Telegram user id → JSON role grant. */
  caseRoles: (caseId: string) => caseKey(caseId, "roles"),
  /** Hash chat id → JSON seized-chat record. */
  caseChats: (caseId: string) => caseKey(caseId, "chats"),
  /** Hash alias → chat id. */
  caseAliases: (caseId: string) => caseKey(caseId, "aliases"),

  /** Stream: the case's audit log, entry ids `0-<seq>`. */
  audit: (caseId: string) => caseKey(caseId, "audit"),
  /** Hash: the audit log's head (seq, hash of the last leaf, last ts). */
  auditHead: (caseId: string) => caseKey(caseId, "audit:head"),
  /** Prefix for other audit-owned keys (checkpoints, tree nodes, open intents). */
  auditPart: (caseId: string, part: string) => caseKey(caseId, `audit:${part}`),

  /** Prefix for keys owned by another capability of the case (collect, scenario, actions…). */
  casePart: (caseId: string, part: string) => caseKey(caseId, part),
} as const;
