import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import type { CaseRecord } from "../store/cases.ts";
import { csvHeader, csvRow } from "./csv.ts";
import type { AuditEntry } from "./entry.ts";
import { readLineBatches } from "./lines.ts";
import { leafHashHex } from "./merkle.ts";
import { parseVerifierKey, type Signer } from "./note-keys.ts";
import { type ReportMeta, reportEntry, reportHead, reportTail } from "./report.ts";
import type { VerifyOptions, VerifyReport } from "./verify.ts";

/**
 * What an offline bundle holds and how its files derive from the log:
 *
 *   entries.jsonl    the stored bytes, one entry (or erasure tombstone) per line
 *   entries.csv      the same for spreadsheets, formula-looking cells neutralised
 *   checkpoints      the signed notes covering the exported entries (with any witness cosignatures)
 *   pubkey           the verifier key the checkpoints were signed with
 *   report.html      a self-contained, filterable view with the verification result
 *   manifest.sha256  `sha256sum -c` format over every other file
 *
 * entries.csv, report.html and pubkey are functions of the entries and the
 * checkpoints alone: the export's own disclose entry, always the bundle's
 * last, records what else they show (the case as it stood, the signing key,
 * this file format, whether its times are a rehearsal's simulated clock).
 * Format 3 is the reading of issue 16 (one row per action, who, why, what
 * and result, the verdict in words). The export writes them with these functions and
 * `verify --bundle` renders them again from the entries it verified and
 * compares: a name changed in the report or an actor in the spreadsheet
 * fails, whatever the unsigned manifest says.
 */

export const BUNDLE_FILES = [
  "entries.jsonl",
  "entries.csv",
  "checkpoints",
  "pubkey",
  "report.html",
] as const;
export const MANIFEST = "manifest.sha256";

/**
 * The version of the derived files' rendering, recorded in the disclose
 * entry: a verifier rebuilds only what it renders the same way, and says
 * so of a bundle made in another format.
 */
export const BUNDLE_FORMAT = 3;

/** The `params` of the export's disclose entry: everything the derived files show beyond the entries. */
export function exportParams(
  record: CaseRecord,
  signer: Signer | undefined,
  clock?: "simulated",
): Record<string, unknown> {
  return {
    via: "audit export",
    ...(clock ? { clock } : {}),
    files: [...BUNDLE_FILES.filter((f) => f !== "pubkey" || signer), MANIFEST],
    bundle_format: BUNDLE_FORMAT,
    case: {
      title: record.title,
      authority: record.authority,
      purpose: record.purpose,
      retention_days: record.retentionDays,
      status: record.status,
    },
    ...(signer
      ? { signing_key: signer.verifierKey, ...(signer.ephemeral ? { ephemeral_key: true } : {}) }
      : {}),
  };
}

/** The export's disclose entry, if `entry` is one in this format. */
export function exportEntryOf(entry: AuditEntry | undefined): AuditEntry | undefined {
  const params = entry?.params;
  return entry?.op === "disclose" &&
    params?.via === "audit export" &&
    params.bundle_format === BUNDLE_FORMAT
    ? entry
    : undefined;
}

/** The key the export recorded as the one that signed its checkpoints; undefined for an unsigned export. */
export function signingKeyOf(disclose: AuditEntry): string | undefined {
  const key = disclose.params?.signing_key;
  return typeof key === "string" ? key : undefined;
}

/**
 * The options of the verification whose verdict report.html shows: the
 * bundle's checkpoints against the key the export recorded, with the default
 * clock tolerance. The export runs it over Redis; `verify --bundle` runs it
 * over entries.jsonl (or reuses its own run when the auditor's options are
 * these), and so gets the same verdict from the same bundle.
 */
export function reportVerifyOptions(
  caseId: string,
  checkpoints: readonly string[],
  signingKey: string | undefined,
): VerifyOptions {
  return {
    caseId,
    checkpoints,
    verifiers: signingKey ? [parseVerifierKey(signingKey)] : [],
    requireSigned: true,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** What report.html shows besides the entries, all from the export's disclose entry and the verdict. */
export function reportMetaOf(disclose: AuditEntry, verification: VerifyReport): ReportMeta {
  const c = (disclose.params?.case ?? {}) as Record<string, unknown>;
  const key = signingKeyOf(disclose);
  return {
    case: {
      id: disclose.case,
      title: text(c.title),
      authority: text(c.authority),
      purpose: text(c.purpose),
      retentionDays: typeof c.retention_days === "number" ? c.retention_days : undefined,
      status: text(c.status),
    },
    verification,
    verifiedWith: key
      ? `checkpoints checked against ${key}${disclose.params?.ephemeral_key === true ? " (an ephemeral rehearsal key)" : ""}`
      : "no signing key was configured: checkpoint signatures could not be checked",
    ...(disclose.params?.clock === "simulated" ? { clock: "simulated" as const } : {}),
    generatedAt: disclose.ts,
    software: disclose.software,
  };
}

/** Where derived text goes: a file being written, or a hash being compared. */
export interface Sink {
  write(chunk: string): unknown;
}

/**
 * Renders entries.csv and report.html as the log is read, line by line, into
 * two sinks: `entry` for each line (entry, or undefined for an erased one),
 * `finish` once the verdict and the disclose entry are known.
 */
export function derivedFiles(csv: Sink, report: Sink) {
  let first = true;
  csv.write(csvHeader());
  report.write(reportHead());
  return {
    entry(entry: AuditEntry | undefined, seq: number, line: string): void {
      if (entry) {
        csv.write(csvRow(seq, entry));
        report.write(reportEntry(entry, first));
      } else {
        const erasedBy = (JSON.parse(line) as { erased_by: number }).erased_by;
        csv.write(csvRow(seq, undefined, erasedBy));
        report.write(reportEntry({ seq, erased_by: erasedBy }, first));
      }
      first = false;
    },
    finish(meta: ReportMeta): void {
      report.write(reportTail(meta));
    },
  };
}

/** A sink that only hashes: what a derived file must hash to, without holding it. */
export function hashSink(): Sink & { digest(): string } {
  const hash = createHash("sha256");
  return {
    write: (chunk: string) => hash.update(chunk, "utf8"),
    digest: () => hash.digest("hex"),
  };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The leaf hashes of a bundle's entries.jsonl, in order: what a witness
 * proves consistency with. An erased entry's leaf is the one its tombstone
 * keeps; nothing else of a line is checked here (`verify --bundle` does that).
 */
export async function* bundleLeaves(dir: string): AsyncGenerator<string> {
  for await (const batch of readLineBatches(join(dir, "entries.jsonl"))) {
    for (const line of batch) {
      if (line.startsWith('{"erased_by":'))
        yield String((JSON.parse(line) as { leaf: unknown }).leaf);
      else yield leafHashHex(line);
    }
  }
}
