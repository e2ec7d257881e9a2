import type { z } from "zod";
import type { AdminRight } from "../base/bot-api-rights.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import type { ActionReport } from "./run.ts";

/**
 * What an action is, as data: everything a command, a scenario step, a
 * trigger, the scenario linter, `/check` and `/help` need to know about it.
 * Each action's file exports its definition; `catalog.ts` lists them. Nothing
 * else decides which rights an action needs or whether a second person must
 * approve it, so the answer cannot differ between the paths that call it.
 */

/**
 * When a supervisor other than the requester must approve, whichever path
 * asks (a command, a scenario step, a trigger):
 * - `never`;
 * - `always` (it changes the group for everyone);
 * - `above-threshold`: when it touches more targets than the case's threshold.
 */
export type ApprovalPolicy<A> =
  | { kind: "never" }
  | { kind: "always"; why: string }
  | {
      kind: "above-threshold";
      /** How the count reads to a supervisor: "banning" → "banning 25 (more than 20)". */
      what: string;
      count(env: ActionEnv, scope: ActionScope, args: A): Promise<number> | number;
    };

/** What an operator's command gives an action's parser: the words after the alias, and the message replied to. */
export interface CommandInput {
  words: string[];
  replyTo?: { messageId: number; senderId?: number };
}

/** How an action is given as an operator command (`/ban @user 2h`). */
export interface CommandForm<A> {
  /** Arguments after the alias, for the usage line. */
  usage: string;
  /** One line for /help and the command menu. */
  describe: string;
  /** The command's words → the action's arguments; throws `UsageError` with the usage on nonsense. */
  parse(input: CommandInput): A;
}

export interface ActionDefinition<A = unknown> {
  name: string;
  /** The audit log's `op` for its intent and outcome entries. */
  op: string;
  /**
   * The admin rights it needs. Without arguments: what any use may need (for
   * /check); with them: what this use needs (a warning that pins needs
   * can_pin_messages).
   */
  rights(args?: A): readonly AdminRight[];
  /** Its arguments; checked again when an approved request is run, since they were stored meanwhile. */
  args: z.ZodType<A>;
  approval: ApprovalPolicy<A>;
  /** Performs it, each Telegram call a step on the record (`runStep`). */
  run(env: ActionEnv, scope: ActionScope, args: A): Promise<ActionReport>;
  /** Present when operators may give it as a command. */
  command?: CommandForm<A>;
}

/**
 * Keeps an action's argument type attached to its definition (a typed
 * identity function): the type is the argument schema's, never guessed from
 * a parser or a `run`.
 */
export function defineAction<S extends z.ZodType>(
  definition: { args: S } & Omit<ActionDefinition<NoInfer<z.output<S>>>, "args">,
): ActionDefinition<z.output<S>> {
  return definition as ActionDefinition<z.output<S>>;
}
