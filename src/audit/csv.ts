import type { AuditEntry } from "./entry.ts";

/**
 * The log as a spreadsheet, for investigators who work in one. Text cells are
 * written by the people under investigation (names, messages), so a text cell
 * that a spreadsheet would run as a formula (= + - @ tab CR) gets a leading
 * apostrophe (OWASP "CSV injection"). Numbers are written as numbers: a
 * negative chat or channel id is a number a spreadsheet must be able to sort
 * and match, and nobody under investigation chooses one. entries.jsonl keeps
 * the exact bytes.
 */

export const CSV_COLUMNS = [
  "seq",
  "ts",
  "actor_kind",
  "actor_id",
  "actor_name",
  "actor_role",
  "op",
  "phase",
  "chat_id",
  "chat_alias",
  "user_ids",
  "result",
  "justification",
  "recipients",
  "intent_seq",
  "erased_by",
  "entry",
] as const;

export function csvCell(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  let text =
    value === undefined || value === null
      ? ""
      : typeof value === "string"
        ? value
        : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One id stays a number; several are one text cell ("-1001 -1002" would be a formula), guarded like any text. */
function idsCell(ids: readonly number[] | undefined): number | string | undefined {
  if (!ids || ids.length === 0) return undefined;
  return ids.length === 1 ? ids[0] : ids.join(" ");
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\r\n`;
}

/** One CSV row: an entry, or for an erased one only its seq and the erasure. */
export function csvRow(seq: number, entry: AuditEntry | undefined, erasedBy?: number): string {
  const cells: unknown[] = entry
    ? [
        entry.seq,
        entry.ts,
        entry.actor.kind,
        entry.actor.id,
        entry.actor.name,
        entry.actor.role,
        entry.op,
        entry.phase,
        entry.target?.chat_id,
        entry.target?.alias,
        idsCell(entry.target?.user_ids),
        entry.result,
        entry.justification,
        entry.recipients?.join("; "),
        entry.intent_seq,
        undefined,
        entry,
      ]
    : [seq, "", "", "", "", "", "", "", "", "", "", "", "", "", "", erasedBy, ""];
  return `${cells.map(csvCell).join(",")}\r\n`;
}
