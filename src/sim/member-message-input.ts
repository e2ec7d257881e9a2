/**
 * A message a person writes, as the control API, world files and the
 * timeline describe it: text or media, and who it appears to come from.
 * It is plain data on its own, because the simulator keeps scheduled ones in
 * its timeline while the world decides whether Telegram would let them
 * through.
 */

/** A file a person attaches: `true` for a stand-in, a file name, or its details. */
export type MemberFileInput =
  | boolean
  | string
  | { file_name?: string; mime_type?: string; content?: string };

export interface MemberMessageInput {
  from_id: number;
  text?: string;
  caption?: string;
  entities?: unknown[];
  /** `true` for a generated picture, or base64 image data. */
  photo?: boolean | string;
  /** `true`, a file name, or `{file_name, mime_type, content}` (content as text). */
  document?: MemberFileInput;
  /** `true`, a file name, or `{file_name, mime_type, content}`: a stand-in video. */
  video?: MemberFileInput;
  reply_to_message_id?: number;
  /** In a forum: the topic (its thread id; 1 or none for General). Ignored elsewhere, as on Telegram. */
  message_thread_id?: number;
  /** Post as this channel (the user must run it). */
  sender_chat_id?: number;
  /** Post anonymously as the group (the user must be an administrator). */
  anonymous?: boolean;
  /** Make it a forward of something this user wrote elsewhere. */
  forward_from_id?: number;
  /** Make it a forward from this channel (or group). */
  forward_from_chat_id?: number;
  /** The id of the forwarded post in that channel (default 1). */
  forward_from_message_id?: number;
  /** The forwarded channel post's author signature. */
  forward_signature?: string;
  /** Show the forward as from a hidden account with this name. */
  forward_sender_name?: string;
  /** Sent through this inline bot (a bot account's user id): the message shows `via_bot`. */
  via_bot_id?: number;
  /**
   * How the link preview of a text is shown: all a bot learns of a preview
   * (Telegram shows bots no page title or description). `url` previews a link
   * the text need not contain.
   */
  link_preview_options?: {
    is_disabled?: boolean;
    url?: string;
    prefer_small_media?: boolean;
    prefer_large_media?: boolean;
    show_above_text?: boolean;
  };
  /** In private chats: the bot written to, by username, when there are several. */
  bot?: string;
  /** Simulated date to stamp (defaults to now); history only. */
  date?: number;
}

/** One item of an album: a photo, a video or a document, with its own caption. */
export type MemberAlbumItem = Pick<
  MemberMessageInput,
  "photo" | "document" | "video" | "caption" | "entities"
>;

/**
 * An album a person posts: 2 to 10 items sent together, which bots receive
 * as separate messages sharing a `media_group_id`.
 */
export interface MemberAlbumInput
  extends Pick<
    MemberMessageInput,
    | "from_id"
    | "reply_to_message_id"
    | "message_thread_id"
    | "sender_chat_id"
    | "anonymous"
    | "via_bot_id"
    | "date"
  > {
  items: MemberAlbumItem[];
  /**
   * The order bots receive the items in, as item indexes (a permutation of
   * 0…n-1), or "reversed"; by default the order they were sent in. Message
   * ids always follow the items' order, as Telegram numbers them.
   */
  delivery_order?: number[] | "reversed";
}
