import { csvCell } from "../../audit/csv.ts";
import { COLUMNS, type ExportKind } from "./rows.ts";

/**
 * Rows as CSV or JSON lines. CSV cells written by the people under
 * investigation (names, messages) go through the audit log's `csvCell`, which
 * neutralises what a spreadsheet would run as a formula (a leading = + - @
 * tab or CR gets an apostrophe); numbers are written as they are, so chat ids
 * stay numbers. JSON lines keep the exact text.
 */

export type ExportFormat = "csv" | "jsonl";

function cell(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return csvCell(value);
}

export function header(kind: ExportKind, format: ExportFormat): string {
  return format === "csv" ? `${COLUMNS[kind].join(",")}\r\n` : "";
}

export function line(
  kind: ExportKind,
  format: ExportFormat,
  values: Record<string, unknown>,
): string {
  const columns = COLUMNS[kind];
  if (format === "csv") return `${columns.map((c) => cell(values[c])).join(",")}\r\n`;
  const ordered: Record<string, unknown> = {};
  for (const c of columns) if (values[c] !== undefined) ordered[c] = values[c];
  return `${JSON.stringify(ordered)}\n`;
}

/**
 * Counts the records of an export's bytes, chunk by chunk: JSON lines are
 * newline-terminated; CSV records end with CRLF outside quotes (message texts
 * hold newlines inside quoted cells). The CSV header is not a record.
 */
export function recordCounter(format: ExportFormat): { add(chunk: Buffer): void; count(): number } {
  let records = 0;
  let quoted = false;
  return {
    add(chunk) {
      for (const byte of chunk) {
        if (format === "jsonl") {
          if (byte === 0x0a) records++;
        } else if (byte === 0x22) quoted = !quoted;
        else if (byte === 0x0a && !quoted) records++;
      }
    },
    count: () => (format === "csv" ? Math.max(0, records - 1) : records),
  };
}
