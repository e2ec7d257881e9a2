/**
 * Sending, forwarding, copying, editing, deleting and pinning messages.
 */
import type { TgMessage } from "../bot-api-objects.ts";
import { BotApiError, badRequest, tooManyRequests } from "../errors.ts";
import {
  audioOf,
  documentOf,
  type FileKind,
  type FileRecord,
  photoSize,
  storeFile,
  storeUpload,
  videoOf,
} from "../files.ts";
import type { BotState, ChatState, StoredMessage } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import type { FileInput } from "../spec/params.ts";
import { chatObject } from "../world/chats.ts";
import { deliverMessage, isAdmin } from "../world/delivery.ts";
import { linkPreviewOptions } from "../world/entities.ts";
import { formatText } from "../world/format.ts";
import { memberOf } from "../world/members.ts";
import {
  editMessage,
  externalReply,
  liveMessage,
  markDeleted,
  messageOrigin,
  nestedCopy,
  type PostOptions,
  postMessage,
  postServiceMessage,
  type Thread,
  threadOf,
} from "../world/messages.ts";
import { contentKind, sendRefusal } from "../world/permissions.ts";
import { closedTopicRefusal, openedTopic, sendThread } from "../world/topics.ts";
import {
  chatParam,
  hasRight,
  type MethodContext,
  type MethodTable,
  requireBotInChat,
  requireDialogOpen,
} from "./context.ts";

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const DELETE_WINDOW_SECONDS = 48 * 3600;

/** Everything that must hold before the calling bot may post `kind` into `chat`. */
function prepareSend(ctx: MethodContext, chat: ChatState, kind: string) {
  const { sim, bot } = ctx;
  if (chat.peer) {
    requireDialogOpen(sim, bot, chat);
  } else {
    const m = requireBotInChat(sim, bot, chat);
    if (chat.type === "channel") {
      if (!hasRight(m, "can_post_messages"))
        throw badRequest("need administrator rights in the channel chat");
    } else {
      const refusal = sendRefusal(chat, m, kind);
      if (refusal) throw badRequest(refusal);
    }
  }
}

function takeRateSlot(sim: Simulator, bot: BotState, chat: ChatState) {
  const retry = sim.limits.take(bot.user.id, chat.id, chat.type !== "private", sim.limitsNowMs());
  if (retry > 0) throw tooManyRequests(retry);
}

function replyTarget(ctx: MethodContext, chat: ChatState): StoredMessage | undefined {
  const parameters = ctx.params.reply_parameters as
    | { message_id?: number; chat_id?: number | string; allow_sending_without_reply?: boolean }
    | undefined;
  const legacyId = ctx.raw.reply_to_message_id;
  const id = parameters?.message_id ?? (legacyId === undefined ? undefined : Number(legacyId));
  if (id === undefined) return undefined;
  const target = liveMessage(chat, id);
  const allowMissing =
    parameters?.allow_sending_without_reply ??
    ["true", true, "1"].includes(ctx.raw.allow_sending_without_reply as string | boolean);
  if (!target && !allowMissing) throw badRequest("message to be replied not found");
  return target;
}

function inlineMarkup(value: unknown): unknown {
  if (!value || typeof value !== "object" || !("inline_keyboard" in value)) return undefined;
  const rows = (value as { inline_keyboard: unknown }).inline_keyboard;
  if (!Array.isArray(rows) || rows.some((row) => !Array.isArray(row))) {
    throw badRequest(
      'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
    );
  }
  for (const row of rows as Record<string, unknown>[][]) {
    for (const button of row) {
      if (typeof button?.text !== "string") throw badRequest('can\'t find field "text"');
      const data = button.callback_data;
      if (typeof data === "string" && (Buffer.byteLength(data) > 64 || data.length === 0)) {
        throw badRequest("BUTTON_DATA_INVALID");
      }
    }
  }
  return value;
}

