import { type DeclaredShape, SHAPES } from "./registry.ts";
import type { RedisType } from "./shape.ts";

/**
 * The README's "Redis key layout" table, written from the registry by
 * scripts/generate-key-table.ts; a test fails when the README's copy is stale.
 */

export const TABLE_START = "<!-- key table: written by scripts/generate-key-table.ts -->";
export const TABLE_END = "<!-- end of key table -->";

const TYPE_NAMES: Record<RedisType, string> = {
  string: "string",
  hash: "hash",
  set: "set",
  zset: "sorted set",
  list: "list",
  stream: "stream",
};

function keyOf(shape: DeclaredShape): string {
  return `\`warden:${shape.scope === "case" ? "{case}" : "global"}:${shape.pattern}\``;
}

/** `|` would end a cell. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** The table, between its markers. */
export function keyTableMarkdown(): string {
  const rows = SHAPES.map(
    (s) =>
      `| ${keyOf(s)} | ${TYPE_NAMES[s.type]} | ${s.owner} | ${cell(s.holds)} | ${s.migration ?? ""} |`,
  );
  return [
    TABLE_START,
    "| key | type | owner | holds | on upgrade |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    TABLE_END,
  ].join("\n");
}

/** `readme` with its key table replaced by the registry's. */
export function withKeyTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(
      `README.md has no key table between "${TABLE_START}" and "${TABLE_END}": put the two markers where the table goes`,
    );
  return readme.slice(0, start) + keyTableMarkdown() + readme.slice(end + TABLE_END.length);
}
