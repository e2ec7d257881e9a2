import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { isDuration, parseDurationSeconds } from "../base/duration.ts";
import { LANGUAGE_CODES, languageOf } from "../scenario/definition/languages.ts";
import {
  closest,
  formatPath,
  type Position,
  type Problem,
} from "../scenario/definition/problems.ts";
import { structureProblems } from "../scenario/definition/schema-problems.ts";
import { readYaml, readYamlSource, type ScenarioSource } from "../scenario/definition/source.ts";
import { SCRIPT_KINDS, ScriptEntry, worldFileSchema } from "./world-file.ts";

/**
 * `warden world lint`, and what `warden rehearse` checks before it starts
 * anything: a world file against its schema (every problem at its line and
 * column, with a hint), then everything it names — the people and chats of
 * its chats, timeline, script and rehearsal section, the labels replies
 * point at, and its times — so a broken world stops a rehearsal at once
 * instead of partway through.
 */

type Path = readonly PropertyKey[];

/** A world file is read no further than this. */
export const MAX_WORLD_BYTES = 2 * 1024 * 1024;

/** How long a rehearsal runs at most (`warden rehearse`'s default); later entries never play. */
export const REHEARSAL_DAYS = 30;

const WORLD_FILE = {
  what: "a world",
  maxBytes: MAX_WORLD_BYTES,
  tooBig: "split the timeline over several worlds",
};

export async function lintWorldFile(file: string): Promise<Problem[]> {
  return lintWorldSource(await readYamlSource(file, WORLD_FILE));
}

/** Lints a world's text (already read), as `warden rehearse` does before it starts. */
export function lintWorldText(file: string, text: string): Problem[] {
  if (Buffer.byteLength(text) > MAX_WORLD_BYTES)
    return [
      {
        file,
        line: 1,
        column: 1,
        severity: "error",
        message: `file is larger than ${MAX_WORLD_BYTES} bytes; a world may be at most ${MAX_WORLD_BYTES}`,
        hint: WORLD_FILE.tooBig,
      },
    ];
  return lintWorldSource(readYaml(file, text));
}

