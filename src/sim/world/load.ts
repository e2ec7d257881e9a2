/**
 * World files: a YAML (or JSON) description of the accounts, chats,
 * memberships and history a rehearsal starts from, plus a timeline of member
 * messages played as the simulated clock advances. People and bots are named
 * by a `key` (or their username) and referred to by it everywhere else.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { givenPermissions, PERMISSIONS } from "../chat-permissions.ts";
import { isClockTime, LATEST_MS } from "../clock.ts";
import { controlInvalid } from "../errors.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import { ADMIN_RIGHTS, allRights } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { createBot, createUser, findUserByUsername } from "./accounts.ts";
import { createChat } from "./chats.ts";
import { postMemberAlbum, postMemberMessage } from "./member-messages.ts";
import { createTopic } from "./topics.ts";

const Ref = z.union([z.string().min(1), z.number().int()]);
const PermissionsSchema = z.partialRecord(z.enum(PERMISSIONS), z.boolean());
const RightsSchema = z.union([
  z.literal("all"),
  z.partialRecord(z.enum([...ADMIN_RIGHTS, "is_anonymous"]), z.boolean()),
]);

const FileSchema = z.union([
  z.boolean(),
  z.string(),
  z.object({
    file_name: z.string().optional(),
    mime_type: z.string().optional(),
    content: z.string().optional(),
  }),
]);

const AlbumItemSchema = z.object({
  photo: z.union([z.boolean(), z.string()]).optional(),
  video: FileSchema.optional(),
  document: FileSchema.optional(),
  caption: z.string().optional(),
});

const MessageSchema = z.object({
  from: Ref,
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.union([z.boolean(), z.string()]).optional(),
  video: FileSchema.optional(),
  document: FileSchema.optional(),
  /** Several photos, videos or documents sent together (2–10), instead of one message. */
  album: z.array(AlbumItemSchema).min(1).max(10).optional(),
  /** The order bots receive an album's items in: item indexes, or "reversed". */
  delivery_order: z.union([z.array(z.number().int().min(0)), z.literal("reversed")]).optional(),
  /** Key of the forum topic it is posted in (the chat's `topics`, or a timeline `new_topic`). */
  topic: z.string().optional(),
  /** Label of an earlier message in the same chat. */
  reply_to: z.string().optional(),
  label: z.string().optional(),
  anonymous: z.boolean().optional(),
  sender_chat: Ref.optional(),
  forward_from: Ref.optional(),
  /** Forwarded from a post of this channel (a chat's key). */
  forward_from_chat: Ref.optional(),
  forward_from_message_id: z.number().int().positive().optional(),
  forward_sender_name: z.string().optional(),
  /** Sent through this inline bot (a bot's key). */
  via_bot: Ref.optional(),
});

const TopicSchema = z.object({
  key: z.string().optional(),
  name: z.string().min(1),
  icon_color: z.number().int().min(0).max(0xffffff).optional(),
  /** Who opened it (default: the owner). */
  creator: Ref.optional(),
  closed: z.boolean().optional(),
});

const MemberSchema = z.object({
  user: Ref,
  status: z.enum(["administrator", "member", "restricted", "left", "kicked"]).default("member"),
  rights: RightsSchema.optional(),
  custom_title: z.string().max(16).optional(),
  permissions: PermissionsSchema.optional(),
  /** Absolute Unix time the restriction or ban ends. */
  until_date: z.number().int().optional(),
  /** Or: seconds after the world's start. */
  for_seconds: z.number().int().positive().optional(),
});

const ChatSchema = z.object({
  key: z.string().optional(),
  id: z.number().int().negative().optional(),
  type: z.enum(["group", "supergroup", "channel"]),
  title: z.string().min(1),
  username: z.string().optional(),
  description: z.string().optional(),
  owner: Ref,
  permissions: PermissionsSchema.optional(),
  /** A supergroup with topics. */
  is_forum: z.boolean().optional(),
  /** Its topics (is_forum), opened before its history; messages name them by key (or name) in `topic`. */
  topics: z.array(TopicSchema).default([]),
  members: z.array(MemberSchema).default([]),
  /** Messages already in the chat before the rehearsal; `at` is seconds before the start (≤ 0). */
  history: z.array(MessageSchema.extend({ at: z.number().max(0).default(0) })).default([]),
});

/** A world's `start` in milliseconds: Unix seconds, or a date Date.parse reads; NaN when unreadable. */
function startMs(start: string | number): number {
  return typeof start === "number" ? start * 1000 : Date.parse(start);
}

