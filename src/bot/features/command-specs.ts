import { getChatState } from "../../actions/chat-state.ts";
import { check, formatCheck } from "../../actions/check.ts";
import type { ActionEnv, ActionScope } from "../../actions/context.ts";
import { freeze, thaw } from "../../actions/freeze.ts";
import { lockdown } from "../../actions/lockdown.ts";
import { ban, kick, restrict, unban } from "../../actions/members.ts";
import { type PurgeSelection, purge } from "../../actions/purge.ts";
import { release } from "../../actions/release.ts";
import type { ActionReport } from "../../actions/run.ts";
import { WARNING_TEMPLATES } from "../../actions/templates.ts";
import { announce, pin, unpin, warn } from "../../actions/warn.ts";
import { recentEntries } from "../../audit/recent.ts";
import { userIdByUsername } from "../../collect/queries.ts";
import { listChats, type SeizedChat } from "../../store/cases.ts";
import { collectKeys } from "../../store/keys.ts";
import type { Caller } from "../access.ts";
import type { FeatureDeps } from "../deps.ts";
import { escapeHtml } from "../html.ts";
import { durationNote, parseDuration, parseTarget, UsageError } from "../parse.ts";
import { COLLECT_COMMANDS } from "./collect-commands.ts";
import { actionEnv } from "./commands.ts";
import { scenarioCommand } from "./scenario-commands.ts";

/**
 * Every operator command as data: its name, who may use it, what it needs, and
 * what it does. The same `run` serves a command given directly and one a
 * supervisor approved, so approval never changes what a command does.
 */

export interface CommandRun {
  deps: FeatureDeps;
  caller: Caller;
  /** The message the command replied to, if any: a way to name a target. */
  replyTo?: { messageId: number; senderId?: number };
  args: string[];
  reply(html: string): Promise<void>;
  chat?: SeizedChat;
  scope?: ActionScope;
  /** Identifies the request (`cmd:<chat>:<message>`), the same for a command and its approved run. */
  requestKey?: string;
  updateIds?: number[];
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Arguments after the alias, for the usage line. */
  args: string;
  role: "auditor" | "operator" | "supervisor";
  /** Whether it acts on one seized chat (named by alias in the control room). */
  needsChat: boolean;
  /** Returns why a supervisor must approve, or undefined to run at once. */
  needsApproval?: (run: CommandRun) => Promise<string | undefined> | string | undefined;
  run(run: CommandRun): Promise<void>;
}

export function usage(spec: CommandSpec, where: "control-room" | "seized"): string {
  return [`/${spec.name}`, spec.needsChat && where === "control-room" ? "<alias>" : "", spec.args]
    .filter(Boolean)
    .join(" ");
}

function need(run: CommandRun): { chat: SeizedChat; scope: ActionScope } {
  if (!run.chat || !run.scope)
    throw new UsageError("name the seized chat: give its alias, e.g. /status lists them");
  return { chat: run.chat, scope: run.scope };
}

async function say(run: CommandRun, result: ActionReport | string, note?: string): Promise<void> {
  const text = typeof result === "string" ? result : result.summary;
  await run.reply(escapeHtml(note ? `${text}\n(${note})` : text));
}

/** Reply target, numeric id or @username (from what Warden has seen) → Telegram id. */
async function targetsOf(run: CommandRun, words: string[]): Promise<number[]> {
  const ids: number[] = [];
  if (run.replyTo?.senderId !== undefined) ids.push(run.replyTo.senderId);
  for (const word of words) {
    const target = parseTarget(word);
    if (target.kind === "id") ids.push(target.id);
    else {
      const id = await userIdByUsername(run.deps.redis, run.caller.case.id, target.username);
      if (id === undefined)
        throw new UsageError(
          `@${target.username} has not been seen in case ${run.caller.case.id}: use their numeric id`,
        );
      ids.push(id);
    }
  }
  if (ids.length === 0)
    throw new UsageError("name who: reply to their message, or give a numeric id or @username");
  return [...new Set(ids)];
}