function formattedText(
  text: string,
  parseMode: unknown,
  entities: unknown,
  limit: number,
  what: string,
) {
  const formatted = formatText(text, parseMode, entities);
  if (formatted.text.length > limit) throw badRequest(`${what} is too long`);
  return formatted;
}

/** The `message_thread_id` asked for; Telegram reads a negative one as none. */
function requestedThread(ctx: MethodContext): number | undefined {
  const id = ctx.params.message_thread_id;
  return typeof id === "number" && id > 0 ? id : undefined;
}

/** Where a message the bot sends goes: its topic or thread, and what it answers. */
type Placement = Pick<PostOptions, "thread" | "replyTo" | "externalReply">;

/**
 * The topic (or thread) and the reply of a message the calling bot sends, in
 * Telegram's order: the topic must exist, then the message replied to, then
 * the topic must be open to the bot.
 */
function placement(ctx: MethodContext, chat: ChatState, withReply = true): Placement {
  const requested = requestedThread(ctx);
  if (chat.peer) {
    // Bots without topic mode have no topics in private chats.
    if (requested !== undefined) throw badRequest("message thread not found");
  } else if (requested !== undefined) {
    const exists = sendThread(chat, requested, undefined, true);
    if (!exists.ok) throw badRequest(exists.refusal);
  }
  const replyTo = withReply ? replyTarget(ctx, chat) : undefined;
  const choice = sendThread(chat, requested, replyTo, true);
  if (!choice.ok) throw badRequest(choice.refusal);
  if (!chat.peer) {
    const m = memberOf(ctx.sim, chat, ctx.bot.user.id);
    const closed = closedTopicRefusal(chat, choice.thread, m, ctx.bot.user.id);
    if (closed) throw badRequest(closed);
  }
  return {
    ...(choice.thread ? { thread: choice.thread } : {}),
    ...(replyTo && choice.crossTopic
      ? { externalReply: externalReply(ctx.sim, chat, replyTo) }
      : {}),
    ...(replyTo && !choice.crossTopic ? { replyTo } : {}),
  };
}

/** Who a message the calling bot sends comes from: the bot, or in a channel the channel. */
function botAuthor(ctx: MethodContext, chat: ChatState): PostOptions {
  const channel = chat.type === "channel";
  return {
    fromId: channel ? 0 : ctx.bot.user.id,
    senderId: ctx.bot.user.id,
    ...(channel ? { senderChat: chatObject(ctx.sim, chat) } : {}),
  };
}

function post(ctx: MethodContext, chat: ChatState, content: Record<string, unknown>): TgMessage {
  const { sim, bot } = ctx;
  prepareSend(ctx, chat, contentKind(content));
  const where = placement(ctx, chat);
  const replyMarkup = inlineMarkup(ctx.params.reply_markup);
  takeRateSlot(sim, bot, chat);
  const stored = postMessage(sim, chat, content, {
    ...botAuthor(ctx, chat),
    ...where,
    ...(replyMarkup ? { replyMarkup } : {}),
  });
  if (ctx.params.protect_content) stored.message.has_protected_content = true;
  return stored.message;
}

function captionContent(ctx: MethodContext): Record<string, unknown> {
  const caption = ctx.params.caption;
  if (typeof caption !== "string" || caption === "") return {};
  const formatted = formattedText(
    caption,
    ctx.params.parse_mode,
    ctx.params.caption_entities,
    MAX_CAPTION,
    "message caption",
  );
  return {
    caption: formatted.text,
    ...(formatted.entities.length > 0 ? { caption_entities: formatted.entities } : {}),
  };
}

/** Resolves an InputFile parameter: a fresh upload, a known file_id, or a URL Telegram would fetch. */
function inputFile(sim: Simulator, input: FileInput, kind: FileKind): FileRecord {
  if ("upload" in input) return storeUpload(sim.files, kind, input.upload);
  const known = sim.files.byId.get(input.ref);
  if (known) return known;
  if (/^https?:\/\//i.test(input.ref)) {
    // The simulator has no network: a URL stands for a file it pretends to download.
    const name = input.ref.split("/").pop()?.split("?")[0] || "file";
    return storeFile(sim.files, kind, Buffer.from(input.ref), { file_name: name });
  }
  throw badRequest("wrong file identifier/HTTP URL specified");
}

function sendMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const text = ctx.params.text as string;
  const formatted = formattedText(
    text,
    ctx.params.parse_mode,
    ctx.params.entities,
    MAX_TEXT,
    "message",
  );
  if (formatted.text.trim() === "") throw badRequest("message text is empty");
  const preview = linkPreviewOptions(formatted.entities, ctx.params.link_preview_options);
  return post(ctx, chat, {
    text: formatted.text,
    ...(formatted.entities.length > 0 ? { entities: formatted.entities } : {}),
    ...(preview ? { link_preview_options: preview } : {}),
  });
}

function sendPhoto(ctx: MethodContext) {
  const chat = chatParam(ctx);
  prepareSend(ctx, chat, "photo");
  const record = inputFile(ctx.sim, ctx.params.photo as FileInput, "photo");
  if (record.kind === "document") throw badRequest("wrong file identifier/HTTP URL specified");
  return post(ctx, chat, {
    photo: [photoSize(record)],
    ...captionContent(ctx),
    ...(ctx.params.has_spoiler ? { has_media_spoiler: true } : {}),
    ...(ctx.params.show_caption_above_media ? { show_caption_above_media: true } : {}),
  });
}

function sendDocument(ctx: MethodContext) {
  const chat = chatParam(ctx);
  prepareSend(ctx, chat, "document");
  const record = inputFile(ctx.sim, ctx.params.document as FileInput, "document");
  return post(ctx, chat, { document: documentOf(record), ...captionContent(ctx) });
}

function sendVideo(ctx: MethodContext) {
  const chat = chatParam(ctx);
  prepareSend(ctx, chat, "video");
  const record = inputFile(ctx.sim, ctx.params.video as FileInput, "video");
  for (const key of ["width", "height", "duration"] as const) {
    const value = ctx.params[key];
    if (typeof value === "number" && value > 0) record[key] = value;
  }
  return post(ctx, chat, {
    video: videoOf(record),
    ...captionContent(ctx),
    ...(ctx.params.has_spoiler ? { has_media_spoiler: true } : {}),
    ...(ctx.params.show_caption_above_media ? { show_caption_above_media: true } : {}),
  });
}

/** What each InputMedia type of an album becomes: the file kind and the Message field. */
const ALBUM_MEDIA: Record<string, FileKind> = {
  photo: "photo",
  video: "video",
  document: "document",
  audio: "audio",
};

/** Telegram's limit on the items of one album. */
const MAX_ALBUM_ITEMS = 10;

function mediaField(kind: FileKind, record: FileRecord): Record<string, unknown> {
  switch (kind) {
    case "photo":
      return { photo: [photoSize(record)] };
    case "video":
      return { video: videoOf(record) };
    case "audio":
      return { audio: audioOf(record) };
    default:
      return { document: documentOf(record) };
  }
}

