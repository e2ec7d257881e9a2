import { getChatState } from "../../actions/chat-state.ts";
import { check, formatCheck } from "../../actions/check.ts";
import { actionEnv } from "../../actions/context.ts";
import { recentEntries } from "../../audit/recent.ts";
import { escapeHtml } from "../../base/html.ts";
import { UsageError } from "../../base/usage-error.ts";
import { listChats } from "../../store/cases.ts";
import { type CommandRun, type CommandSpec, usage } from "../command.ts";
import { ACTION_COMMANDS } from "./action-commands.ts";
import { COLLECT_COMMANDS } from "./collect-commands.ts";
import { scenarioCommand } from "./scenario-commands.ts";

/**
 * Every operator command, in the order /help and the command menu show them:
 * binding a chat, the pre-flight check, the catalog's actions, then what
 * reads (status, collection, scenarios).
 */

export const COMMANDS: CommandSpec[] = [
  {
    name: "seize",
    description: "bind this group to a case: /seize <case> [alias]",
    args: "<case> [alias]",
    role: "operator",
    needsChat: false,
    run: async () => undefined, // handled by the commands feature, which binds the chat first
  },
  {
    name: "check",
    description: "pre-flight: the bot's rights and who could undo the takeover",
    args: "",
    role: "operator",
    needsChat: true,
    async run(run) {
      if (!run.scope)
        throw new UsageError("name the seized chat: give its alias, e.g. /status lists them");
      const scope = run.scope;
      const report = await check(actionEnv(run.deps), scope);
      await run.deps.audit.record({
        case: run.caller.case.id,
        actor: run.caller.actor,
        op: "check",
        phase: "info",
        target: { chat_id: scope.chat.chatId, alias: scope.chat.alias },
        params: { ok: report.ok, warnings: report.warnings.length },
        update_ids: scope.updateIds ?? [],
      });
      await run.reply(formatCheck(report).map(escapeHtml).join("\n"));
    },
  },
  ...ACTION_COMMANDS,
  {
    name: "status",
    description: "every seized chat of the case: state, members, last actions",
    args: "",
    role: "auditor",
    needsChat: false,
    async run(run) {
      await run.reply(await statusText(run));
    },
  },
  {
    name: "help",
    description: "what Warden's commands do",
    args: "",
    role: "auditor",
    needsChat: false,
    async run(run) {
      const lines = COMMANDS.filter(
        (c) => c.name !== "help" && (run.caller.grant.role !== "auditor" || c.role === "auditor"),
      ).map((c) => `${usage(c, run.caller.where)} — ${c.description.split(":")[0]}`);
      await run.reply(
        escapeHtml(
          `Warden, case ${run.caller.case.id} (${run.caller.grant.role}):\n${lines.join("\n")}`,
        ),
      );
    },
  },
  ...COLLECT_COMMANDS,
  scenarioCommand,
];

async function statusText(run: CommandRun): Promise<string> {
  const { deps, caller } = run;
  const chats = await listChats(deps.redis, caller.case.id);
  const recent = await recentEntries(deps.redis, caller.case.id, 300);
  const lines = [
    `<b>case ${escapeHtml(caller.case.id)}</b> — ${escapeHtml(caller.case.title)} (${caller.case.status})`,
  ];
  if (chats.length === 0) lines.push("no seized chats yet");
  for (const chat of chats) {
    const state = await getChatState(deps.redis, caller.case.id, chat.chatId);
    const count = await deps.api.getChatMemberCount(chat.chatId).catch(() => undefined);
    const flags = [
      state.frozen ? `frozen (${state.frozen})` : "open",
      state.lockedDown ? "locked down" : "",
      state.released ? "released" : "",
    ].filter(Boolean);
    lines.push(
      `\n<b>${escapeHtml(chat.alias)}</b> <code>${chat.chatId}</code>: ${flags.join(", ")}; members: ${count ?? "unknown"}`,
    );
    const actions = recent
      .filter((e) => e.phase === "outcome" && e.target?.chat_id === chat.chatId)
      .slice(0, 5);
    for (const e of actions) {
      const step = typeof e.params?.step === "string" ? e.params.step : "";
      lines.push(
        `  #${e.seq} ${e.ts.slice(0, 19)}Z ${escapeHtml(e.op)} ${escapeHtml(step)} ${e.result?.ok === true ? "ok" : "failed"}`,
      );
    }
  }
  return lines.join("\n");
}
