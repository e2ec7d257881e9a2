/**
 * `parse_mode` support: turns HTML or MarkdownV2 markup into plain text plus
 * entities, as Telegram stores sent messages, and refuses malformed markup
 * with Telegram's "can't parse entities" error.
 */
import { badRequest } from "../errors.ts";
import { detectEntities, type MessageEntity } from "./entities.ts";

const HTML_TAGS: Record<string, string> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  code: "code",
  pre: "pre",
  a: "text_link",
  "tg-spoiler": "spoiler",
  blockquote: "blockquote",
};

const HTML_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function byteOffset(source: string, index: number) {
  return Buffer.byteLength(source.slice(0, index));
}

function cantParse(detail: string) {
  return badRequest(`can't parse entities: ${detail}`);
}

export function parseHtml(source: string): { text: string; entities: MessageEntity[] } {
  let text = "";
  const entities: MessageEntity[] = [];
  const open: { tag: string; type: string; offset: number; url?: string; language?: string }[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === "&") {
      const end = source.indexOf(";", i);
      const name = end === -1 ? "" : source.slice(i + 1, end);
      if (name.startsWith("#")) {
        const code = name[1] === "x" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        if (Number.isFinite(code)) {
          text += String.fromCodePoint(code);
          i = end + 1;
          continue;
        }
      }
      const decoded = HTML_ENTITIES[name];
      if (decoded !== undefined) {
        text += decoded;
        i = end + 1;
        continue;
      }
      text += ch;
      i++;
      continue;
    }
    if (ch !== "<") {
      text += ch;
      i++;
      continue;
    }
    const close = source.indexOf(">", i);
    if (close === -1) throw cantParse(`unclosed start tag at byte offset ${byteOffset(source, i)}`);
    const raw = source.slice(i + 1, close).trim();
    if (raw.startsWith("/")) {
      const name = raw.slice(1).trim().toLowerCase();
      const top = open.pop();
      if (!top || top.tag !== name) {
        throw cantParse(
          `Unmatched end tag at byte offset ${byteOffset(source, i)}, expected "</${top?.tag ?? ""}>", found "</${name}>"`,
        );
      }
      if (text.length > top.offset) {
        entities.push({
          type: top.type,
          offset: top.offset,
          length: text.length - top.offset,
          ...(top.url ? { url: top.url } : {}),
          ...(top.language ? { language: top.language } : {}),
        });
      }
    } else {
      const name = (raw.split(/\s/)[0] ?? "").toLowerCase();
      let type = HTML_TAGS[name];
      const attributes = Object.fromEntries(
        [...raw.matchAll(/([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))/g)].map((m) => [
          (m[1] as string).toLowerCase(),
          m[2] ?? m[3] ?? m[4] ?? "",
        ]),
      );
      if (name === "span" && attributes.class === "tg-spoiler") type = "spoiler";
      if (name === "tg-emoji") type = "custom_emoji";
      if (!type) {
        throw cantParse(`Unsupported start tag "${name}" at byte offset ${byteOffset(source, i)}`);
      }
      if (
        name === "code" &&
        open.at(-1)?.tag === "pre" &&
        attributes.class?.startsWith("language-")
      ) {
        const pre = open.at(-1);
        if (pre) pre.language = attributes.class.slice("language-".length);
        type = "";
      }
      open.push({
        tag: name,
        type,
        offset: text.length,
        ...(name === "a" && attributes.href ? { url: attributes.href } : {}),
      });
    }
    i = close + 1;
  }
  if (open.length > 0) {
    throw cantParse(`Can't find end tag corresponding to start tag "${open.at(-1)?.tag}"`);
  }
  return {
    text,
    entities: entities.filter((e) => e.type !== "").sort((a, b) => a.offset - b.offset),
  };
}

const MD_MARKS: [string, string][] = [
  ["||", "spoiler"],
  ["__", "underline"],
  ["*", "bold"],
  ["_", "italic"],
  ["~", "strikethrough"],
  ["```", "pre"],
  ["`", "code"],
];
const MD_RESERVED = "_*[]()~`>#+-=|{}.!";

export function parseMarkdownV2(source: string): { text: string; entities: MessageEntity[] } {
  let text = "";
  const entities: MessageEntity[] = [];
  const open: { mark: string; type: string; offset: number }[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === "\\") {
      text += source[i + 1] ?? "";
      i += 2;
      continue;
    }
    const inCode = open.at(-1)?.type === "code" || open.at(-1)?.type === "pre";
    const mark = MD_MARKS.find(
      ([m]) => source.startsWith(m, i) && (!inCode || m === open.at(-1)?.mark),
    );
    if (mark) {
      const [m, type] = mark;
      const top = open.at(-1);
      if (top && top.mark === m) {
        open.pop();
        entities.push({ type, offset: top.offset, length: text.length - top.offset });
      } else {
        open.push({ mark: m, type, offset: text.length });
      }
      i += m.length;
      continue;
    }
    if (ch === "[" && !inCode) {
      const end = source.indexOf("](", i);
      const close = end === -1 ? -1 : source.indexOf(")", end);
      if (close === -1)
        throw cantParse(`Can't find end of a URL at byte offset ${byteOffset(source, i)}`);
      const label = parseMarkdownV2(source.slice(i + 1, end));
      const offset = text.length;
      text += label.text;
      for (const e of label.entities) entities.push({ ...e, offset: e.offset + offset });
      entities.push({
        type: "text_link",
        offset,
        length: label.text.length,
        url: source.slice(end + 2, close),
      });
      i = close + 1;
      continue;
    }
    if (!inCode && MD_RESERVED.includes(ch) && ch !== "]" && ch !== ")") {
      throw cantParse(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    }
    text += ch;
    i++;
  }
  if (open.length > 0) {
    throw cantParse(
      `Can't find end of ${open.at(-1)?.type} entity at byte offset ${byteOffset(source, source.length)}`,
    );
  }
  return { text, entities: entities.sort((a, b) => a.offset - b.offset) };
}

/**
 * Applies a send or edit call's formatting: `parse_mode` markup, explicit
 * entities, or (as Telegram's clients do) automatically detected ones.
 */
export function formatText(
  text: string,
  parseMode: unknown,
  explicit: unknown,
): { text: string; entities: MessageEntity[] } {
  if (Array.isArray(explicit)) return { text, entities: explicit as MessageEntity[] };
  const mode = typeof parseMode === "string" ? parseMode.toLowerCase() : "";
  let parsed: { text: string; entities: MessageEntity[] };
  if (mode === "html") parsed = parseHtml(text);
  else if (mode === "markdownv2") parsed = parseMarkdownV2(text);
  else if (mode === "" || mode === "markdown") parsed = { text, entities: [] };
  else throw badRequest(`unsupported parse_mode`);
  const auto = detectEntities(parsed.text).filter(
    (a) =>
      !parsed.entities.some(
        (e) => a.offset < e.offset + e.length && e.offset < a.offset + a.length,
      ),
  );
  return {
    text: parsed.text,
    entities: [...parsed.entities, ...auto].sort((a, b) => a.offset - b.offset),
  };
}
