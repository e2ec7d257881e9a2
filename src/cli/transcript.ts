import type { AuditEntry } from "../audit/entry.ts";
import { showInvisible } from "../base/html.ts";
import type { CallRecord, ChatSnapshot, PlayedMessage } from "../sim/index.ts";
import type { RehearsalResult } from "./rehearsal/finish.ts";
import { inlineButtons } from "./rehearsal/keyboard.ts";

/**
 * A rehearsal's transcript, for people who are not programmers: scenario
 * authors and investigators. Each line starts with the simulated time and
 * says who did what to whom — a member, the operator, the supervisor, or
 * Warden (the police bot) — followed, indented, by the audit entries that
 * record it. Built from the simulator's record of every Bot API call and
 * from the case's audit log, so it shows what happened, not what was meant
 * to. Nothing is cut short: a message is shown whole, its own line breaks
 * kept as indented lines.
 */

export interface Names {
  /** A seized chat as `group fw1`, the control room as `the control room`, a private chat by its person. */
  chat(id: number): string;
  user(id: number): string;
}

/** What the transcript remembers of messages, to say whose message a later call is about. */
export interface Memory {
  /** Who wrote message `messageId` in `chatId`, when the transcript saw it posted. */
  authorOf(chatId: number, messageId: number): number | undefined;
  /** The first line of a message Warden sent, when the transcript saw it sent. */
  botText(chatId: number, messageId: number): string | undefined;
}

const NO_MEMORY: Memory = { authorOf: () => undefined, botText: () => undefined };

export function clockLabel(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(5, 16).replace("T", " ");
}

/** The simulated time at the start of a transcript line, e.g. `[12-27 19:00]`. */
export function stamp(unixSeconds: number): string {
  return `[${clockLabel(unixSeconds)}]`;
}

/** How far a line's continuation (a message's further lines) is indented: past the stamp. */
export const CONTINUATION = " ".repeat(16);

/** An audit line, indented under the line of what it records. */
export function auditLine(line: string): string {
  return `           audit ${line}`;
}

/**
 * The lines that open a transcript: how to read it, said once. `logPath` is
 * where Warden's own log lines went instead of into the transcript.
 */
export function legend(log: { path: string } | "off" | "elsewhere"): string[] {
  return [
    log === "off"
      ? "Warden's own log is off (LOG_LEVEL=silent)."
      : log === "elsewhere"
        ? "Warden's own log lines are not part of this transcript."
        : `Warden's own log goes to ${log.path}, not here.`,
    "How to read this: each line starts with the simulated time (UTC, month-day hour:minute) and says who did what; Warden is the police bot.",
    "audit #n: the entry's number in the case's audit log, under what it records. Only outcomes, decisions and evidence kept are shown; the intent written before each call to Telegram and the recorder's collection entries are in the log too, so the numbers skip.",
    "",
  ];
}

/**
 * A message as terminal text: tags dropped, entities decoded, and invisible
 * formatting characters (a right-to-left override in a member's name or
 * message) shown as `[U+202E]` rather than reversing what the reader sees.
 * Line breaks are kept (`emit` indents them); blank lines are dropped.
 */
export function plain(html: string): string {
  return showInvisible(html)
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join("\n");
}

/** The first line of a message, for naming it (`its message “…”`). */
function firstLine(html: string): string {
  return plain(html).split("\n")[0] ?? "";
}

/** `text`, then the keyboard's buttons, e.g. ` [Approve | Reject]` (on the last line). */
function withButtons(text: string, markup: unknown): string {
  const all = inlineButtons(markup);
  return all ? `${text} [${all.map((b) => b.text).join(" | ")}]` : text;
}

/** A message after a colon: on the same line when it is one line, else from the next line on. */
function quoted(text: string): string {
  return text.includes("\n") ? `\n${text}` : ` ${text}`;
}

/** `a`, `a and b`, `a, b and c`. */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function possessive(name: string): string {
  return `${name}'s`;
}

// ---------------------------------------------------------------- permissions

/** What members may send, in the words the transcript uses everywhere (Telegram's order). */
const SENDING: ReadonlyArray<[string, string]> = [
  ["can_send_messages", "text"],
  ["can_send_audios", "audio files"],
  ["can_send_documents", "documents"],
  ["can_send_photos", "photos"],
  ["can_send_videos", "videos"],
  ["can_send_video_notes", "video messages"],
  ["can_send_voice_notes", "voice messages"],
  ["can_send_polls", "polls"],
  ["can_send_other_messages", "stickers and GIFs"],
  ["can_add_web_page_previews", "link previews"],
];

