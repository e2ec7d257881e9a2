import { keys } from "../store/keys.ts";

/**
 * Keys of what Warden collects in a case, all under the case's hash tag
 * (`warden:{<case>}:`). `collectParts` are the parts after that prefix: the
 * recorder's atomic step receives parts and adds the prefix itself, which
 * keeps what is sent to Redis for every update short.
 */
export const collectParts = {
  /** List: update ids persisted but not yet in a `collect` audit entry (the recorder's batch queue). */
  pendingCollect: () => "collect:pending",
  /** Sorted set of update ids already persisted, scored by receive time (for de-duplication; kept a week, `SEEN_UPDATES_MS`). */
  seenUpdates: () => "updates",
  /** Hash: one member's profile, first/last seen and counts. */
  member: (userId: number) => `member:${userId}`,
  /** List of JSON: every name and username a member was seen with, when first seen. */
  memberNames: (userId: number) => `member:${userId}:names`,
  /** List of JSON: a member's status changes (joined, left, restricted, promoted…). */
  memberStatus: (userId: number) => `member:${userId}:status`,
  /** Sorted set of member ids by first seen. */
  members: () => "members",
  /** Hash: lower-cased username → user id, from what Warden has seen (Telegram offers no lookup). */
  usernames: () => "usernames",
  /** Hash: message id → JSON of the message as first seen, with provenance (edits: `messageVersions`). */
  messages: (chatId: number) => `chat:${chatId}:msgs`,
  /** Sorted set: message ids by date. */
  messageDates: (chatId: number) => `chat:${chatId}:msg-dates`,
  /** Sorted set: one sender's message ids by date. */
  messagesFrom: (chatId: number, senderId: number) => `chat:${chatId}:from:${senderId}`,
  /** List of JSON: every later version of an edited message, in the order seen. */
  messageVersions: (chatId: number, messageId: number) =>
    `chat:${chatId}:msg:${messageId}:versions`,
  /** Stream of membership events (joins, leaves, kicks, restrictions, promotions, join requests). */
  events: () => "events",
  /** Hash: `<chatId>:<messageId>` → JSON of a message captured as evidence before removal. */
  evidence: () => "evidence",
  /** Hash: `<chatId>:<messageId>` → JSON `{score, rules, update_id}` of every message the detector called an offer. */
  offers: () => "offers",
  /** Hash: sender chat id → JSON of a channel or group that posted (anonymous admins post as the group). */
  senderChats: () => "sender-chats",
  /** Hash: `<chatId>:<field>` → count, for what sender chats posted (`count:<kind>`, `count:offers`). */
  senderChatCounts: () => "sender-chats:counts",
  /** Set: user ids whose private chat with the bot is recorded in this case (chat id = user id). */
  privateChats: () => "private-chats",
  /** Stream: admin roster snapshots (`getChatAdministrators`), field `s` holds JSON. */
  admins: () => "admins",
  /** Hash: chat id → time (ms) of the chat's latest roster snapshot. */
  adminsLatest: () => "admins:latest",
  /** Stream: member-count timeline (`getChatMemberCount`), field `c` holds JSON. */
  memberCounts: () => "member-counts",
  /** Hash: file_unique_id → JSON of a downloaded media file (path, SHA-256, size) or why not. */
  files: () => "files",
  /** Hash: file_unique_id → JSON of a media file still to download (written with its message). */
  filesPending: () => "files:pending",
  /** Hash: what retention erased, by kind → count (payloads are gone, the counts stay). */
  erased: () => "erased",
  /**
   * Hash: a seized chat's state (freeze mode…). Owned by src/actions/chat-state.ts (`chatKeys.state`);
   * named here because the recorder reads the freeze mode in the same atomic step as the update.
   */
  chatState: (chatId: number) => `chat:${chatId}:state`,
  /** Hash: per seized chat, the trade-guard's warning gate (`<chatId>:last`, `<chatId>:since`). */
  tradeWarnings: () => "trade-warnings",
};

/** The full keys: `warden:{<case>}:` + the part (each documented at its part above). */
export const collectKeys = {
  pendingCollect: (caseId: string) => keys.casePart(caseId, collectParts.pendingCollect()),
  seenUpdates: (caseId: string) => keys.casePart(caseId, collectParts.seenUpdates()),
  member: (caseId: string, userId: number) => keys.casePart(caseId, collectParts.member(userId)),
  memberNames: (caseId: string, userId: number) =>
    keys.casePart(caseId, collectParts.memberNames(userId)),
  memberStatus: (caseId: string, userId: number) =>
    keys.casePart(caseId, collectParts.memberStatus(userId)),
  members: (caseId: string) => keys.casePart(caseId, collectParts.members()),
  usernames: (caseId: string) => keys.casePart(caseId, collectParts.usernames()),
  messages: (caseId: string, chatId: number) =>
    keys.casePart(caseId, collectParts.messages(chatId)),
  messageDates: (caseId: string, chatId: number) =>
    keys.casePart(caseId, collectParts.messageDates(chatId)),
  messagesFrom: (caseId: string, chatId: number, senderId: number) =>
    keys.casePart(caseId, collectParts.messagesFrom(chatId, senderId)),
  messageVersions: (caseId: string, chatId: number, messageId: number) =>
    keys.casePart(caseId, collectParts.messageVersions(chatId, messageId)),
  events: (caseId: string) => keys.casePart(caseId, collectParts.events()),
  evidence: (caseId: string) => keys.casePart(caseId, collectParts.evidence()),
  offers: (caseId: string) => keys.casePart(caseId, collectParts.offers()),
  senderChats: (caseId: string) => keys.casePart(caseId, collectParts.senderChats()),
  senderChatCounts: (caseId: string) => keys.casePart(caseId, collectParts.senderChatCounts()),
  privateChats: (caseId: string) => keys.casePart(caseId, collectParts.privateChats()),
  admins: (caseId: string) => keys.casePart(caseId, collectParts.admins()),
  adminsLatest: (caseId: string) => keys.casePart(caseId, collectParts.adminsLatest()),
  memberCounts: (caseId: string) => keys.casePart(caseId, collectParts.memberCounts()),
  files: (caseId: string) => keys.casePart(caseId, collectParts.files()),
  filesPending: (caseId: string) => keys.casePart(caseId, collectParts.filesPending()),
  erased: (caseId: string) => keys.casePart(caseId, collectParts.erased()),
  chatState: (caseId: string, chatId: number) =>
    keys.casePart(caseId, collectParts.chatState(chatId)),
  tradeWarnings: (caseId: string) => keys.casePart(caseId, collectParts.tradeWarnings()),
};

/** The prefix every collect key of a case starts with. */
export function casePrefix(caseId: string): string {
  return keys.casePart(caseId, "");
}
