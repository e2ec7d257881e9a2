import type { KeyShape } from "./shape.ts";

/** The case registry (src/store/cases.ts): cases, roles, control rooms and seized chats. */
export const storeShapes = {
  caseIndex: {
    scope: "global",
    pattern: "cases",
    type: "set",
    owner: "store",
    holds: "every case id",
  },
  chatIndex: {
    scope: "global",
    pattern: "chats",
    type: "hash",
    owner: "store",
    holds: "seized chat id → case id: a chat is seized for at most one case",
    fields: "<chat>",
    migration: "rewritten",
  },
  controlRoomIndex: {
    scope: "global",
    pattern: "control-rooms",
    type: "hash",
    owner: "store",
    holds: "control-room chat id → case id",
    fields: "<room>",
  },
  caseMeta: {
    scope: "case",
    pattern: "meta",
    type: "hash",
    owner: "store",
    holds: "the case record (title, authority, purpose, retention, status, control room…)",
  },
  caseRoles: {
    scope: "case",
    pattern: "roles",
    type: "hash",
    owner: "store",
    holds: "Telegram user id → JSON role grant",
    fields: "<member>",
  },
  caseChats: {
    scope: "case",
    pattern: "chats",
    type: "hash",
    owner: "store",
    holds: "chat id → JSON seized-chat record (`migratedFrom`: a migrated chat's earlier id)",
    fields: "<chat>",
    migration: "rewritten",
  },
  caseAliases: {
    scope: "case",
    pattern: "aliases",
    type: "hash",
    owner: "store",
    holds: "alias → chat id",
    fields: "<alias>",
    migration: "rewritten",
  },
} as const satisfies Record<string, KeyShape>;
