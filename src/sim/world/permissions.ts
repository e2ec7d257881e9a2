/**
 * What a member may post in a group. Telegram narrows the chat's default
 * permissions by a member's own restriction (administrators may do
 * everything), and each kind of content needs its own permission. The Bot
 * API methods check the calling bot with these rules and the world checks the
 * people the control API plays, so both are refused in the same words.
 */
import {
  allPermissions,
  PERMISSIONS,
  type Permission,
  type Permissions,
} from "../chat-permissions.ts";
import type { ChatState, Membership } from "../model.ts";
import { isAdmin } from "./delivery.ts";

/** Effective permissions of a member: their own restriction combined with the chat's defaults. */
export function effectivePermissions(chat: ChatState, m: Membership | undefined): Permissions {
  if (isAdmin(m)) return allPermissions(true);
  const out = { ...chat.permissions };
  if (m?.status === "restricted" && m.permissions) {
    for (const p of PERMISSIONS) out[p] = out[p] === true && m.permissions[p] === true;
  }
  return out;
}

/** What each kind of message content needs, and how Telegram words the refusal. */
const CONTENT_RIGHTS: Record<string, [Permission, string]> = {
  text: ["can_send_messages", "text messages"],
  photo: ["can_send_photos", "photos"],
  document: ["can_send_documents", "documents"],
  audio: ["can_send_audios", "audios"],
  video: ["can_send_videos", "videos"],
  voice: ["can_send_voice_notes", "voice notes"],
  video_note: ["can_send_video_notes", "video notes"],
  poll: ["can_send_polls", "polls"],
  sticker: ["can_send_other_messages", "stickers"],
  animation: ["can_send_other_messages", "animations"],
};

/** The kind of a message's content (its media field), or "text". */
export function contentKind(content: Record<string, unknown>): string {
  for (const kind of Object.keys(CONTENT_RIGHTS)) if (content[kind] !== undefined) return kind;
  return "text";
}

/**
 * Why a member (bot or person) may not post `kind` into `chat`, in
 * Telegram's words without the "Bad Request: " prefix, or undefined when
 * their effective permissions allow it.
 */
export function sendRefusal(
  chat: ChatState,
  m: Membership | undefined,
  kind: string,
): string | undefined {
  const [permission, words] = CONTENT_RIGHTS[kind] ??
    CONTENT_RIGHTS.text ?? ["can_send_messages", "text messages"];
  if (effectivePermissions(chat, m)[permission]) return undefined;
  return `not enough rights to send ${words} to the chat`;
}
