/**
 * How a Redis key shape is declared in Warden's key registry (the files next
 * to this one), and how its pattern is read.
 *
 * A pattern is the part of a key after its scope's prefix, with holes in angle
 * brackets: `chat:<chat>:msgs` under `warden:{<case>}:` is the message hash of
 * one chat of one case. Each hole is named in `HOLES`, which says what it
 * stands for and what it may hold: builders type their arguments from it, the
 * key scanner matches with it, and Lua scripts splice variables into it.
 */

/** Redis's own names, as `TYPE` answers them. */
export type RedisType = "string" | "hash" | "set" | "zset" | "list" | "stream";

/** Who writes and reads the key: the capability (src/<owner>/) that decides what it holds. */
export type Owner = "store" | "audit" | "collect" | "actions" | "scenario" | "bot";

/**
 * What a basic group's upgrade to a supergroup does to a shape that names a
 * chat (src/store/migrate-chat.ts):
 * - `moves`: the key (`<chat>` in its pattern) or its fields (`<chat>` in
 *   `fields`) describe the group, whatever its id, and are renamed to the new id;
 * - `rewritten`: the chat id is part of what it holds (a record, an index);
 *   the migration rewrites it, shape by shape (`REWRITES` in migrate-chat.ts);
 * - `stays`: message evidence and what indexes it. Telegram message ids belong
 *   to the chat id they were sent under, so evidence keeps the old id, and
 *   exports list earlier ids of migrated chats (src/collect/export/rows.ts).
 *   A conversation under way stays too: its stored replay names the chat it
 *   began in, so one held as replies in the group is not carried over.
 */
export type ChatMigration = "moves" | "rewritten" | "stays";

export interface KeyShape {
  /** `case`: under `warden:{<case>}:`, in the case's cluster slot; `global`: under `warden:global:`. */
  scope: "case" | "global";
  /** The key after the scope's prefix; `<hole>`s are named in `HOLES`. */
  pattern: string;
  type: RedisType;
  owner: Owner;
  /** What it holds, in one line (the README's key table). */
  holds: string;
  /** For a hash (or a sorted set's members) with fields named by a pattern, such as `<chat>:<msg>`. */
  fields?: string;
  /** Required when `<chat>` appears in `pattern` or `fields`: what an upgrade to a supergroup does. */
  migration?: ChatMigration;
}

/** How a hole is typed in builders and matched in scanned keys. */
const KINDS = {
  /** A Telegram id that may be negative (groups, channels). */
  int: { regex: "-?\\d+" },
  /** A Telegram id that is never negative (users, messages). */
  nat: { regex: "\\d+" },
  /** An id of Warden's own, without colons. */
  name: { regex: "[^:]+" },
  /** Free text that may hold colons (idempotency keys, marker names). */
  text: { regex: ".+" },
} as const;

export const HOLES = {
  chat: { kind: "int", means: "a Telegram chat id (negative for groups)" },
  room: { kind: "int", means: "the Telegram chat id of a control room" },
  sender: { kind: "int", means: "a user id, or a sender chat's id" },
  member: { kind: "nat", means: "a Telegram user id" },
  msg: { kind: "nat", means: "a Telegram message id" },
  alias: { kind: "name", means: "a seized chat's alias" },
  run: { kind: "name", means: "a scenario run id" },
  hash: { kind: "name", means: "a scenario definition's content hash" },
  approval: { kind: "name", means: "an approval request's id" },
  ladder: { kind: "name", means: "an escalation ladder's name" },
  who: { kind: "name", means: "what a limit counts: `m<user id>` or `chat`" },
  name: { kind: "name", means: "a field's name" },
  album: { kind: "name", means: "an album's `media_group_id`" },
  update: { kind: "nat", means: "a Telegram update id" },
  hour: { kind: "nat", means: "an hour since the epoch (ms / 3,600,000)" },
  request: { kind: "text", means: "a request's idempotency key" },
  step: { kind: "text", means: "a step of an action" },
  trigger: { kind: "text", means: "a trigger, as `<phase>:<trigger>`" },
  what: { kind: "text", means: "what a marker marks as done" },
  proc: { kind: "name", means: "a running `warden start` process: `<host>-<pid>-<random>`" },
  part: { kind: "nat", means: "a partition of the webhook intake (chats are spread over them)" },
} as const satisfies Record<string, { kind: keyof typeof KINDS; means: string }>;

export type HoleName = keyof typeof HOLES;

export type ValueOf<N extends HoleName> = (typeof HOLES)[N]["kind"] extends "int" | "nat"
  ? number
  : string;

/** The arguments a pattern's holes take, in the order they appear. */
export type HoleValues<P extends string> = P extends `${string}<${infer N}>${infer Rest}`
  ? N extends HoleName
    ? [ValueOf<N>, ...HoleValues<Rest>]
    : never
  : [];

/** The names of a pattern's holes. */
export type HoleNames<P extends string> = P extends `${string}<${infer N}>${infer Rest}`
  ? N | HoleNames<Rest>
  : never;

/** A pattern cut at its holes: `literals` has one more element than `holes`. */
export interface CompiledPattern {
  literals: string[];
  holes: HoleName[];
}

const HOLE = /<([^<>]*)>/g;

export function compilePattern(pattern: string): CompiledPattern {
  const literals: string[] = [];
  const holes: HoleName[] = [];
  let at = 0;
  for (const m of pattern.matchAll(HOLE)) {
    const name = m[1] as string;
    if (!(name in HOLES))
      throw new Error(
        `the key pattern "${pattern}" has a hole <${name}> that src/store/layout/shape.ts does not name: add it to HOLES`,
      );
    literals.push(pattern.slice(at, m.index));
    holes.push(name as HoleName);
    at = m.index + m[0].length;
  }
  literals.push(pattern.slice(at));
  return { literals, holes };
}

/** A regular expression source for a pattern, each hole a capture group. */
export function patternRegexSource(pattern: string): string {
  const { literals, holes } = compilePattern(pattern);
  let source = escapeRegex(literals[0] as string);
  holes.forEach((hole, i) => {
    source += `(${KINDS[HOLES[hole].kind].regex})${escapeRegex(literals[i + 1] as string)}`;
  });
  return source;
}

/** Whether a hole holds a number. */
export function isNumericHole(hole: HoleName): boolean {
  const kind = HOLES[hole].kind;
  return kind === "int" || kind === "nat";
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