/** Splits a trailing duration off the arguments. */
function durationArg(words: string[]): { words: string[]; seconds?: number } {
  const last = words.at(-1);
  if (last && /^\d+[smhdw]$/i.test(last))
    return { words: words.slice(0, -1), seconds: parseDuration(last) };
  return { words };
}

function nowSeconds(run: CommandRun): number {
  return Math.floor(run.deps.now() / 1000);
}

function overThreshold(run: CommandRun, count: number, what: string): string | undefined {
  return count > run.deps.approvalThreshold
    ? `${what} ${count} (more than ${run.deps.approvalThreshold})`
    : undefined;
}

const PURGE_USAGE =
  "usage: /purge last N | /purge @user | /purge from <id> | /purge <message ids or ranges> | reply /purge";

async function resolvePurge(run: CommandRun): Promise<PurgeSelection> {
  const [first, second] = run.args;
  if (first === "last") {
    if (!second || !/^\d{1,5}$/.test(second) || Number(second) < 1)
      throw new UsageError(PURGE_USAGE);
    return { last: Number(second) };
  }
  if (first === "from" || first?.startsWith("@")) {
    const who = first === "from" ? second : first;
    if (!who) throw new UsageError(PURGE_USAGE);
    const target = parseTarget(who);
    const id =
      target.kind === "id"
        ? target.id
        : await userIdByUsername(run.deps.redis, run.caller.case.id, target.username);
    if (id === undefined)
      throw new UsageError(
        `${who} has not been seen in case ${run.caller.case.id}: use /purge from <numeric id>`,
      );
    return { senderId: id };
  }
  if (!first && run.replyTo) return { messageIds: [run.replyTo.messageId] };
  if (!first) throw new UsageError(PURGE_USAGE);
  const ids = run.args.flatMap((a) => {
    const range = /^(\d+)-(\d+)$/.exec(a);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from || to - from >= 10_000)
        throw new UsageError(`"${a}" is not a sensible range of message ids`);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    }
    if (!/^\d+$/.test(a)) throw new UsageError(PURGE_USAGE);
    return [Number(a)];
  });
  return { messageIds: ids };
}

async function purgeCount(run: CommandRun, selection: PurgeSelection): Promise<number> {
  if ("messageIds" in selection) return selection.messageIds.length;
  if ("last" in selection) return selection.last;
  const { chat } = need(run);
  return run.deps.redis.zcard(
    collectKeys.messagesFrom(run.caller.case.id, chat.chatId, selection.senderId),
  );
}

/** A command that runs one action on the named chat and reports it. */
function chatAction(
  name: string,
  description: string,
  action: (env: ActionEnv, scope: ActionScope) => Promise<ActionReport>,
  approvalReason?: string,
): CommandSpec {
  return {
    name,
    description,
    args: "",
    role: "operator",
    needsChat: true,
    ...(approvalReason ? { needsApproval: () => approvalReason } : {}),
    async run(run) {
      const { scope } = need(run);
      await say(run, await action(actionEnv(run.deps), scope));
    },
  };
}

/**
 * A command that acts on members named by reply, id or @username, each with
 * its own idempotency key, and an optional trailing duration.
 */
