import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { getCase } from "../store/cases.ts";
import {
  parseCheckpoint,
  parseVerifierKey,
  splitNotes,
  type Verifier,
  verifierOf,
} from "./checkpoint.ts";
import { csvHeader, csvRow } from "./csv.ts";
import type { Actor, AuditEntry } from "./entry.ts";
import { readLineBatches } from "./lines.ts";
import type { AuditLog } from "./record.ts";
import { type ReportEntry, renderReport } from "./report.ts";
import { currentSoftware } from "./software.ts";
import { readCheckpointNotes, readStoredLines, type StoredLine } from "./storage.ts";
import { type VerifyReport, verifyEntries } from "./verify.ts";

/**
 * The offline bundle handed to auditors, courts or other authorities:
 *
 *   entries.jsonl    the stored bytes, one entry (or erasure tombstone) per line
 *   entries.csv      the same for spreadsheets, formula-looking cells neutralised
 *   checkpoints      the signed notes covering the exported entries
 *   pubkey           the verifier key the checkpoints were signed with
 *   report.html      a self-contained, filterable view with the verification result
 *   manifest.sha256  `sha256sum -c` format over every other file
 *
 * Handing data over is itself a `disclose` entry, logged before any file is
 * written and included in the bundle, so a bundle always shows its own making.
 */

export const BUNDLE_FILES = [
  "entries.jsonl",
  "entries.csv",
  "checkpoints",
  "pubkey",
  "report.html",
] as const;
export const MANIFEST = "manifest.sha256";

export interface ExportOptions {
  caseId: string;
  /** Directory to create; must not exist or be empty. */
  out: string;
  justification: string;
  recipients: readonly string[];
  actor: Actor;
}

export interface ExportResult {
  disclose: AuditEntry;
  verification: VerifyReport;
  files: string[];
}

/** The bundle could not be made; nothing was handed over (though the disclose entry may be logged). */
export class ExportError extends Error {
  override name = "ExportError";
}

function write(stream: WriteStream, chunk: string): Promise<void> | undefined {
  if (stream.write(chunk)) return undefined;
  return new Promise((resolve) => stream.once("drain", resolve));
}

function finish(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once("error", reject);
    stream.end(resolve);
  });
}

