import type { AuditEntry } from "../audit/entry.ts";
import { showInvisible } from "../base/html.ts";
import type { CallRecord, ChatSnapshot, PlayedMessage } from "../sim/index.ts";
import type { RehearsalResult } from "./rehearsal/finish.ts";
import { inlineButtons } from "./rehearsal/keyboard.ts";

/**
 * A rehearsal's transcript, for people: what members saw, what operators
 * saw, what changed in the group, and each action with its audit seq. Built
 * from the simulator's record of every Bot API call and from the case's
 * audit log, so it shows what happened, not what was meant to.
 */

export interface Names {
  chat(id: number): string;
  user(id: number): string;
}

export function clockLabel(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(5, 16).replace("T", " ");
}

/** The simulated time at the start of a transcript line, e.g. `[12-27 19:00]`. */
export function stamp(unixSeconds: number): string {
  return `[${clockLabel(unixSeconds)}]`;
}

/** An audit line, indented under the line of the call it belongs to. */
export function auditLine(line: string): string {
  return `           audit ${line}`;
}

/**
 * A message as terminal text: tags dropped, entities decoded, and invisible
 * formatting characters (a right-to-left override in a member's name or
 * message) shown as `[U+202E]` rather than reversing what the reader sees.
 */
function plain(html: string, max = 160): string {
  const text = showInvisible(html)
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s*\n\s*/g, " ⏎ ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function buttons(markup: unknown): string {
  const all = inlineButtons(markup);
  if (!all) return "";
  return ` [${all.map((b) => b.text).join(" | ")}]`;
}

const PERMISSION_WORDS: Record<string, string> = {
  can_send_messages: "text",
  can_send_photos: "photos",
  can_send_videos: "videos",
  can_send_documents: "documents",
  can_send_other_messages: "stickers",
};

/** What a permission set allows, e.g. `text, photos` (with `words`) or `send_messages, …`. */
function permissions(p: unknown, words: Record<string, string> = {}): string {
  const allowed = Object.entries((p ?? {}) as Record<string, boolean>)
    .filter(([, v]) => v)
    .map(([k]) => words[k] ?? k.replace(/^can_/, ""));
  return allowed.length ? allowed.join(", ") : "nothing";
}

/** One line for a Bot API call the bot made, or undefined for reads nobody sees. */
export function describeCall(call: CallRecord, names: Names): string | undefined {
  const p = call.params as Record<string, unknown>;
  const chat = typeof p.chat_id === "number" ? names.chat(p.chat_id) : String(p.chat_id ?? "");
  const user = typeof p.user_id === "number" ? names.user(p.user_id) : "";
  if (!call.ok) {
    if (call.method.startsWith("get")) return undefined;
    return `✗ ${call.method} in ${chat} refused: ${call.description ?? call.error_code}`;
  }
  switch (call.method) {
    case "sendMessage":
      return `${chat} sees: ${plain(String(p.text ?? ""))}${buttons(p.reply_markup)}`;
    case "editMessageText":
      return `${chat}: a message now reads: ${plain(String(p.text ?? ""))}`;
    case "setChatTitle":
      return `${chat}: title is now “${p.title}”`;
    case "setChatDescription":
      return `${chat}: description replaced`;
    case "setChatPhoto":
      return `${chat}: photo replaced`;
    case "exportChatInviteLink":
      return `${chat}: primary invite link replaced (the old one no longer works)`;
    case "revokeChatInviteLink":
      return `${chat}: an invite link revoked`;
    case "declineChatJoinRequest":
      return `${chat}: join request of ${user} declined`;
    case "approveChatJoinRequest":
      return `${chat}: join request of ${user} approved`;
    case "setChatPermissions":
      return `${chat}: members may now send ${permissions(p.permissions, PERMISSION_WORDS)}`;
    case "pinChatMessage":
      return `${chat}: message ${p.message_id} pinned`;
    case "unpinChatMessage":
    case "unpinAllChatMessages":
      return `${chat}: unpinned`;
    case "deleteMessage":
      return `${chat}: message ${p.message_id} deleted`;
    case "deleteMessages":
      return `${chat}: ${(p.message_ids as unknown[] | undefined)?.length ?? 0} message(s) deleted`;
    case "restrictChatMember":
      if (Object.values((p.permissions ?? {}) as object).every((v) => v === true))
        return `${chat}: ${user}'s restrictions lifted`;
      return `${chat}: ${user} muted${p.until_date ? ` until ${clockLabel(Number(p.until_date))}` : " for good"}`;
    case "banChatMember":
      return `${chat}: ${user} banned${p.until_date ? ` until ${clockLabel(Number(p.until_date))}` : ""}`;
    case "unbanChatMember":
      return `${chat}: ${user} unbanned`;
    default:
      return undefined;
  }
}

/** A member's message played from the world's timeline or the rehearsal script. */
export function describePlayed(played: PlayedMessage, names: Names): string {
  if (!played.ok)
    return `(${names.chat(played.chat_id)} refused a member's message: ${played.description})`;
  const m = played.message as {
    from?: { id: number };
    author_signature?: string;
    text?: string;
    caption?: string;
    photo?: unknown;
  };
  const who = m.author_signature
    ? `${m.author_signature} (anonymous admin)`
    : m.from
      ? names.user(m.from.id)
      : "someone";
  const body = m.text ?? m.caption ?? "";
  return `${who} in ${names.chat(played.chat_id)}: ${m.photo ? "[photo] " : ""}${plain(body)}`;
}

/** One line for an audit entry worth showing, or undefined (the recorder's batches, reads). */
export function describeEntry(e: AuditEntry): string | undefined {
  if (e.op === "collect" && e.actor.name === "recorder") return undefined;
  const step = typeof e.params?.step === "string" ? ` ${e.params.step}` : "";
  const where = e.scenario ? ` ‹${e.scenario.step}›` : "";
  if (e.phase === "intent") return undefined;
  if (e.phase === "outcome") {
    const ok =
      e.result?.ok === true
        ? "ok"
        : e.result?.ok === false
          ? `FAILED: ${(e.result as { description?: string }).description}`
          : "unknown";
    return `#${e.seq} ${e.op}${step} ${ok}${where}`;
  }
  if (e.phase === "refused")
    return `#${e.seq} ${e.op} refused: ${String(e.params?.reason ?? "")}${where}`;
  const interesting = [
    "purpose",
    "reason",
    "why",
    "to",
    "until",
    "on",
    "conversation",
    "name",
    "how",
    "result",
    "missing",
  ];
  const detail = interesting
    .filter((k) => e.params?.[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(e.params?.[k])}`)
    .join(" ");
  return `#${e.seq} ${e.op}${detail ? ` ${detail}` : ""}${where}`;
}

/** The closing lines: what members of the seized chat see, how the run ended, the log and its export. */
export function describeEnd(alias: string, group: ChatSnapshot, result: RehearsalResult): string[] {
  return [
    "",
    `What members of ${alias} see at the end:`,
    `  title: ${group.title}`,
    `  pinned: ${group.pinned_message_ids.join(", ") || "nothing"}`,
    `  may post: ${permissions(group.permissions)}`,
    `run: ${result.runStatus}`,
    ...result.failures.map((f) => `  failed: ${f}`),
    ...(result.missingRights.length
      ? [`  missing admin rights: ${result.missingRights.join(", ")}`]
      : []),
    `warden audit verify: ${result.verified ? "intact" : "FAILED"} (${result.entries} entries in case ${result.caseId})`,
    `audit bundle: ${result.exportDir}`,
    ...result.exportFiles.map((f) => `  ${f}`),
  ];
}
