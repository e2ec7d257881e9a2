import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getCase } from "../store/cases.ts";
import {
  BUNDLE_FILES,
  derivedFiles,
  exportParams,
  MANIFEST,
  reportMetaOf,
  reportVerifyOptions,
  sha256File,
} from "./bundle-files.ts";
import { checkpointOrigin, mergeNotes, parseCheckpoint, signCheckpoint } from "./checkpoint.ts";
import { proveConsistency } from "./consistency.ts";
import { readCosignedNotes } from "./cosignatures.ts";
import type { Actor, AuditEntry } from "./entry.ts";
import type { Signer } from "./note-keys.ts";
import type { ProgressReport } from "./progress.ts";
import type { AuditLog } from "./record.ts";
import {
  auditKeys,
  readCheckpointNotes,
  readLeafHashes,
  readStoredLines,
  type StoredLine,
} from "./storage.ts";
import { type VerifyReport, verifyEntries } from "./verify.ts";

export { BUNDLE_FILES, MANIFEST } from "./bundle-files.ts";
export { type BundleReport, verifyBundle } from "./bundle-verify.ts";

/**
 * The offline bundle handed to auditors, courts or other authorities
 * (`bundle-files.ts` lists its files and how each derives from the log).
 *
 * Handing data over is itself a `disclose` entry, logged before any file is
 * written and included in the bundle as its last entry, so a bundle always
 * shows its own making; the entry records what the derived files show (the
 * case as it stands, the signing key). With a signing key the export signs a
 * checkpoint of exactly the entries it holds, so every one of them is covered
 * by a signature, and it includes the witness cosignatures the case has.
 */

export interface ExportOptions {
  caseId: string;
  /** Directory to create; must not exist or be empty. */
  out: string;
  justification: string;
  recipients: readonly string[];
  actor: Actor;
  /** Called as entries are written, for a progress line. */
  progress?: ProgressReport;
  /** "simulated" when the log's times are a rehearsal's simulated clock: the report says so. */
  clock?: "simulated";
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

function finish(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once("error", reject);
    stream.end(resolve);
  });
}

/**
 * A checkpoint of the first `size` entries, from the leaf hashes the stream
 * holds, signed now: the export's own, covering the disclose entry. The
 * verification that follows checks it against the entries themselves, and it
 * is stored with the case's checkpoints only if that passes.
 */
async function signExportCheckpoint(
  log: AuditLog,
  signer: Signer,
  caseId: string,
  size: number,
): Promise<string> {
  const { newRoot } = await proveConsistency(readLeafHashes(log.redis, caseId, size), size, size);
  return signCheckpoint(signer, checkpointOrigin(caseId), size, newRoot);
}

/** Stores the export's checkpoint unless one as large is stored already (another writer's). */
async function storeExportCheckpoint(log: AuditLog, caseId: string, size: number, note: string) {
  try {
    await log.redis.xadd(auditKeys.checkpoints(caseId), `0-${size}`, "n", note);
  } catch (err) {
    if (!/equal or smaller/i.test((err as Error).message)) throw err;
  }
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
  const { signer } = log;
  const disclose = await log.record({
    case: opts.caseId,
    actor: opts.actor,
    op: "disclose",
    phase: "info",
    justification: opts.justification,
    recipients: [...opts.recipients],
    params: exportParams(record, signer, opts.clock),
  });
  const size = disclose.seq;
  const covering = signer ? await signExportCheckpoint(log, signer, opts.caseId, size) : undefined;
  const notes = mergeNotes([
    ...(await readCheckpointNotes(log.redis, opts.caseId)),
    ...(await readCosignedNotes(log.redis, opts.caseId)),
    ...(covering ? [covering] : []),
  ]).filter((n) => parseCheckpoint(n).size <= size);

  const jsonl = createWriteStream(join(opts.out, "entries.jsonl"), { flags: "wx" });
  const csv = createWriteStream(join(opts.out, "entries.csv"), { flags: "wx" });
  const html = createWriteStream(join(opts.out, "report.html"), { flags: "wx" });
  const derived = derivedFiles(csv, html);
  async function* tee(): AsyncGenerator<StoredLine> {
    let done = 0;
    for await (const stored of readStoredLines(log.redis, opts.caseId, { upTo: size })) {
      if (stored.line !== null && !jsonl.write(`${stored.line}\n`))
        await new Promise<void>((resolve) => jsonl.once("drain", () => resolve()));
      opts.progress?.(++done, size);
      yield stored;
    }
  }
  const verification = await verifyEntries(tee(), {
    ...reportVerifyOptions(opts.caseId, notes, signer?.verifierKey),
    onEntry: derived.entry,
  });
  derived.finish(reportMetaOf(disclose, verification));
  await Promise.all([finish(jsonl), finish(csv), finish(html)]);
  if (covering && verification.ok) await storeExportCheckpoint(log, opts.caseId, size, covering);
  await writeFile(join(opts.out, "checkpoints"), notes.join("\n"), { flag: "wx" });
  if (signer) await writeFile(join(opts.out, "pubkey"), `${signer.verifierKey}\n`, { flag: "wx" });
  const files = BUNDLE_FILES.filter((f) => f !== "pubkey" || signer);
  const manifest = await Promise.all(
    files.map(async (f) => `${await sha256File(join(opts.out, f))}  ${f}\n`),
  );
  await writeFile(join(opts.out, MANIFEST), manifest.join(""), { flag: "wx" });
  return { disclose, verification, files: [...files, MANIFEST] };
}
