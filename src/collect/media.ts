import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/record.ts";
import type { MediaRef } from "./facts.ts";
import { collectKeys } from "./keys.ts";
import type { CollectApi } from "./roster.ts";

/**
 * Optional media download (collection category `files`): each media file a
 * kept message carries is fetched with getFile into the case's evidence
 * folder, `<WARDEN_DATA_DIR>/evidence/<case>/`, named by its file_unique_id,
 * with its SHA-256. The Bot API serves files up to 20 MB; larger ones are
 * recorded as not downloadable. The recorder queues each file in Redis with
 * its message (one atomic step), so a crash before the download only delays
 * it: the queue is worked off whenever the case is seen again.
 */

export const BOT_API_FILE_LIMIT = 20 * 1024 * 1024;

/** Fetches a file's bytes by the `file_path` getFile returned. */
export type Download = (filePath: string) => Promise<AsyncIterable<Uint8Array>>;

export interface MediaDeps {
  api: CollectApi;
  download: Download;
  audit: AuditLog;
  logger: Logger;
  dataDir: string;
  now: () => number;
}

export interface StoredFile {
  file_unique_id: string;
  status: "downloaded" | "too-big" | "failed" | "erased";
  path?: string;
  sha256?: string;
  size?: number;
  mime_type?: string;
  chat_id: number;
  message_id: number;
  at: number;
  reason?: string;
}

export interface MediaQueue {
  /** Works off the case's queued files (in the background). */
  drain(caseId: string): void;
  /** Resolves when nothing is being downloaded. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const SAFE = /[^A-Za-z0-9_-]/g;

/** The evidence path of a file: only characters that are safe in every file system. */
export function evidencePath(dataDir: string, caseId: string, ref: MediaRef, filePath?: string) {
  const ext = (filePath ? extname(filePath) : "").replace(/[^.A-Za-z0-9]/g, "").slice(0, 10);
  return join(dataDir, "evidence", caseId, `${ref.file_unique_id.replace(SAFE, "_")}${ext}`);
}

export function createMediaQueue(deps: MediaDeps): MediaQueue {
  const redis = deps.audit.redis;
  const wanted = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  async function fetchOne(
    caseId: string,
    ref: MediaRef & { chat_id: number; message_id: number },
  ): Promise<StoredFile> {
    const base = {
      file_unique_id: ref.file_unique_id,
      chat_id: ref.chat_id,
      message_id: ref.message_id,
      ...(ref.mime_type !== undefined ? { mime_type: ref.mime_type } : {}),
    };
    if ((ref.file_size ?? 0) > BOT_API_FILE_LIMIT)
      return {
        ...base,
        status: "too-big",
        size: ref.file_size as number,
        at: deps.now(),
        reason: "larger than the Bot API's 20 MB",
      };
    let file: Awaited<ReturnType<CollectApi["getFile"]>>;
    try {
      file = await deps.api.getFile(ref.file_id);
    } catch (err) {
      const text = (err as Error).message;
      if (/too big/i.test(text))
        return {
          ...base,
          status: "too-big",
          at: deps.now(),
          reason: "the Bot API refused: too big",
        };
      throw err;
    }
    if (!file.file_path) throw new Error("getFile returned no file_path");
    const path = evidencePath(deps.dataDir, caseId, ref, file.file_path);
    await mkdir(join(deps.dataDir, "evidence", caseId), { recursive: true });
    const hash = createHash("sha256");
    let size = 0;
    const partial = `${path}.partial`;
    try {
      await pipeline(
        await deps.download(file.file_path),
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        }),
        createWriteStream(partial),
      );
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    return {
      ...base,
      status: "downloaded",
      path,
      sha256: hash.digest("hex"),
      size,
      at: deps.now(),
    };
  }

  async function drainCase(caseId: string): Promise<void> {
    const pendingKey = collectKeys.filesPending(caseId);
    const filesKey = collectKeys.files(caseId);
    let cursor = "0";
    do {
      const [next, flat] = await redis.hscan(pendingKey, cursor, "COUNT", 50);
      cursor = next;
      for (let i = 0; i + 1 < flat.length && !closed; i += 2) {
        const uid = flat[i] as string;
        const ref = JSON.parse(flat[i + 1] as string) as MediaRef & {
          chat_id: number;
          message_id: number;
          update_id: number;
        };
        if (await redis.hexists(filesKey, uid)) {
          await redis.hdel(pendingKey, uid);
          continue;
        }
        let stored: StoredFile;
        try {
          stored = await fetchOne(caseId, ref);
        } catch (err) {
          deps.logger.warn(
            { case: caseId, file: uid, err: (err as Error).message },
            "could not download a media file; it stays queued for the next attempt",
          );
          continue;
        }
        await deps.audit.record(
          {
            case: caseId,
            actor: { kind: "system", name: "recorder" },
            op: "collect",
            phase: "info",
            target: { chat_id: ref.chat_id },
            update_ids: [ref.update_id],
            params: {
              what: "media file",
              file_unique_id: uid,
              message_id: ref.message_id,
              status: stored.status,
              ...(stored.sha256 ? { sha256: stored.sha256, size: stored.size } : {}),
            },
          },
          {
            writes: [
              ["HSET", filesKey, uid, JSON.stringify(stored)],
              ["HDEL", pendingKey, uid],
            ],
          },
        );
      }
    } while (cursor !== "0" && !closed);
  }

  return {
    drain(caseId) {
      if (closed || wanted.has(caseId)) return;
      wanted.add(caseId);
      chain = chain
        .then(async () => {
          wanted.delete(caseId);
          await drainCase(caseId);
        })
        .catch((err: Error) => {
          deps.logger.warn(
            { case: caseId, err: err.message },
            "media downloads paused; they resume with the case's next media",
          );
        });
    },
    idle: () => chain,
    async close() {
      closed = true;
      await chain;
    },
  };
}
