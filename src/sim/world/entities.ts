/**
 * Entities Telegram's clients detect in plain text: bot commands, mentions,
 * hashtags, cashtags, URLs and e-mail addresses. grammY's command handling
 * relies on the `bot_command` entity, so member messages need them.
 * Offsets and lengths are UTF-16 code units, which is what JavaScript
 * string indices already are.
 */

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  user?: unknown;
  language?: string;
  custom_emoji_id?: string;
}

const PATTERNS: [string, RegExp][] = [
  ["bot_command", /(?<![\w/])\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])/g],
  ["email", /(?<![\w.@])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w@])/g],
  ["mention", /(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)/g],
  ["hashtag", /(?<![\w#])#[\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*/gu],
  ["cashtag", /(?<![\w$])\$[A-Z]{3,8}(?![\w])/g],
  ["url", /(?<![\w@/])(?:https?:\/\/)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:\/[^\s]*)?/g],
];

export function detectEntities(text: string): MessageEntity[] {
  const found: MessageEntity[] = [];
  const taken: [number, number][] = [];
  for (const [type, pattern] of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const offset = match.index ?? 0;
      const end = offset + match[0].length;
      if (taken.some(([a, b]) => offset < b && end > a)) continue;
      if (type === "url" && !/[a-z]{2,}/i.test(match[0].split(".").pop() ?? "")) continue;
      taken.push([offset, end]);
      found.push({ type, offset, length: match[0].length });
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/**
 * The `link_preview_options` a text message carries, as Telegram reports
 * them: only what differs from the default (a preview of the first link,
 * below the text). Asking to disable the preview of a text without any link
 * changes nothing, so it is not reported.
 */
export function linkPreviewOptions(
  entities: readonly MessageEntity[],
  options: unknown,
): Record<string, unknown> | undefined {
  if (!options || typeof options !== "object") return undefined;
  const given = options as Record<string, unknown>;
  const hasLink = entities.some((e) => e.type === "url" || e.type === "text_link");
  const out: Record<string, unknown> = {};
  if (given.is_disabled === true && hasLink) out.is_disabled = true;
  if (typeof given.url === "string" && given.url !== "") out.url = given.url;
  for (const flag of ["prefer_small_media", "prefer_large_media", "show_above_text"]) {
    if (given[flag] === true) out[flag] = true;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
