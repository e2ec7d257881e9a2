import { z } from "zod";

/**
 * The shape of one audit entry. Entries are stored as RFC 8785 canonical JSON so
 * that their bytes, and so their hashes, are the same wherever they are rebuilt:
 * an auditor's verifier re-canonicalises every entry and compares bytes.
 */

/** The six operations Article 25 of Directive 2016/680 requires to be logged. */
export const ARTICLE_25_OPS = [
  "collect",
  "alter",
  "consult",
  "disclose",
  "combine",
  "erase",
] as const;

/**
 * Warden's own operations. The list documents what the log contains; the schema
 * accepts any dotted lower-case name so that a new capability never has to wait
 * for this file, and `scenario.*` names one per scenario step kind.
 */
export const WARDEN_OPS = [
  "warn",
  "freeze",
  "thaw",
  "lockdown",
  "restrict",
  "ban",
  "unban",
  "purge",
  "pin",
  "export",
  "config",
  "role.add",
  "role.remove",
  "checkpoint",
  "case.create",
  "case.close",
  "chat.add",
] as const;

export const ACTOR_KINDS = [
  "operator",
  "supervisor",
  "auditor",
  "system",
  "scenario",
  "cli",
  // Someone holding no role: appears only on `refused` entries (a stranger trying a command).
  "member",
] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const PHASES = ["intent", "outcome", "refused", "info"] as const;
export type Phase = (typeof PHASES)[number];

const telegramId = z.number().int().refine(Number.isSafeInteger, "not a safe integer");
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits");

const actorSchema = z.strictObject({
  kind: z.enum(ACTOR_KINDS),
  /** Telegram user id, where the actor is a Telegram user. */
  id: telegramId.optional(),
  /** Display name, or for `cli` the operating-system user that ran the command. */
  name: z.string().optional(),
  /** The role the actor held in the case at that moment. */
  role: z.enum(["operator", "supervisor", "auditor"]).optional(),
});

const targetSchema = z.strictObject({
  chat_id: telegramId.optional(),
  alias: z.string().optional(),
  user_ids: z.array(telegramId).optional(),
});

/** Telegram's answer to the call an outcome reports; `unknown` when a crash hid it. */
const resultSchema = z.union([
  z.looseObject({ ok: z.literal(true) }),
  z.looseObject({
    ok: z.literal(false),
    error_code: z.number().int().optional(),
    description: z.string(),
  }),
  z.strictObject({ ok: z.literal("unknown"), description: z.string() }),
]);

const scenarioSchema = z.strictObject({ id: z.string(), hash: z.string(), step: z.string() });

export const OP_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*$/;

/** The entry as stored, checked field by field by `verify`. Unknown fields are refused. */
export const auditEntrySchema = z
  .strictObject({
    seq: z.number().int().min(1),
    ts: z.iso.datetime({ offset: false, precision: 3 }),
    case: z.string().min(1),
    actor: actorSchema,
    op: z.string().regex(OP_PATTERN, "expected a dotted lower-case operation name"),
    phase: z.enum(PHASES),
    target: targetSchema.optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    result: resultSchema.optional(),
    authority: z.string(),
    purpose: z.string(),
    justification: z.string().optional(),
    recipients: z.array(z.string()).optional(),
    update_ids: z.array(z.number().int()).optional(),
    scenario: scenarioSchema.optional(),
    intent_seq: z.number().int().min(1).optional(),
    software: z.strictObject({ version: z.string(), commit: z.string() }),
    prev: hex64,
  })
  .superRefine((entry, ctx) => {
    if ((entry.op === "consult" || entry.op === "disclose") && !entry.justification?.trim()) {
      ctx.addIssue({
        code: "custom",
        path: ["justification"],
        message: `${entry.op} without a justification`,
      });
    }
    if (entry.op === "disclose" && !entry.recipients?.length) {
      ctx.addIssue({
        code: "custom",
        path: ["recipients"],
        message: "disclose without recipients",
      });
    }
    if (entry.phase === "outcome" && entry.intent_seq === undefined) {
      ctx.addIssue({ code: "custom", path: ["intent_seq"], message: "outcome without intent_seq" });
    }
    if (entry.phase === "outcome" && entry.result === undefined) {
      ctx.addIssue({ code: "custom", path: ["result"], message: "outcome without result" });
    }
    if (entry.intent_seq !== undefined && entry.intent_seq >= entry.seq) {
      ctx.addIssue({
        code: "custom",
        path: ["intent_seq"],
        message: "intent_seq must name an earlier entry",
      });
    }
  });

