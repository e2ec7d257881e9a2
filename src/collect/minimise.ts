import type { Message } from "grammy/types";

/**
 * Data minimisation: per case, which parts of a message the recorder keeps.
 * Who wrote what and when (ids, names, dates, counts, membership events) is
 * always kept, because every takeover action depends on it; the categories
 * below are what a case may decline to keep, e.g. text but no media.
 */

export const COLLECTION_CATEGORIES = {
  text: "message text and captions with their entities (links included), poll questions and options, the link preview's address",
  media: "media metadata: file_id, file_unique_id, size, MIME type, file name, dimensions",
  files: "download media files (up to 20 MB, the Bot API's limit) into the evidence folder",
  forwards: "where a forwarded message came from (forward origin)",
  contacts: "shared contacts (phone numbers)",
  locations: "shared locations and venues",
  bios: "the bio a person shows with a join request",
  profiles: "language code and Telegram Premium status of members",
} as const;

export type CollectionCategory = keyof typeof COLLECTION_CATEGORIES;

export const ALL_CATEGORIES = Object.keys(COLLECTION_CATEGORIES) as CollectionCategory[];

/** Everything but file downloads, which fill disks and are asked for explicitly. */
export const DEFAULT_KEEP: readonly CollectionCategory[] = ALL_CATEGORIES.filter(
  (c) => c !== "files",
);

export class CollectionSettingsError extends Error {
  override name = "CollectionSettingsError";
}

/** `text,media` → the categories; `all` and `default` are accepted; `files` implies `media`. */
export function parseKeep(text: string): CollectionCategory[] {
  const words = text
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  if (words.length === 0)
    throw new CollectionSettingsError(
      `--keep needs a comma-separated list of ${ALL_CATEGORIES.join(", ")} (or all, default, none)`,
    );
  const chosen = new Set<CollectionCategory>();
  for (const word of words) {
    if (word === "all") for (const c of ALL_CATEGORIES) chosen.add(c);
    else if (word === "default") for (const c of DEFAULT_KEEP) chosen.add(c);
    else if (word === "none") continue;
    else if (word in COLLECTION_CATEGORIES) chosen.add(word as CollectionCategory);
    else
      throw new CollectionSettingsError(
        `"${word}" is not a collection category: choose from ${ALL_CATEGORIES.join(", ")} (or all, default, none)`,
      );
  }
  if (chosen.has("files")) chosen.add("media");
  return ALL_CATEGORIES.filter((c) => chosen.has(c));
}

/** The categories a case keeps, from its record's optional `collection` field. */
export function keptCategories(
  record: { collection?: { keep: string[] } } | undefined,
): Set<string> {
  return new Set(record?.collection?.keep ?? DEFAULT_KEEP);
}

/** Message fields that carry one file (a photo carries several sizes, see `mediaOf`). */
export const FILE_FIELDS = [
  "video",
  "animation",
  "document",
  "audio",
  "voice",
  "video_note",
  "sticker",
] as const;

const FIELDS: Record<Exclude<CollectionCategory, "files" | "bios" | "profiles">, string[]> = {
  text: [
    "text",
    "entities",
    "caption",
    "caption_entities",
    "poll",
    "quote",
    "link_preview_options",
  ],
  media: ["photo", ...FILE_FIELDS, "paid_media", "story"],
  forwards: ["forward_origin", "external_reply"],
  contacts: ["contact"],
  locations: ["location", "venue"],
};

/** The reply as a link (ids only): the replied message is stored in its own right when Warden saw it. */
function link(message: Message): Record<string, unknown> {
  return {
    message_id: message.message_id,
    ...(message.from ? { from_id: message.from.id } : {}),
    ...(message.sender_chat ? { sender_chat_id: message.sender_chat.id } : {}),
  };
}

/**
 * The message as Warden stores it: without the categories the case declines,
 * with replies and pins reduced to links, and without the chat object (the
 * chat is the key it is stored under; its title changes are service messages).
 */
export function minimiseMessage(message: Message, keep: Set<string>): Record<string, unknown> {
  // Destructuring (rather than deleting) keeps the copy a fast object for JSON.stringify.
  const { chat: _chat, reply_to_message: reply, pinned_message: pinned, ...rest } = message;
  const out: Record<string, unknown> = rest;
  if (keep.size < ALL_CATEGORIES.length) {
    for (const [category, fields] of Object.entries(FIELDS)) {
      if (keep.has(category)) continue;
      for (const field of fields) if (field in out) delete out[field];
    }
  }
  if (reply) out.reply_to_message = link(reply);
  if (pinned && "message_id" in pinned) out.pinned_message = link(pinned as Message);
  return out;
}
