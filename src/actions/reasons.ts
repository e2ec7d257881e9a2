import { GrammyError, HttpError } from "grammy";
import { NotReplicatedError } from "../store/replicas.ts";

/**
 * Turns Telegram's errors into reasons an operator can act on. The raw
 * `error_code` and `description` still go into the audit log unchanged.
 */

const RIGHT_FOR_ERROR: Array<[RegExp, string]> = [
  [/not enough rights to restrict\/unrestrict chat member/, "can_restrict_members"],
  [/not enough rights to change chat permissions/, "can_restrict_members"],
  [/not enough rights to manage pinned messages/, "can_pin_messages"],
  [/not enough rights to send text messages/, "can_post_messages"],
  [/not enough rights to change chat (title|description|photo)/, "can_change_info"],
  [/not enough rights to (export|manage|create|edit|revoke) .*invite link/, "can_invite_users"],
  [/CHAT_ADMIN_REQUIRED|need administrator rights/, "administrator status"],
  [/message can't be deleted/, "can_delete_messages"],
  [/not enough rights to (close or open|edit|create) the topic/, "can_manage_topics"],
];

/** A deletion of a message someone else deleted first: usually nothing is left to do. */
export const ALREADY_GONE = "the message is already gone";

export interface FailureReason {
  /** One line for the operator: what went wrong and what to do. */
  reason: string;
  error_code?: number;
  description: string;
  /** The admin right that was missing, where the error tells. */
  missingRight?: string;
}

export function explainFailure(err: unknown, where: string): FailureReason {
  if (err instanceof GrammyError) {
    const d = err.description;
    for (const [pattern, right] of RIGHT_FOR_ERROR) {
      if (pattern.test(d)) {
        return {
          reason: `the bot lacks ${right} in ${where}: ask the owner account to grant it`,
          error_code: err.error_code,
          description: d,
          missingRight: right,
        };
      }
    }
    if (/bot was kicked/.test(d)) {
      return {
        reason: `the bot was removed from ${where}: the takeover there has ended unless the owner adds it back`,
        error_code: err.error_code,
        description: d,
      };
    }
    if (/bot is not a member/.test(d)) {
      return {
        reason: `the bot is not a member of ${where}: add it and make it an admin first`,
        error_code: err.error_code,
        description: d,
      };
    }
    if (/group chat was upgraded to a supergroup/.test(d)) {
      return {
        reason: `${where} was upgraded to a supergroup: Warden follows it; try again`,
        error_code: err.error_code,
        description: d,
      };
    }
    if (/message to delete not found/.test(d)) {
      return { reason: ALREADY_GONE, error_code: err.error_code, description: d };
    }
    if (/user is an administrator of the chat|can't remove chat owner/.test(d)) {
      return {
        reason: `that user is an admin of ${where}: only the owner account can demote them first`,
        error_code: err.error_code,
        description: d,
      };
    }
    if (err.error_code === 429) {
      return {
        reason: `Telegram is rate-limiting the bot in ${where}: retry in ${err.parameters.retry_after ?? "a few"} s`,
        error_code: 429,
        description: d,
      };
    }
    return {
      reason: `Telegram refused in ${where}: ${d}`,
      error_code: err.error_code,
      description: d,
    };
  }
  if (err instanceof NotReplicatedError) {
    return {
      reason: `nothing was sent to Telegram for ${where}: Redis's replicas did not confirm the intent in time (a failover under way?); try again once every master has its replica`,
      description: err.message,
    };
  }
  if (err instanceof HttpError) {
    return {
      reason: `could not reach Telegram for ${where}; the call may or may not have taken effect: check with /status before retrying`,
      description: "network error",
    };
  }
  return {
    reason: `failed in ${where}: ${(err as Error)?.message ?? String(err)}`,
    description: String((err as Error)?.message ?? err),
  };
}
