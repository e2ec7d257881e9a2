/**
 * A message a person writes, as the control API, world files and the
 * timeline describe it: text or media, and who it appears to come from.
 * It is plain data on its own, because the simulator keeps scheduled ones in
 * its timeline while the world decides whether Telegram would let them
 * through.
 */
export interface MemberMessageInput {
  from_id: number;
  text?: string;
  caption?: string;
  entities?: unknown[];
  /** `true` for a generated picture, or base64 image data. */
  photo?: boolean | string;
  /** `true`, a file name, or `{file_name, mime_type, content}` (content as text). */
  document?: boolean | string | { file_name?: string; mime_type?: string; content?: string };
  reply_to_message_id?: number;
  /** Post as this channel (the user must run it). */
  sender_chat_id?: number;
  /** Post anonymously as the group (the user must be an administrator). */
  anonymous?: boolean;
  /** Make it a forward of something this user wrote elsewhere. */
  forward_from_id?: number;
  forward_from_chat_id?: number;
  /** Show the forward as from a hidden account with this name. */
  forward_sender_name?: string;
  /** In private chats: the bot written to, by username, when there are several. */
  bot?: string;
  /** Simulated date to stamp (defaults to now); history only. */
  date?: number;
}