function lintWorldSource(source: ScenarioSource): Problem[] {
  if (source.problems.length > 0) return source.problems;
  if (source.raw === undefined || source.raw === null)
    return [problem(source, [], "error", "the file is empty", "describe users:, bots: and chats:")];
  if (typeof source.raw === "object" && !Array.isArray(source.raw) && "phases" in source.raw)
    return [
      problem(
        source,
        [],
        "error",
        "this is a scenario (it has phases:), not a world",
        `check it with: warden scenario lint ${source.file}`,
      ),
    ];
  const structure = structureProblems(source, {
    schema: worldFileSchema,
    schemaFile: "scenarios/worlds/schema.json",
    stepKindsAt: (path) =>
      path.length === 3 && path[0] === "rehearsal" && path[1] === "script"
        ? {
            kinds: SCRIPT_KINDS,
            schemas: scriptSchemas,
            meta: ["at", "text", "photo", "button", "from"],
          }
        : undefined,
  }).map((p) => withTimeHint(p, source));
  const meaning = checkReferences(source);
  const seen = new Set(structure.map((p) => `${p.line}:${p.column}`));
  const problems = [...structure, ...meaning.filter((p) => !seen.has(`${p.line}:${p.column}`))];
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

const scriptSchemas = Object.fromEntries(
  SCRIPT_KINDS.map((kind, i) => [kind, ScriptEntry.options[i]]),
) as Record<string, (typeof ScriptEntry.options)[number]>;

function problem(
  source: Pick<ScenarioSource, "file" | "locate">,
  path: Path,
  severity: Problem["severity"],
  message: string,
  hint: string,
  key = false,
): Problem {
  const at: Position = source.locate(path, { key });
  return { file: source.file, ...at, severity, message, hint, path: formatPath(path) };
}

/** Where a time is written, what it counts, for hints. */
function timeField(path: readonly string[]): "after" | "before" | "seconds" | undefined {
  const last = path.at(-1);
  if (last === "for_seconds") return "seconds";
  if (last !== "at") return undefined;
  return path.includes("history") ? "before" : "after";
}

/**
 * A time written as a person would (`1h`, `19:30`, `"600"`) where the file
 * counts seconds: the problem's hint says what number to write instead.
 */
function withTimeHint(p: Problem, source: ScenarioSource): Problem {
  const path = (p.path ?? "").split(/\.|\[|\]/).filter(Boolean);
  const kind = timeField(path);
  if (!kind || p.message.startsWith("unknown") || p.message.startsWith("missing")) return p;
  const value = valueAtPath(source.raw, path);
  return { ...p, hint: timeHint(kind, value, startOf(source.raw)) };
}

function timeHint(
  kind: "after" | "before" | "seconds",
  value: unknown,
  startMs: number | undefined,
): string {
  const counts =
    kind === "before"
      ? "at: in a history counts seconds before the world's start, as a negative number"
      : kind === "after"
        ? "at: counts seconds after the world's start (start:)"
        : "for_seconds: counts seconds after the world's start";
  const text = typeof value === "string" ? value.trim() : undefined;
  const span = text?.replace(/^-/, "");
  if (text !== undefined && span !== undefined && isDuration(span)) {
    const seconds = parseDurationSeconds(span);
    return `${counts}: write ${kind === "before" ? -seconds : seconds} for ${text}`;
  }
  const clock = text !== undefined ? /^(\d{1,2}):(\d{2})$/.exec(text) : null;
  if (clock && startMs !== undefined && kind === "after") {
    const start = new Date(startMs);
    const then = Date.UTC(
      start.getUTCFullYear(),
      start.getUTCMonth(),
      start.getUTCDate(),
      Number(clock[1]),
      Number(clock[2]),
    );
    const seconds = Math.round((then - startMs) / 1000);
    if (seconds > 0)
      return `${counts}, not a time of day: ${text} UTC on the start's day is ${seconds}`;
  }
  if (text !== undefined && /^-?\d+(\.\d+)?$/.test(text))
    return `${counts}: write the number without quotes, ${text}`;
  return `${counts}: write a number, such as ${kind === "before" ? "-3600 for an hour before" : "3600 for an hour"}`;
}

function valueAtPath(raw: unknown, path: readonly string[]): unknown {
  let v = raw;
  for (const segment of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[segment];
  }
  return v;
}

function startOf(raw: unknown): number | undefined {
  const start = (raw as { start?: unknown } | null)?.start;
  if (start === undefined) return undefined;
  const ms = typeof start === "number" ? start * 1000 : Date.parse(String(start));
  return Number.isFinite(ms) ? ms : undefined;
}

/** The latest time a JavaScript date (and so the simulator's clock) can hold. */
const LATEST_MS = 8.64e15;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Every name the world file says, checked against what it defines. */
function checkReferences(source: ScenarioSource): Problem[] {
  const out: Problem[] = [];
  const error = (path: Path, message: string, hint: string, key = false) =>
    out.push(problem(source, path, "error", message, hint, key));
  const warning = (path: Path, message: string, hint: string, key = false) =>
    out.push(problem(source, path, "warning", message, hint, key));
  const world = isObj(source.raw) ? source.raw : {};

  // start
  const start = world.start;
  const startMs = startOf(world);
  if (start !== undefined && (typeof start === "string" || typeof start === "number")) {
    if (startMs === undefined || Math.abs(startMs) > LATEST_MS)
      error(
        ["start"],
        `start ${JSON.stringify(start)} is not a date the clock can stand at`,
        "write a date and time such as 2026-12-27T19:00:00Z (Z: UTC), or Unix seconds",
      );
    else if (typeof start === "string" && !/[zZ]$|[+-]\d{2}:?\d{2}$/.test(start.trim()))
      warning(
        ["start"],
        `start ${JSON.stringify(start)} has no time zone, so it is read in the local time of whoever rehearses`,
        `end it with Z for UTC (${new Date(startMs).toISOString().replace(".000Z", "Z")}) or an offset such as +01:00`,
      );
  }

  // Who is defined: users, bots, chats.
  const people = new Map<string, { kind: "user" | "bot"; path: Path }>();
  const usernames = new Map<string, string>();
  const ids = new Set<number>();
  const chats = new Map<
    string,
    { path: Path; type?: string; members: Set<string>; forum: boolean; topics: Set<string> }
  >();
  const define = (name: string, kind: "user" | "bot", path: Path, keyPath: Path) => {
    if (people.has(name) || chats.has(name))
      error(
        keyPath,
        `"${name}" names two people (or a person and a chat)`,
        "give each its own key:",
        true,
      );
    else people.set(name, { kind, path });
  };
  list(world.users).forEach((u, i) => {
    if (!isObj(u)) return;
    const name =
      str(u.key) ?? str(u.username) ?? (typeof u.id === "number" ? String(u.id) : undefined);
    const username = str(u.username)?.replace(/^@/, "").toLowerCase();
    if (typeof u.id === "number") ids.add(u.id);
    if (name !== undefined)
      define(name, "user", ["users", i], ["users", i, u.key !== undefined ? "key" : "username"]);
    if (username) {
      if (usernames.has(username))
        error(
          ["users", i, "username"],
          `username @${username} is taken by an earlier user`,
          "usernames are unique on Telegram: choose another",
          true,
        );
      else if (name !== undefined) usernames.set(username, name);
    }
    const code = str(u.language_code);
    if (code !== undefined && !LANGUAGE_CODES.includes(languageOf(code) ?? ""))
      warning(
        ["users", i, "language_code"],
        `language_code ${JSON.stringify(code)} is not a language Telegram sends`,
        "write an ISO 639-1 code such as nl, en, ar or tr",
      );
  });
  list(world.bots).forEach((b, i) => {
    if (!isObj(b)) return;
    const name = str(b.key) ?? str(b.username);
    if (typeof b.id === "number") ids.add(b.id);
    if (name !== undefined)
      define(name, "bot", ["bots", i], ["bots", i, b.key !== undefined ? "key" : "username"]);
  });
  const bots = list(world.bots).filter(isObj);
  if (bots.length === 0)
    error(
      world.bots === undefined ? [] : ["bots"],
      "the world has no bot for Warden to run as",
      "add bots: [{ key: warden, username: warden_politie_bot }] and make it an administrator of the seized chat",
      world.bots !== undefined,
    );
  const wardenKey = bots[0] ? (str(bots[0].key) ?? str(bots[0].username)) : undefined;

  list(world.chats).forEach((c, i) => {
    if (!isObj(c)) return;
    const name = str(c.key) ?? str(c.title);
    if (typeof c.id === "number") ids.add(c.id);
    if (name === undefined) return;
    if (chats.has(name) || people.has(name))
      error(
        ["chats", i, c.key !== undefined ? "key" : "title"],
        `"${name}" names two chats (or a chat and a person)`,
        "give each chat its own key:",
        true,
      );
    else
      chats.set(name, {
        path: ["chats", i],
        ...(str(c.type) ? { type: str(c.type) } : {}),
        members: new Set(),
        forum: c.is_forum === true,
        topics: new Set(),
      });
  });

  const knownPeople = () => [...people.keys()];
  /** A person by key, username (with or without @) or id; reports and returns undefined when unknown. */
  /** `only: "user"`: a user's key, as the rehearsal section and script name people. */
  const person = (ref: unknown, path: Path, what: string, only?: "user"): string | undefined => {
    if (only === "user" && typeof ref === "string" && !people.has(ref)) {
      const byName = usernames.get(ref.replace(/^@/, "").toLowerCase());
      if (byName !== undefined) {
        error(
          path,
          `${what}: "${ref}" is a username; here people are named by their key`,
          `write ${byName}`,
        );
        return undefined;
      }
    }
    if (typeof ref === "number") {
      if (ids.has(ref)) return String(ref);
      error(path, `${what}: no one in this world has id ${ref}`, "name them by their key");
      return undefined;
    }
    if (typeof ref !== "string") return undefined;
    const name = people.has(ref) ? ref : usernames.get(ref.replace(/^@/, "").toLowerCase());
    if (name === undefined) {
      const guess = closest(ref, knownPeople());
      error(
        path,
        `${what}: no one in this world is called "${ref}"`,
        guess
          ? `did you mean "${guess}"?`
          : `use the key of someone under users:${knownPeople().length ? ` (${knownPeople().slice(0, 8).join(", ")}${knownPeople().length > 8 ? ", …" : ""})` : ""}`,
      );
      return undefined;
    }
    if (only === "user" && people.get(name)?.kind === "bot") {
      error(path, `${what}: "${ref}" is a bot, not a person`, "name a user from users:");
      return undefined;
    }
    return name;
  };
  const chat = (ref: unknown, path: Path, what: string): string | undefined => {
    if (typeof ref === "number") {
      if (ids.has(ref)) return String(ref);
      error(path, `${what}: no chat in this world has id ${ref}`, "name it by its key");
      return undefined;
    }
    if (typeof ref !== "string") return undefined;
    if (chats.has(ref)) return ref;
    const guess = closest(ref, [...chats.keys()]);
    error(
      path,
      `${what}: no chat in this world is called "${ref}"`,
      guess
        ? `did you mean "${guess}"?`
        : `use the key of a chat under chats: (${[...chats.keys()].join(", ") || "none yet"})`,
    );
    return undefined;
  };

  // Chats: owners, members, history and its labels.
  const labels = new Map<string, { chat: string; at: number }>();
  list(world.chats).forEach((c, i) => {
    if (!isObj(c)) return;
    const name = str(c.key) ?? str(c.title);
    const here = name !== undefined ? chats.get(name) : undefined;
    const base = ["chats", i];
    const owner = person(c.owner, [...base, "owner"], "owner", "user");
    if (owner !== undefined) here?.members.add(owner);
    const seenMembers = new Set<string>();
    list(c.members).forEach((m, j) => {
      if (!isObj(m)) return;
      const who = person(m.user, [...base, "members", j, "user"], "member");
      if (who === undefined) return;
      if (seenMembers.has(who))
        warning(
          [...base, "members", j, "user"],
          `"${String(m.user)}" is listed twice in this chat`,
          "keep one entry: the later one wins",
        );
      seenMembers.add(who);
      if (m.status !== "left" && m.status !== "kicked") here?.members.add(who);
      if (m.until_date !== undefined && m.for_seconds !== undefined)
        error(
          [...base, "members", j, "for_seconds"],
          "until_date and for_seconds both say when this ends",
          "keep one of them",
          true,
        );
    });
    if (c.is_forum === true && c.type !== "supergroup")
      error(
        [...base, "is_forum"],
        `${name ?? "this chat"} is a ${String(c.type)}; only supergroups have topics`,
        "make it type: supergroup, or leave out is_forum",
        true,
      );
    list(c.topics).forEach((t, j) => {
      if (!isObj(t)) return;
      if (c.is_forum !== true && j === 0)
        error(
          [...base, "topics"],
          `${name ?? "this chat"} has topics but is not a forum`,
          "add is_forum: true to the chat",
          true,
        );
      const topicName = str(t.key) ?? str(t.name);
      if (topicName === undefined) return;
      if (here?.topics.has(topicName))
        error(
          [...base, "topics", j, t.key !== undefined ? "key" : "name"],
          `two topics of ${name} are called "${topicName}"`,
          "give one a key: to tell them apart",
          true,
        );
      here?.topics.add(topicName);
      if (t.creator !== undefined) person(t.creator, [...base, "topics", j, "creator"], "creator");
    });
    list(c.history).forEach((h, k) => {
      if (!isObj(h)) return;
      const path = [...base, "history", k];
      message(h, path, name, false);
      const label = str(h.label);
      if (label !== undefined) {
        if (labels.has(label))
          error(
            [...path, "label"],
            `label "${label}" is used twice`,
            "labels name one message each: choose another",
          );
        else if (name !== undefined) labels.set(label, { chat: name, at: Number(h.at ?? 0) });
      }
    });
  });

  /** The people a message names, and the message it replies to (which must come before it, in its chat). */
  function message(
    m: Obj,
    path: Path,
    chatName: string | undefined,
    onTimeline: boolean,
    at?: number,
  ): void {
    const from = person(m.from, [...path, "from"], "from");
    if (m.sender_chat !== undefined) chat(m.sender_chat, [...path, "sender_chat"], "sender_chat");
    if (m.forward_from !== undefined)
      person(m.forward_from, [...path, "forward_from"], "forward_from");
    if (m.forward_from_chat !== undefined)
      chat(m.forward_from_chat, [...path, "forward_from_chat"], "forward_from_chat");
    if (m.via_bot !== undefined) person(m.via_bot, [...path, "via_bot"], "via_bot");
    if (m.new_topic === undefined) topicOf(m, path, chatName);
    album(m, path);
    if (
      onTimeline &&
      from !== undefined &&
      chatName !== undefined &&
      !m.anonymous &&
      m.sender_chat === undefined &&
      chats.get(chatName) &&
      !chats.get(chatName)?.members.has(from)
    )
      warning(
        [...path, "from"],
        `"${String(m.from)}" is not a member of ${chatName}, so Telegram refuses the message`,
        `add them under members: of ${chatName}, or let a member write it`,
      );
    const reply = str(m.reply_to);
    if (reply === undefined) return;
    const target = labels.get(reply);
    if (!target)
      error(
        [...path, "reply_to"],
        `reply_to "${reply}": no earlier message has this label`,
        `give the message it answers label: ${reply} (it must come before this one)`,
      );
    else if (chatName !== undefined && target.chat !== chatName)
      error(
        [...path, "reply_to"],
        `reply_to "${reply}" is a message in ${target.chat}, not in ${chatName}`,
        "a reply answers a message of its own chat",
      );
    else if (at !== undefined && target.at > at)
      error(
        [...path, "reply_to"],
        `reply_to "${reply}" is posted later (at: ${target.at}) than this reply (at: ${at})`,
        "a reply must come after the message it answers",
      );
  }

  /** The topic a message names must be one of its forum's, declared or opened earlier. */
  function topicOf(m: Obj, path: Path, chatName: string | undefined) {
    const topic = str(m.topic);
    const here = chatName !== undefined ? chats.get(chatName) : undefined;
    if (topic === undefined || !here) return;
    if (!here.forum)
      error(
        [...path, "topic"],
        `${chatName} is not a forum, so it has no topic "${topic}"`,
        `add is_forum: true and topics: to ${chatName}, or leave out topic:`,
      );
    else if (!here.topics.has(topic)) {
      const guess = closest(topic, [...here.topics]);
      error(
        [...path, "topic"],
        `${chatName} has no topic "${topic}" at this point`,
        guess
          ? `did you mean "${guess}"?`
          : `declare it under topics: of ${chatName} (or open it earlier with new_topic:)`,
      );
    }
  }

  /** An album's items carry its files and captions; 2 to 10 of one kind, documents alone. */
  function album(m: Obj, path: Path) {
    const items = Array.isArray(m.album) ? m.album : undefined;
    if (m.delivery_order !== undefined && !items)
      error(
        [...path, "delivery_order"],
        "delivery_order orders the items of an album, and this message has none",
        "leave it out, or give the message album:",
        true,
      );
    if (!items) return;
    for (const field of ["text", "caption", "photo", "video", "document"])
      if (m[field] !== undefined)
        error(
          [...path, field],
          `an album carries its files and captions in its items, not in ${field}:`,
          "move it into an item of album:",
          true,
        );
    const kinds = items.map((item, i) => {
      const given = isObj(item)
        ? ["photo", "video", "document"].filter((k) => item[k] !== undefined && item[k] !== false)
        : [];
      if (given.length !== 1)
        error(
          [...path, "album", i],
          "each album item is one photo, video or document",
          "give the item exactly one of photo:, video: or document:",
        );
      return given[0];
    });
    if (kinds.includes("document") && kinds.some((k) => k !== "document"))
      error(
        [...path, "album"],
        "documents can't be mixed with photos or videos in one album (Telegram refuses it)",
        "send the documents as an album of their own",
        true,
      );
    const order = m.delivery_order;
    if (Array.isArray(order)) {
      const sorted = [...order].sort((a, b) => Number(a) - Number(b));
      if (sorted.length !== items.length || sorted.some((v, i) => v !== i))
        error(
          [...path, "delivery_order"],
          `delivery_order must list each item index from 0 to ${items.length - 1} once`,
          `for example [${items.map((_, i) => items.length - 1 - i).join(", ")}], or write reversed`,
        );
    }
  }

  // The timeline, in the order it plays.
  const lastMs = REHEARSAL_DAYS * 86_400;
  const timeline = list(world.timeline)
    .map((t, i) => ({ t, i }))
    .filter((x): x is { t: Obj; i: number } => isObj(x.t));
  // Labels of the timeline exist from when they are posted: register them in time order.
  for (const { t, i } of [...timeline].sort((a, b) => Number(a.t.at) - Number(b.t.at))) {
    const path = ["timeline", i];
    const where = chat(t.chat, [...path, "chat"], "chat");
    const at = typeof t.at === "number" ? t.at : undefined;
    message(t, path, where, true, at);
    openTopic(t, path, where);
    const label = str(t.label);
    if (label !== undefined) {
      if (labels.has(label))
        error(
          [...path, "label"],
          `label "${label}" is used twice`,
          "labels name one message each: choose another",
        );
      else if (where !== undefined) labels.set(label, { chat: where, at: at ?? 0 });
    }
    if (at !== undefined && at > lastMs) late([...path, "at"], at);
  }
  /** A timeline entry that opens a topic: in a forum, and named for the entries after it. */
  function openTopic(t: Obj, path: Path, where: string | undefined) {
    if (!isObj(t.new_topic) || where === undefined) return;
    const here = chats.get(where);
    if (!here?.forum)
      error(
        [...path, "new_topic"],
        `${where} is not a forum, so no one can open a topic in it`,
        `add is_forum: true to ${where}`,
        true,
      );
    const name = str(t.new_topic.key) ?? str(t.new_topic.name);
    if (name !== undefined) here?.topics.add(name);
    for (const field of ["text", "caption", "photo", "video", "document", "album", "topic"])
      if (t[field] !== undefined)
        error(
          [...path, field],
          `an entry that opens a topic posts nothing else, so ${field}: is not used`,
          "post it in a later entry with topic: naming the new topic",
          true,
        );
  }
  function late(path: Path, at: number) {
    warning(
      path,
      `at: ${at} is ${(at / 86_400).toFixed(1)} days after the start; a rehearsal stops after ${REHEARSAL_DAYS}, so this never happens`,
      `keep it within ${lastMs} seconds`,
    );
  }

  // The rehearsal section.
  const section = isObj(world.rehearsal) ? world.rehearsal : undefined;
  if (!section) return out;
  const r = (...p: PropertyKey[]) => ["rehearsal", ...p];
  const operator =
    section.operator !== undefined
      ? person(section.operator, r("operator"), "operator", "user")
      : undefined;
  const supervisor =
    section.supervisor !== undefined
      ? person(section.supervisor, r("supervisor"), "supervisor", "user")
      : undefined;
  if (operator !== undefined && operator === supervisor)
    error(
      r("supervisor"),
      "the supervisor is the operator: Warden lets nobody approve their own request",
      "name two different users",
    );
  const room =
    section.control_room !== undefined
      ? chat(section.control_room, r("control_room"), "control_room")
      : undefined;
  if (room !== undefined && wardenKey !== undefined && !chats.get(room)?.members.has(wardenKey))
    warning(
      r("control_room"),
      `Warden's bot (${wardenKey}) is not a member of the control room ${room}, so operators never hear from it`,
      `add { user: ${wardenKey}, status: administrator, rights: all } under its members:`,
    );
  const aliases = new Map<string, string>();
  if (isObj(section.seize)) {
    for (const [key, alias] of Object.entries(section.seize)) {
      const found = chat(key, r("seize", key), "seize");
      if (found === undefined) continue;
      const type = chats.get(found)?.type;
      if (type === "channel")
        error(
          r("seize", key),
          `${found} is a channel; Warden seizes groups`,
          "seize a group or supergroup",
          true,
        );
      if (found === room)
        error(
          r("seize", key),
          `${found} is the control room`,
          "seize the members' group, not the police's",
          true,
        );
      if (typeof alias === "string") {
        if (aliases.has(alias))
          error(
            r("seize", key),
            `alias ${alias} is given to ${aliases.get(alias)} already`,
            "give each seized chat its own alias",
          );
        aliases.set(alias, found);
      }
      if (wardenKey !== undefined && !chats.get(found)?.members.has(wardenKey))
        warning(
          r("seize", key),
          `Warden's bot (${wardenKey}) is not a member of ${found}, so it can do nothing there`,
          `add { user: ${wardenKey}, status: administrator, rights: all } under its members:`,
          true,
        );
    }
  } else if (section.seize === undefined) {
    const groups = [...chats.entries()].filter(([k, c]) => c.type === "supergroup" && k !== room);
    if (groups.length === 0 && chats.size > 0)
      error(
        r(),
        "nothing to seize: the rehearsal section names no chat under seize: and there is no supergroup besides the control room",
        "add seize: { <chat key>: fw1 }",
        true,
      );
  }
  list(section.script).forEach((entry, i) => {
    if (!isObj(entry)) return;
    const path = r("script", i);
    if ("private" in entry) person(entry.private, [...path, "private"], "private", "user");
    if ("press" in entry) person(entry.press, [...path, "press"], "press", "user");
    if ("join_request" in entry) {
      const where = chat(entry.join_request, [...path, "join_request"], "join_request");
      const who = person(entry.from, [...path, "from"], "from", "user");
      if (where !== undefined && who !== undefined && chats.get(where)?.members.has(who))
        warning(
          [...path, "from"],
          `"${String(entry.from)}" is already a member of ${where}, so Telegram refuses the request`,
          `make them status: left in ${where}, or let someone else ask`,
        );
    }
    if (typeof entry.at === "number" && entry.at > lastMs) late([...path, "at"], entry.at);
  });
  if (Array.isArray(section.scenarios)) checkScenarioIds(source, section.scenarios, warning);
  return out;
}

/** Warns about scenario ids the scenarios folder above the world does not hold. */
function checkScenarioIds(
  source: ScenarioSource,
  ids: unknown[],
  warning: (path: Path, message: string, hint: string) => void,
): void {
  const dir = join(dirname(source.file), "..");
  let known: string[];
  try {
    known = readdirSync(dir)
      .filter((n) => [".yaml", ".yml"].includes(extname(n)))
      .filter((n) => statSync(join(dir, n)).isFile())
      .flatMap((n) => {
        const m = /^id:\s*["']?([a-z0-9-]+)/m.exec(
          readFileSync(join(dir, n), "utf8").slice(0, 65536),
        );
        return m?.[1] ? [m[1]] : [];
      });
  } catch {
    return;
  }
  if (known.length === 0) return;
  ids.forEach((id, i) => {
    if (typeof id !== "string" || known.includes(id)) return;
    const guess = closest(id, known);
    warning(
      ["rehearsal", "scenarios", i],
      `no scenario "${id}" in ${dir}`,
      guess ? `did you mean "${guess}"?` : `scenarios there: ${known.join(", ")}`,
    );
  });
}