function memberCommand(
  name: string,
  description: string,
  args: string,
  action: (
    env: ActionEnv,
    scope: ActionScope,
    id: number,
    untilDate?: number,
  ) => Promise<ActionReport>,
): CommandSpec {
  return {
    name,
    description,
    args,
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      const { words, seconds } = durationArg(run.args);
      const until = seconds === undefined ? undefined : nowSeconds(run) + seconds;
      for (const id of await targetsOf(run, words)) {
        const report = await action(
          actionEnv(run.deps),
          { ...scope, idempotencyKey: `${scope.idempotencyKey}:${id}` },
          id,
          until,
        );
        await say(run, report, durationNote(seconds));
      }
    },
  };
}

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
      const { scope } = need(run);
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
  {
    name: "warn",
    description: "post a warning: /warn [takeover|trade|freeze|release|your text] [pin]",
    args: `[${WARNING_TEMPLATES.join("|")}|text] [pin]`,
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      const words = [...run.args];
      const pinIt = words.at(-1) === "pin";
      if (pinIt) words.pop();
      const first = words[0];
      const template =
        first && (WARNING_TEMPLATES as readonly string[]).includes(first) && words.length === 1
          ? first
          : undefined;
      const text = !template && words.length > 0 ? escapeHtml(words.join(" ")) : undefined;
      await say(
        run,
        await warn(actionEnv(run.deps), scope, {
          ...(template ? { template } : {}),
          ...(text ? { text } : {}),
          pin: pinIt,
        }),
      );
    },
  },
  {
    name: "announce",
    description: "post your own text: /announce <text>",
    args: "<text>",
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      if (run.args.length === 0) throw new UsageError("usage: /announce <text>");
      await say(run, await announce(actionEnv(run.deps), scope, escapeHtml(run.args.join(" "))));
    },
  },
  {
    name: "freeze",
    description: "stop trading: /freeze [full|trade]",
    args: "[full|trade]",
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      const mode = run.args[0] ?? "full";
      if (mode !== "full" && mode !== "trade") throw new UsageError("usage: /freeze [full|trade]");
      await say(run, await freeze(actionEnv(run.deps), scope, mode));
    },
  },
  chatAction("thaw", "restore the permissions from before the freeze", thaw),

  chatAction(
    "lockdown",
    "new title, description and photo; revoke invite links; decline join requests",
    lockdown,
    "lockdown changes the group for everyone",
  ),

  chatAction(
    "release",
    "end the takeover: thaw and tell members",
    release,
    "release ends the takeover",
  ),

  memberCommand(
    "restrict",
    "mute members: /restrict <@user|id…> [duration] (or reply)",
    "<@user|id…> [30s|10m|2h|7d]",
    (env, scope, id, untilDate) =>
      restrict(env, scope, id, untilDate === undefined ? {} : { untilDate }),
  ),

  {
    ...memberCommand(
      "ban",
      "ban members or channels: /ban <@user|id…> [duration] (or reply)",
      "<@user|id…> [duration]",
      (env, scope, id, untilDate) =>
        ban(env, scope, id, untilDate === undefined ? {} : { untilDate }),
    ),
    needsApproval: async (run) => {
      const { words } = durationArg(run.args);
      return overThreshold(run, (await targetsOf(run, words)).length, "banning");
    },
  },

  memberCommand("unban", "lift a ban: /unban <@user|id…>", "<@user|id…>", (env, scope, id) =>
    unban(env, scope, id),
  ),

  memberCommand(
    "kick",
    "remove members without a ban: /kick <@user|id…>",
    "<@user|id…>",
    (env, scope, id) => kick(env, scope, id),
  ),

  {
    name: "purge",
    description: "delete messages, evidence first: /purge last N | @user | ids",
    args: "last N | @user | <ids>",
    role: "operator",
    needsChat: true,
    needsApproval: async (run) =>
      overThreshold(run, await purgeCount(run, await resolvePurge(run)), "purging"),
    async run(run) {
      const { scope } = need(run);
      await say(run, await purge(actionEnv(run.deps), scope, await resolvePurge(run)));
    },
  },
  {
    name: "pin",
    description: "pin a message: reply /pin, or /pin <message id>",
    args: "<message id>",
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      const id = run.replyTo?.messageId ?? Number(run.args[0]);
      if (!Number.isSafeInteger(id) || id <= 0)
        throw new UsageError("usage: reply /pin to a message, or /pin <message id>");
      await say(run, await pin(actionEnv(run.deps), scope, id));
    },
  },
  {
    name: "unpin",
    description: "unpin a message, or all: /unpin [message id]",
    args: "[message id]",
    role: "operator",
    needsChat: true,
    async run(run) {
      const { scope } = need(run);
      const raw = run.replyTo?.messageId ?? (run.args[0] ? Number(run.args[0]) : undefined);
      if (raw !== undefined && (!Number.isSafeInteger(raw) || raw <= 0))
        throw new UsageError("usage: /unpin [message id]");
      await say(run, await unpin(actionEnv(run.deps), scope, raw));
    },
  },
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
