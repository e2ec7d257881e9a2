import { keys } from "../store/keys.ts";

/** Keys of what Warden collects in a case, all under the case's hash tag. */
export const collectKeys = {
  /** Sorted set of update ids already persisted, scored by receive time (for de-duplication). */
  seenUpdates: (caseId: string) => keys.casePart(caseId, "updates"),
  /** Hash: one member's profile, first/last seen and counts. */
  member: (caseId: string, userId: number) => keys.casePart(caseId, `member:${userId}`),
  /** List of JSON: every name and username a member was seen with, when first seen. */
  memberNames: (caseId: string, userId: number) => keys.casePart(caseId, `member:${userId}:names`),
  /** List of JSON: a member's status changes (joined, left, restricted, promoted…). */
  memberStatus: (caseId: string, userId: number) =>
    keys.casePart(caseId, `member:${userId}:status`),
  /** Sorted set of member ids by first seen. */
  members: (caseId: string) => keys.casePart(caseId, "members"),
  /** Hash: lower-cased username → user id, from what Warden has seen (Telegram offers no lookup). */
  usernames: (caseId: string) => keys.casePart(caseId, "usernames"),
  /** Hash: message id → JSON of the message as first seen, with provenance (edits: `messageVersions`). */
  messages: (caseId: string, chatId: number) => keys.casePart(caseId, `chat:${chatId}:msgs`),
  /** Sorted set: message ids by date. */
  messageDates: (caseId: string, chatId: number) =>
    keys.casePart(caseId, `chat:${chatId}:msg-dates`),
  /** Sorted set: one sender's message ids by date. */
  messagesFrom: (caseId: string, chatId: number, senderId: number) =>
    keys.casePart(caseId, `chat:${chatId}:from:${senderId}`),
  /** List of JSON: every later version of an edited message, in the order seen. */
  messageVersions: (caseId: string, chatId: number, messageId: number) =>
    keys.casePart(caseId, `chat:${chatId}:msg:${messageId}:versions`),
  /** Stream of membership events (joins, leaves, kicks, restrictions, promotions, join requests). */
  events: (caseId: string) => keys.casePart(caseId, "events"),
  /** Hash: `<chatId>:<messageId>` → JSON of a message captured as evidence before removal. */
  evidence: (caseId: string) => keys.casePart(caseId, "evidence"),
  /** Hash: `<chatId>:<messageId>` → JSON `{score, rules, update_id}` of every message the detector called an offer. */
  offers: (caseId: string) => keys.casePart(caseId, "offers"),
  /** Hash: sender chat id → JSON of a channel or group that posted (anonymous admins post as the group). */
  senderChats: (caseId: string) => keys.casePart(caseId, "sender-chats"),
  /** Hash: `<chatId>:<field>` → count, for what sender chats posted (`count:<kind>`, `count:offers`). */
  senderChatCounts: (caseId: string) => keys.casePart(caseId, "sender-chats:counts"),
  /** Set: user ids whose private chat with the bot is recorded in this case (chat id = user id). */
  privateChats: (caseId: string) => keys.casePart(caseId, "private-chats"),
  /** Stream: admin roster snapshots (`getChatAdministrators`), field `s` holds JSON. */
  admins: (caseId: string) => keys.casePart(caseId, "admins"),
  /** Hash: chat id → time (ms) of the chat's latest roster snapshot. */
  adminsLatest: (caseId: string) => keys.casePart(caseId, "admins:latest"),
  /** Stream: member-count timeline (`getChatMemberCount`), field `c` holds JSON. */
  memberCounts: (caseId: string) => keys.casePart(caseId, "member-counts"),
  /** Hash: file_unique_id → JSON of a downloaded media file (path, SHA-256, size) or why not. */
  files: (caseId: string) => keys.casePart(caseId, "files"),
  /** Hash: file_unique_id → JSON of a media file still to download (written with its message). */
  filesPending: (caseId: string) => keys.casePart(caseId, "files:pending"),
  /** Hash: what retention erased, by kind → count (payloads are gone, the counts stay). */
  erased: (caseId: string) => keys.casePart(caseId, "erased"),
  /**
   * Hash: a seized chat's state (freeze mode…). Owned by src/actions/chat-state.ts (`chatKeys.state`);
   * named here because the recorder reads the freeze mode in the same atomic step as the update.
   */
  chatState: (caseId: string, chatId: number) => keys.casePart(caseId, `chat:${chatId}:state`),
  /** Hash: per seized chat, the trade-guard's warning gate (`<chatId>:last`, `<chatId>:since`). */
  tradeWarnings: (caseId: string) => keys.casePart(caseId, "trade-warnings"),
};
