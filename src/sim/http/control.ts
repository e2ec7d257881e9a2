/**
 * The control API under `/sim`: JSON over HTTP for tests, scenarios and the
 * rehearsal to play the people around the bot (create accounts and chats,
 * join, write, press buttons, promote and ban as the owner), to move the
 * clock, inject faults, and inspect everything. Every answer is
 * `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":"…"}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { advanceClock } from "../control/clock.ts";
import { botSnapshot, chatSnapshot } from "../control/snapshot.ts";
import { BotApiError, ControlError, controlInvalid, controlNotFound } from "../errors.ts";
import { storeFile } from "../files.ts";
import type { FaultSpec } from "../limits/faults.ts";
import type { MemberMessageInput } from "../member-message-input.ts";
import {
  ADMIN_RIGHTS,
  type AdminRights,
  allRights,
  type ChatState,
  PERMISSIONS,
  type Permissions,
} from "../model.ts";
import { resetSimulator, type Simulator } from "../simulator.ts";
import { createBot, createUser, requireBot, requireUser, updateUser } from "../world/accounts.ts";
import {
  banMember,
  createJoinRequest,
  joinChat,
  leaveChat,
  normalizeUntilDate,
  promoteMember,
  restrictMember,
  unbanMember,
  upgradeToSupergroup,
} from "../world/actions.ts";
import { type CallbackInput, pressButton } from "../world/buttons.ts";
import { createChat, type NewChat, requireChat, requireChatOrDialog } from "../world/chats.ts";
import { isAdmin } from "../world/delivery.ts";
import { postPrivateMessage, setBlocked } from "../world/dialogs.ts";
import { applyWorld, loadWorld } from "../world/load.ts";
import {
  deleteMemberMessage,
  editMemberMessage,
  postMemberMessage,
  react,
} from "../world/member-messages.ts";
import { memberOf } from "../world/members.ts";

type Body = Record<string, unknown>;
type Handler = (request: FastifyRequest, body: Body) => unknown;

function send(reply: FastifyReply, status: number, payload: unknown) {
  return reply
    .code(status)
    .header("content-type", "application/json")
    .send(Buffer.from(JSON.stringify(payload)));
}

function numberParam(value: unknown, name: string): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n)) throw controlInvalid(`${name} must be an integer`);
  return n;
}

function field<T>(body: Body, name: string): T {
  const value = body[name];
  if (value === undefined || value === null) throw controlInvalid(`${name} is required`);
  return value as T;
}

function params(request: FastifyRequest): Record<string, string> {
  return request.params as Record<string, string>;
}

function ownerOf(chat: ChatState): number {
  for (const m of chat.members.values()) if (m.status === "creator") return m.userId;
  throw controlInvalid("the chat has no owner");
}

/** The acting person for owner-side actions: `by`, or the chat's owner. */
function actor(sim: Simulator, chat: ChatState, body: Body, right?: keyof AdminRights): number {
  const by = body.by === undefined ? ownerOf(chat) : numberParam(body.by, "by");
  const m = memberOf(sim, chat, by);
  if (m?.status === "creator") return by;
  if (!isAdmin(m)) throw new ControlError(403, "only administrators can do that");
  if (right && !m?.rights?.[right]) throw new ControlError(403, `the administrator lacks ${right}`);
  return by;
}

function readRights(value: unknown): { rights: AdminRights; isAnonymous: boolean } {
  if (value === "all") return { rights: allRights(true), isAnonymous: false };
  const given = (value ?? {}) as Record<string, unknown>;
  const rights = allRights(false);
  for (const r of ADMIN_RIGHTS) rights[r] = given[r] === true;
  if (ADMIN_RIGHTS.some((r) => rights[r])) rights.can_manage_chat = true;
  return { rights, isAnonymous: given.is_anonymous === true };
}

function readPermissionObject(value: unknown): Permissions {
  const given = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(PERMISSIONS.map((p) => [p, given[p] === true])) as Permissions;
}

