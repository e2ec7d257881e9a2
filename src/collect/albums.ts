import type { RedisWrite } from "../store/cases.ts";
import type { Redis } from "../store/redis.ts";
import { collectKeys } from "./keys.ts";
import type { StoredMessage } from "./queries.ts";

/**
 * Albums as one unit. Telegram delivers an album as one update per item,
 * sharing a `media_group_id`, in any order and, across a restart, partly
 * later; usually only one item carries the caption that makes it an offer.
 * The recorder writes each item into the album's membership hash
 * (`collect.album`) in the item's own atomic step, so which items belong
 * together survives a restart. A removal of any item takes every item seen
 * (purge expands the selection) and marks the album `removed`, so items that
 * arrive afterwards are removed when they are seen (src/bot/features/album-guard.ts).
 * As evidence, the album is kept whole besides its items: every item, each
 * file's unique id and SHA-256 where downloaded, and the caption.
 */

/** Field of the membership hash that says the album was captured for removal. */
const REMOVED = "removed";

export interface AlbumMembership {
  /** The message ids of the items seen, ascending. */
  items: number[];
  removed: boolean;
}

export async function albumMembership(
  redis: Redis,
  caseId: string,
  chatId: number,
  mediaGroupId: string,
): Promise<AlbumMembership> {
  const raw = await redis.hgetall(collectKeys.album(caseId, chatId, mediaGroupId));
  const items = Object.keys(raw)
    .filter((f) => f !== REMOVED)
    .map(Number)
    .sort((a, b) => a - b);
  return { items, removed: raw[REMOVED] === "1" };
}

/** The album a stored message belongs to, if any. */
export function albumOf(stored: StoredMessage | undefined): string | undefined {
  const id = (stored?.message as { media_group_id?: unknown } | undefined)?.media_group_id;
  return typeof id === "string" ? id : undefined;
}

/** The `file_unique_id`s of a stored message's media (the largest photo size stands for the photo). */
function filesOf(message: Record<string, unknown>): string[] {
  const out: string[] = [];
  const photo = message.photo as Array<{ file_unique_id: string }> | undefined;
  if (photo?.length) out.push((photo.at(-1) as { file_unique_id: string }).file_unique_id);
  for (const field of ["video", "document", "audio", "animation"]) {
    const file = message[field] as { file_unique_id?: string } | undefined;
    if (file?.file_unique_id) out.push(file.file_unique_id);
  }
  return out;
}

/**
 * The writes that keep an album whole as evidence (`<chat>:album:<id>` in the
 * evidence hash, rewritten with every item known each time more are captured)
 * and mark it removed.
 */
export async function albumEvidenceWrites(
  redis: Redis,
  caseId: string,
  chatId: number,
  mediaGroupId: string,
  items: ReadonlyMap<number, StoredMessage>,
  request: string,
): Promise<RedisWrite[]> {
  const ids = [...items.keys()].sort((a, b) => a - b);
  const files = ids.flatMap((id) =>
    filesOf((items.get(id) as StoredMessage).message as unknown as Record<string, unknown>).map(
      (uid) => ({ message_id: id, file_unique_id: uid }),
    ),
  );
  const downloaded = files.length
    ? await redis.hmget(collectKeys.files(caseId), ...files.map((f) => f.file_unique_id))
    : [];
  const withHashes = files.map((f, i) => {
    const raw = downloaded[i];
    const known = raw ? (JSON.parse(raw) as { sha256?: string; size?: number }) : undefined;
    return known?.sha256 ? { ...f, sha256: known.sha256, size: known.size } : f;
  });
  const captionOf = (id: number) =>
    ((items.get(id) as StoredMessage).message as { caption?: string }).caption;
  const captioned = ids.filter((id) => captionOf(id) !== undefined);
  const unit = {
    captured_at: Date.now(),
    reason: "purge",
    request,
    media_group_id: mediaGroupId,
    message_ids: ids,
    captions: captioned.map((id) => ({
      message_id: id,
      caption: captionOf(id),
    })),
    files: withHashes,
  };
  return [
    ["HSET", collectKeys.evidence(caseId), `${chatId}:album:${mediaGroupId}`, JSON.stringify(unit)],
    ["HSET", collectKeys.album(caseId, chatId, mediaGroupId), REMOVED, 1],
  ];
}
