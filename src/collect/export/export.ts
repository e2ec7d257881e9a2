import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { access, rename, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Actor } from "../../audit/entry.ts";
import type { AuditLog } from "../../audit/record.ts";
import { currentSoftware } from "../../audit/software.ts";
import type { CaseRecord } from "../../store/cases.ts";
import type { Redis } from "../../store/redis.ts";
import { type ExportFormat, header, line, recordCounter } from "./format.ts";
import { type ExportManifest, manifestPath } from "./manifest.ts";
import { type ExportKind, expectedRows, rowsOf } from "./rows.ts";

/**
 * Exports one kind of collected data of a case to a file, on the record: the
 * access is logged (`consult`, or `disclose` when it names recipients, with
 * the justification) before anything is read, and its outcome — the file's
 * SHA-256 and row count — after. The file is written under a temporary name
 * and renamed when complete, so a crash never leaves a half export that looks
 * whole; the manifest is written beside it.
 */

export interface ExportRequest {
  record: CaseRecord;
  kind: ExportKind;
  format: ExportFormat;
  out: string;
  justification: string;
  recipients: string[];
  /** Overwrite an existing file. */
  force: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportDeps {
  redis: Redis;
  audit: AuditLog;
  actor: Actor;
  now?: () => Date;
}

export class ExportRefusedError extends Error {
  override name = "ExportRefusedError";
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function exportCollected(
  deps: ExportDeps,
  request: ExportRequest,
): Promise<ExportManifest> {
  const { record, kind, format, out } = request;
  const justification = request.justification.trim();
  if (justification.length < 8)
    throw new ExportRefusedError(
      '--justification must say why this data leaves Warden (at least a few words), e.g. --justification "request of the prosecutor, 2026-03-02"',
    );
  if (!request.force) {
    for (const path of [out, manifestPath(out)])
      if (await exists(path))
        throw new ExportRefusedError(
          `${path} already exists: choose another --out, or add --force to replace it`,
        );
  }
  const op = request.recipients.length > 0 ? "disclose" : "consult";
  const base = {
    case: record.id,
    actor: deps.actor,
    op,
    justification,
    ...(op === "disclose" ? { recipients: request.recipients } : {}),
  } as const;
  const intent = await deps.audit.record({
    ...base,
    phase: "intent",
    params: { export: kind, format, file: basename(out) },
  });

  const total = await expectedRows(deps.redis, record.id, kind);
  const partial = `${out}.partial`;
  const stream = createWriteStream(partial);
  const hash = createHash("sha256");
  const counter = recordCounter(format);
  let bytes = 0;
  let rows = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const write = async (text: string) => {
    const buffer = Buffer.from(text, "utf8");
    hash.update(buffer);
    counter.add(buffer);
    bytes += buffer.length;
    if (!stream.write(buffer)) await once(stream, "drain");
  };
  try {
    await write(header(kind, format));
    for await (const row of rowsOf(deps.redis, record.id, kind)) {
      await write(line(kind, format, row.values));
      rows++;
      if (row.from !== undefined && row.from < from) from = row.from;
      if (row.to !== undefined && row.to > to) to = row.to;
      if (rows % 200 === 0) request.onProgress?.(rows, Math.max(total, rows));
    }
    stream.end();
    await once(stream, "finish");
    await rename(partial, out);
  } catch (err) {
    stream.destroy();
    await rm(partial, { force: true });
    await deps.audit.record({
      ...base,
      phase: "outcome",
      intent_seq: intent.seq,
      result: { ok: false, description: (err as Error).message },
    });
    throw err;
  }
  request.onProgress?.(rows, Math.max(total, rows));
  if (counter.count() !== rows)
    throw new Error(`internal: wrote ${rows} rows but the file holds ${counter.count()} records`);
  const sha256 = hash.digest("hex");
  const manifest: ExportManifest = {
    warden_export: 1,
    case: record.id,
    authority: record.authority,
    purpose: record.purpose,
    kind,
    format,
    file: basename(out),
    sha256,
    bytes,
    rows,
    time_range:
      rows > 0 && Number.isFinite(from)
        ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
        : null,
    exported_at: (deps.now?.() ?? new Date()).toISOString(),
    exported_by: deps.actor.name ?? deps.actor.kind,
    justification,
    recipients: request.recipients,
    audit: { op, intent_seq: intent.seq },
    software: currentSoftware(),
  };
  await writeFile(manifestPath(out), `${JSON.stringify(manifest, null, 2)}\n`);
  await deps.audit.record({
    ...base,
    phase: "outcome",
    intent_seq: intent.seq,
    result: { ok: true, sha256, rows, bytes },
  });
  return manifest;
}
