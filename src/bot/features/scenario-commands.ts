import { escapeHtml } from "../../base/html.ts";
import { UsageError } from "../../base/usage-error.ts";
import { scenarioNeedsApproval } from "../../scenario/definition/action-use.ts";
import { ScenarioError } from "../../scenario/definition/load.ts";
import type { SeizedChat } from "../../store/cases.ts";
import { mayUse, resolveAlias } from "../access.ts";
import type { CommandRun, CommandSpec } from "../command.ts";

/**
 * `/scenario`: operators run scripted scenarios on seized chats. `list` and
 * `status` only read (auditors may use them); `start`, `pause`, `resume`,
 * `skip` (go on past a failed step) and `abort` act. Starting a scenario with
 * lockdown, release, ban or purge steps needs a supervisor's approval, as
 * giving those commands by hand does.
 */

const USAGE =
  "usage: /scenario list | /scenario start <id> <alias> | /scenario pause|resume|skip|abort <alias> | /scenario status [alias]";

function engineOf(run: CommandRun) {
  const engine = run.deps.scenarios;
  if (!engine) throw new UsageError("this bot was built without scenarios");
  return engine;
}

function requireOperator(run: CommandRun, what: string): void {
  if (!mayUse(run.caller.grant.role, "operator"))
    throw new UsageError(
      `only operators may ${what} a scenario; your role is ${run.caller.grant.role}`,
    );
}

async function chatNamed(run: CommandRun, alias: string | undefined): Promise<SeizedChat> {
  if (alias === undefined) {
    if (run.caller.here) return run.caller.here;
    throw new UsageError(`name the seized chat: ${USAGE}`);
  }
  const chat = await resolveAlias(run.deps, run.caller.case, alias);
  if (!chat)
    throw new UsageError(
      `unknown chat "${alias}" in case ${run.caller.case.id}: /status lists the seized chats`,
    );
  return chat;
}

async function list(run: CommandRun): Promise<string> {
  const engine = engineOf(run);
  const lines = [`scenarios in ${engine.deps.library.dir}:`];
  for (const item of await engine.deps.library.list()) {
    if ("error" in item) {
      lines.push(
        `✗ ${item.file}: ${item.error.problems.length} problem(s), first: ${item.error.problems[0]?.message ?? "?"}; run warden scenario lint on it`,
      );
      continue;
    }
    const s = item.scenario;
    const approval = scenarioNeedsApproval(s) ? "; starting needs approval" : "";
    lines.push(
      `• ${s.id} v${s.version} — ${s.title} (phases: ${s.phases.map((p) => p.id).join(" → ")}${approval})`,
    );
  }
  const runs = await engine.runs(run.caller.case.id, 5);
  const active = runs.filter(
    (r) => r.status === "running" || r.status === "paused" || r.status === "failed",
  );
  if (active.length)
    lines.push(
      "",
      "running now:",
      ...active.map((r) => `• ${r.alias}: ${r.scenario} (${r.status}, run ${r.id})`),
    );
  return lines.join("\n");
}

export const scenarioCommand: CommandSpec = {
  name: "scenario",
  description:
    "scripted scenarios: /scenario list | start <id> <alias> | pause | resume | skip | abort | status",
  args: "list | start <id> <alias> | pause|resume|skip|abort|status <alias>",
  // list and status read; the subcommands that act check for an operator themselves.
  role: "auditor",
  acts: (args) => ["start", "pause", "resume", "skip", "abort"].includes(args[0] ?? ""),
  needsChat: false,
  async needsApproval(run) {
    const [sub, id] = run.args;
    if (sub !== "start" || !id || !mayUse(run.caller.grant.role, "operator")) return undefined;
    try {
      const why = scenarioNeedsApproval((await engineOf(run).deps.library.get(id)).scenario);
      return why
        ? { why, subject: { kind: "command", command: "scenario", args: run.args } }
        : undefined;
    } catch {
      return undefined; // run() explains what is wrong with it
    }
  },
  async run(run) {
    const engine = engineOf(run);
    const [sub, ...rest] = run.args;
    const caseId = run.caller.case.id;
    switch (sub) {
      case undefined:
      case "list":
        await run.reply(escapeHtml(await list(run)));
        return;
      case "start": {
        requireOperator(run, "start");
        const [id, alias] = rest;
        if (!id) throw new UsageError(USAGE);
        const chat = await chatNamed(run, alias);
        try {
          const result = await engine.start({
            record: run.caller.case,
            chat,
            scenarioId: id,
            actor: run.caller.actor,
            requestKey: run.requestKey ?? `cmd:${caseId}:${id}:${chat.chatId}`,
            ...(run.updateIds ? { updateIds: run.updateIds } : {}),
          });
          await run.reply(escapeHtml(result.text));
        } catch (err) {
          if (err instanceof ScenarioError) throw new UsageError(err.message);
          throw err;
        }
        return;
      }
      case "pause":
      case "resume":
      case "skip":
      case "abort": {
        requireOperator(run, sub);
        const chat = await chatNamed(run, rest[0]);
        await run.reply(
          escapeHtml(
            await engine.control({
              caseId,
              chatId: chat.chatId,
              action: sub,
              actor: run.caller.actor,
              ...(run.updateIds ? { updateIds: run.updateIds } : {}),
            }),
          ),
        );
        return;
      }
      case "status": {
        const alias = rest[0];
        const chat = alias ? await chatNamed(run, alias) : undefined;
        const runs = (await engine.runs(caseId, 10)).filter(
          (r) => !chat || r.chatId === chat.chatId,
        );
        if (runs.length === 0) {
          await run.reply(
            escapeHtml(`no scenario has run${chat ? ` on ${chat.alias}` : ""} in case ${caseId}`),
          );
          return;
        }
        const texts = await Promise.all(runs.slice(0, 5).map((r) => engine.describe(r)));
        await run.reply(escapeHtml(texts.join("\n\n")));
        return;
      }
      default:
        throw new UsageError(USAGE);
    }
  },
};
