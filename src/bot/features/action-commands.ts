import {
  ACTION_NAMES,
  type ActionName,
  approvalNeeded,
  CATALOG,
  checkArgs,
  runAction,
} from "../../actions/catalog.ts";
import { type ActionEnv, type ActionScope, actionEnv } from "../../actions/context.ts";
import type { CommandForm } from "../../actions/definition.ts";
import { escapeHtml } from "../../base/html.ts";
import { UsageError } from "../../base/usage-error.ts";
import type { CommandRun, CommandSpec } from "../command.ts";

/**
 * The operator commands that run a catalog action, one per action with a
 * command form: `/ban fw1 @x 2h` parses to the action's arguments, asks the
 * catalog whether a supervisor must approve (the same rule a scenario step
 * or trigger meets), and runs it. What it did comes back as the action's own
 * summary.
 */

function need(run: CommandRun): ActionScope {
  if (!run.scope)
    throw new UsageError("name the seized chat: give its alias, e.g. /status lists them");
  return run.scope;
}

function argsOf(name: ActionName, run: CommandRun): unknown {
  const form = CATALOG[name].command as CommandForm<unknown>;
  const parsed = form.parse({
    words: run.args,
    ...(run.replyTo ? { replyTo: run.replyTo } : {}),
  });
  return checkArgs(name, parsed);
}

function envOf(run: CommandRun): ActionEnv {
  return actionEnv(run.deps);
}

export function actionCommand(name: ActionName): CommandSpec {
  const form = CATALOG[name].command as CommandForm<unknown>;
  return {
    name,
    description: form.describe,
    args: form.usage,
    role: "operator",
    needsChat: true,
    async needsApproval(run) {
      const args = argsOf(name, run);
      const why = await approvalNeeded(envOf(run), need(run), name, args as never);
      return why ? { why, subject: { kind: "action", action: name, args } } : undefined;
    },
    async run(run) {
      const report = await runAction(envOf(run), need(run), name, argsOf(name, run) as never);
      await run.reply(escapeHtml(report.summary));
    },
  };
}

/** Every catalog action operators may type, in the catalog's order. */
export const ACTION_COMMANDS: CommandSpec[] = ACTION_NAMES.filter(
  (name) => CATALOG[name].command !== undefined,
).map(actionCommand);