export async function exportBundle(log: AuditLog, opts: ExportOptions): Promise<ExportResult> {
  const record = await getCase(log.redis, opts.caseId);
  if (!record) throw new ExportError(`unknown case "${opts.caseId}": see \`warden case list\``);
  await mkdir(opts.out, { recursive: true });
  if ((await readdir(opts.out)).length > 0) {
    throw new ExportError(
      `${opts.out} is not empty: export into a new directory, bundles are never overwritten`,
    );
  }
  const disclose = await log.record({
    case: opts.caseId,
    actor: opts.actor,
    op: "disclose",
    phase: "info",
    justification: opts.justification,
    recipients: [...opts.recipients],
    params: { via: "audit export", files: [...BUNDLE_FILES, MANIFEST] },
  });
  await log.checkpoint(opts.caseId);
  const notes = (await readCheckpointNotes(log.redis, opts.caseId)).filter(
    (n) => parseCheckpoint(n).size <= disclose.seq,
  );
  const verifiers = log.signer ? [verifierOf(log.signer)] : [];

  const jsonl = createWriteStream(join(opts.out, "entries.jsonl"), { flags: "wx" });
  const csv = createWriteStream(join(opts.out, "entries.csv"), { flags: "wx" });
  await write(csv, csvHeader());
  const entries: ReportEntry[] = [];
  async function* tee(): AsyncGenerator<StoredLine> {
    for await (const stored of readStoredLines(log.redis, opts.caseId, { upTo: disclose.seq })) {
      if (stored.line !== null) await write(jsonl, `${stored.line}\n`);
      yield stored;
    }
  }
  const verification = await verifyEntries(tee(), {
    caseId: opts.caseId,
    checkpoints: notes,
    verifiers,
    onEntry(entry, seq, line) {
      if (entry) {
        entries.push(entry);
        csv.write(csvRow(seq, entry));
      } else {
        const erasedBy = (JSON.parse(line) as { erased_by: number }).erased_by;
        entries.push({ seq, erased_by: erasedBy });
        csv.write(csvRow(seq, undefined, erasedBy));
      }
    },
  });
  await Promise.all([finish(jsonl), finish(csv)]);
  await writeFile(join(opts.out, "checkpoints"), notes.join("\n"), { flag: "wx" });
  if (log.signer)
    await writeFile(join(opts.out, "pubkey"), `${log.signer.verifierKey}\n`, { flag: "wx" });
  const html = renderReport({
    case: {
      id: record.id,
      title: record.title,
      authority: record.authority,
      purpose: record.purpose,
      retentionDays: record.retentionDays,
      status: record.status,
    },
    verification,
    verifiedWith: log.signer
      ? `checkpoints checked against ${log.signer.verifierKey}${log.signer.ephemeral ? " (an ephemeral rehearsal key)" : ""}`
      : "no signing key was configured: checkpoint signatures could not be checked",
    generatedAt: disclose.ts,
    software: currentSoftware(),
    entries,
  });
  await writeFile(join(opts.out, "report.html"), html, { flag: "wx" });
  const files = BUNDLE_FILES.filter((f) => f !== "pubkey" || log.signer);
  const manifest = await Promise.all(
    files.map(async (f) => `${await sha256File(join(opts.out, f))}  ${f}\n`),
  );
  await writeFile(join(opts.out, MANIFEST), manifest.join(""), { flag: "wx" });
  return { disclose, verification, files: [...files, MANIFEST] };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Verifies a bundle with no Redis: the manifest first (a file edited, added or
 * removed after export), then the entries against the checkpoints. Without
 * `verifiers` the bundle's own pubkey is used, which only proves the bundle is
 * self-consistent, and the report says so.
 */
export async function verifyBundle(
  dir: string,
  opts: {
    verifiers?: readonly Verifier[];
    heldCheckpoint?: string;
    clockToleranceMs?: number;
  } = {},
): Promise<VerifyReport> {
  const failed = (message: string): VerifyReport => ({
    ok: false,
    failure: { message },
    warnings: [],
    entries: 0,
    erased: 0,
    signedSize: 0,
    root: "",
  });
  let manifestText: string;
  try {
    manifestText = await readFile(join(dir, MANIFEST), "utf8");
  } catch {
    return failed(`${MANIFEST} is missing: this is not a complete Warden bundle`);
  }
  const listed = new Map<string, string>();
  for (const line of manifestText.split("\n")) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) return failed(`${MANIFEST} has a malformed line: "${line}"`);
    listed.set(match[2] as string, match[1] as string);
  }
  for (const file of await readdir(dir)) {
    if (file !== MANIFEST && !listed.has(file))
      return failed(`${file} is not in ${MANIFEST}: it was added after export`);
  }
  for (const [file, expected] of listed) {
    let actual: string;
    try {
      actual = await sha256File(join(dir, file));
    } catch {
      return failed(`${file} is listed in ${MANIFEST} but missing: it was removed after export`);
    }
    if (actual !== expected)
      return failed(`${file} was changed after export: its SHA-256 does not match ${MANIFEST}`);
  }
  if (!listed.has("entries.jsonl")) return failed(`entries.jsonl is not in ${MANIFEST}`);

  const notes = listed.has("checkpoints")
    ? splitNotes(await readFile(join(dir, "checkpoints"), "utf8"))
    : [];
  const warnings: { message: string }[] = [];
  let verifiers = opts.verifiers;
  if (!verifiers?.length && listed.has("pubkey")) {
    verifiers = [parseVerifierKey(await readFile(join(dir, "pubkey"), "utf8"))];
    warnings.push({
      message:
        "signatures were checked against the key shipped inside the bundle, which proves only that the bundle is self-consistent: pass --pubkey with the key you got from the case officer",
    });
  }
  const caseId = await bundleCaseId(dir, notes);
  if (!caseId)
    return failed("cannot tell which case the bundle is for: no checkpoint and no readable entry");
  const report = await verifyEntries(readLineBatches(join(dir, "entries.jsonl")), {
    caseId,
    checkpoints: notes,
    verifiers,
    heldCheckpoint: opts.heldCheckpoint,
    clockToleranceMs: opts.clockToleranceMs,
  });
  report.warnings.unshift(...warnings);
  return report;
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
  const lines = createInterface({
    input: createReadStream(join(dir, "entries.jsonl")),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    try {
      const value = JSON.parse(line) as { case?: unknown };
      if (typeof value.case === "string") {
        lines.close();
        return value.case;
      }
    } catch {
      // Likewise: a malformed line is the verifier's to report.
    }
  }
  return undefined;
}
