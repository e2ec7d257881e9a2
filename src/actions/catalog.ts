import type { AdminRight } from "../base/bot-api-rights.ts";
import { UsageError } from "../base/usage-error.ts";
import type { ActionEnv, ActionScope } from "./context.ts";
import type { ActionDefinition } from "./definition.ts";
import { freezeAction, thawAction } from "./freeze.ts";
import { lockdownAction } from "./lockdown.ts";
import { banAction, kickAction, restrictAction, unbanAction } from "./members.ts";
import { purgeAction } from "./purge.ts";
import { releaseAction } from "./release.ts";
import { replyAction } from "./reply.ts";
import type { ActionReport } from "./run.ts";
import { announceAction, pinAction, unpinAction, warnAction } from "./warn.ts";

/**
 * The catalog of actions: every change Warden makes to a seized chat is one
 * of these. Each entry (defined in its action's own file, see
 * `definition.ts`) says which admin rights it needs, what its arguments are,
 * when a second person must approve it, what the audit log calls it, how an
 * operator types it, and how it runs. Commands, scenario steps and triggers,
 * the scenario linter, `/check` and `/help` all read this one list, so adding
 * an action is one file and one line here, and no path can ask less of it
 * than another.
 */
export const CATALOG = {
  warn: warnAction,
  announce: announceAction,
  pin: pinAction,
  unpin: unpinAction,
  freeze: freezeAction,
  thaw: thawAction,
  lockdown: lockdownAction,
  release: releaseAction,
  restrict: restrictAction,
  ban: banAction,
  unban: unbanAction,
  kick: kickAction,
  purge: purgeAction,
  reply: replyAction,
} as const;

export type ActionName = keyof typeof CATALOG;
export type ArgsOf<N extends ActionName> =
  (typeof CATALOG)[N] extends ActionDefinition<infer A> ? A : never;

export const ACTION_NAMES = Object.keys(CATALOG) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(CATALOG, name);
}

function definitionOf<N extends ActionName>(name: N): ActionDefinition<ArgsOf<N>> {
  return CATALOG[name] as unknown as ActionDefinition<ArgsOf<N>>;
}

/** The admin rights an action needs: for this use when its arguments are given, else for any use. */
export function rightsOf<N extends ActionName>(name: N, args?: ArgsOf<N>): readonly AdminRight[] {
  return definitionOf(name).rights(args);
}

/** Whether an action can ever need a second person's approval: what makes a scenario need one to start. */
export function isGuarded(name: ActionName): boolean {
  return CATALOG[name].approval.kind !== "never";
}

/** Checks arguments against the action's schema; what was stored meanwhile (an approval) is checked again. */
export function checkArgs<N extends ActionName>(name: N, args: unknown): ArgsOf<N> {
  const parsed = definitionOf(name).args.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(
    `${name}: ${issue?.path.length ? `${issue.path.join(".")}: ` : ""}${issue?.message ?? "bad arguments"}`,
  );
}

/** The case's threshold for "above-threshold" approval: its own, else the bot's default. */
export function approvalThreshold(env: ActionEnv, scope: ActionScope): number {
  return scope.case.approvalThreshold ?? env.approvalThreshold;
}

/**
 * Where a use comes from. A scenario that can use a guarded action needs a
 * supervisor's approval to start (`scenarioNeedsApproval`), so within its run
 * what the catalog always guards was approved with the plan; how many members
 * or messages one use touches is still judged each time.
 */
export type ApprovalContext = "on-its-own" | "in-an-approved-scenario";

/**
 * Why a supervisor must approve this use of an action before it runs, or
 * undefined when it may run at once. The one approval rule: commands,
 * scenario steps and triggers all ask it.
 */
export async function approvalNeeded<N extends ActionName>(
  env: ActionEnv,
  scope: ActionScope,
  name: N,
  args: ArgsOf<N>,
  context: ApprovalContext = "on-its-own",
): Promise<string | undefined> {
  const policy = definitionOf(name).approval;
  switch (policy.kind) {
    case "never":
      return undefined;
    case "always":
      return context === "in-an-approved-scenario" ? undefined : policy.why;
    case "above-threshold": {
      const threshold = approvalThreshold(env, scope);
      const count = await policy.count(env, scope, args);
      return count > threshold ? `${policy.what} ${count} (more than ${threshold})` : undefined;
    }
  }
}

/** Runs an action whose approval, if it needed one, was given. */
export function runAction<N extends ActionName>(
  env: ActionEnv,
  scope: ActionScope,
  name: N,
  args: ArgsOf<N>,
): Promise<ActionReport> {
  return definitionOf(name).run(env, scope, checkArgs(name, args));
}
