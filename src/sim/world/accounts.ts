/**
 * Users and bots. Bots under test get a token and an update queue; other
 * bots are plain accounts with `is_bot: true`.
 */
import type { TgUser } from "../bot-api-objects.ts";
import { ControlError, controlInvalid, controlNotFound } from "../errors.ts";
import { CHANNEL_BOT, GROUP_ANONYMOUS_BOT, makeToken, TOKEN_PATTERN } from "../ids.ts";
import type { BotState, UserState } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { createUpdateQueue } from "../updates/queue.ts";

export interface NewUser {
  id?: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: boolean;
  is_bot?: boolean;
  bio?: string;
}

const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

function assertUsernameFree(sim: Simulator, username: string | undefined, self?: number) {
  if (username === undefined) return;
  if (!USERNAME.test(username)) throw controlInvalid(`invalid username "${username}"`);
  const taken = findUserByUsername(sim, username);
  if (taken && taken.user.id !== self) throw controlInvalid(`username @${username} is taken`);
  for (const chat of sim.world.chats.values()) {
    if (chat.username?.toLowerCase() === username.toLowerCase()) {
      throw controlInvalid(`username @${username} is taken`);
    }
  }
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function createUser(sim: Simulator, input: NewUser): UserState {
  if (!input.first_name) throw controlInvalid("first_name is required");
  assertUsernameFree(sim, input.username);
  const id = input.id ?? (input.is_bot ? sim.ids.bot() : sim.ids.user());
  if (sim.world.users.has(id)) throw controlInvalid(`user ${id} already exists`);
  sim.ids.claim(id);
  const user: TgUser = strip({
    id,
    is_bot: input.is_bot ?? false,
    first_name: input.first_name,
    last_name: input.last_name,
    username: input.username,
    language_code: input.is_bot ? undefined : input.language_code,
    is_premium: input.is_premium || undefined,
  });
  const state: UserState = { user, profilePhotos: [], ...(input.bio ? { bio: input.bio } : {}) };
  sim.world.users.set(id, state);
  return state;
}

export interface NewBot {
  id?: number;
  username: string;
  first_name?: string;
  token?: string;
  privacy?: boolean;
}

export function createBot(sim: Simulator, input: NewBot): BotState {
  if (!input.username) throw controlInvalid("username is required");
  if (!/bot$/i.test(input.username)) throw controlInvalid("a bot's username must end in 'bot'");
  if (input.token !== undefined && !TOKEN_PATTERN.test(input.token)) {
    throw controlInvalid("a token looks like <bot id>:<35 letters, digits, _ or ->");
  }
  const id = input.id ?? (input.token ? Number(input.token.split(":")[0]) : undefined);
  const { user } = createUser(sim, {
    ...(id === undefined ? {} : { id }),
    first_name: input.first_name ?? input.username,
    username: input.username,
    is_bot: true,
  });
  const token = input.token ?? makeToken(user.id);
  if (!token.startsWith(`${user.id}:`))
    throw controlInvalid("a token must start with the bot's id");
  const bot: BotState = {
    user,
    token,
    privacy: input.privacy ?? true,
    canJoinGroups: true,
    updates: createUpdateQueue(),
    commands: new Map(),
    privateChats: new Map(),
    blockedBy: new Set(),
    talkedTo: new Set(),
  };
  sim.world.bots.set(user.id, bot);
  sim.world.botsByToken.set(token, bot);
  return bot;
}

export function findUserByUsername(sim: Simulator, username: string): UserState | undefined {
  const wanted = username.replace(/^@/, "").toLowerCase();
  for (const state of sim.world.users.values()) {
    if (state.user.username?.toLowerCase() === wanted) return state;
  }
  return undefined;
}

export function requireUser(sim: Simulator, id: number): UserState {
  const state = sim.world.users.get(id);
  if (!state) throw controlNotFound(`user ${id}`);
  return state;
}

/** Finds a bot under test by id, username (with or without @) or token. */
export function findBot(sim: Simulator, ref: string | number | undefined): BotState | undefined {
  const bots = [...sim.world.bots.values()];
  if (ref === undefined || ref === "") return bots.length === 1 ? bots[0] : undefined;
  if (typeof ref === "number" || /^\d+$/.test(ref)) return sim.world.bots.get(Number(ref));
  const wanted = ref.replace(/^@/, "").toLowerCase();
  return (
    bots.find((b) => b.user.username?.toLowerCase() === wanted) ?? sim.world.botsByToken.get(ref)
  );
}

export function requireBot(sim: Simulator, ref: string | number | undefined): BotState {
  const bot = findBot(sim, ref);
  if (bot) return bot;
  if (ref === undefined && sim.world.bots.size > 1) {
    throw new ControlError(400, "several bots exist: name one with `bot`");
  }
  throw controlNotFound(`bot ${ref ?? ""}`.trim());
}

export interface UserPatch {
  first_name?: string;
  last_name?: string | null;
  username?: string | null;
  language_code?: string | null;
  is_premium?: boolean;
  bio?: string | null;
}

export function updateUser(sim: Simulator, id: number, patch: UserPatch): TgUser {
  const state = requireUser(sim, id);
  if (patch.username) assertUsernameFree(sim, patch.username, id);
  const next: Record<string, unknown> = { ...state.user };
  for (const key of [
    "first_name",
    "last_name",
    "username",
    "language_code",
    "is_premium",
  ] as const) {
    if (!(key in patch)) continue;
    const value = patch[key];
    if (value === null || value === "" || value === false) delete next[key];
    else next[key] = value;
  }
  if (!next.first_name) throw controlInvalid("first_name can't be empty");
  state.user = next as unknown as TgUser;
  if ("bio" in patch) {
    if (patch.bio) state.bio = patch.bio;
    else delete state.bio;
  }
  const bot = sim.world.bots.get(id);
  if (bot) bot.user = state.user;
  return state.user;
}

/** The User object for an id, including Telegram's service accounts. */
export function userObject(sim: Simulator, id: number): TgUser | undefined {
  if (id === GROUP_ANONYMOUS_BOT.id) return { ...GROUP_ANONYMOUS_BOT };
  if (id === CHANNEL_BOT.id) return { ...CHANNEL_BOT };
  return sim.world.users.get(id)?.user;
}
