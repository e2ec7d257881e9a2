import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  BUNDLE_FILES,
  derivedFiles,
  exportEntryOf,
  hashSink,
  MANIFEST,
  reportMetaOf,
  reportVerifyOptions,
  sha256File,
  signingKeyOf,
} from "./bundle-files.ts";
import { parseCheckpoint, splitNotes } from "./checkpoint.ts";
import type { AuditEntry } from "./entry.ts";
import { readLineBatches } from "./lines.ts";
import { parseVerifierKey, type Verifier } from "./note-keys.ts";
import { countedLines, type ProgressReport } from "./progress.ts";
import { type Finding, type VerifyReport, verifyEntries } from "./verify.ts";

/**
 * `warden audit verify --bundle`: a bundle checked with no Redis, file by
 * file, and what each check means said in the report (`files`).
 *
 * - manifest.sha256: every file it lists is there and unchanged, and nothing
 *   else is. It is not signed, so it only catches a careless edit.
 * - entries.jsonl: the log, verified as `verifyEntries` does, against the
 *   checkpoints; with a key, every entry must be covered by a checkpoint it
 *   signed.
 * - checkpoints: each signed by the key given (`--pubkey`), or else by the
 *   one the bundle ships, which proves nothing: the report then says the
 *   bundle is not authenticated.
 * - pubkey, entries.csv, report.html: rendered again from the verified
 *   entries (`bundle-files.ts`) and compared byte for byte, so what an
 *   auditor reads is what was signed.
 *
 * A file Warden does not write fails, even if the manifest lists it.
 */

/** What was done with one file of the bundle. */
export interface FileCheck {
  file: string;
  checked: boolean;
  /** How, or why not, in words. */
  detail: string;
}

export interface BundleReport extends VerifyReport {
  /** Whether the checkpoints were checked against a key the auditor gave, not the bundle's own. */
  authenticated: boolean;
  files: FileCheck[];
}

export interface BundleVerifyOptions {
  /** The operator's key (`--pubkey`); without it the bundle's own key is used and nothing is authenticated. */
  verifiers?: readonly Verifier[];
  heldCheckpoint?: string;
  clockToleranceMs?: number;
  /** Witness keys (`--witness-pubkey`): their cosignatures are checked and their coverage reported. */
  witnesses?: readonly Verifier[];
  /** Called as entries are read, for a progress line (the total is not known ahead). */
  progress?: ProgressReport;
}

const KNOWN: ReadonlySet<string> = new Set([...BUNDLE_FILES, MANIFEST]);
const DEFAULT_TOLERANCE_MS = 2000;

function failedReport(message: string, files: FileCheck[] = []): BundleReport {
  return {
    ok: false,
    failure: { message },
    warnings: [],
    entries: 0,
    erased: 0,
    signedSize: 0,
    root: "",
    authenticated: false,
    files,
  };
}

/** The manifest's file → SHA-256, after checking it against the directory; or why the bundle fails. */
async function checkManifest(dir: string): Promise<Map<string, string> | string> {
  let manifestText: string;
  try {
    manifestText = await readFile(join(dir, MANIFEST), "utf8");
  } catch {
    return `${MANIFEST} is missing: this is not a complete Warden bundle`;
  }
  const listed = new Map<string, string>();
  for (const line of manifestText.split("\n")) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) return `${MANIFEST} has a malformed line: "${line}"`;
    listed.set(match[2] as string, match[1] as string);
  }
  const present = await readdir(dir);
  for (const file of present) {
    if (file !== MANIFEST && !listed.has(file))
      return `${file} is not in ${MANIFEST}: it was added after export`;
  }
  for (const file of [...present, ...listed.keys()]) {
    if (!KNOWN.has(file))
      return `${file} is not a file Warden writes into a bundle: it was added after export; verify a copy of the bundle without it, as it was handed over`;
  }
  for (const [file, expected] of listed) {
    let actual: string;
    try {
      actual = await sha256File(join(dir, file));
    } catch {
      return `${file} is listed in ${MANIFEST} but missing: it was removed after export`;
    }
    if (actual !== expected)
      return `${file} was changed after export: its SHA-256 does not match ${MANIFEST}`;
  }
  if (!listed.has("entries.jsonl")) return `entries.jsonl is not in ${MANIFEST}`;
  return listed;
}

