/**
 * Identifier generation shaped like Telegram's: user ids are positive, basic
 * groups are small negatives, supergroups and channels are `-100` followed by
 * ten digits, and bot tokens are `<bot id>:<35 characters>`.
 */
import { randomBytes } from "node:crypto";

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

export const TOKEN_PATTERN = /^(\d{1,20}):([A-Za-z0-9_-]{35})$/;

/** Telegram's service accounts that appear as `from` on behalf of chats. */
export const GROUP_ANONYMOUS_BOT = {
  id: 1087968824,
  is_bot: true,
  first_name: "Group",
  username: "GroupAnonymousBot",
} as const;

export const CHANNEL_BOT = {
  id: 136817688,
  is_bot: true,
  first_name: "Channel",
  username: "Channel_Bot",
} as const;

export function randomString(length: number, alphabet = TOKEN_ALPHABET): string {
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

export function makeToken(botId: number): string {
  return `${botId}:${randomString(35)}`;
}

export function isSupergroupId(id: number): boolean {
  return id <= -1000000000000;
}

/** Hands out fresh ids per kind, skipping any the world claimed explicitly. */
export interface IdAllocator {
  user(): number;
  bot(): number;
  group(): number;
  supergroup(): number;
  /** A fresh `media_group_id` for an album. */
  mediaGroup(): string;
  claim(id: number): void;
}

export function createIdAllocator(): IdAllocator {
  const taken = new Set<number>();
  const counters = { user: 6100000000, bot: 7400000000, group: 4100000000, channel: 2100000000 };
  let mediaGroups = 13579246801357900n;
  const next = (kind: keyof typeof counters, shape: (n: number) => number) => {
    for (;;) {
      counters[kind] += 1;
      const id = shape(counters[kind]);
      if (!taken.has(id)) {
        taken.add(id);
        return id;
      }
    }
  };
  return {
    user: () => next("user", (n) => n),
    bot: () => next("bot", (n) => n),
    group: () => next("group", (n) => -n),
    supergroup: () => next("channel", (n) => -(1000000000000 + n)),
    mediaGroup: () => {
      mediaGroups += 1n;
      return String(mediaGroups);
    },
    claim: (id) => {
      taken.add(id);
    },
  };
}