/** "Can't parse entities: …" inside a message that starts with its own words. */
function capitalized(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * One InputMedia of sendMediaGroup as Telegram reads it, refused in its
 * words ("can't parse InputMedia: …"); the file is not stored yet.
 */
function albumItem(ctx: MethodContext, value: unknown) {
  const refuse = (reason: string) => badRequest(`can't parse InputMedia: ${reason}`);
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw refuse("expected an Object");
  const item = value as Record<string, unknown>;
  let caption: { text: string; entities: unknown[] } = { text: "", entities: [] };
  if (typeof item.caption === "string" && item.caption !== "") {
    try {
      caption = formatText(item.caption, item.parse_mode, item.caption_entities);
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      throw refuse(capitalized(error.description.replace(/^Bad Request: /, "")));
    }
  }
  if (typeof item.type !== "string") throw refuse('Can\'t find field "type"');
  const type = item.type;
  const media = typeof item.media === "string" ? item.media : "";
  let file: FileInput | undefined;
  if (media.startsWith("attach://")) {
    const upload = ctx.uploads.get(media.slice("attach://".length));
    if (upload) file = { upload };
  } else if (media !== "") {
    file = { ref: media };
  }
  if (!file) throw refuse("media not found");
  if (type === "animation") throw refuse('type "animation" can\'t be used in sendMediaGroup');
  const kind = ALBUM_MEDIA[type];
  if (!kind) throw refuse(`type "${type}" is unsupported`);
  return {
    kind,
    file,
    caption,
    aboveMedia: item.show_caption_above_media === true,
    spoiler: item.has_spoiler === true && (kind === "photo" || kind === "video"),
  };
}

/**
 * An album: 2–10 photos and videos, or documents, or audios, sent as
 * separate messages sharing a media_group_id. One item is sent as an
 * ordinary message (Telegram does the same), so the result is an array of
 * one without media_group_id.
 */
function sendMediaGroup(ctx: MethodContext) {
  const items = (ctx.params.media as unknown[]).map((value) => albumItem(ctx, value));
  const chat = chatParam(ctx);
  if (items.length === 0) {
    if (!chat.peer) requireBotInChat(ctx.sim, ctx.bot, chat);
    throw badRequest("there are no messages to send");
  }
  for (const item of items) prepareSend(ctx, chat, item.kind);
  for (const item of items) {
    if (item.caption.text.length > MAX_CAPTION) throw badRequest("message caption is too long");
  }
  if (items.length > MAX_ALBUM_ITEMS) throw badRequest("too many messages to send as an album");
  const kinds = new Set(items.map((i) => i.kind));
  for (const lone of ["document", "audio"] as const) {
    if (kinds.has(lone) && kinds.size > 1) {
      throw badRequest(`${lone} can't be mixed with other media types`);
    }
  }
  if (items.some((i) => i.aboveMedia !== items[0]?.aboveMedia)) {
    throw badRequest("parameter show_caption_above_media must be the same for all messages");
  }
  const where = placement(ctx, chat);
  takeRateSlot(ctx.sim, ctx.bot, chat);
  const contents = items.map((item) => {
    const record = inputFile(ctx.sim, item.file, item.kind);
    return {
      ...mediaField(item.kind, record),
      ...(item.caption.text !== "" ? { caption: item.caption.text } : {}),
      ...(item.caption.entities.length > 0 ? { caption_entities: item.caption.entities } : {}),
      ...(item.aboveMedia ? { show_caption_above_media: true } : {}),
      ...(item.spoiler ? { has_media_spoiler: true } : {}),
    };
  });
  const mediaGroupId = contents.length > 1 ? ctx.sim.ids.mediaGroup() : undefined;
  const stored = contents.map((content) =>
    postMessage(ctx.sim, chat, content, {
      ...botAuthor(ctx, chat),
      ...where,
      ...(mediaGroupId ? { mediaGroupId } : {}),
      silent: true,
    }),
  );
  for (const message of stored) {
    if (ctx.params.protect_content) message.message.has_protected_content = true;
    deliverMessage(ctx.sim, chat, message, false);
  }
  return stored.map((message) => message.message);
}

const COPYABLE_CONTENT = [
  "text",
  "entities",
  "link_preview_options",
  "caption",
  "caption_entities",
  "photo",
  "video",
  "audio",
  "document",
  "has_media_spoiler",
  "show_caption_above_media",
];

function copyableContent(message: TgMessage): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const key of COPYABLE_CONTENT) if (message[key] !== undefined) content[key] = message[key];
  return content;
}