/** What else members may do, as verbs after "may". */
const OTHER_RIGHTS: Record<string, string> = {
  can_react_to_messages: "react to messages",
  can_edit_tag: "edit their tag",
  can_change_info: "change the group's info",
  can_invite_users: "invite people",
  can_pin_messages: "pin messages",
  can_manage_topics: "manage topics",
};

/**
 * What a permission set lets someone do, in words: `send only text; audio
 * files, documents, … are off` or `send anything; they may also invite
 * people`. `who` is the subject of the second clause ("they", a name).
 */
export function permissionWords(p: unknown, who = "they"): string {
  const given = (p ?? {}) as Record<string, boolean | undefined>;
  const on = SENDING.filter(([k]) => given[k] === true).map(([, w]) => w);
  const off = SENDING.filter(([k]) => given[k] !== true).map(([, w]) => w);
  const others = Object.entries(given)
    .filter(([k, v]) => v === true && !SENDING.some(([s]) => s === k))
    .map(([k]) => OTHER_RIGHTS[k] ?? k.replace(/^can_/, "").replace(/_/g, " "));
  const sends =
    off.length === 0
      ? "send anything"
      : on.length === 0
        ? "send nothing"
        : `send ${on.length === 1 ? "only " : ""}${list(on)}; ${list(off)} ${off.length === 1 ? "is" : "are"} off`;
  return others.length > 0 ? `${sends}; ${who} may also ${list(others)}` : sends;
}

// ---------------------------------------------------------------- Telegram's refusals

/**
 * Telegram's reasons in plain words, `who` being whom the refusal is about
 * (a member, or "Warden"); the rest are quoted as Telegram gave them.
 */
