import { getChatState } from "../../actions/chat-state.ts";
import { actionEnv } from "../../actions/context.ts";
import { parseMemberRef, resolveMembers } from "../../actions/members-named.ts";
import { escapeHtml } from "../../base/html.ts";
import { UsageError } from "../../base/usage-error.ts";
import { ALL_CATEGORIES, keptCategories } from "../../collect/minimise.ts";
import {
  caseCollection,
  chatCollection,
  getMemberRecord,
  type MemberRecord,
  recentMessagesFrom,
  type StoredMessage,
} from "../../collect/queries.ts";
import { chatByAlias, listChats } from "../../store/cases.ts";
import type { CommandRun, CommandSpec } from "../command.ts";

/**
 * `/collect` and `/who`: what Warden collects, and what it knows about one
 * member. `/collect` shows counts only. `/who` shows personal data, so it
 * needs a justification and is logged as a `consult` before anything is
 * shown; operators see a summary (names, counts, status), supervisors and
 * auditors also the member's recent messages. Everything the member wrote
 * (names, texts) is escaped, with invisible and direction-changing
 * characters shown rather than applied.
 */

/** Telegram's limit is 4,096 characters; answers stay well under it. */
const MAX_ANSWER = 3800;
const SNIPPET = 160;
const RECENT = 5;
const MIN_JUSTIFICATION = 8;

