import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { z } from "zod";
import { type ExportFormat, recordCounter } from "./format.ts";
import { EXPORT_KINDS } from "./rows.ts";

/**
 * The manifest written beside every export (`<file>.manifest.json`): what the
 * file is, under which authority it left Warden, and the SHA-256, size and
 * row count that `warden export verify` checks it against. The same hash is
 * in the audit log's record of the export, so a manifest rewritten to match a
 * changed file still disagrees with the log.
 */

export const manifestSchema = z.object({
  warden_export: z.literal(1),
  case: z.string(),
  authority: z.string(),
  purpose: z.string(),
  kind: z.enum(EXPORT_KINDS),
  format: z.enum(["csv", "jsonl"]),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  rows: z.number().int().min(0),
  time_range: z.object({ from: z.string(), to: z.string() }).nullable(),
  exported_at: z.string(),
  exported_by: z.string(),
  justification: z.string(),
  recipients: z.array(z.string()),
  audit: z.object({ op: z.enum(["consult", "disclose"]), intent_seq: z.number().int() }),
  software: z.object({ version: z.string(), commit: z.string() }),
});

export type ExportManifest = z.infer<typeof manifestSchema>;

export function manifestPath(file: string): string {
  return `${file}.manifest.json`;
}

export interface Digest {
  sha256: string;
  bytes: number;
  rows: number;
}

/** SHA-256, size and record count of a file, read as a stream. */
export async function digestFile(file: string, format: ExportFormat): Promise<Digest> {
  const hash = createHash("sha256");
  const counter = recordCounter(format);
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    counter.add(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest("hex"), bytes, rows: counter.count() };
}

export class ExportVerifyError extends Error {
  override name = "ExportVerifyError";
  /** 2: nothing to verify (missing or unreadable); 1: the file does not match. */
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export async function readManifest(file: string): Promise<ExportManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath(file), "utf8");
  } catch {
    throw new ExportVerifyError(
      `no manifest at ${manifestPath(file)}: an export's manifest is written beside it; keep the two together`,
      2,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ExportVerifyError(`${manifestPath(file)} is not JSON: the manifest was changed`, 1);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success)
    throw new ExportVerifyError(
      `${manifestPath(file)} is not a Warden export manifest: ${parsed.error.issues[0]?.message}`,
      1,
    );
  return parsed.data;
}

/** Checks a file against its manifest; returns the manifest, or throws saying what differs. */
export async function verifyExport(file: string): Promise<ExportManifest> {
  const manifest = await readManifest(file);
  let digest: Digest;
  try {
    digest = await digestFile(file, manifest.format);
  } catch {
    throw new ExportVerifyError(`cannot read ${file}: check the path`, 2);
  }
  const problems: string[] = [];
  if (manifest.file !== basename(file))
    problems.push(`the manifest is for ${manifest.file}, not ${basename(file)}`);
  if (digest.sha256 !== manifest.sha256)
    problems.push(`SHA-256 is ${digest.sha256}, the manifest says ${manifest.sha256}`);
  if (digest.bytes !== manifest.bytes)
    problems.push(`${digest.bytes} bytes, the manifest says ${manifest.bytes}`);
  if (digest.rows !== manifest.rows)
    problems.push(`${digest.rows} rows, the manifest says ${manifest.rows}`);
  if (problems.length > 0)
    throw new ExportVerifyError(`${file} does not match its manifest: ${problems.join("; ")}`, 1);
  return manifest;
}
