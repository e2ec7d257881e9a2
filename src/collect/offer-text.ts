import type { Message, MessageEntity } from "grammy/types";

/**
 * The text an offer is judged by: one function, so the recorder's detector
 * (whose verdict the trade guard and `trade_offer` triggers act on) and the
 * scenario's keyword triggers read the same words.
 *
 * Sellers put offers where the plain text is not: in the caption of a photo,
 * behind a link ("prijslijst" pointing at a shop), in the link a preview
 * shows, in the name of the channel a post was forwarded from, or in the
 * inline bot it was sent through (`via @shop_bot`). So the judged text is the
 * message's own words (text, caption, or a poll's question and options), then
 * one line per thing a member sees besides them:
 *
 * - the URL of every `text_link` entity (the text shows only the link's
 *   words; `url` entities are already in the text);
 * - the URL a link preview shows (`link_preview_options.url`), which the text
 *   need not contain. The Bot API gives bots no preview title, description or
 *   picture, so what a preview page says cannot be judged: only its address;
 * - the title and username of the chat or channel a forward comes from (a
 *   channel's name is its advert: "Cobra Verkoop NL"). A forwarded person's
 *   name is not judged, as no sender's name is: it says who, not what;
 * - the username of the inline bot a message was sent through, written
 *   without `@` so it does not read as a contact handle.
 *
 * Each on its own line, so the detector never reads a price on one line and
 * an item on another as one phrase. Undefined when a message carries none of
 * these (a sticker, a service message).
 */
export function offerText(message: Message): string | undefined {
  const body = ownWords(message);
  // Most messages are words alone: answered without building anything (this runs for every one).
  if (
    message.forward_origin === undefined &&
    message.via_bot === undefined &&
    message.link_preview_options?.url === undefined &&
    !hasTextLink(message.entities ?? message.caption_entities)
  )
    return body === "" ? undefined : body;
  const lines: string[] = [];
  if (body !== undefined && body !== "") lines.push(body);
  // Each address once, and not when the words show it already.
  const links = new Set<string>();
  const addLink = (url: string | undefined) => {
    if (!url || links.has(url) || body?.includes(url)) return;
    links.add(url);
    lines.push(url);
  };
  for (const entity of message.entities ?? message.caption_entities ?? []) addLink(linkOf(entity));
  addLink(message.link_preview_options?.url);
  const origin = message.forward_origin;
  if (origin?.type === "channel") lines.push(...chatNames(origin.chat));
  else if (origin?.type === "chat") lines.push(...chatNames(origin.sender_chat));
  const viaBot = message.via_bot?.username;
  if (viaBot) lines.push(viaBot);
  return lines.length > 0 ? lines.join("\n") : undefined;
}

/** What the member wrote: the text, a caption, or a poll's question and options. */
function ownWords(message: Message): string | undefined {
  if (message.text !== undefined) return message.text;
  if (message.caption !== undefined) return message.caption;
  if (message.poll)
    return [message.poll.question, ...message.poll.options.map((o) => o.text)].join("\n");
  return undefined;
}

function hasTextLink(entities: readonly MessageEntity[] | undefined): boolean {
  if (!entities) return false;
  for (const entity of entities) if (entity.type === "text_link") return true;
  return false;
}

function linkOf(entity: MessageEntity): string | undefined {
  return entity.type === "text_link" ? entity.url : undefined;
}

function chatNames(chat: { title?: string; username?: string }): string[] {
  return [chat.title, chat.username].filter((s): s is string => typeof s === "string" && s !== "");
}
