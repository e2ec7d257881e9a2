import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalBytes, GENESIS_PREV } from "../../src/audit/entry.ts";
import { leafHashHex } from "../../src/audit/merkle.ts";

/**
 * What a forger does to an exported bundle with nothing but a text editor and
 * sha256sum: rewrite the entries (re-chaining every `prev`), rewrite or empty
 * the other files, and recompute the unsigned manifest.
 */

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Recomputes manifest.sha256 over every other file, as `sha256sum * > manifest.sha256` would. */
export function rewriteManifest(dir: string): void {
  const files = readdirSync(dir)
    .filter((f) => f !== "manifest.sha256")
    .sort();
  writeFileSync(
    join(dir, "manifest.sha256"),
    files.map((f) => `${sha256(join(dir, f))}  ${f}\n`).join(""),
  );
}

/** The bundle's lines, parsed (tombstones included). */
export function bundleLines(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, "entries.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Rewrites every entry with `edit`, then re-chains them (each `prev` the leaf
 * hash of the line before, as the verifier checks) and writes entries.jsonl.
 * Tombstones keep their leaf; the entry after one chains on it.
 */
export function rewriteEntries(
  dir: string,
  edit: (entry: Record<string, unknown>) => Record<string, unknown>,
): void {
  let prev = GENESIS_PREV;
  const out: string[] = [];
  for (const raw of bundleLines(dir)) {
    if ("erased_by" in raw) {
      out.push(canonicalBytes(raw));
      prev = String(raw.leaf);
      continue;
    }
    const line = canonicalBytes({ ...edit(raw), prev });
    out.push(line);
    prev = leafHashHex(line);
  }
  writeFileSync(join(dir, "entries.jsonl"), `${out.join("\n")}\n`);
}

/** Replaces `from` by `to` in one file of the bundle, then recomputes the manifest. */
export function editFile(dir: string, file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const before = readFileSync(path, "utf8");
  const after = before.replace(from, to);
  if (after === before) throw new Error(`${file} holds no ${String(from)} to replace`);
  writeFileSync(path, after);
  rewriteManifest(dir);
}