/** Whether the auditor's run used exactly the options of the report's verdict: then it is that verdict. */
function sameAsReportRun(
  opts: BundleVerifyOptions,
  verifiers: readonly Verifier[],
  key: string | undefined,
): boolean {
  if ((opts.clockToleranceMs ?? DEFAULT_TOLERANCE_MS) !== DEFAULT_TOLERANCE_MS) return false;
  if (!key) return verifiers.length === 0;
  const recorded = parseVerifierKey(key);
  return (
    verifiers.length === 1 &&
    verifiers[0]?.name === recorded.name &&
    verifiers[0]?.publicKey.equals(recorded.publicKey) === true
  );
}

/** The keys the checkpoints are checked against: the auditor's, or else the bundle's own, which proves nothing. */
function keysToUse(
  opts: BundleVerifyOptions,
  shippedKey: string | undefined,
): { verifiers: readonly Verifier[]; authenticated: boolean; warnings: Finding[] } {
  if (opts.verifiers?.length)
    return { verifiers: opts.verifiers, authenticated: true, warnings: [] };
  if (!shippedKey) return { verifiers: [], authenticated: false, warnings: [] };
  return {
    verifiers: [parseVerifierKey(shippedKey)],
    authenticated: false,
    warnings: [
      {
        message:
          "signatures were checked against the key shipped inside the bundle, which proves only that the bundle is self-consistent: pass --pubkey with the key you got from the case officer",
      },
    ],
  };
}

/** What the checks of the log itself say of entries.jsonl and checkpoints. */
function logFileChecks(report: VerifyReport, notes: number, authenticated: boolean): FileCheck[] {
  return [
    {
      file: "entries.jsonl",
      checked: true,
      detail: `verified: ${report.entries} entries, chained, in the tree of the checkpoints`,
    },
    {
      file: "checkpoints",
      checked: true,
      detail: `verified: ${notes} signed note${notes === 1 ? "" : "s"}, each against ${authenticated ? "the key you gave" : "the bundle's own key (which proves nothing)"}, each root against the entries`,
    },
  ];
}

const MANIFEST_CHECK: FileCheck = {
  file: MANIFEST,
  checked: true,
  detail: "every file matches (it is not signed: what vouches for the files is the checks above)",
};

export async function verifyBundle(
  dir: string,
  opts: BundleVerifyOptions = {},
): Promise<BundleReport> {
  const listed = await checkManifest(dir);
  if (typeof listed === "string") return failedReport(listed);
  const notes = listed.has("checkpoints")
    ? splitNotes(await readFile(join(dir, "checkpoints"), "utf8"))
    : [];
  const shippedKey = listed.has("pubkey")
    ? (await readFile(join(dir, "pubkey"), "utf8")).trim()
    : undefined;
  const { verifiers, authenticated, warnings } = keysToUse(opts, shippedKey);
  const caseId = await bundleCaseId(dir, notes);
  if (!caseId)
    return failedReport(
      "cannot tell which case the bundle is for: no checkpoint and no readable entry",
    );
  const entries = join(dir, "entries.jsonl");

  // The derived files are rendered while the log is verified, into hashes: nothing is held.
  const csv = hashSink();
  const html = hashSink();
  const derived = derivedFiles(csv, html);
  let last: AuditEntry | undefined;
  const batches = readLineBatches(entries);
  const lines = opts.progress ? countedLines(batches, undefined, opts.progress) : batches;
  const report = await verifyEntries(lines, {
    caseId,
    checkpoints: notes,
    verifiers,
    heldCheckpoint: opts.heldCheckpoint,
    clockToleranceMs: opts.clockToleranceMs,
    requireSigned: true,
    witnesses: opts.witnesses,
    onEntry(entry, seq, line) {
      last = entry;
      derived.entry(entry, seq, line);
    },
  });
  const result: BundleReport = {
    ...report,
    warnings: [...warnings, ...report.warnings],
    authenticated,
    files: logFileChecks(report, notes.length, authenticated),
  };
  if (!report.ok) {
    result.files.push(...notChecked("not checked: the log itself failed"));
    return result;
  }
  const disclose = exportEntryOf(last);
  const derivedChecks = disclose
    ? await checkDerived(listed, {
        disclose,
        shippedKey,
        csvDigest: () => csv.digest(),
        async htmlDigest() {
          // The verdict report.html shows: the auditor's run if it had the export's options, else that run.
          const key = signingKeyOf(disclose);
          const verdict = sameAsReportRun(opts, verifiers, key)
            ? report
            : await verifyEntries(
                readLineBatches(entries),
                reportVerifyOptions(caseId, notes, key),
              );
          derived.finish(reportMetaOf(disclose, verdict));
          return html.digest();
        },
      })
    : notDerived(last, report.entries);
  if (typeof derivedChecks === "string")
    return { ...result, ok: false, failure: { seq: report.entries, message: derivedChecks } };
  result.files.push(...derivedChecks, MANIFEST_CHECK);
  const skipped = derivedChecks.filter((f) => !f.checked).map((f) => f.file);
  if (skipped.length > 0)
    result.warnings.push({ message: `${skipped.join(", ")} not checked: see the list of files` });
  return result;
}

