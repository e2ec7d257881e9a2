import type { Context } from "grammy";
import type { Presser } from "../actions/approvals.ts";

/**
 * The Approve and Reject buttons of approval requests: `ap:<case>:<id>:y|n`
 * for actions and commands, `sa:<case>:<id>:y|n` for a scenario's approve
 * steps. Both are answered through the one gate of `src/actions/approvals.ts`;
 * this reads a press into what the gate needs.
 */

export function approvalButton(prefix: "ap" | "sa"): RegExp {
  return new RegExp(`^${prefix}:([a-z0-9-]+):([0-9a-f]{16}):([yn])$`);
}

export interface ButtonPress {
  caseId: string;
  id: string;
  granted: boolean;
  presser: Presser;
}

/** The press behind a callback query matched by `approvalButton`. */
export function pressOf(ctx: Context & { match: RegExpMatchArray | string }): ButtonPress {
  const [, caseId, id, answer] = ctx.match as RegExpMatchArray as [string, string, string, string];
  return {
    caseId,
    id,
    granted: answer === "y",
    presser: {
      userId: ctx.from?.id as number,
      name: ctx.from?.first_name ?? "",
      chatId: ctx.chat?.id,
      updateId: ctx.update.update_id,
    },
  };
}