export function registerControlRoutes(
  app: FastifyInstance,
  sim: () => Simulator,
  onWorld: (tokens: string[]) => void,
) {
  function route(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, handler: Handler) {
    app.route({
      method,
      url,
      handler: async (request, reply) => {
        try {
          const body = (
            request.body && typeof request.body === "object" ? request.body : {}
          ) as Body;
          const result = await handler(request, body);
          return send(reply, 200, { ok: true, result: result ?? true });
        } catch (error) {
          if (error instanceof ControlError) {
            return send(reply, error.status, {
              ok: false,
              error_code: error.status,
              description: error.description,
            });
          }
          if (error instanceof BotApiError) {
            return send(reply, error.code, {
              ok: false,
              error_code: error.code,
              description: error.description,
            });
          }
          throw error;
        }
      },
    });
  }

  const chatOf = (request: FastifyRequest, body: Body = {}) =>
    requireChatOrDialog(
      sim(),
      numberParam(params(request).id, "chat id"),
      (body.bot ?? (request.query as Body).bot) as string | undefined,
    );
  const groupOf = (request: FastifyRequest) =>
    requireChat(sim(), numberParam(params(request).id, "chat id"));

  route("GET", "/sim/health", () => ({ status: "ok" }));

  // Accounts
  route("GET", "/sim/users", () => [...sim().world.users.values()].map((u) => u.user));
  route("POST", "/sim/users", (_, body) => createUser(sim(), body as never).user);
  route("PATCH", "/sim/users/:id", (request, body) =>
    updateUser(sim(), numberParam(params(request).id, "id"), body),
  );
  route("POST", "/sim/users/:id/block", (request, body) => {
    setBlocked(
      sim(),
      requireBot(sim(), body.bot as string | undefined),
      numberParam(params(request).id, "id"),
      true,
    );
  });
  route("POST", "/sim/users/:id/unblock", (request, body) => {
    setBlocked(
      sim(),
      requireBot(sim(), body.bot as string | undefined),
      numberParam(params(request).id, "id"),
      false,
    );
  });
  route("POST", "/sim/users/:id/photos", (request, body) => {
    const user = requireUser(sim(), numberParam(params(request).id, "id"));
    const data =
      typeof body.photo === "string" ? Buffer.from(body.photo, "base64") : Buffer.from("profile");
    user.profilePhotos.unshift(storeFile(sim().files, "profile_photo", data));
    return { total_count: user.profilePhotos.length };
  });
  route("GET", "/sim/bots", () => [...sim().world.bots.values()].map(botSnapshot));
  route("POST", "/sim/bots", (_, body) => {
    const bot = createBot(sim(), body as never);
    onWorld([bot.token]);
    return { token: bot.token, user: bot.user };
  });
  route("GET", "/sim/bots/:ref", (request) => botSnapshot(requireBot(sim(), params(request).ref)));
  route(
    "GET",
    "/sim/bots/:ref/updates",
    (request) => requireBot(sim(), params(request).ref).updates.items,
  );
  route("POST", "/sim/privacy", (_, body) => {
    const bot = requireBot(sim(), body.bot as string | undefined);
    bot.privacy = body.enabled !== false;
    return botSnapshot(bot);
  });

  // Chats and memberships
  route("GET", "/sim/chats", () =>
    [...sim().world.chats.values()].map((c) => ({
      id: c.id,
      type: c.type,
      title: c.title,
      username: c.username,
    })),
  );
  route("POST", "/sim/chats", (_, body) => {
    const chat = createChat(sim(), {
      ...(body as unknown as NewChat),
      owner_id: numberParam(body.owner_id, "owner_id"),
    });
    return chatSnapshot(sim(), chat);
  });
  route("GET", "/sim/chats/:id", (request) => chatSnapshot(sim(), chatOf(request)));
  route("PATCH", "/sim/chats/:id", (request, body) => {
    const chat = groupOf(request);
    actor(sim(), chat, body, "can_change_info");
    if (typeof body.title === "string" && body.title) chat.title = body.title;
    if (typeof body.description === "string") chat.description = body.description || undefined;
    if (body.permissions)
      chat.permissions = { ...chat.permissions, ...(body.permissions as Partial<Permissions>) };
    return chatSnapshot(sim(), chat);
  });
  route("POST", "/sim/chats/:id/upgrade", (request, body) => {
    const chat = groupOf(request);
    return chatSnapshot(sim(), upgradeToSupergroup(sim(), chat, actor(sim(), chat, body)));
  });
  route("POST", "/sim/chats/:id/members", (request, body) => {
    const chat = groupOf(request);
    const userId = numberParam(body.user_id, "user_id");
    joinChat(sim(), chat, userId, {
      ...(typeof body.invite_link === "string" ? { inviteLink: body.invite_link } : {}),
      ...(body.added_by !== undefined ? { addedBy: numberParam(body.added_by, "added_by") } : {}),
    });
    return {
      status: memberOf(sim(), chat, userId)?.status ?? "left",
      pending_join_request: chat.joinRequests.has(userId),
    };
  });
  route("DELETE", "/sim/chats/:id/members/:user_id", (request) => {
    leaveChat(sim(), groupOf(request), numberParam(params(request).user_id, "user_id"));
  });
  route("POST", "/sim/chats/:id/admins", (request, body) => {
    const chat = groupOf(request);
    const by = actor(sim(), chat, body, "can_promote_members");
    const userId = numberParam(body.user_id, "user_id");
    requireUser(sim(), userId);
    const current = memberOf(sim(), chat, userId);
    if (current?.status === "creator")
      throw controlInvalid("the owner can't be promoted or demoted");
    if (current?.status === "kicked") throw controlInvalid("USER_NOT_PARTICIPANT");
    const { rights, isAnonymous } = readRights(body.rights);
    promoteMember(
      sim(),
      chat,
      userId,
      {
        rights,
        isAnonymous: isAnonymous || body.is_anonymous === true,
        ...(typeof body.custom_title === "string" ? { customTitle: body.custom_title } : {}),
      },
      by,
    );
    return chatSnapshot(sim(), chat).members.find((m) => m.user?.id === userId);
  });
  route("POST", "/sim/chats/:id/ban", (request, body) => {
    const chat = groupOf(request);
    const by = actor(sim(), chat, body, "can_restrict_members");
    const userId = numberParam(body.user_id, "user_id");
    requireUser(sim(), userId);
    if (memberOf(sim(), chat, userId)?.status === "creator")
      throw controlInvalid("can't remove chat owner");
    const until = normalizeUntilDate(sim(), body.until_date as number | undefined);
    banMember(sim(), chat, userId, until, by);
  });
  route("POST", "/sim/chats/:id/unban", (request, body) => {
    const chat = groupOf(request);
    unbanMember(
      sim(),
      chat,
      numberParam(body.user_id, "user_id"),
      actor(sim(), chat, body, "can_restrict_members"),
      true,
    );
  });
  route("POST", "/sim/chats/:id/restrict", (request, body) => {
    const chat = groupOf(request);
    const by = actor(sim(), chat, body, "can_restrict_members");
    const userId = numberParam(body.user_id, "user_id");
    if (isAdmin(memberOf(sim(), chat, userId)))
      throw controlInvalid("user is an administrator of the chat");
    restrictMember(
      sim(),
      chat,
      userId,
      readPermissionObject(body.permissions),
      normalizeUntilDate(sim(), body.until_date as number | undefined),
      by,
    );
  });
  route("POST", "/sim/join-requests", (_, body) => {
    const chat = requireChat(sim(), numberParam(body.chat_id, "chat_id"));
    createJoinRequest(sim(), chat, numberParam(body.user_id, "user_id"), {
      ...(typeof body.bio === "string" ? { bio: body.bio } : {}),
      ...(typeof body.invite_link === "string" ? { inviteLink: body.invite_link } : {}),
    });
  });

  // Messages
  route("POST", "/sim/chats/:id/messages", (request, body) => {
    const id = numberParam(params(request).id, "chat id");
    const input = { ...body, from_id: numberParam(body.from_id, "from_id") } as MemberMessageInput;
    if (id > 0) return postPrivateMessage(sim(), id, input).message;
    return postMemberMessage(sim(), requireChat(sim(), id), input).message;
  });
  route("POST", "/sim/chats/:id/messages/:message_id/edit", (request, body) =>
    editMemberMessage(
      sim(),
      chatOf(request, body),
      numberParam(params(request).message_id, "message_id"),
      body,
    ),
  );
  route("DELETE", "/sim/chats/:id/messages/:message_id", (request, body) => {
    const chat = chatOf(request, body);
    const by = body.by === undefined ? ownerOf(chat) : numberParam(body.by, "by");
    deleteMemberMessage(sim(), chat, numberParam(params(request).message_id, "message_id"), by);
  });
  route("POST", "/sim/chats/:id/messages/:message_id/react", (request, body) =>
    react(
      sim(),
      groupOf(request),
      numberParam(params(request).message_id, "message_id"),
      numberParam(body.user_id, "user_id"),
      Array.isArray(body.emoji)
        ? body.emoji.map(String)
        : typeof body.emoji === "string"
          ? [body.emoji]
          : [],
    ),
  );
  route("POST", "/sim/callback", (_, body) =>
    pressButton(sim(), {
      ...(body as unknown as CallbackInput),
      from_id: numberParam(body.from_id, "from_id"),
      chat_id: numberParam(body.chat_id, "chat_id"),
      message_id: numberParam(body.message_id, "message_id"),
    }),
  );
  route("GET", "/sim/callback/:id", (request) => {
    const id = params(request).id ?? "";
    const query = sim().world.callbacks.get(id);
    if (!query) throw controlNotFound(`callback query ${id}`);
    return {
      callback_query_id: query.id,
      answered: query.answer !== undefined,
      ...(query.answer ? { answer: query.answer } : {}),
    };
  });

  // Clock, log, faults, limits, world
  route("GET", "/sim/clock", () => ({
    now: sim().clock.now(),
    iso: new Date(sim().clock.nowMs()).toISOString(),
  }));
  route("POST", "/sim/clock", (_, body) => {
    const result = advanceClock(sim(), body.advance_seconds);
    return { ...result, iso: new Date(sim().clock.nowMs()).toISOString() };
  });
  route("GET", "/sim/timeline", () => sim().timeline);
  route("GET", "/sim/calls", (request) => {
    const query = request.query as Record<string, string | undefined>;
    const since = query.since === undefined ? 0 : numberParam(query.since, "since");
    const limit = query.limit === undefined ? undefined : numberParam(query.limit, "limit");
    const calls = sim().calls.since(since, limit);
    const method = query.method?.toLowerCase();
    return method ? calls.filter((c) => c.method.toLowerCase() === method) : calls;
  });
  route("GET", "/sim/faults", () => sim().faults.list());
  route("POST", "/sim/faults", (_, body) => {
    sim().faults.add({ ...(body as unknown as FaultSpec), method: field<string>(body, "method") });
    return sim().faults.list();
  });
  route("DELETE", "/sim/faults", () => sim().faults.clear());
  route("POST", "/sim/rate-limits", (_, body) => {
    sim().limits.enabled = body.enabled !== false;
    if (body.reset === true) sim().limits.reset();
    return { enabled: sim().limits.enabled };
  });
  route("GET", "/sim/violations", () => sim().violations);
  route("POST", "/sim/reset", () => {
    resetSimulator(sim());
  });
  route("POST", "/sim/world", (request, body) => {
    const raw = request.body;
    const source = typeof raw === "string" ? raw : typeof body.yaml === "string" ? body.yaml : body;
    const world = loadWorld(source);
    if (body.reset !== false) resetSimulator(sim());
    const loaded = applyWorld(sim(), world);
    onWorld(loaded.bots.map((b) => b.token));
    return loaded;
  });
}