export const WorldSchema = z.object({
  /** Where the simulated clock starts (ISO date or Unix seconds); defaults to now. */
  start: z
    .union([z.string(), z.number()])
    .refine((start) => isClockTime(startMs(start)), {
      error: (issue) =>
        `invalid start ${JSON.stringify(issue.input)}: give an ISO date or Unix seconds, at most ${LATEST_MS / 1000} seconds from 1970 either way`,
    })
    .optional(),
  users: z
    .array(
      z.object({
        key: z.string().optional(),
        id: z.number().int().positive().optional(),
        first_name: z.string().min(1),
        last_name: z.string().optional(),
        username: z.string().optional(),
        language_code: z.string().optional(),
        is_premium: z.boolean().optional(),
        bio: z.string().optional(),
      }),
    )
    .default([]),
  bots: z
    .array(
      z.object({
        key: z.string().optional(),
        id: z.number().int().positive().optional(),
        username: z.string(),
        first_name: z.string().optional(),
        token: z.string().optional(),
        /** Privacy mode; Telegram's default is on. */
        privacy: z.boolean().default(true),
      }),
    )
    .default([]),
  chats: z.array(ChatSchema).default([]),
  /** Member messages played when the clock passes `at` seconds after the start. */
  timeline: z
    .array(
      MessageSchema.extend({
        at: z.number().positive(),
        chat: Ref,
        /** Instead of a message, `from` opens a forum topic (named `key` for later entries). */
        new_topic: z
          .object({
            key: z.string().optional(),
            name: z.string().min(1),
            icon_color: z.number().int().min(0).max(0xffffff).optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

export type World = z.input<typeof WorldSchema>;
type ParsedWorld = z.output<typeof WorldSchema>;

/** Parses and validates a world from YAML text or a plain object. */
export function loadWorld(source: string | object): ParsedWorld {
  const raw = typeof source === "string" ? parseYaml(source) : source;
  const parsed = WorldSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "world"}: ${i.message}`);
    throw controlInvalid(`invalid world: ${issues.join("; ")}`);
  }
  return parsed.data;
}

export function loadWorldFile(path: string): ParsedWorld {
  return loadWorld(readFileSync(path, "utf8"));
}

export interface LoadedWorld {
  users: Record<string, number>;
  bots: { key: string; id: number; username: string; token: string }[];
  chats: Record<string, number>;
}

/** Builds a parsed world into the simulator (which should be empty or freshly reset). */
export function applyWorld(sim: Simulator, world: ParsedWorld): LoadedWorld {
  if (world.start !== undefined) sim.clock.set(startMs(world.start));
  const start = sim.clock.now();
  const keys = new Map<string, number>();
  const result: LoadedWorld = { users: {}, bots: [], chats: {} };

  for (const u of world.users) {
    const { user } = createUser(sim, u);
    const key = u.key ?? u.username ?? String(user.id);
    keys.set(key, user.id);
    result.users[key] = user.id;
  }
  for (const b of world.bots) {
    const bot = createBot(sim, b);
    const key = b.key ?? b.username;
    keys.set(key, bot.user.id);
    result.bots.push({ key, id: bot.user.id, username: b.username, token: bot.token });
  }
  const resolve = (ref: string | number): number => {
    if (typeof ref === "number") return ref;
    const byKey = keys.get(ref) ?? result.chats[ref];
    if (byKey !== undefined) return byKey;
    const byName = findUserByUsername(sim, ref);
    if (byName) return byName.user.id;
    throw controlInvalid(`unknown reference "${ref}"`);
  };

  for (const c of world.chats) {
    const chat = createChat(sim, {
      ...(c.id !== undefined ? { id: c.id } : {}),
      type: c.type,
      title: c.title,
      owner_id: resolve(c.owner),
      ...(c.username ? { username: c.username } : {}),
      ...(c.description ? { description: c.description } : {}),
      ...(c.permissions ? { permissions: c.permissions } : {}),
      ...(c.is_forum ? { is_forum: true } : {}),
    });
    result.chats[c.key ?? c.title] = chat.id;
    for (const member of c.members) {
      const userId = resolve(member.user);
      const until = member.for_seconds ? start + member.for_seconds : (member.until_date ?? 0);
      const base = { userId, isAnonymous: false, isMember: true, untilDate: 0 };
      switch (member.status) {
        case "member":
          chat.members.set(userId, { ...base, status: "member" });
          break;
        case "left":
          chat.members.set(userId, { ...base, status: "left", isMember: false });
          break;
        case "kicked":
          chat.members.set(userId, {
            ...base,
            status: "kicked",
            isMember: false,
            untilDate: until,
          });
          break;
        case "restricted": {
          const permissions = givenPermissions(member.permissions);
          chat.members.set(userId, {
            ...base,
            status: "restricted",
            permissions,
            untilDate: until,
          });
          break;
        }
        case "administrator": {
          const given = member.rights ?? "all";
          const rights = allRights(given === "all");
          if (given !== "all") for (const r of ADMIN_RIGHTS) rights[r] = given[r] ?? false;
          rights.can_manage_chat = true;
          chat.members.set(userId, {
            ...base,
            status: "administrator",
            rights,
            promotedBy: resolve(c.owner),
            isAnonymous: given !== "all" && given.is_anonymous === true,
            ...(member.custom_title ? { customTitle: member.custom_title } : {}),
          });
          break;
        }
      }
    }
    if (c.topics.length > 0 && !chat.isForum) {
      throw controlInvalid(`chat "${c.key ?? c.title}" has topics but is not a forum (is_forum)`);
    }
    const opened = start + Math.min(0, ...c.history.map((h) => h.at));
    for (const t of c.topics) {
      // Opened silently before the history, by their creator as the world says, rights aside.
      const topic = createTopic(
        sim,
        chat,
        resolve(t.creator ?? c.owner),
        { name: t.name, ...(t.icon_color !== undefined ? { iconColor: t.icon_color } : {}) },
        { silent: true, date: opened },
      );
      if (t.closed) topic.isClosed = true;
      nameTopic(sim, chat.id, t.key ?? t.name, topic.id);
    }
    for (const h of c.history) {
      const input = withTopic(
        sim,
        withReply(sim, toInput(h, resolve, start + h.at), h.reply_to),
        h.topic,
        chat.id,
      );
      const stored = h.album
        ? postMemberAlbum(sim, chat, { ...input, items: h.album }, { silent: true })
        : [postMemberMessage(sim, chat, input, { silent: true })];
      const first = stored[0];
      if (h.label && first) sim.labels.set(h.label, [chat.id, first.message.message_id]);
    }
  }
  for (const t of world.timeline) {
    sim.timeline.push({
      at: start + t.at,
      chatId: resolve(t.chat),
      input: toInput(t, resolve),
      ...(t.label ? { label: t.label } : {}),
      ...(t.reply_to ? { replyTo: t.reply_to } : {}),
      ...(t.topic ? { topic: t.topic } : {}),
      ...(t.album
        ? {
            album: {
              items: t.album,
              ...(t.delivery_order !== undefined ? { delivery_order: t.delivery_order } : {}),
            },
          }
        : {}),
      ...(t.new_topic
        ? {
            newTopic: {
              name: t.new_topic.name,
              ...(t.new_topic.key ? { key: t.new_topic.key } : {}),
              ...(t.new_topic.icon_color !== undefined
                ? { iconColor: t.new_topic.icon_color }
                : {}),
            },
          }
        : {}),
    });
  }
  sim.timeline.sort((a, b) => a.at - b.at);
  return result;
}

type MessageEntry = z.output<typeof MessageSchema>;

/** Points a member message at the labelled message it replies to. */
export function withReply(sim: Simulator, input: MemberMessageInput, label: string | undefined) {
  if (label === undefined) return input;
  const target = sim.labels.get(label);
  if (!target) throw controlInvalid(`unknown label "${label}"`);
  return { ...input, reply_to_message_id: target[1] };
}

/** Lets later world entries of a chat name a topic by `key` (a later topic of the same key wins). */
export function nameTopic(sim: Simulator, chatId: number, key: string, threadId: number) {
  let keys = sim.topicKeys.get(chatId);
  if (!keys) {
    keys = new Map();
    sim.topicKeys.set(chatId, keys);
  }
  keys.set(key, threadId);
}

/**
 * Puts a member message in the forum topic named by `key` (declared by the
 * world or opened by an earlier timeline entry) of the chat it is posted in.
 */
export function withTopic(
  sim: Simulator,
  input: MemberMessageInput,
  key: string | undefined,
  chatId: number,
): MemberMessageInput {
  if (key === undefined) return input;
  const thread = sim.topicKeys.get(chatId)?.get(key);
  if (thread === undefined) throw controlInvalid(`the chat has no topic "${key}"`);
  return { ...input, message_thread_id: thread };
}

/** Turns a world message entry into a member message, resolving names. */
function toInput(
  entry: MessageEntry,
  resolve: (ref: string | number) => number,
  date?: number,
): MemberMessageInput {
  return {
    from_id: resolve(entry.from),
    ...(entry.text !== undefined ? { text: entry.text } : {}),
    ...(entry.caption !== undefined ? { caption: entry.caption } : {}),
    ...(entry.photo !== undefined ? { photo: entry.photo } : {}),
    ...(entry.video !== undefined ? { video: entry.video } : {}),
    ...(entry.document !== undefined ? { document: entry.document } : {}),
    ...(entry.anonymous ? { anonymous: true } : {}),
    ...(entry.sender_chat !== undefined ? { sender_chat_id: resolve(entry.sender_chat) } : {}),
    ...(entry.forward_from !== undefined ? { forward_from_id: resolve(entry.forward_from) } : {}),
    ...(entry.forward_from_chat !== undefined
      ? { forward_from_chat_id: resolve(entry.forward_from_chat) }
      : {}),
    ...(entry.forward_from_message_id !== undefined
      ? { forward_from_message_id: entry.forward_from_message_id }
      : {}),
    ...(entry.forward_sender_name ? { forward_sender_name: entry.forward_sender_name } : {}),
    ...(entry.via_bot !== undefined ? { via_bot_id: resolve(entry.via_bot) } : {}),
    ...(date !== undefined ? { date } : {}),
  };
}
