import { chatKeys } from "../store/keys.ts";
import type { Redis } from "../store/redis.ts";

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

/** The keys of a chat's state, links and join requests (declared in src/store/layout/actions.ts). */
export { chatKeys };

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