const REASONS: ReadonlyArray<[RegExp, (m: RegExpExecArray, who: string) => string]> = [
  [/^message to be replied not found$/, () => "it replied to a message that no longer exists"],
  [
    /^not enough rights to send (.+) to the chat$/,
    (m, who) => `${who} may not send ${m[1] === "text messages" ? "text" : m[1]} there now`,
  ],
  [
    /^Too Many Requests: retry after (\d+)/,
    (m) => `too many messages too fast; Telegram asked to wait ${m[1]} s`,
  ],
  [/^bot was blocked by the user$/, () => "the member has blocked the bot"],
  [
    /^bot can't initiate conversation with a user$/,
    () => "the person never started a chat with the bot, and a bot cannot write first",
  ],
  [/^message to (delete|edit|pin|unpin) not found$/, (m) => `the message to ${m[1]} is gone`],
  [/^message can't be deleted/, () => "the message can no longer be deleted"],
  [/^chat not found$/, () => "Telegram does not know that chat"],
  [/^user is an administrator of the chat$/, () => "the person is an administrator there"],
  [/^not enough rights(.*)$/, (m) => `the bot lacks the admin right for that${m[1] ?? ""}`],
];

/** Why Telegram refused, in plain words where the reason is a known one. */
export function reasonWords(description: string | undefined, who = "Warden"): string {
  const bare = (description ?? "no reason given").replace(/^(Bad Request|Forbidden): /, "");
  for (const [pattern, words] of REASONS) {
    const m = pattern.exec(bare);
    if (m) return words(m, who);
  }
  return `Telegram said “${bare}”`;
}

/** What a method does, as a noun after "Warden's" in a refusal. */
function attempt(method: string): string {
  if (/^(send|copy|forward)/.test(method)) return "message";
  if (method.startsWith("delete")) return "deletion";
  if (method.startsWith("edit")) return "edit";
  if (/^(ban|unban|restrict|promote)ChatMember$/.test(method))
    return method.replace(/ChatMember$/, "").toLowerCase();
  return `${method} call`;
}

// ---------------------------------------------------------------- Warden's calls

/** Methods that change nothing members or operators see. */
const UNSEEN =
  /^(get|answerCallbackQuery$|setMyCommands$|deleteMyCommands$|setWebhook$|deleteWebhook$|logOut$|close$|setMyName$|setMyDescription$|setMyShortDescription$)/;

/**
 * One line (or a message's several) for a Bot API call the bot made, or
 * undefined for what nobody sees (reads, its command list). Warden is the
 * actor of every call; the line names whom it acted on.
 */
export function describeCall(
  call: CallRecord,
  names: Names,
  memory: Memory = NO_MEMORY,
): string | undefined {
  const p = call.params as Record<string, unknown>;
  const chatId = typeof p.chat_id === "number" ? p.chat_id : undefined;
  const chat = chatId !== undefined ? names.chat(chatId) : String(p.chat_id ?? "a chat");
  const userId = typeof p.user_id === "number" ? p.user_id : undefined;
  const user = userId !== undefined ? names.user(userId) : "someone";
  const isPrivate = chatId !== undefined && chatId > 0;
  const into = chatId === undefined ? `in ${chat}` : isPrivate ? `to ${chat}` : `in ${chat}`;
  if (!call.ok) {
    if (UNSEEN.test(call.method)) return undefined;
    return `Telegram refused Warden's ${attempt(call.method)} ${into}: ${reasonWords(call.description)}`;
  }
  const messageId = typeof p.message_id === "number" ? p.message_id : undefined;
  const whose = (id: number | undefined) => {
    if (id === undefined || chatId === undefined) return "a message";
    const author = memory.authorOf(chatId, id);
    if (author !== undefined) return `${possessive(names.user(author))} message`;
    const text = memory.botText(chatId, id);
    return text !== undefined ? `its message “${text}”` : `message ${id}`;
  };
  switch (call.method) {
    case "sendMessage": {
      const text = withButtons(plain(String(p.text ?? "")), p.reply_markup);
      const replyTo = (p.reply_parameters as { message_id?: number } | undefined)?.message_id;
      const author =
        replyTo !== undefined && chatId !== undefined
          ? memory.authorOf(chatId, replyTo)
          : undefined;
      if (isPrivate) return `Warden writes to ${chat}:${quoted(text)}`;
      if (author !== undefined)
        return `Warden answers ${possessive(names.user(author))} message in ${chat}:${quoted(text)}`;
      return `Warden ${chatId !== undefined && chat.startsWith("group") ? "posts" : "writes"} in ${chat}:${quoted(text)}`;
    }
    case "editMessageText":
      return `Warden changes its message ${into} to read:${quoted(withButtons(plain(String(p.text ?? "")), p.reply_markup))}`;
    case "editMessageReplyMarkup":
      return `Warden changes the buttons under its message ${into}`;
    case "setChatTitle":
      return `Warden renames ${chat} to “${plain(String(p.title ?? ""))}”`;
    case "setChatDescription": {
      const description = String(p.description ?? "");
      // Telegram keeps at most 255 characters; a description that long was most likely cut to fit.
      const full = description.length >= 255 ? " (255 characters, Telegram's most)" : "";
      return `Warden sets the description of ${chat}${full}:${quoted(plain(description) || "(none)")}`;
    }
    case "setChatPhoto":
      return `Warden replaces the photo of ${chat}`;
    case "deleteChatPhoto":
      return `Warden removes the photo of ${chat}`;
    case "exportChatInviteLink":
      return `Warden replaces the invite link of ${chat}; the old link no longer works`;
    case "createChatInviteLink":
      return `Warden makes a new invite link for ${chat}`;
    case "revokeChatInviteLink":
      return `Warden revokes an invite link of ${chat}; it no longer works`;
    case "declineChatJoinRequest":
      return `Warden declines ${possessive(user)} request to join ${chat}`;
    case "approveChatJoinRequest":
      return `Warden lets ${user} into ${chat}`;
    case "setChatPermissions":
      return `Warden changes what members of ${chat} may do: they may now ${permissionWords(p.permissions)}`;
    case "pinChatMessage":
      return `Warden pins ${whose(messageId)} in ${chat}`;
    case "unpinChatMessage":
      return messageId !== undefined
        ? `Warden unpins ${whose(messageId)} in ${chat}`
        : `Warden unpins the latest pinned message in ${chat}`;
    case "unpinAllChatMessages":
      return `Warden unpins every message in ${chat}`;
    case "deleteMessage":
      return `Warden deletes ${whose(messageId)} ${into}`;
    case "deleteMessages": {
      const ids = ((p.message_ids as unknown[] | undefined) ?? []).map(Number);
      if (ids.length === 1) return `Warden deletes ${whose(ids[0])} ${into}`;
      const authors = [
        ...new Set(
          ids.flatMap((id) => {
            const a = chatId !== undefined ? memory.authorOf(chatId, id) : undefined;
            return a !== undefined ? [names.user(a)] : [];
          }),
        ),
      ];
      return `Warden deletes ${ids.length} messages ${into}${authors.length ? `, written by ${list(authors)}` : ""}`;
    }
    case "restrictChatMember": {
      if (Object.values((p.permissions ?? {}) as object).every((v) => v === true))
        return `Warden lifts the restrictions on ${user} in ${chat}`;
      const until = p.until_date ? ` until ${clockLabel(Number(p.until_date))}` : " for good";
      return `Warden restricts ${user} in ${chat}${until}: ${user} may ${permissionWords(p.permissions, user)}`;
    }
    case "banChatMember":
      return `Warden bans ${user} from ${chat}${p.until_date ? ` until ${clockLabel(Number(p.until_date))}` : " for good"}`;
    case "unbanChatMember":
      return `Warden lifts the ban on ${user} in ${chat}`;
    case "banChatSenderChat":
      return `Warden bans the channel ${String(p.sender_chat_id)} from posting in ${chat}`;
    case "unbanChatSenderChat":
      return `Warden lets the channel ${String(p.sender_chat_id)} post in ${chat} again`;
    case "leaveChat":
      return `Warden leaves ${chat}`;
    default:
      return UNSEEN.test(call.method) ? undefined : `Warden calls ${call.method} ${into}`;
  }
}

// ---------------------------------------------------------------- members' messages

/** What a member tried to post, as a noun: `message`, `photo`, `reply`. */
function tried(input: {
  photo?: unknown;
  document?: unknown;
  reply_to_message_id?: number;
}): string {
  if (input.photo) return "photo";
  if (input.document) return "document";
  return "message";
}

/** A member's message played from the world's timeline or the rehearsal script. */
export function describePlayed(played: PlayedMessage, names: Names, memory = NO_MEMORY): string {
  const where = names.chat(played.chat_id);
  if (!played.ok) {
    const who = played.input ? names.user(played.input.from_id) : "A member";
    const what = played.input ? tried(played.input) : "message";
    return `${possessive(who)} ${what} in ${where} was refused by Telegram: ${reasonWords(played.description, who)}`;
  }
  const m = played.message as {
    from?: { id: number };
    author_signature?: string;
    sender_chat?: { title?: string };
    text?: string;
    caption?: string;
    photo?: unknown;
    document?: unknown;
    reply_to_message?: { message_id: number; from?: { id: number } };
  };
  const who = m.author_signature
    ? `${m.author_signature} (an anonymous admin)`
    : m.sender_chat?.title
      ? `the channel “${m.sender_chat.title}”`
      : m.from
        ? names.user(m.from.id)
        : "someone";
  const body = plain(m.text ?? m.caption ?? "");
  const repliedTo =
    m.reply_to_message?.from?.id ??
    (m.reply_to_message
      ? memory.authorOf(played.chat_id, m.reply_to_message.message_id)
      : undefined);
  const verb = m.photo
    ? "posts a photo"
    : m.document
      ? "posts a document"
      : repliedTo !== undefined
        ? `answers ${possessive(names.user(repliedTo))} message`
        : "writes";
  return `${who} ${verb} in ${where}${body ? `:${quoted(body)}` : ""}`;
}

// ---------------------------------------------------------------- audit entries

/** Who an audit entry says acted, in words. */
function actorWords(e: AuditEntry, names: Names): string {
  const { actor } = e;
  switch (actor.kind) {
    case "scenario":
      return "the scenario";
    case "system":
      return actor.name === "trade-guard"
        ? "the trade guard"
        : actor.name === "recorder"
          ? "the recorder"
          : `Warden (${actor.name ?? "system"})`;
    case "cli":
      return actor.name === "rehearsal"
        ? "the rehearsal"
        : `${actor.name ?? "someone"} on the server`;
    default:
      return actor.id !== undefined ? names.user(actor.id) : (actor.name ?? actor.kind);
  }
}

/** Whom or where an entry's target is, e.g. `in group fw1`, `to Mike Peters`, `in group fw1, about Bram Visser`. */
function targetWords(e: AuditEntry, names: Names): string {
  const t = e.target;
  if (!t) return "";
  const users = (t.user_ids ?? []).map((id) => names.user(id));
  if (t.chat_id !== undefined && t.chat_id > 0)
    return ` ${/^conversation\.(start|end|timeout)$/.test(e.op) ? "with" : "to"} ${names.chat(t.chat_id)}`;
  const chat = t.chat_id !== undefined ? ` in ${names.chat(t.chat_id)}` : "";
  if (users.length === 0) return chat;
  const about = /^(reply|warn|notify|announce)$/.test(e.op)
    ? "to"
    : /^(restrict|ban|unban|kick|purge)$/.test(e.op)
      ? "of"
      : "about";
  return ` ${about} ${list(users)}${chat}`;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A time in an entry (ISO), as the transcript's stamps show it. */
function when(v: unknown): string {
  const ms = Date.parse(String(v));
  return Number.isFinite(ms) ? clockLabel(ms / 1000) : String(v);
}

/** What triggered a scenario's trigger, e.g. `Bram Visser's offer`. */
function triggerWords(e: AuditEntry, names: Names): string {
  const who = e.target?.user_ids?.[0];
  const person = who !== undefined ? possessive(names.user(who)) : "a";
  switch (e.params?.on) {
    case "trade_offer":
      return `${person} offer`;
    case "private_message":
      return `${person} private message`;
    case "join_request":
      return `${person} request to join`;
    case "join":
      return who !== undefined ? `${names.user(who)} joining` : "a join";
    case "leave":
      return who !== undefined ? `${names.user(who)} leaving` : "a leave";
    case "ghost_ad":
      return `${person} unanswered advert`;
    default:
      return `${person} message`;
  }
}

/** Actions as nouns after "the scenario's", "the trade guard's": what the outcome reports. */
const ACTION_NOUNS: Record<string, string> = {
  warn: "warning",
  notify: "note to the operators",
  reply: "answer",
  announce: "announcement",
  purge: "deletion",
  lockdown: "lockdown",
  freeze: "freeze",
  thaw: "thaw",
  release: "release",
  pin: "pinning",
  unpin: "unpinning",
  restrict: "restriction",
  ban: "ban",
  unban: "unban",
  kick: "removal",
  check: "rights check",
  "conversation.say": "message",
  "scenario.snapshot": "snapshot of the admins and member count",
};

/** Parts of an action too plain to name: most actions are one send or one read. */
const QUIET_STEPS = new Set(["send", "read"]);

/** Entries whose sentence names the step already, or whose step is only `start`/`finish`. */
const STEP_SAID = new Set([
  "scenario.step",
  "scenario.trigger",
  "scenario.start",
  "scenario.finish",
]);

/**
 * One line for an audit entry worth showing, or undefined: intents (the
 * outcome follows) and the recorder's collection batches are left out, as
 * the legend says. Each line is `#seq`, who did what to whom, the scenario
 * step it belongs to, and the entry's operation as the log names it.
 */
export function describeEntry(
  e: AuditEntry,
  names: Names,
  memory: Memory = NO_MEMORY,
): string | undefined {
  if (e.phase === "intent") return undefined;
  if (e.op === "collect" && e.actor.name === "recorder") return undefined;
  const step = e.scenario && !STEP_SAID.has(e.op) ? ` (step ${e.scenario.step})` : "";
  return `#${e.seq} ${entrySentence(e, names, memory)}${step} [${e.op}]`;
}

function entrySentence(e: AuditEntry, names: Names, memory: Memory): string {
  const who = actorWords(e, names);
  const to = targetWords(e, names);
  const p = e.params ?? {};
  const users = () => list((e.target?.user_ids ?? []).map((id) => names.user(id)));
  if (e.phase === "outcome") {
    const result =
      e.result?.ok === true
        ? "done"
        : e.result?.ok === false
          ? `FAILED: ${reasonWords((e.result as { description?: string }).description)}`
          : `outcome unknown: ${(e.result as { description?: string } | undefined)?.description ?? "no answer recorded"}`;
    const part =
      typeof p.step === "string" && !QUIET_STEPS.has(p.step) && p.step !== e.op
        ? ` (${p.step})`
        : "";
    return `${possessive(who)} ${ACTION_NOUNS[e.op] ?? e.op}${part}${to}: ${result}`;
  }
  if (e.phase === "refused")
    return `${possessive(who)} ${ACTION_NOUNS[e.op] ?? e.op}${to} was refused: ${str(p.reason ?? "no reason given")}`;
  switch (e.op) {
    case "case.create":
      return `${who} opened the case “${str(p.title ?? e.case)}”`;
    case "role.add":
      return `${who} made ${users()} ${p.role === "operator" || p.role === "auditor" ? "an" : "a"} ${str(p.role)} of the case`;
    case "role.remove":
      return `${who} took away the role of ${users()}`;
    case "chat.add":
      return `${who} put ${e.target?.chat_id !== undefined ? names.chat(e.target.chat_id) : "a chat"} under the case`;
    case "config":
      return p.control_room !== undefined
        ? `${who} made chat ${str(p.control_room)} the case's control room (“the control room” here)`
        : `${who} changed the case's settings`;
    case "approval.request":
      return `${who} asked a supervisor to approve: ${str(p.why ?? p.command ?? "")}`;
    case "approval.grant":
      return `${who} approved`;
    case "approval.reject":
      return `${who} rejected`;
    case "approval.expire":
      return "nobody answered the request for approval in time";
    case "scenario.start":
      return `${who} started the scenario${to} as run ${str(p.run)}`;
    case "scenario.step":
      return `${who} completed step ${e.scenario?.step ?? "?"}${p.result ? ` (${str(p.result)})` : ""}`;
    case "scenario.phase":
      return `${who} moved from phase ${str(p.from)} to phase ${str(p.to)}`;
    case "scenario.wait":
      return `${who} waits until ${when(p.until)}`;
    case "scenario.trigger":
      return `${possessive(who)} trigger ${e.scenario?.step ?? ""} answers ${triggerWords(e, names)}`;
    case "scenario.finish":
      return `${who} finished`;
    case "scenario.fail":
      return `${who} stopped: ${str(p.reason ?? "")}`;
    case "conversation.start":
      return `${who} started the conversation “${str(p.conversation)}”${to}`;
    case "conversation.end":
      return `the conversation “${str(p.conversation)}”${to} ended: ${str(p.how ?? "")}`;
    case "conversation.timeout":
      return `no answer came in time in the conversation “${str(p.conversation)}”${to}`;
    case "collect": {
      const person = e.target?.user_ids?.[0];
      if (p.name !== undefined && person !== undefined)
        return `${who} kept ${possessive(names.user(person))} answer “${str(p.name)}” as evidence`;
      const chat = e.target?.chat_id;
      const ids = Array.isArray(p.message_ids) ? p.message_ids.map(Number) : [];
      const whose = ids.map((id) => {
        const author = chat !== undefined ? memory.authorOf(chat, id) : undefined;
        return author !== undefined ? `${possessive(names.user(author))} message` : `message ${id}`;
      });
      const what =
        whose.length === 0 || whose.length > 3 ? `${ids.length || "the"} messages` : list(whose);
      return `${who} kept ${what}${to} as evidence${p.purpose === "evidence before purge" ? ", before deleting it" : p.purpose ? ` (${str(p.purpose)})` : ""}`;
    }
    default: {
      const detail = ["reason", "why", "to", "until", "how", "result", "missing"]
        .filter((k) => p[k] !== undefined)
        .map((k) => `${k} ${str(p[k])}`)
        .join(", ");
      return `${who}: ${e.op}${to}${detail ? ` (${detail})` : ""}`;
    }
  }
}

// ---------------------------------------------------------------- the end

/** The closing lines: what members of the seized chat see, how the run ended, the log and its export. */
export function describeEnd(
  alias: string,
  group: ChatSnapshot,
  result: RehearsalResult,
  memory: Memory = NO_MEMORY,
): string[] {
  const pinned = group.pinned_message_ids.map((id) => {
    const text = memory.botText(group.id, id);
    return text !== undefined ? `Warden's message “${text}”` : `message ${id}`;
  });
  return [
    "",
    `What members of ${alias} see at the end:`,
    `  title: ${group.title}`,
    `  pinned: ${pinned.length ? list(pinned) : "nothing"}`,
    `  members may ${permissionWords(group.permissions)}`,
    `The scenario run: ${result.runStatus}`,
    ...result.failures.map((f) => `  failed: ${f}`),
    ...(result.missingRights.length
      ? [`  missing admin rights: ${result.missingRights.join(", ")}`]
      : []),
    `warden audit verify: ${result.verified ? "intact" : "FAILED"} (${result.entries} entries in case ${result.caseId})`,
    `audit bundle: ${result.exportDir}`,
    ...result.exportFiles.map((f) => `  ${f}`),
  ];
}

/** `firstLine` for the follower, which remembers Warden's messages by it. */
export { firstLine };