export type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * The same schema compiled by zod into straight-line code (`z.compile`): it
 * accepts exactly what `auditEntrySchema` accepts, several times faster, and
 * falls back to the schema itself whenever its fast path says no. The schema
 * stays the one definition; the tests hold the two to the same answers.
 */
const compiledEntrySchema = z.compile(auditEntrySchema);

/** Whether `value` is a valid entry, as `auditEntrySchema.safeParse(value).success`, but fast enough for every entry of a long log. */
export function isAuditEntry(value: unknown): value is AuditEntry {
  return compiledEntrySchema.validate(value);
}
export type Actor = AuditEntry["actor"];
export type Target = NonNullable<AuditEntry["target"]>;
export type Result = NonNullable<AuditEntry["result"]>;
export type ScenarioRef = NonNullable<AuditEntry["scenario"]>;

/** What a caller supplies; the log adds seq, ts, software, prev and the case's authority and purpose. */
export type AuditEntryInput = Omit<
  AuditEntry,
  "seq" | "ts" | "software" | "prev" | "authority" | "purpose"
> & {
  /** Defaults to the case's authority. */
  authority?: string;
  /** Defaults to the case's purpose. */
  purpose?: string;
};

/** The `prev` of entry 1. */
export const GENESIS_PREV = "0".repeat(64);

/** A lone UTF-16 surrogate: RFC 8785 (via I-JSON) forbids them, as the `canonicalize` package does. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Any surrogate at all: a cheap first test, as almost no string has one. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/** Array-index-like keys, which V8 enumerates first and in numeric order whatever the insertion order. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;
const SLOW = Symbol("slow");

/**
 * The value with every object's keys in ascending order, sharing what is
 * already sorted; SLOW where V8's key order cannot express JCS order.
 */
function sortedKeys(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = sortedKeys(value[i]);
      if (item === SLOW) return SLOW;
      if (item !== value[i]) {
        copy ??= value.slice();
        copy[i] = item;
      }
    }
    return copy ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return SLOW;
  const record = value as Record<string, unknown>;
  const names = Object.keys(record);
  let ascending = true;
  // Members that had to be copied themselves, and their keys; most objects have none.
  let replaced: unknown[] | undefined;
  let replacedNames: string[] | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57 && INDEX_KEY.test(name)) return SLOW;
    // Assigning it to a copy would set the copy's prototype instead.
    if (name === "__proto__") return SLOW;
    if (i > 0 && !((names[i - 1] as string) < name)) ascending = false;
    const member = record[name];
    if (typeof member === "object" && member !== null) {
      const item = sortedKeys(member);
      if (item === SLOW) return SLOW;
      if (item !== member) {
        replaced ??= [];
        replacedNames ??= [];
        replaced.push(item);
        replacedNames.push(name);
      }
    }
  }
  if (ascending && !replaced) return value;
  let copy: Record<string, unknown>;
  if (ascending) {
    // Keys already in order: a spread copies them wholesale, far cheaper than key by key.
    copy = { ...record };
  } else {
    sortNames(names);
    copy = {};
    for (const name of names) copy[name] = record[name];
  }
  // Setting an existing key keeps its place.
  if (replaced && replacedNames)
    for (let k = 0; k < replaced.length; k++) copy[replacedNames[k] as string] = replaced[k];
  return copy;
}

/**
 * Sorts distinct keys in place by UTF-16 code units, as JCS orders them (and as
 * `<` and the default sort compare strings). The few keys of an object are
 * insertion-sorted: Array.prototype.sort allocates work space on every call,
 * several times the garbage of the copy it serves when entries are built by
 * the hundred thousand.
 */
function sortNames(names: string[]): void {
  if (names.length > 16) {
    names.sort();
    return;
  }
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    while (j >= 0 && (names[j] as string) > name) {
      names[j + 1] = names[j] as string;
      j--;
    }
    names[j + 1] = name;
  }
}

