import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { exportEntryOf, reportMetaOf } from "../../audit/bundle-files.ts";
import { type BundleReport, verifyBundle } from "../../audit/bundle-verify.ts";
import { loadVerifier } from "../../audit/checkpoint.ts";
import type { AuditEntry } from "../../audit/entry.ts";
import { readLineBatches } from "../../audit/lines.ts";
import { COSIGNATURE_ED25519, type Verifier } from "../../audit/note-keys.ts";
import { type Verdict, verdictOf } from "../../audit/reading/verdict.ts";
import type { ReportCase } from "../../audit/report.ts";

/**
 * A bundle opened in the console, read as report.html reads it (the same
 * reading script) but with the verdict of the auditor's own run, now: the
 * files as they are on disk checked by `verifyBundle`, with the key the
 * auditor gives, or else the one the bundle ships (and the verdict says
 * what that does not prove). A bundle that fails still shows its entries,
 * under the failure, so the auditor can see what was changed.
 */
export interface Reading {
  entries: unknown[];
  case: ReportCase;
  verdict: Verdict;
  clock?: "simulated";
  generatedAt?: string;
  software?: { version: string; commit: string };
  /** Member id → name, where the console knows more than the log (a rehearsal's world). */
  names?: Record<string, string>;
  /** Chat id → title. */
  chats?: Record<string, string>;
}

export class BundleOpenError extends Error {
  override name = "BundleOpenError";
}

export async function readBundle(
  dir: string,
  keys: { pubkey?: string; witnessPubkeys?: readonly string[] } = {},
): Promise<Reading> {
  const folder = resolve(dir);
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory())
    throw new BundleOpenError(`${folder} is not a folder: give the folder an export wrote`);
  const verifiers: Verifier[] | undefined = keys.pubkey ? [loadVerifier(keys.pubkey)] : undefined;
  const witnesses = (keys.witnessPubkeys ?? []).map((p) => loadVerifier(p, COSIGNATURE_ED25519));
  const report: BundleReport = await verifyBundle(folder, {
    ...(verifiers ? { verifiers } : {}),
    ...(witnesses.length ? { witnesses } : {}),
  });
  const entries: unknown[] = [];
  try {
    for await (const batch of readLineBatches(join(folder, "entries.jsonl")))
      for (const line of batch) {
        try {
          entries.push(JSON.parse(line));
        } catch {
          entries.push({ seq: entries.length + 1, unreadable: line.slice(0, 200) });
        }
      }
  } catch {
    // No entries.jsonl: the verdict says so.
  }
  const last = entries.at(-1) as AuditEntry | undefined;
  const disclose = exportEntryOf(last);
  const meta = disclose ? reportMetaOf(disclose, report) : undefined;
  const shipped = await readFile(join(folder, "pubkey"), "utf8").catch(() => undefined);
  const keyName = (verifiers?.[0]?.name ?? shipped?.split("+")[0] ?? "").trim();
  const keyWords = verifiers
    ? `the key you gave (${keyName})`
    : shipped
      ? `the key shipped inside the bundle (${keyName})`
      : "no key: the bundle has none and none was given";
  return {
    entries,
    case: meta?.case ?? { id: (last as { case?: string } | undefined)?.case ?? folder },
    verdict: verdictOf({
      report,
      keyWords,
      authenticated: report.authenticated,
      files: report.files,
      when: "now",
    }),
    ...(meta?.clock ? { clock: meta.clock } : {}),
    ...(meta ? { generatedAt: meta.generatedAt, software: meta.software } : {}),
  };
}