/** A message the calling bot can see in `from_chat_id`. */
function sourceMessage(ctx: MethodContext, notFound: string): [ChatState, StoredMessage] {
  const from = chatParam(ctx, "from_chat_id");
  if (!from.peer) requireBotInChat(ctx.sim, ctx.bot, from);
  const stored = liveMessage(from, ctx.params.message_id);
  if (!stored) throw badRequest(notFound);
  if (stored.isService) throw badRequest("message can't be forwarded");
  return [from, stored];
}

function forwardMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const [from, stored] = sourceMessage(ctx, "message to forward not found");
  if (stored.message.has_protected_content) throw badRequest("message can't be forwarded");
  const content = copyableContent(stored.message);
  prepareSend(ctx, chat, contentKind(content));
  const where = placement(ctx, chat, false);
  takeRateSlot(ctx.sim, ctx.bot, chat);
  return postMessage(ctx.sim, chat, content, {
    ...botAuthor(ctx, chat),
    ...where,
    forwardOrigin: messageOrigin(ctx.sim, from, stored),
  }).message;
}

function copyMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const [, stored] = sourceMessage(ctx, "message to copy not found");
  if (stored.message.has_protected_content) throw badRequest("message can't be copied");
  const content = copyableContent(stored.message);
  if (ctx.params.caption !== undefined && (content.photo || content.document)) {
    delete content.caption_entities;
    Object.assign(content, captionContent(ctx));
  }
  return { message_id: post(ctx, chat, content).message_id };
}

function editMessageText(ctx: MethodContext) {
  if (ctx.params.inline_message_id !== undefined) throw badRequest("MESSAGE_ID_INVALID");
  if (ctx.params.chat_id === undefined) throw badRequest("chat_id is empty");
  if (ctx.params.message_id === undefined) throw badRequest("message identifier is not specified");
  const text = ctx.params.text;
  if (typeof text !== "string" || text === "") throw badRequest("message text is empty");
  const chat = chatParam(ctx);
  if (!chat.peer) requireBotInChat(ctx.sim, ctx.bot, chat);
  const stored = liveMessage(chat, ctx.params.message_id);
  if (!stored) throw badRequest("message to edit not found");
  if (stored.senderId !== ctx.bot.user.id || stored.isService)
    throw badRequest("message can't be edited");
  if (stored.message.text === undefined)
    throw badRequest("there is no text in the message to edit");
  const formatted = formattedText(
    text,
    ctx.params.parse_mode,
    ctx.params.entities,
    MAX_TEXT,
    "message",
  );
  const markup = inlineMarkup(ctx.params.reply_markup);
  const entities = formatted.entities.length > 0 ? formatted.entities : undefined;
  const unchanged =
    formatted.text === stored.message.text &&
    JSON.stringify(entities) === JSON.stringify(stored.message.entities) &&
    JSON.stringify(markup) === JSON.stringify(stored.message.reply_markup);
  if (unchanged) {
    throw badRequest(
      "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
    );
  }
  editMessage(ctx.sim, chat, stored, { text: formatted.text, entities, reply_markup: markup });
  return stored.message;
}

/** Why the calling bot may not delete `stored` in `chat`, or undefined when it may. */
function deletionRefusal(
  ctx: MethodContext,
  chat: ChatState,
  stored: StoredMessage,
): string | undefined {
  const own = stored.senderId === ctx.bot.user.id;
  // A topic's first message goes only with the topic (deleteForumTopic).
  if (openedTopic(chat, stored)) return "message can't be deleted";
  if (!chat.peer) {
    const m = requireBotInChat(ctx.sim, ctx.bot, chat);
    const allowed =
      own || (chat.type === "group" ? isAdmin(m) : hasRight(m, "can_delete_messages"));
    if (!allowed) return "message can't be deleted";
  }
  if (ctx.sim.clock.now() - stored.message.date >= DELETE_WINDOW_SECONDS) {
    return "message can't be deleted for everyone";
  }
  return undefined;
}

function deleteMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  if (!chat.peer) requireBotInChat(ctx.sim, ctx.bot, chat);
  const stored = liveMessage(chat, ctx.params.message_id);
  if (!stored) throw badRequest("message to delete not found");
  const refusal = deletionRefusal(ctx, chat, stored);
  if (refusal) throw badRequest(refusal);
  markDeleted(ctx.sim, chat, stored, ctx.bot.user.id);
  return true;
}

function deleteMessages(ctx: MethodContext) {
  const chat = chatParam(ctx);
  const ids = ctx.params.message_ids as unknown[];
  if (ids.length === 0) throw badRequest("message identifiers are not specified");
  if (ids.length > 100) throw badRequest("too many message identifiers specified");
  if (!chat.peer) requireBotInChat(ctx.sim, ctx.bot, chat);
  const found = ids.map((id) => liveMessage(chat, id)).filter((s) => s !== undefined);
  for (const stored of found) {
    const refusal = deletionRefusal(ctx, chat, stored);
    if (refusal) throw badRequest(refusal);
  }
  for (const stored of found) markDeleted(ctx.sim, chat, stored, ctx.bot.user.id);
  return true;
}

/**
 * Pinning needs can_edit_messages in channels and can_pin_messages in
 * groups. A bot must hold it as an administrator: the chat's permissions
 * let members pin, but not bots (Telegram grants bots no member permission
 * that only an administrator right can give).
 */
function requirePinRight(ctx: MethodContext, chat: ChatState) {
  if (chat.peer) return;
  const m = requireBotInChat(ctx.sim, ctx.bot, chat);
  const allowed = hasRight(m, chat.type === "channel" ? "can_edit_messages" : "can_pin_messages");
  if (!allowed) throw badRequest("not enough rights to manage pinned messages in the chat");
}

function pinChatMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requirePinRight(ctx, chat);
  const stored = liveMessage(chat, ctx.params.message_id);
  if (!stored || stored.isService) throw badRequest("message to pin not found");
  const id = stored.message.message_id;
  chat.pinned = [...chat.pinned.filter((p) => p !== id), id];
  // In a forum the notice goes to the pinned message's topic.
  const thread: Thread | undefined = chat.isForum ? threadOf(stored) : undefined;
  postServiceMessage(
    ctx.sim,
    chat,
    ctx.bot.user.id,
    { pinned_message: nestedCopy(stored.message) },
    thread?.isTopic ? { thread } : {},
  );
  return true;
}

function unpinChatMessage(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requirePinRight(ctx, chat);
  const id = ctx.params.message_id as number | undefined;
  if (id === undefined) {
    chat.pinned = chat.pinned.slice(0, -1);
    return true;
  }
  if (!liveMessage(chat, id)) throw badRequest("message to unpin not found");
  chat.pinned = chat.pinned.filter((p) => p !== id);
  return true;
}

function unpinAllChatMessages(ctx: MethodContext) {
  const chat = chatParam(ctx);
  requirePinRight(ctx, chat);
  chat.pinned = [];
  return true;
}

const CHAT_ACTIONS: Record<string, string> = {
  typing: "text",
  upload_photo: "photo",
  record_video: "video",
  upload_video: "video",
  record_voice: "voice",
  upload_voice: "voice",
  upload_document: "document",
  choose_sticker: "sticker",
  find_location: "text",
  record_video_note: "video_note",
  upload_video_note: "video_note",
};

function sendChatAction(ctx: MethodContext) {
  const kind = CHAT_ACTIONS[ctx.params.action as string];
  if (!kind) throw badRequest("wrong parameter action in request");
  const chat = chatParam(ctx);
  prepareSend(ctx, chat, kind);
  return true;
}

export const messageMethods: MethodTable = {
  sendMessage,
  sendPhoto,
  sendDocument,
  sendVideo,
  sendMediaGroup,
  forwardMessage,
  copyMessage,
  editMessageText,
  deleteMessage,
  deleteMessages,
  pinChatMessage,
  unpinChatMessage,
  unpinAllChatMessages,
  sendChatAction,
};