/**
 * RFC 8785 (JCS) bytes of a JSON value, as a JS string hashed as UTF-8. JCS is
 * ECMAScript's own JSON serialisation of strings and numbers with object keys
 * sorted by UTF-16 code units, so the usual case is JSON.stringify of the value
 * with its keys in order; integer-like keys, toJSON and lone surrogates take
 * the careful path. The tests hold both to the `canonicalize` reference package.
 */
export function canonicalBytes(value: unknown): string {
  const sorted = sortedKeys(value);
  if (sorted !== SLOW) {
    const out = JSON.stringify(sorted);
    // NaN and ±Infinity come out as null, lone surrogates as \ud… escapes: JCS refuses both.
    if (
      out !== undefined &&
      !out.includes("\\ud") &&
      (!out.includes("null") || !hasNonFinite(sorted))
    )
      return out;
  }
  return carefulBytes(value);
}

/** JSON.stringify writes NaN and ±Infinity as null; JCS refuses them. */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (typeof value !== "object" || value === null) return false;
  for (const item of Object.values(value)) if (hasNonFinite(item)) return true;
  return false;
}

function carefulBytes(value: unknown): string {
  switch (typeof value) {
    case "string":
      if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) {
        throw new Error("a string with a lone surrogate cannot be canonicalised");
      }
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value))
        throw new Error(`${value} cannot be canonicalised: JSON has no such number`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === "function") return carefulBytes(withJson.toJSON());
      if (Array.isArray(value)) {
        const items = value.map((item) =>
          item === undefined || typeof item === "function" || typeof item === "symbol"
            ? "null"
            : carefulBytes(item),
        );
        return `[${items.join(",")}]`;
      }
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const item = record[key];
        if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
        parts.push(`${carefulBytes(key)}:${carefulBytes(item)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new Error(`a ${typeof value} cannot be canonicalised as JSON`);
  }
}

/** True if every object's keys, in enumeration order, are strictly ascending by UTF-16 code units. */
function keysAscending(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysAscending(item)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!keysAscending((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * Whether `line` is exactly the RFC 8785 form of `parsed` (= JSON.parse(line)).
 * Answered by reading the text once (`canonicalText`); a line with a surrogate
 * in it, which that scan leaves open, is settled by re-serialising `parsed`.
 */
export function isCanonical(line: string, parsed: unknown): boolean {
  const answer = canonicalText(line);
  if (answer !== undefined) return answer;
  return reserialisesTo(line, parsed);
}

/**
 * The old two-step test, kept for the lines `canonicalText` leaves open and as
 * the reference the tests hold it to. The quick test suffices when it passes:
 * ECMAScript's JSON.stringify is JCS for strings and numbers, so the bytes
 * round-trip and keys are ascending. It can fail on canonical input (V8
 * enumerates integer-like keys first, and escapes lone surrogates JCS refuses),
 * so a failure is settled by the full function.
 */
export function reserialisesTo(line: string, parsed: unknown): boolean {
  if (JSON.stringify(parsed) === line && keysAscending(parsed) && !line.includes("\\ud"))
    return true;
  try {
    return canonicalBytes(parsed) === line;
  } catch {
    return false;
  }
}

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const MINUS = 45;

/** After a backslash, the escapes JSON.stringify writes by their short form. */
function isShortEscape(c: number): boolean {
  // " \ b f n r t
  return c === 34 || c === 92 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116;
}

/** A \u00XX escape JSON.stringify writes: a control character without a short form, lower-case hex. */
function isControlEscape(text: string, at: number): boolean {
  if (text.charCodeAt(at) !== 48 || text.charCodeAt(at + 1) !== 48) return false;
  const hi = text.charCodeAt(at + 2);
  const lo = text.charCodeAt(at + 3);
  const low = lo >= 48 && lo <= 57 ? lo - 48 : lo >= 97 && lo <= 102 ? lo - 87 : -1;
  if (low < 0 || (hi !== 48 && hi !== 49)) return false;
  const code = (hi - 48) * 16 + low;
  return code !== 8 && code !== 9 && code !== 10 && code !== 12 && code !== 13;
}

/**
 * Whether the text of a valid JSON value (one JSON.parse accepted) is its
 * RFC 8785 form, read in one pass without building anything: no whitespace
 * between tokens, strings escaped exactly as JSON.stringify escapes them,
 * numbers exactly as ECMAScript prints them, and every object's keys strictly
 * ascending by UTF-16 code units (which also rules out duplicates).
 * Undefined when the text holds a surrogate (whether it is paired decides) or
 * a key with an escape in it: the caller settles those by re-serialising.
 */
export function canonicalText(text: string): boolean | undefined {
  if (ANY_SURROGATE.test(text)) return undefined;
  const n = text.length;
  // The next backslash: only strings hold them, and most lines have none.
  let slash = text.indexOf("\\");
  if (slash < 0) slash = n;
  // Per open container, where its last key lies: [start, end) of an object's
  // last key, start -1 before its first key, start -2 for an array.
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let close = text.indexOf('"', i + 1);
      let escaped = false;
      if (slash < close) {
        close = escapedStringEnd(text, i, slash);
        if (close < 0) return false;
        escaped = true;
        slash = text.indexOf("\\", close + 1);
        if (slash < 0) slash = n;
      }
      const before = i > 0 ? text.charCodeAt(i - 1) : 0;
      const start = depth > 0 ? (keyStart[depth - 1] as number) : -2;
      // A string right after { or , inside an object is a key.
      if (start !== -2 && (before === OPEN_OBJECT || before === COMMA)) {
        if (escaped) return undefined;
        if (start >= 0 && !textLess(text, start, keyEnd[depth - 1] as number, i + 1, close))
          return false;
        keyStart[depth - 1] = i + 1;
        keyEnd[depth - 1] = close;
        if (text.charCodeAt(close + 1) !== COLON) return false;
        i = close + 2;
      } else {
        i = close + 1;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      keyStart[depth] = c === OPEN_OBJECT ? -1 : -2;
      depth++;
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      i++;
    } else if (c === COMMA || c === COLON) {
      i++;
    } else if (c === MINUS || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let plain = true;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d >= 48 && d <= 57) continue;
        if (d === 46 || d === 101 || d === 69 || d === 43 || d === MINUS) plain = false;
        else break;
      }
      const digits = c === MINUS ? j - i - 1 : j - i;
      // Integers of up to 15 digits print as written, but -0 prints as 0; the rest are compared.
      if (!plain || digits > 15 || (c === MINUS && text.charCodeAt(i + 1) === 48)) {
        const token = text.slice(i, j);
        if (String(Number(token)) !== token) return false;
      }
      i = j;
    } else if (c === 116 || c === 110) {
      i += 4; // true, null
    } else if (c === 102) {
      i += 5; // false
    } else {
      return false; // whitespace
    }
  }
  return true;
}

/** Whether text[a, aEnd) < text[b, bEnd), by UTF-16 code units. */
function textLess(text: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  const la = aEnd - a;
  const lb = bEnd - b;
  const common = Math.min(la, lb);
  for (let k = 0; k < common; k++) {
    const x = text.charCodeAt(a + k);
    const y = text.charCodeAt(b + k);
    if (x !== y) return x < y;
  }
  return la < lb;
}

/**
 * Index of the quote closing the string that opens at `open` and holds a
 * backslash at `slash`; -1 if an escape is not as JSON.stringify writes it.
 */
function escapedStringEnd(text: string, open: number, firstSlash: number): number {
  let slash = firstSlash;
  let close = text.indexOf('"', open + 1);
  for (;;) {
    if (slash < 0 || slash > close) return close;
    const e = text.charCodeAt(slash + 1);
    let next: number;
    if (isShortEscape(e)) next = slash + 2;
    else if (e === 117 && isControlEscape(text, slash + 2)) next = slash + 6;
    else return -1;
    // An escaped quote does not close the string.
    if (close < next) close = text.indexOf('"', next);
    slash = text.indexOf("\\", next);
  }
}

/**
 * What an erased entry's payload becomes: its leaf hash stays, so the chain and
 * the tree still verify, and `erased_by` names the `erase` entry that explains it.
 */
export interface Tombstone {
  erased_by: number;
  leaf: string;
  seq: number;
}

export const tombstoneSchema = z.strictObject({
  erased_by: z.number().int().min(1),
  leaf: hex64,
  seq: z.number().int().min(1),
});

export function tombstoneBytes(t: Tombstone): string {
  return canonicalBytes(t);
}
