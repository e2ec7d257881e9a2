/**
 * The bot's own account: getMe, commands, callback answers, files and
 * profile photos, logOut and close.
 */
import { badRequest } from "../errors.ts";
import { fileObject, photoSize } from "../files.ts";
import type { BotCommand } from "../model.ts";
import { type MethodContext, type MethodTable, userParam } from "./context.ts";

/** Telegram answers callback queries for a limited time; the simulator is lenient (wall clock). */
const CALLBACK_ANSWER_WINDOW_MS = 15 * 60 * 1000;

function getMe(ctx: MethodContext) {
  return {
    ...ctx.bot.user,
    can_join_groups: ctx.bot.canJoinGroups,
    can_read_all_group_messages: !ctx.bot.privacy,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
  };
}

function commandsKey(ctx: MethodContext) {
  const scope = (ctx.params.scope as Record<string, unknown> | undefined) ?? { type: "default" };
  const validScopes = [
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
  ];
  if (!validScopes.includes(scope.type as string)) throw badRequest("wrong scope type specified");
  const language = (ctx.params.language_code as string | undefined) ?? "";
  if (language && !/^[a-z]{2}$/.test(language)) throw badRequest("invalid language code specified");
  const normalized = Object.fromEntries(
    Object.entries(scope).sort(([a], [b]) => a.localeCompare(b)),
  );
  return `${JSON.stringify(normalized)}|${language}`;
}

function setMyCommands(ctx: MethodContext) {
  const commands = ctx.params.commands as BotCommand[];
  if (commands.length > 100) throw badRequest("too many commands specified");
  const cleaned = commands.map((c) => {
    if (typeof c?.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command.replace(/^\//, ""))) {
      throw badRequest("BOT_COMMAND_INVALID");
    }
    if (
      typeof c.description !== "string" ||
      c.description.trim() === "" ||
      c.description.length > 256
    ) {
      throw badRequest("command description is empty");
    }
    return { command: c.command.replace(/^\//, ""), description: c.description };
  });
  const key = commandsKey(ctx);
  if (cleaned.length === 0) ctx.bot.commands.delete(key);
  else ctx.bot.commands.set(key, cleaned);
  return true;
}

function getMyCommands(ctx: MethodContext) {
  return ctx.bot.commands.get(commandsKey(ctx)) ?? [];
}

function deleteMyCommands(ctx: MethodContext) {
  ctx.bot.commands.delete(commandsKey(ctx));
  return true;
}

function answerCallbackQuery(ctx: MethodContext) {
  const id = ctx.params.callback_query_id as string;
  const query = ctx.sim.world.callbacks.get(id);
  const expired =
    !query || query.answer || Date.now() - query.createdAtMs > CALLBACK_ANSWER_WINDOW_MS;
  if (!query || expired || query.botId !== ctx.bot.user.id) {
    throw badRequest("query is too old and response timeout expired or query ID is invalid");
  }
  const text = ctx.params.text as string | undefined;
  if (text !== undefined && text.length > 200) throw badRequest("MESSAGE_TOO_LONG");
  query.answer = {
    ...(text !== undefined ? { text } : {}),
    ...(ctx.params.show_alert !== undefined
      ? { show_alert: ctx.params.show_alert as boolean }
      : {}),
    ...(ctx.params.url !== undefined ? { url: ctx.params.url as string } : {}),
    ...(ctx.params.cache_time !== undefined ? { cache_time: ctx.params.cache_time as number } : {}),
  };
  return true;
}

function getFile(ctx: MethodContext) {
  const record = ctx.sim.files.byId.get(ctx.params.file_id as string);
  if (!record) throw badRequest("invalid file_id");
  if (record.data.length > 20 * 1024 * 1024) throw badRequest("file is too big");
  return fileObject(record);
}

function getUserProfilePhotos(ctx: MethodContext) {
  const user = userParam(ctx);
  const offset = (ctx.params.offset as number | undefined) ?? 0;
  const limit = Math.min(100, Math.max(1, (ctx.params.limit as number | undefined) ?? 100));
  const photos = user.profilePhotos.slice(offset, offset + limit).map((p) => [photoSize(p)]);
  return { total_count: user.profilePhotos.length, photos };
}

export const botMethods: MethodTable = {
  getMe,
  logOut: () => true,
  close: () => true,
  setMyCommands,
  getMyCommands,
  deleteMyCommands,
  answerCallbackQuery,
  getFile,
  getUserProfilePhotos,
};
