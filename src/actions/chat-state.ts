import type { Redis } from "ioredis";
import { keys } from "../store/keys.ts";

/**
 * What Warden remembers about a seized chat between actions: the permissions
 * it found before freezing (so thaw can restore them exactly), the freeze mode,
 * the invite links the bot created and the join requests still pending.
 */

export type FreezeMode = "full" | "trade";

export interface ChatState {
  frozen?: FreezeMode;
  /** The chat's default permissions before Warden first froze it. */
  savedPermissions?: Record<string, boolean>;
  lockedDown?: boolean;
  released?: boolean;
}

export const chatKeys = {
  state: (caseId: string, chatId: number) => keys.casePart(caseId, `chat:${chatId}:state`),
  /** Set of invite links the bot created. */
  links: (caseId: string, chatId: number) => keys.casePart(caseId, `chat:${chatId}:links`),
  /** Set of user ids with a pending join request. */
  joinRequests: (caseId: string, chatId: number) =>
    keys.casePart(caseId, `chat:${chatId}:join-requests`),
};

export async function getChatState(
  redis: Redis,
  caseId: string,
  chatId: number,
): Promise<ChatState> {
  const raw = await redis.hgetall(chatKeys.state(caseId, chatId));
  return {
    ...(raw.frozen ? { frozen: raw.frozen as FreezeMode } : {}),
    ...(raw.savedPermissions ? { savedPermissions: JSON.parse(raw.savedPermissions) } : {}),
    ...(raw.lockedDown === "1" ? { lockedDown: true } : {}),
    ...(raw.released === "1" ? { released: true } : {}),
  };
}
