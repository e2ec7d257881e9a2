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
  /** Hash: message id → JSON of the message's latest version, with provenance. */
  messages: (caseId: string, chatId: number) => keys.casePart(caseId, `chat:${chatId}:msgs`),
  /** Sorted set: message ids by date. */
  messageDates: (caseId: string, chatId: number) =>
    keys.casePart(caseId, `chat:${chatId}:msg-dates`),
  /** Sorted set: one sender's message ids by date. */
  messagesFrom: (caseId: string, chatId: number, senderId: number) =>
    keys.casePart(caseId, `chat:${chatId}:from:${senderId}`),
  /** List of JSON: earlier versions of an edited message. */
  messageVersions: (caseId: string, chatId: number, messageId: number) =>
    keys.casePart(caseId, `chat:${chatId}:msg:${messageId}:versions`),
  /** Stream of membership events (joins, leaves, kicks, restrictions, promotions, join requests). */
  events: (caseId: string) => keys.casePart(caseId, "events"),
  /** Hash: `<chatId>:<messageId>` → JSON of a message captured as evidence before removal. */
  evidence: (caseId: string) => keys.casePart(caseId, "evidence"),
};