function iso(ms: number | undefined): string {
  return ms === undefined ? "?" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

function snippet(text: string): string {
  const chars = [...text];
  return chars.length > SNIPPET ? `${chars.slice(0, SNIPPET).join("")}…` : text;
}

function fullName(n: { first_name?: string; last_name?: string | null }): string {
  return [n.first_name, n.last_name].filter(Boolean).join(" ") || "(no name)";
}

/** Joins lines until the answer would pass Telegram's limit, then says how much was left out. */
function fitAnswer(lines: string[]): string {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    if (length + line.length + 1 > MAX_ANSWER) {
      out.push(`… ${lines.length - i} more lines not shown`);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join("\n");
}

async function collectRun(run: CommandRun): Promise<void> {
  const caseId = run.caller.case.id;
  const keep = keptCategories(run.caller.case);
  const kept = ALL_CATEGORIES.filter((c) => keep.has(c));
  const declined = ALL_CATEGORIES.filter((c) => !keep.has(c));
  const whole = await caseCollection(run.deps.redis, caseId);
  const lines = [
    `<b>collection, case ${escapeHtml(caseId)}</b>`,
    `keeping: members, names, membership events, ${kept.join(", ") || "nothing else"}`,
    `not keeping: ${declined.join(", ") || "—"}`,
    `members seen: ${whole.members}; membership events: ${whole.events}; sender chats: ${whole.senderChats}; private chats: ${whole.privateChats}; media files: ${whole.files}; evidence items: ${whole.evidence}`,
  ];
  const named = run.args[0]
    ? await chatByAlias(run.deps.redis, caseId, run.args[0].toLowerCase())
    : undefined;
  if (run.args[0] && !named)
    throw new UsageError(`unknown chat "${run.args[0]}" in case ${caseId}: /status lists them`);
  const only = named ?? run.chat;
  const chats = only ? [only] : await listChats(run.deps.redis, caseId);
  for (const chat of chats) {
    const [counts, state] = await Promise.all([
      chatCollection(run.deps.redis, caseId, chat.chatId),
      getChatState(run.deps.redis, caseId, chat.chatId),
    ]);
    lines.push(
      `\n<b>${escapeHtml(chat.alias)}</b>: ${counts.messages} messages, ${counts.offers} flagged as offers${state.frozen === "trade" ? " (trade freeze: offers and forwards are removed)" : ""}`,
      `  admin roster: ${counts.latestRoster ? `${counts.latestRoster.admins} admins at ${iso(counts.latestRoster.at)}` : "not read yet"}; member count: ${counts.latestCount ? `${counts.latestCount.count} at ${iso(counts.latestCount.at)}` : "not read yet"}`,
    );
  }
  await run.reply(fitAnswer(lines));
}

async function whoTarget(run: CommandRun): Promise<{ id: number; rest: string[] }> {
  const [first, ...rest] = run.args;
  if (run.replyTo?.senderId !== undefined && (!first || !/^(@\w+|\d+)$/.test(first)))
    return { id: run.replyTo.senderId, rest: run.args };
  if (!first) throw new UsageError("usage: /who <@user|id> <justification…> (or reply to them)");
  const [id] = await resolveMembers(actionEnv(run.deps), run.caller.case.id, [
    parseMemberRef(first),
  ]);
  return { id: id as number, rest };
}

function describeMessage(chatAlias: string, m: StoredMessage): string {
  const text = m.message.text ?? m.message.caption;
  const body = text !== undefined ? escapeHtml(snippet(text)) : "<i>(no text kept)</i>";
  const flags = [m.edited ? "edited" : "", m.offer ? "offer" : ""].filter(Boolean).join(", ");
  return `  ${escapeHtml(chatAlias)} #${m.message.message_id} ${iso(m.message.date * 1000)}${flags ? ` [${flags}]` : ""}: ${body}`;
}

function memberLines(record: MemberRecord): string[] {
  const p = record.profile;
  const lines = [
    `<b>${escapeHtml(p ? fullName(p) : "(erased)")}</b>${p?.username ? ` @${escapeHtml(p.username)}` : ""} (<code>${record.id}</code>)${p?.is_bot ? " bot" : ""}`,
    `first seen ${iso(record.firstSeen)}, last seen ${iso(record.lastSeen)}${record.erasedAt ? `; profile erased at ${iso(record.erasedAt)} (retention)` : ""}`,
    `counts: ${
      Object.entries(record.counts)
        .map(([k, v]) => `${escapeHtml(k)} ${v}`)
        .join(", ") || "none"
    }`,
  ];
  if (record.names.length > 0) {
    lines.push(`names (${record.names.length}):`);
    for (const n of record.names)
      lines.push(
        `  ${iso(n.seen)} ${escapeHtml(fullName(n))}${n.username ? ` @${escapeHtml(n.username)}` : ""}`,
      );
  }
  if (record.status.length > 0) {
    lines.push("status:");
    for (const s of record.status.slice(-10))
      lines.push(`  ${iso(s.date * 1000)} ${escapeHtml(s.status)} in ${s.chat_id} (by ${s.by})`);
  }
  return lines;
}

async function whoRun(run: CommandRun): Promise<void> {
  const caseId = run.caller.case.id;
  const { id, rest } = await whoTarget(run);
  const justification = rest.join(" ").trim();
  if (justification.length < MIN_JUSTIFICATION)
    throw new UsageError(
      "/who shows personal data and is logged: add why you need it, e.g. /who @user identify the seller of post 123",
    );
  const detail = run.caller.grant.role === "operator" ? "summary" : "messages";
  const record = await getMemberRecord(run.deps.redis, caseId, id);
  // The consultation is on the record before anything is shown.
  const entry = await run.deps.audit.record({
    case: caseId,
    actor: run.caller.actor,
    op: "consult",
    phase: "info",
    target: { user_ids: [id], ...(run.chat ? { chat_id: run.chat.chatId } : {}) },
    justification,
    params: { command: "who", detail, found: record !== undefined },
    ...(run.scope?.updateIds ? { update_ids: run.scope.updateIds } : {}),
  });
  if (!record) {
    await run.reply(
      escapeHtml(
        `user ${id} has not been seen in case ${caseId} (consultation logged as #${entry.seq})`,
      ),
    );
    return;
  }
  const lines = memberLines(record);
  if (detail === "messages") {
    const chats = run.chat ? [run.chat] : await listChats(run.deps.redis, caseId);
    const recent: string[] = [];
    for (const chat of chats) {
      for (const m of await recentMessagesFrom(run.deps.redis, caseId, chat.chatId, id, RECENT))
        recent.push(describeMessage(chat.alias, m));
    }
    lines.push(recent.length > 0 ? "recent messages:" : "no messages seen", ...recent);
  } else {
    lines.push("(operators see a summary; supervisors and auditors also see messages)");
  }
  lines.push(`consultation logged as #${entry.seq}`);
  await run.reply(fitAnswer(lines));
}

export const COLLECT_COMMANDS: CommandSpec[] = [
  {
    name: "collect",
    description: "what is collected in this chat (or every chat), with counts",
    args: "[alias]",
    role: "auditor",
    needsChat: false,
    run: collectRun,
  },
  {
    name: "who",
    description: "what Warden knows about a member (logged): /who <@user|id> <justification>",
    args: "<@user|id> <justification…>",
    role: "auditor",
    needsChat: false,
    run: whoRun,
  },
];