/** The derived files, each not checked for the same reason. */
function notChecked(detail: string): FileCheck[] {
  return ["pubkey", "entries.csv", "report.html"].map((file) => ({ file, checked: false, detail }));
}

/**
 * pubkey, entries.csv and report.html against what the verified entries make
 * of them; the checks, or why the bundle fails.
 */
async function checkDerived(
  listed: Map<string, string>,
  made: {
    disclose: AuditEntry;
    shippedKey: string | undefined;
    csvDigest(): string;
    htmlDigest(): Promise<string>;
  },
): Promise<FileCheck[] | string> {
  const { disclose } = made;
  const key = signingKeyOf(disclose);
  if (key !== made.shippedKey) {
    return key
      ? `pubkey is not the key the export recorded in its disclose entry (seq ${disclose.seq}): it was ${made.shippedKey ? "replaced" : "removed"} after export`
      : `pubkey is in a bundle whose export recorded no signing key (seq ${disclose.seq}): it was added after export`;
  }
  for (const file of ["entries.csv", "report.html"] as const) {
    if (!listed.has(file)) return `${file} is missing from the bundle: it was removed after export`;
  }
  if (made.csvDigest() !== listed.get("entries.csv")) {
    return "entries.csv does not match the verified entries: rendered again from them it differs, so it was changed after export (the entries, not the spreadsheet, are what was signed)";
  }
  if ((await made.htmlDigest()) !== listed.get("report.html")) {
    return "report.html does not match the verified entries: rendered again from them it differs, so it was changed after export (the entries, not the report, are what was signed)";
  }
  return [
    {
      file: "pubkey",
      checked: true,
      detail: key
        ? `the key the export recorded in its disclose entry (seq ${disclose.seq})`
        : "none: the export had no signing key",
    },
    { file: "entries.csv", checked: true, detail: "rebuilt from the verified entries: identical" },
    { file: "report.html", checked: true, detail: "rebuilt from the verified entries: identical" },
  ];
}

/**
 * A bundle whose last entry is not its export's disclose entry in this
 * format: one from an older Warden (its derived files are not checked, and
 * the report says so), or one cut short (which fails).
 */
function notDerived(last: AuditEntry | undefined, count: number): FileCheck[] | string {
  if (last?.op === "disclose" && last.params?.via === "audit export") {
    return notChecked(
      `not checked: made in bundle format ${String(last.params.bundle_format ?? 1)}, which this Warden does not render; read entries.jsonl, which was verified`,
    );
  }
  return `the bundle does not end with the disclose entry of its export (seq ${count} is ${last ? `a ${last.op}` : "erased"}): entries were removed from its end, or it was not made by \`warden audit export\``;
}

async function bundleCaseId(dir: string, notes: readonly string[]): Promise<string | undefined> {
  for (const note of notes) {
    try {
      const origin = parseCheckpoint(note).origin;
      if (origin.startsWith("warden/")) return origin.slice("warden/".length);
    } catch {
      // The verifier reports malformed checkpoints; here any readable one will do.
    }
  }
  for await (const batch of readLineBatches(join(dir, "entries.jsonl"))) {
    for (const line of batch) {
      try {
        const value = JSON.parse(line) as { case?: unknown };
        if (typeof value.case === "string") return value.case;
      } catch {
        // Likewise: a malformed line is the verifier's to report.
      }
    }
  }
  return undefined;
}
